// Pre-packed weights and the matrix product of the CPU engine:
// out (N, OC) = inp (N, IC) @ W (OC, IC)^T + bias (OC), nn.Linear's product.
// Layout (packed once, when a layer's weights are loaded): W is cut into P = ceil(OC / 32)
// panels of 32 output features, each panel k-major (row k of a panel = W[32p .. 32p+31][k]),
// zero-padded past OC, 64-byte aligned. A panel is held in one of the PackFormats: f32, or the
// dtype the weights are stored in (bf16, f16, GGUF blocks Q8_0 ... Q6_K) re-laid so that the 32
// weights of one k sit together (cpu_pack.cpp documents each layout; same bytes as the file, the
// K-quants' 6-bit scales unpacked: +2-3 %). A matrix may be several parts, row ranges of
// different formats (a fused Q/K/V whose V is Q6_K and Q/K are Q4_K).
// Product: a micro-kernel keeps an (MR x 32) block of outputs in registers and walks k, one
// broadcast of inp[m][k] against the panel row per row m (the BLIS/GotoBLAS register blocking;
// Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", 2008). Stored-dtype
// panels are dequantised, one (256 x 32) k-slice at a time, into an L1-resident f32 buffer that
// the micro-kernel then reads exactly as it reads an f32 panel.
// Invariant: every output element is the chain acc = fma(inp[m][k], W[o][k], acc) over
// k = 0..IC-1 in order from acc = 0, then acc + bias[o], where W[o][k] is the f32 value
// convert_to_f32 / dequantize_blocks (fingerprint/base) give for the stored element. The AVX-512
// and AVX2 kernels do exactly that whatever N, the blocking, the thread count, the CPU's vector
// width or the PackFormat: a stored-dtype matrix gives the same bits as its f32 expansion, and a
// row's outputs do not depend on the other rows of the batch.
// Not here: reading files (StoredMatrix points at bytes the caller owns), threading policy
// beyond splitting panels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/status.h"

namespace modelprint {

enum class PackFormat : uint8_t { kF32, kBF16, kF16, kQ8_0, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ4_K,
                                  kQ5_K, kQ6_K };

// The PackFormat that keeps dtype t as stored, if there is one (F32, BF16, F16, Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K); other dtypes are expanded to f32 by the caller.
bool packable_dtype(DType t);

// Rows [row0, row0 + rows) of a packed matrix, in one format.
struct PackedPart {
    int64_t row0 = 0;
    int64_t rows = 0;
    PackFormat format = PackFormat::kF32;
    int64_t panel_bytes = 0;                                                // one panel
    std::unique_ptr<uint8_t[], void (*)(uint8_t*)> data{nullptr, nullptr};  // (P, panel_bytes)

    int64_t panels() const { return (rows + 31) / 32; }
};

struct PackedMatrix {
    int64_t rows = 0;  // OC, output features
    int64_t cols = 0;  // IC, input features
    std::vector<PackedPart> parts;  // consecutive row ranges covering [0, rows)

    bool empty() const { return rows == 0; }
    size_t bytes() const;  // packed weight bytes
};

// A stored weight matrix seen in canonical orientation W (rows, cols) = nn.Linear [out, in].
struct StoredMatrix {
    DType dtype = DType::kF32;
    std::span<const uint8_t> bytes;  // the whole tensor as stored
    int64_t rows = 0;
    int64_t cols = 0;
    // Stored as [cols, rows] (GPT-2's Conv1D); plain dtypes (F32, BF16, F16) only.
    bool transposed = false;
    // Canonical row r is stored row row_order[r] (GGUF's permuted Q/K rows); empty: identity.
    std::vector<int64_t> row_order;
};

// Packs w (OC, IC) row-major f32. OC, IC >= 0.
PackedMatrix pack_rows(const float* w, int64_t OC, int64_t IC);

// Packs the row-wise concatenation of parts (all with the same cols) keeping each part's dtype.
// kInvalidArgument: a dtype without a PackFormat, mismatched cols, a transposed quantised part,
// a bad row_order; kCorruptData: bytes not the size the shape and dtype imply, cols not a whole
// number of the dtype's blocks.
Result<PackedMatrix> pack_stored(std::span<const StoredMatrix> parts);

// out (N, IC) = rows ids[n] of W as f32 (what embedding_forward does on the f32 matrix), so a
// tied embedding need not be kept twice. Ids must be in [0, w.rows).
void packed_gather_rows(float* out, const PackedMatrix& w, const int32_t* ids, int64_t N);

// Kernel choice: kAuto picks AVX-512 when the CPU has AVX-512F, else AVX2+FMA (the build's
// baseline). Tests force each one to check they agree bit for bit; kAvx512 on a CPU without it
// falls back to AVX2.
enum class GemmKernel { kAuto, kAvx512, kAvx2 };

// out (N, OC) = inp (N, IC) @ W^T + bias (OC, may be null); W = w.rows x w.cols. Panels are split
// between `threads` threads (<= 0: default_thread_count()).
void packed_matmul_forward(float* out, const float* inp, const PackedMatrix& w, const float* bias,
                           int64_t N, int threads, GemmKernel kernel = GemmKernel::kAuto);

// The kernel kAuto resolves to on this CPU: "avx512" or "avx2".
const char* gemm_kernel_name();

}  // namespace modelprint

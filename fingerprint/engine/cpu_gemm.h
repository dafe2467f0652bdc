// Pre-packed weights and the f32 matrix product of the CPU engine:
// out (N, OC) = inp (N, IC) @ W (OC, IC)^T + bias (OC), nn.Linear's product.
// Layout (packed once, when a layer's weights are converted): W is cut into P = ceil(OC / 32)
// panels of 32 output features; panel p is (IC, 32) with row k = W[32p .. 32p+31][k],
// zero-padded past OC, 64-byte aligned. A micro-kernel keeps an (MR x 32) block of outputs in
// registers and walks k, one broadcast of inp[m][k] against the panel row per row m (the
// BLIS/GotoBLAS register blocking; Goto & van de Geijn, "Anatomy of High-Performance Matrix
// Multiplication", 2008). The panels replace OpenBLAS's per-call packing of the weights, which
// perf showed as 23 % of a SmolLM2 prefill.
// Invariant: every output element is the chain acc = fma(inp[m][k], W[o][k], acc) over
// k = 0..IC-1 in order from acc = 0, then acc + bias[o]. The AVX-512 and AVX2 kernels do exactly
// that (so does the portable reference in the tests), whatever N, the blocking or the thread
// count: a row's outputs do not depend on the other rows of the batch, on the thread count or
// on the CPU's vector width.
// Not here: dtype conversion (weights arrive in f32), threading policy beyond splitting panels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace modelprint {

struct PackedMatrix {
    int64_t rows = 0;                                                   // OC, output features
    int64_t cols = 0;                                                   // IC, input features
    std::unique_ptr<float[], void (*)(float*)> data{nullptr, nullptr};  // (P, IC, 32)

    int64_t panels() const { return (rows + 31) / 32; }
    bool empty() const { return rows == 0; }
    size_t bytes() const { return static_cast<size_t>(panels() * cols * 32) * sizeof(float); }
};

// Packs w (OC, IC) row-major. OC, IC >= 0.
PackedMatrix pack_rows(const float* w, int64_t OC, int64_t IC);

// out (N, IC) = rows ids[n] of W (what embedding_forward does on the unpacked matrix), so a tied
// embedding need not be kept twice. Ids must be in [0, w.rows).
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

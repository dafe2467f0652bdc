// Packed-panel products for the CPU engine (see cpu_gemm.h for the layout and the invariant;
// packing and dequantisation are in cpu_pack.cpp). Blocking: rows of inp in blocks of kMC, the
// inner dimension in blocks of kKC so a panel's (kKC, 32) f32 slice (32 KiB) stays in L1 while
// the kernel walks the rows of the block, and the (kMC, kKC) slice of inp stays in L2 across the
// panels of one work item. A stored-dtype panel's slice is dequantised into a thread-local
// buffer once per (work item, k block) and then read like an f32 panel. Partial sums are stored
// to `out` between k blocks in f32, which is what the register holds, so blocking never changes
// a result.
#include "fingerprint/engine/cpu_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/cpu_pack.h"

namespace modelprint {

namespace {

using pack::kKC;
using pack::kNR;
constexpr int64_t kMC = 96;   // row block (a multiple of both kernels' MR)
constexpr int64_t kMinWorkPerThread = int64_t{1} << 16;  // multiply-adds


// c (rows, ncols) with leading dimension ldc: the kernel's block of out. a (rows, kn) with
// leading dimension lda. b: kn panel rows of 32. first: start from 0 instead of c. bias: the
// panel's 32 biases, added after the last k block (null otherwise).
using KernelFn = void (*)(const float* a, int64_t lda, const float* b, int64_t kn, float* c,
                          int64_t ldc, int ncols, bool first, const float* bias);

// ---- AVX-512: MR rows x 2 zmm (32 floats); up to 8 x 2 = 16 accumulators.
template <int MR>
__attribute__((target("avx512f"))) void kernel_avx512(const float* a, int64_t lda, const float* b,
                                                      int64_t kn, float* c, int64_t ldc, int ncols,
                                                      bool first, const float* bias) {
    const __mmask16 m0 = ncols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << ncols) - 1u);
    const __mmask16 m1 = ncols >= 32  ? __mmask16(0xFFFF)
                         : ncols > 16 ? __mmask16((1u << (ncols - 16)) - 1u)
                                      : __mmask16(0);
    __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
        if (first) {
            acc0[r] = _mm512_setzero_ps();
            acc1[r] = _mm512_setzero_ps();
        } else {
            acc0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
            acc1[r] = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);
        }
    }
    for (int64_t k = 0; k < kn; ++k) {
        const __m512 b0 = _mm512_load_ps(b + k * kNR);
        const __m512 b1 = _mm512_load_ps(b + k * kNR + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            const __m512 av = _mm512_set1_ps(a[r * lda + k]);
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
    }
    if (bias != nullptr) {
        const __m512 bb0 = _mm512_maskz_loadu_ps(m0, bias);
        const __m512 bb1 = _mm512_maskz_loadu_ps(m1, bias + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r) {
            acc0[r] = _mm512_add_ps(acc0[r], bb0);
            acc1[r] = _mm512_add_ps(acc1[r], bb1);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc0[r]);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc1[r]);
    }
}

// ---- AVX2 + FMA (the build's baseline): MR rows x 4 ymm; up to 2 x 4 = 8 accumulators.
template <int MR>
void kernel_avx2(const float* a, int64_t lda, const float* b, int64_t kn, float* c, int64_t ldc,
                 int ncols, bool first, const float* bias) {
    __m256i mask[4];
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int v = 0; v < 4; ++v) {
        mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols - 8 * v), lane);
    }
    __m256 acc[MR][4];
#pragma GCC unroll 2
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            acc[r][v] =
                first ? _mm256_setzero_ps() : _mm256_maskload_ps(c + r * ldc + 8 * v, mask[v]);
        }
    }
    for (int64_t k = 0; k < kn; ++k) {
        const float* bk = b + k * kNR;
#pragma GCC unroll 2
        for (int r = 0; r < MR; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
#pragma GCC unroll 4
            for (int v = 0; v < 4; ++v) {
                acc[r][v] = _mm256_fmadd_ps(av, _mm256_load_ps(bk + 8 * v), acc[r][v]);
            }
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < 4; ++v) {
            if (bias != nullptr) {
                acc[r][v] = _mm256_add_ps(acc[r][v], _mm256_maskload_ps(bias + 8 * v, mask[v]));
            }
            _mm256_maskstore_ps(c + r * ldc + 8 * v, mask[v], acc[r][v]);
        }
    }
}

constexpr int kMr512 = 8;
constexpr KernelFn kKernels512[kMr512 + 1] = {nullptr,          kernel_avx512<1>, kernel_avx512<2>,
                                              kernel_avx512<3>, kernel_avx512<4>, kernel_avx512<5>,
                                              kernel_avx512<6>, kernel_avx512<7>, kernel_avx512<8>};
constexpr int kMr2 = 2;
constexpr KernelFn kKernels2[kMr2 + 1] = {nullptr, kernel_avx2<1>, kernel_avx2<2>};

bool has_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f");
    return yes;
}

}  // namespace

void packed_matmul_forward(float* out, const float* inp, const PackedMatrix& w, const float* bias,
                           int64_t N, int threads, GemmKernel kernel) {
    const int64_t OC = w.rows, IC = w.cols;
    if (N <= 0 || OC == 0) return;
    if (IC == 0) {
        for (int64_t n = 0; n < N; ++n) {
            for (int64_t o = 0; o < OC; ++o) out[n * OC + o] = bias ? bias[o] : 0.0f;
        }
        return;
    }
    const bool wide = kernel == GemmKernel::kAvx2 ? false : has_avx512();
    const KernelFn* fns = wide ? kKernels512 : kKernels2;
    const int64_t mr = wide ? kMr512 : kMr2;
    if (threads <= 0) threads = default_thread_count();
    // Small products (a decode step of a tiny model) run on one thread: waking a worker costs
    // more than ~64k multiply-adds.
    threads = static_cast<int>(
        std::clamp<int64_t>(N * IC * OC / kMinWorkPerThread, 1, std::max(1, threads)));
    int64_t P = 0;
    for (const PackedPart& part : w.parts) P += part.panels();
    // Consecutive panels (of one part) per work item: up to 4 share each (kMC, kKC) block of inp
    // from L2, but never so many that a thread is left without work. Grouping does not change
    // results.
    const int64_t group = std::clamp<int64_t>(P / (4 * threads), 1, 4);
    std::vector<int64_t> first_group(w.parts.size() + 1, 0);  // work groups before each part
    for (size_t i = 0; i < w.parts.size(); ++i) {
        first_group[i + 1] = first_group[i] + (w.parts[i].panels() + group - 1) / group;
    }
    const int64_t groups = first_group.back();
    // Few panels (a 576-wide product has 18): cut the rows too, into near-equal blocks of a
    // multiple of 8 rows (both kernels' MR), until every thread has ~8 items, so the last one to
    // finish waits little.
    const auto round8 = [](int64_t r) { return (r + 7) / 8 * 8; };
    int64_t row_block = std::min(kMC, round8(N));
    for (int64_t nb = 2; row_block > 8 && groups * ((N + row_block - 1) / row_block) < 8 * threads;
         nb *= 2) {
        row_block = std::max<int64_t>(8, round8((N + nb - 1) / nb));
    }
    const int64_t row_blocks = (N + row_block - 1) / row_block;
    parallel_for(
        static_cast<size_t>(groups * row_blocks),
        [&](size_t item) {
            // (kKC, 32) f32: the dequantised k-slice of one stored-dtype panel, L1-resident.
            alignas(64) static thread_local float slice[kKC * kNR];
            const int64_t gi = static_cast<int64_t>(item) / row_blocks;
            const size_t pt = static_cast<size_t>(
                std::upper_bound(first_group.begin(), first_group.end(), gi) - first_group.begin() - 1);
            const PackedPart& part = w.parts[pt];
            const int64_t p0 = (gi - first_group[pt]) * group;
            const int64_t p1 = std::min(part.panels(), p0 + group);
            const int64_t m0 = static_cast<int64_t>(item) % row_blocks * row_block;
            const int64_t mc = std::min(row_block, N - m0);
            const bool f32 = part.format == PackFormat::kF32;
            for (int64_t k0 = 0; k0 < IC; k0 += kKC) {
                const int64_t kc = std::min(kKC, IC - k0);
                const bool first = k0 == 0, last = k0 + kc == IC;
                for (int64_t pi = p0; pi < p1; ++pi) {
                    const int64_t o0 = part.row0 + pi * kNR;
                    const int ncols = static_cast<int>(std::min(kNR, part.rows - pi * kNR));
                    const uint8_t* panel = part.data.get() + pi * part.panel_bytes;
                    const float* b = slice;
                    if (f32) {
                        b = reinterpret_cast<const float*>(panel) + k0 * kNR;
                    } else {
                        pack::dequant_slice(part.format, panel, k0, kc, slice);
                    }
                    const float* bp = last && bias != nullptr ? bias + o0 : nullptr;
                    float* c = out + m0 * OC + o0;
                    for (int64_t r = 0; r < mc; r += mr) {
                        const int64_t rows = std::min(mr, mc - r);
                        fns[rows](inp + (m0 + r) * IC + k0, IC, b, kc, c + r * OC, OC, ncols, first,
                                  bp);
                    }
                }
            }
        },
        threads);
}

void packed_gather_rows(float* out, const PackedMatrix& w, const int32_t* ids, int64_t N) {
    const int64_t IC = w.cols;
    alignas(64) static thread_local float slice[kKC * kNR];
    for (int64_t n = 0; n < N; ++n) {
        const int64_t o = ids[n];
        size_t pt = 0;
        while (pt + 1 < w.parts.size() && o >= w.parts[pt + 1].row0) ++pt;
        const PackedPart& part = w.parts[pt];
        const int64_t pi = (o - part.row0) / kNR, j = (o - part.row0) % kNR;
        const uint8_t* panel = part.data.get() + pi * part.panel_bytes;
        float* dst = out + n * IC;
        for (int64_t k0 = 0; k0 < IC; k0 += kKC) {
            const int64_t kc = std::min(kKC, IC - k0);
            const float* src = reinterpret_cast<const float*>(panel) + k0 * kNR;
            if (part.format != PackFormat::kF32) {
                pack::dequant_slice(part.format, panel, k0, kc, slice);
                src = slice;
            }
            for (int64_t k = 0; k < kc; ++k) dst[k0 + k] = src[k * kNR + j];
        }
    }
}

const char* gemm_kernel_name() { return has_avx512() ? "avx512" : "avx2"; }

}  // namespace modelprint

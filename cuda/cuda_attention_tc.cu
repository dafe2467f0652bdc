// Tensor-core causal GQA attention for the 16-bit modes (see cuda_ops.cuh attention_tc_forward).
// Same semantics and online softmax as cuda_attention.cu (FlashAttention, Dao et al. 2022 Alg. 1;
// the register-level layout of FlashAttention-2, Dao 2023), but the two products of a tile,
// S = Q K^T and O += P V, run as bf16 mma.sync.m16n8k16 with f32 accumulation:
//   - a block owns kAttnTcQTile = 64 queries of one sequence and one query head, 4 warps of 16
//     query rows each; Q is rounded to bf16 and held in registers as A fragments for the whole
//     key walk;
//   - key tiles of 64 rows (the Q tile passes through the same shared memory first) are staged in
//   shared memory as bf16: K row-major (B operand of Q K^T)
//     and V transposed (B operand of P V), rows padded by 8 elements so the fragment loads of a
//     warp hit 32 distinct banks;
//   - scores are scaled by scale * log2(e) and exponentiated with exp2f; P is rounded to bf16
//     (the C fragment of S is reused as the A fragment of P V, FlashAttention-2's layout trick);
//     the row sums are kept per thread and reduced over the 4 threads of a row at the end.
// Numerics: q, k, v and p rounded to bf16 (8 significant bits), everything else f32. This kernel
// serves the bf16/f16 modes only; exact-f32 parity runs use attention_forward.
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16"): lane = 4 g + t;
//   A (16x16): a0 = A[g][2t,2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
//   B (16x8):  b0 = B[2t,2t+1][g], b1 = B[2t+8,2t+9][g]
//   C (16x8):  c0,c1 = C[g][2t,2t+1], c2,c3 = C[g+8][2t,2t+1]
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cfloat>
#include <cmath>

#include "cuda/cuda_ops.cuh"

namespace modelprint::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kKeyTile = 64;
constexpr int kPad = 8;  // bf16 elements of padding per shared-memory row
static_assert(kAttnTcQTile == kWarps * 16, "one warp per 16 query rows");

__device__ inline uint32_t pack_bf16(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x (low half) = lo
    return *reinterpret_cast<uint32_t*>(&v);
}

__device__ inline void mma_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int HS>
__global__ void __launch_bounds__(kWarps * 32)
    attention_tc_kernel(void* out, StoreType ot, const float* q, const float* k, const float* v,
                        const AttnSeq* seqs, const AttnTile* tiles, int NH, int NKV,
                        float scale_log2, int64_t window) {
    constexpr int KS = HS / 16;                // k-steps of Q K^T
    constexpr int DT = HS / 8;                 // n-tiles of the output
    constexpr int QW = (HS + kPad) / 2;        // 32-bit words per Q/K row
    constexpr int VW = (kKeyTile + kPad) / 2;  // 32-bit words per V^T row
    __shared__ uint32_t Ks[kKeyTile * QW];     // also the Q tile before the key walk
    __shared__ uint32_t Vt[HS * VW];
    uint32_t* Qs = Ks;
    static_assert(kAttnTcQTile <= kKeyTile, "the Q tile reuses the K tile's memory");

    const AttnTile tile = tiles[blockIdx.x];
    const AttnSeq sq = seqs[tile.seq];
    const int h = blockIdx.y;
    const int kh = h / (NH / NKV);
    const int64_t qd = static_cast<int64_t>(NH) * HS, kvd = static_cast<int64_t>(NKV) * HS;
    const int nq = min(kAttnTcQTile, sq.T - tile.q0);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;

    // Q tile -> bf16 shared memory (rows past nq are zero).
    for (int i = threadIdx.x; i < kAttnTcQTile * (HS / 2); i += blockDim.x) {
        const int r = i / (HS / 2), dw = i % (HS / 2);
        float2 x = make_float2(0.0f, 0.0f);
        if (r < nq) {
            x = *reinterpret_cast<const float2*>(q + (sq.q_row + tile.q0 + r) * qd +
                                                 static_cast<int64_t>(h) * HS + 2 * dw);
        }
        Qs[r * QW + dw] = pack_bf16(x.x, x.y);
    }
    __syncthreads();
    uint32_t qf[KS][4];
    const int row0 = warp * 16;
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
        qf[kk][0] = Qs[(row0 + g) * QW + kk * 8 + t];
        qf[kk][1] = Qs[(row0 + g + 8) * QW + kk * 8 + t];
        qf[kk][2] = Qs[(row0 + g) * QW + kk * 8 + 4 + t];
        qf[kk][3] = Qs[(row0 + g + 8) * QW + kk * 8 + 4 + t];
    }

    const int64_t qpos_first = static_cast<int64_t>(sq.P) + tile.q0;
    const int64_t qpos_last = qpos_first + nq - 1;
    const int64_t kstart = window > 0 ? max(int64_t{0}, qpos_first - window + 1) : 0;
    // This thread's two query rows (g and g + 8 of the warp's 16).
    const int64_t qpos_r[2] = {qpos_first + row0 + g, qpos_first + row0 + g + 8};
    const bool live_r[2] = {row0 + g < nq, row0 + g + 8 < nq};
    const int64_t warp_qpos_last = qpos_first + min(row0 + 15, nq - 1);
    const bool warp_live = row0 < nq;

    float m[2] = {-INFINITY, -INFINITY};
    float l[2] = {0.0f, 0.0f};
    float o[DT][4];
#pragma unroll
    for (int d = 0; d < DT; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;

    for (int64_t kt0 = kstart; kt0 <= qpos_last; kt0 += kKeyTile) {
        const int nk = static_cast<int>(min(static_cast<int64_t>(kKeyTile), qpos_last - kt0 + 1));
        __syncthreads();  // the previous tile is consumed
        for (int i = threadIdx.x; i < kKeyTile * (HS / 2); i += blockDim.x) {
            const int j = i / (HS / 2), dw = i % (HS / 2);
            float2 kx = make_float2(0.0f, 0.0f), vx = make_float2(0.0f, 0.0f);
            if (j < nk) {
                const int64_t src =
                    (sq.kv_row + kt0 + j) * kvd + static_cast<int64_t>(kh) * HS + 2 * dw;
                kx = *reinterpret_cast<const float2*>(k + src);
                vx = *reinterpret_cast<const float2*>(v + src);
            }
            Ks[j * QW + dw] = pack_bf16(kx.x, kx.y);
            __nv_bfloat16* vt = reinterpret_cast<__nv_bfloat16*>(Vt);
            vt[(2 * dw) * (2 * VW) + j] = __float2bfloat16_rn(vx.x);
            vt[(2 * dw + 1) * (2 * VW) + j] = __float2bfloat16_rn(vx.y);
        }
        __syncthreads();
        if (!warp_live || kt0 > warp_qpos_last) continue;  // warp-uniform: nothing visible

        // S (16 x 64) = Q K^T.
        float s[kKeyTile / 8][4];
#pragma unroll
        for (int nt = 0; nt < kKeyTile / 8; ++nt) {
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
#pragma unroll
            for (int kk = 0; kk < KS; ++kk) {
                const uint32_t b0 = Ks[(nt * 8 + g) * QW + kk * 8 + t];
                const uint32_t b1 = Ks[(nt * 8 + g) * QW + kk * 8 + 4 + t];
                mma_bf16(s[nt], qf[kk], b0, b1);
            }
        }
        // Mask, scale, running max per row.
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < kKeyTile / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int r = e / 2;
                const int64_t kpos = kt0 + nt * 8 + 2 * t + (e & 1);
                const int64_t first = window > 0 ? qpos_r[r] - window + 1 : 0;
                const bool ok = live_r[r] && kpos <= qpos_r[r] && kpos >= first;
                s[nt][e] = ok ? s[nt][e] * scale_log2 : -INFINITY;
                mx[r] = fmaxf(mx[r], s[nt][e]);
            }
        }
        float corr[2], base[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            const float m_new = fmaxf(m[r], mx[r]);
            base[r] = m_new == -INFINITY ? 0.0f : m_new;  // all masked so far: p = 0, no NaN
            corr[r] = exp2f(m[r] - base[r]);
            m[r] = m_new;
            l[r] *= corr[r];
        }
#pragma unroll
        for (int d = 0; d < DT; ++d) {
            o[d][0] *= corr[0];
            o[d][1] *= corr[0];
            o[d][2] *= corr[1];
            o[d][3] *= corr[1];
        }
#pragma unroll
        for (int nt = 0; nt < kKeyTile / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                s[nt][e] = exp2f(s[nt][e] - base[e / 2]);
                l[e / 2] += s[nt][e];
            }
        }
        // O (16 x HS) += P (16 x 64) V (64 x HS).
#pragma unroll
        for (int kk = 0; kk < kKeyTile / 16; ++kk) {
            const uint32_t a[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]),
                                   pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                                   pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]),
                                   pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int d = 0; d < DT; ++d) {
                const uint32_t b0 = Vt[(d * 8 + g) * VW + kk * 8 + t];
                const uint32_t b1 = Vt[(d * 8 + g) * VW + kk * 8 + 4 + t];
                mma_bf16(o[d], a, b0, b1);
            }
        }
    }
    if (!warp_live) return;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        if (!live_r[r]) continue;
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        const int64_t orow =
            (sq.q_row + tile.q0 + row0 + g + 8 * r) * qd + static_cast<int64_t>(h) * HS;
#pragma unroll
        for (int d = 0; d < DT; ++d) {
            const float x0 = o[d][2 * r] * inv, x1 = o[d][2 * r + 1] * inv;
            const int64_t i = orow + d * 8 + 2 * t;
            if (ot == StoreType::kF32) {
                *reinterpret_cast<float2*>(static_cast<float*>(out) + i) = make_float2(x0, x1);
            } else if (ot == StoreType::kBF16) {
                *reinterpret_cast<__nv_bfloat162*>(static_cast<__nv_bfloat16*>(out) + i) =
                    __floats2bfloat162_rn(x0, x1);
            } else {
                *reinterpret_cast<__half2*>(static_cast<__half*>(out) + i) =
                    __floats2half2_rn(x0, x1);
            }
        }
    }
}

template <int HS>
cudaError_t launch(void* out, StoreType ot, const float* q, const float* k, const float* v,
                   const AttnSeq* seqs, const AttnTile* tiles, int64_t n_tiles, int64_t NH,
                   int64_t NKV, float scale, int64_t window, cudaStream_t s) {
    const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(NH));
    attention_tc_kernel<HS>
        <<<grid, kWarps * 32, 0, s>>>(out, ot, q, k, v, seqs, tiles, static_cast<int>(NH),
                                      static_cast<int>(NKV), scale * 1.4426950408889634f, window);
    return cudaPeekAtLastError();
}

}  // namespace

bool attention_tc_supports(int64_t HS) {
    return HS == 32 || HS == 64 || HS == 80 || HS == 96 || HS == 128;
}

cudaError_t attention_tc_forward(void* out, StoreType ot, const float* q, const float* k,
                                 const float* v, const AttnSeq* seqs, const AttnTile* tiles,
                                 int64_t n_tiles, int64_t NH, int64_t NKV, int64_t HS, float scale,
                                 int64_t sliding_window, cudaStream_t s) {
    if (n_tiles == 0) return cudaSuccess;
    if (!attention_tc_supports(HS) || NKV <= 0 || NH % NKV != 0) return cudaErrorInvalidValue;
    switch (HS) {
        case 32:
            return launch<32>(out, ot, q, k, v, seqs, tiles, n_tiles, NH, NKV, scale,
                              sliding_window, s);
        case 64:
            return launch<64>(out, ot, q, k, v, seqs, tiles, n_tiles, NH, NKV, scale,
                              sliding_window, s);
        case 80:
            return launch<80>(out, ot, q, k, v, seqs, tiles, n_tiles, NH, NKV, scale,
                              sliding_window, s);
        case 96:
            return launch<96>(out, ot, q, k, v, seqs, tiles, n_tiles, NH, NKV, scale,
                              sliding_window, s);
        default:
            return launch<128>(out, ot, q, k, v, seqs, tiles, n_tiles, NH, NKV, scale,
                               sliding_window, s);
    }
}

}  // namespace modelprint::cuda

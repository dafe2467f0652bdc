// Fused causal grouped-query attention for packed ragged batches (see cuda_ops.cuh).
// Algorithm: FlashAttention-style tiling with an online softmax (Milakov & Gimelshein 2018,
// "Online normalizer calculation for softmax"; Dao et al. 2022, Alg. 1): a block owns
// kAttnQTile queries of one sequence and one query head; it walks the keys its queries can see in
// tiles of kKeyTile rows staged in shared memory, keeping per query a running max m, a running
// denominator l and an unnormalised output accumulator, rescaled by exp(m_old - m_new) whenever
// the max grows. Memory is O(tile), never the T x T score matrix. Semantics are those of
// cpu_ops attention_forward: scores q.k * scale, keys at positions 0..qpos (and qpos - kpos <
// sliding_window when set), query head h reads kv head h / (NH / NKV).
// Layout: 4 warps per block, each warp owns 4 of the 16 queries; for a key tile, lane j scores key
// j (K rows padded to HS+1 floats so the 32 lanes hit 32 banks) and lane i accumulates output
// dims i, i+32, ... (DPL = ceil(HS/32) registers per query).
// Not here: the KV cache (the caller points k/v at it), the projections.
#include <cfloat>
#include <cmath>

#include "cuda/cuda_ops.cuh"

namespace modelprint::cuda {
namespace {

constexpr int kWarps = 4;
constexpr int kQueriesPerWarp = kAttnQTile / kWarps;
constexpr int kKeyTile = 32;

template <int DPL>
__global__ void __launch_bounds__(kWarps * 32)
    attention_kernel(float* out, const float* q, const float* k, const float* v,
                     const AttnSeq* seqs, const AttnTile* tiles, int NH, int NKV, int HS,
                     float scale, int64_t window) {
    extern __shared__ float smem[];
    const int HSP = HS + 1;
    float* Ks = smem;                   // (kKeyTile, HSP)
    float* Vs = Ks + kKeyTile * HSP;    // (kKeyTile, HS)
    float* Qs = Vs + kKeyTile * HS;     // (kAttnQTile, HS)

    const AttnTile tile = tiles[blockIdx.x];
    const AttnSeq sq = seqs[tile.seq];
    const int h = blockIdx.y;
    const int kh = h / (NH / NKV);
    const int64_t qd = static_cast<int64_t>(NH) * HS, kvd = static_cast<int64_t>(NKV) * HS;
    const int nq = min(kAttnQTile, sq.T - tile.q0);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

    for (int i = threadIdx.x; i < nq * HS; i += blockDim.x) {
        const int t = i / HS, d = i % HS;
        Qs[i] = q[(sq.q_row + tile.q0 + t) * qd + static_cast<int64_t>(h) * HS + d];
    }
    const int64_t qpos_first = static_cast<int64_t>(sq.P) + tile.q0;
    const int64_t qpos_last = qpos_first + nq - 1;
    const int64_t kstart = window > 0 ? max(int64_t{0}, qpos_first - window + 1) : 0;

    float m[kQueriesPerWarp], l[kQueriesPerWarp], acc[kQueriesPerWarp][DPL];
#pragma unroll
    for (int qi = 0; qi < kQueriesPerWarp; ++qi) {
        m[qi] = -INFINITY;
        l[qi] = 0.0f;
#pragma unroll
        for (int i = 0; i < DPL; ++i) acc[qi][i] = 0.0f;
    }

    for (int64_t kt0 = kstart; kt0 <= qpos_last; kt0 += kKeyTile) {
        const int nk = static_cast<int>(min(static_cast<int64_t>(kKeyTile), qpos_last - kt0 + 1));
        __syncthreads();  // previous tile fully consumed (and Qs written on the first pass)
        for (int i = threadIdx.x; i < nk * HS; i += blockDim.x) {
            const int j = i / HS, d = i % HS;
            const int64_t src = (sq.kv_row + kt0 + j) * kvd + static_cast<int64_t>(kh) * HS + d;
            Ks[j * HSP + d] = k[src];
            Vs[j * HS + d] = v[src];
        }
        __syncthreads();
#pragma unroll
        for (int qi = 0; qi < kQueriesPerWarp; ++qi) {
            const int t = warp * kQueriesPerWarp + qi;
            if (t >= nq) continue;  // warp-uniform
            const int64_t qpos = qpos_first + t;
            const int64_t first = window > 0 ? max(int64_t{0}, qpos - window + 1) : 0;
            const int64_t kpos = kt0 + lane;
            float s = -INFINITY;
            if (lane < nk && kpos <= qpos && kpos >= first) {
                const float* qr = Qs + t * HS;
                const float* kr = Ks + lane * HSP;
                float dot = 0.0f;
                for (int d = 0; d < HS; ++d) dot += qr[d] * kr[d];
                s = dot * scale;
            }
            float tmax = s;
#pragma unroll
            for (int off = 16; off > 0; off /= 2) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, off));
            if (tmax == -INFINITY) continue;  // no visible key in this tile (warp-uniform)
            const float m_new = fmaxf(m[qi], tmax);
            const float corr = m[qi] == -INFINITY ? 0.0f : expf(m[qi] - m_new);
            const float p = s == -INFINITY ? 0.0f : expf(s - m_new);
            float psum = p;
#pragma unroll
            for (int off = 16; off > 0; off /= 2) psum += __shfl_xor_sync(0xffffffffu, psum, off);
            l[qi] = l[qi] * corr + psum;
#pragma unroll
            for (int i = 0; i < DPL; ++i) acc[qi][i] *= corr;
            for (int j = 0; j < nk; ++j) {
                const float pj = __shfl_sync(0xffffffffu, p, j);
                if (pj == 0.0f) continue;  // masked key (warp-uniform)
                const float* vr = Vs + j * HS;
#pragma unroll
                for (int i = 0; i < DPL; ++i) {
                    const int d = lane + 32 * i;
                    if (d < HS) acc[qi][i] += pj * vr[d];
                }
            }
            m[qi] = m_new;
        }
    }
#pragma unroll
    for (int qi = 0; qi < kQueriesPerWarp; ++qi) {
        const int t = warp * kQueriesPerWarp + qi;
        if (t >= nq) continue;
        const float inv = 1.0f / l[qi];
        float* o = out + (sq.q_row + tile.q0 + t) * qd + static_cast<int64_t>(h) * HS;
#pragma unroll
        for (int i = 0; i < DPL; ++i) {
            const int d = lane + 32 * i;
            if (d < HS) o[d] = acc[qi][i] * inv;
        }
    }
}

template <int DPL>
cudaError_t launch(float* out, const float* q, const float* k, const float* v,
                   const AttnSeq* seqs, const AttnTile* tiles, int64_t n_tiles, int64_t NH,
                   int64_t NKV, int64_t HS, float scale, int64_t window, cudaStream_t s) {
    const size_t smem =
        sizeof(float) * static_cast<size_t>(kKeyTile * (HS + 1) + kKeyTile * HS + kAttnQTile * HS);
    if (smem > 48 * 1024) {
        cudaError_t err = cudaFuncSetAttribute(attention_kernel<DPL>,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(smem));
        if (err != cudaSuccess) return err;
    }
    const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(NH));
    attention_kernel<DPL><<<grid, kWarps * 32, smem, s>>>(
        out, q, k, v, seqs, tiles, static_cast<int>(NH), static_cast<int>(NKV),
        static_cast<int>(HS), scale, window);
    return cudaPeekAtLastError();
}

}  // namespace

cudaError_t attention_forward(float* out, const float* q, const float* k, const float* v,
                              const AttnSeq* seqs, const AttnTile* tiles, int64_t n_tiles,
                              int64_t NH, int64_t NKV, int64_t HS, float scale,
                              int64_t sliding_window, cudaStream_t s) {
    if (n_tiles == 0) return cudaSuccess;
    if (HS <= 0 || HS > kAttnMaxHS || NKV <= 0 || NH % NKV != 0) return cudaErrorInvalidValue;
    if (HS <= 32) return launch<1>(out, q, k, v, seqs, tiles, n_tiles, NH, NKV, HS, scale, sliding_window, s);
    if (HS <= 64) return launch<2>(out, q, k, v, seqs, tiles, n_tiles, NH, NKV, HS, scale, sliding_window, s);
    if (HS <= 128) return launch<4>(out, q, k, v, seqs, tiles, n_tiles, NH, NKV, HS, scale, sliding_window, s);
    return launch<8>(out, q, k, v, seqs, tiles, n_tiles, NH, NKV, HS, scale, sliding_window, s);
}

}  // namespace modelprint::cuda

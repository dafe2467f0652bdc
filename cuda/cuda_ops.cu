// CUDA kernels of the engine other than attention and dequantisation (see cuda_ops.cuh): embedding,
// norms, RoPE, activations, residual, soft-capping, casts, top-k and greedy argmax. Each mirrors
// the cpu_ops.cpp function of the same name; formulas and their sources are cited there.
// Conventions: one thread per element for element-wise ops (grid-stride), one block per row for
// row reductions (norms, top-k, argmax) with block reductions in a fixed tree order, so results
// are deterministic run to run. Transcendentals use the accurate (non --use_fast_math) functions.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cfloat>
#include <cmath>

#include <algorithm>

#include "cuda/cuda_ops.cuh"

namespace modelprint::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kRowThreads = 256;  // block size of the row kernels (power of two)

int grid_for(int64_t n) {
    const int64_t g = (n + kThreads - 1) / kThreads;
    return static_cast<int>(g < 65535 * 16 ? (g < 1 ? 1 : g) : 65535 * 16);
}

__device__ __forceinline__ float load_store(const void* p, StoreType t, int64_t i) {
    switch (t) {
        case StoreType::kBF16:
            return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        case StoreType::kF16:
            return __half2float(static_cast<const __half*>(p)[i]);
        default:
            return static_cast<const float*>(p)[i];
    }
}

// Writes v at element i of p (StoreType t), rounded to nearest even for the 16-bit types.
__device__ __forceinline__ void store_as(void* p, StoreType t, int64_t i, float v) {
    switch (t) {
        case StoreType::kBF16:
            static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
            break;
        case StoreType::kF16:
            static_cast<__half*>(p)[i] = __float2half_rn(v);
            break;
        default:
            static_cast<float*>(p)[i] = v;
    }
}

// Block-wide sum of one double per thread (blockDim.x == kRowThreads), fixed order.
__device__ double block_sum(double v, double* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int stride = kRowThreads / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
        __syncthreads();
    }
    const double r = shared[0];
    __syncthreads();
    return r;
}

__global__ void embedding_kernel(float* out, const int32_t* ids, const void* wte, StoreType wt,
                                 int64_t N, int64_t C) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < N * C;
         i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t n = i / C, c = i % C;
        out[i] = load_store(wte, wt, static_cast<int64_t>(ids[n]) * C + c);
    }
}

__global__ void position_embedding_kernel(float* x, const int32_t* pos, const float* wpe,
                                          int64_t N, int64_t C) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < N * C;
         i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t n = i / C, c = i % C;
        x[i] += wpe[static_cast<int64_t>(pos[n]) * C + c];
    }
}

// One block per row. HF LlamaRMSNorm: weight * (x * rsqrt(mean(x^2) + eps)).
// out is (N, C) of StoreType ot: f32, or the 16-bit input of the next product (rounded once,
// exactly as cast_forward would round the f32 value).
__global__ void rmsnorm_kernel(void* out, StoreType ot, const float* inp, const float* weight,
                               int64_t C, float eps) {
    __shared__ double shared[kRowThreads];
    const float* x = inp + blockIdx.x * C;
    const int64_t o = blockIdx.x * C;
    double ss = 0.0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) ss += static_cast<double>(x[c]) * x[c];
    ss = block_sum(ss, shared);
    const float rstd = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(C) + eps));
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) store_as(out, ot, o + c, weight[c] * (x[c] * rstd));
}

__global__ void layernorm_kernel(void* out, StoreType ot, const float* inp, const float* weight,
                                 const float* bias, int64_t C, float eps) {
    __shared__ double shared[kRowThreads];
    const float* x = inp + blockIdx.x * C;
    const int64_t o = blockIdx.x * C;
    double sum = 0.0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) sum += x[c];
    const double mean = block_sum(sum, shared) / static_cast<double>(C);
    double var = 0.0;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
        const double d = x[c] - mean;
        var += d * d;
    }
    var = block_sum(var, shared) / static_cast<double>(C);
    const double rstd = 1.0 / sqrt(var + eps);
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
        store_as(out, ot, o + c,
                 __fadd_rn(__fmul_rn(static_cast<float>((x[c] - mean) * rstd), weight[c]), bias[c]));
    }
}

// One thread per (token, head, d < R/2) pair; cos/sin in double of the f32 angle, like the CPU.
__global__ void rope_kernel(float* x, const int32_t* pos, const float* inv_freq, float scaling,
                            int64_t half, int64_t N, int64_t H, int64_t HS) {
    const int64_t total = N * H * half;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < total;
         i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t d = i % half;
        const int64_t nh = i / half;
        const int64_t n = nh / H;
        const float angle = __fmul_rn(static_cast<float>(pos[n]), inv_freq[d]);
        const float cs = __fmul_rn(static_cast<float>(cos(static_cast<double>(angle))), scaling);
        const float sn = __fmul_rn(static_cast<float>(sin(static_cast<double>(angle))), scaling);
        float* v = x + nh * HS;
        const float a = v[d], b = v[d + half];
        v[d] = __fsub_rn(__fmul_rn(a, cs), __fmul_rn(b, sn));
        v[d + half] = __fadd_rn(__fmul_rn(b, cs), __fmul_rn(a, sn));
    }
}

__global__ void qkv_split_kernel(float* q, float* k, float* v, const float* qkv, int64_t N,
                                 int64_t QD, int64_t KVD) {
    const int64_t W = QD + 2 * KVD;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < N * W;
         i += int64_t{gridDim.x} * blockDim.x) {
        const int64_t n = i / W, c = i % W;
        const float val = qkv[i];
        if (c < QD) {
            q[n * QD + c] = val;
        } else if (c < QD + KVD) {
            k[n * KVD + (c - QD)] = val;
        } else {
            v[n * KVD + (c - QD - KVD)] = val;
        }
    }
}

// qkv_split + rope in one pass: a block per row (strided), the row's cos/sin computed once per
// frequency in shared memory (the same f32 angle and double cos/sin as rope_kernel, so results
// are bit-identical to qkv_split_kernel followed by rope_kernel on q and k).
__global__ void qkv_rope_kernel(float* q, float* k, float* v, const float* qkv, const int32_t* pos,
                                const float* inv_freq, float scaling, int half, int64_t N, int NH,
                                int NKV, int HS) {
    extern __shared__ float trig[];  // cos (half), sin (half)
    const int QD = NH * HS, KVD = NKV * HS, W = QD + 2 * KVD, R = 2 * half;
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        __syncthreads();  // the previous row's trig table is consumed
        for (int d = threadIdx.x; d < half; d += blockDim.x) {
            const float angle = __fmul_rn(static_cast<float>(pos[n]), inv_freq[d]);
            trig[d] = __fmul_rn(static_cast<float>(cos(static_cast<double>(angle))), scaling);
            trig[half + d] = __fmul_rn(static_cast<float>(sin(static_cast<double>(angle))), scaling);
        }
        __syncthreads();
        const float* row = qkv + n * W;
        for (int c = threadIdx.x; c < W; c += blockDim.x) {
            if (c >= QD + KVD) {
                v[n * KVD + (c - QD - KVD)] = row[c];
                continue;
            }
            const bool is_q = c < QD;
            const int cc = is_q ? c : c - QD;
            float* dst = is_q ? q + n * QD : k + n * KVD;
            const int d = cc % HS;
            if (d >= R) {
                dst[cc] = row[c];
            } else if (d < half) {
                const float a = row[c], b = row[c + half];
                const float cs = trig[d], sn = trig[half + d];
                dst[cc] = __fsub_rn(__fmul_rn(a, cs), __fmul_rn(b, sn));
                dst[cc + half] = __fadd_rn(__fmul_rn(b, cs), __fmul_rn(a, sn));
            }
        }
    }
}

// Four columns per thread (FF % 4 == 0): float4 loads of gate and up.
__global__ void swiglu4_kernel(void* out, StoreType ot, const float* gu, int64_t N, int64_t FF) {
    const int64_t j = 4 * (blockIdx.x * int64_t{blockDim.x} + threadIdx.x);
    if (j >= FF) return;
    for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {
        const float4 g = *reinterpret_cast<const float4*>(gu + n * 2 * FF + j);
        const float4 u = *reinterpret_cast<const float4*>(gu + n * 2 * FF + FF + j);
        const float gv[4] = {g.x, g.y, g.z, g.w}, uv[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            store_as(out, ot, n * FF + j + e,
                     __fmul_rn(__fdiv_rn(gv[e], __fadd_rn(1.0f, expf(-gv[e]))), uv[e]));
        }
    }
}

// Grid: x over the FF columns, y (strided) over the N rows, so no 64-bit division per element.
__global__ void swiglu_kernel(void* out, StoreType ot, const float* gu, int64_t N, int64_t FF) {
    const int64_t j = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
    if (j >= FF) return;
    for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {
        const float g = gu[n * 2 * FF + j];
        const float u = gu[n * 2 * FF + FF + j];
        store_as(out, ot, n * FF + j, __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), u));
    }
}

__global__ void gelu_tanh_kernel(float* x, int64_t n) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        const float v = x[i];
        const float inner = __fmul_rn(k, __fadd_rn(v, __fmul_rn(__fmul_rn(__fmul_rn(0.044715f, v), v), v)));
        x[i] = __fmul_rn(__fmul_rn(0.5f, v), __fadd_rn(1.0f, tanhf(inner)));
    }
}

__global__ void gelu_kernel(float* x, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        const double v = x[i];
        x[i] = static_cast<float>(0.5 * v * (1.0 + erf(v / 1.4142135623730951)));
    }
}

__global__ void silu_kernel(float* x, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        x[i] = __fdiv_rn(x[i], __fadd_rn(1.0f, expf(-x[i])));
    }
}

__global__ void residual_kernel(float* x, const float* y, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        x[i] = __fadd_rn(x[i], y[i]);
    }
}

__global__ void softcap_kernel(float* x, int64_t n, float cap) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        x[i] = __fmul_rn(cap, tanhf(__fdiv_rn(x[i], cap)));
    }
}

__global__ void add_bias_kernel(float* out, const float* bias, int64_t N, int64_t OC) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < N * OC;
         i += int64_t{gridDim.x} * blockDim.x) {
        out[i] = __fadd_rn(out[i], bias[i % OC]);
    }
}

__global__ void cast_kernel(void* dst, StoreType dt, const float* src, int64_t n) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        if (dt == StoreType::kBF16) {
            static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16_rn(src[i]);
        } else if (dt == StoreType::kF16) {
            static_cast<__half*>(dst)[i] = __float2half_rn(src[i]);
        } else {
            static_cast<float*>(dst)[i] = src[i];
        }
    }
}

// Total order of top-k candidates: larger value first, NaN after every number, ties (and NaN
// pairs) to the lower id — the comparator of cpu_ops topk_forward.
struct Cand {
    float v;
    int32_t id;  // -1: none
};
__device__ __forceinline__ bool before(const Cand& a, const Cand& b) {
    if (b.id < 0) return a.id >= 0;
    if (a.id < 0) return false;
    const bool na = isnan(a.v), nb = isnan(b.v);
    if (na != nb) return nb;
    if (na) return a.id < b.id;
    return a.v > b.v || (!(a.v < b.v) && a.id < b.id);
}

__device__ Cand block_best(Cand c, Cand* shared) {
    shared[threadIdx.x] = c;
    __syncthreads();
    for (int stride = kRowThreads / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride && before(shared[threadIdx.x + stride], shared[threadIdx.x])) {
            shared[threadIdx.x] = shared[threadIdx.x + stride];
        }
        __syncthreads();
    }
    const Cand r = shared[0];
    __syncthreads();
    return r;
}

// One block per row; K rounds, each selecting the best candidate ordered after the previous
// pick. O(K * V / threads) per row, no extra memory.
__global__ void topk_kernel(int32_t* ids, float* vals, const float* logits, int64_t V, int64_t K) {
    __shared__ Cand shared[kRowThreads];
    const float* row = logits + blockIdx.x * V;
    Cand prev{0.0f, -1};
    for (int64_t k = 0; k < K; ++k) {
        Cand best{0.0f, -1};
        for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
            const Cand c{row[j], static_cast<int32_t>(j)};
            if (prev.id >= 0 && !before(prev, c)) continue;  // already taken
            if (before(c, best)) best = c;
        }
        best = block_best(best, shared);
        if (threadIdx.x == 0) {
            ids[blockIdx.x * K + k] = best.id;
            vals[blockIdx.x * K + k] = best.v;
        }
        prev = best;
    }
}

// One block per row: the first maximal logit (std::max_element) and log-softmax in double.
__global__ void argmax_logprob_kernel(int32_t* ids, double* logprobs, const float* logits,
                                      int64_t V) {
    __shared__ Cand shared[kRowThreads];
    __shared__ double dshared[kRowThreads];
    const float* row = logits + blockIdx.x * V;
    Cand best{0.0f, -1};
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
        const Cand c{row[j], static_cast<int32_t>(j)};
        if (best.id < 0 || c.v > best.v) best = c;  // strict: keeps the first maximum per thread
    }
    shared[threadIdx.x] = best;
    __syncthreads();
    for (int stride = kRowThreads / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) {
            const Cand a = shared[threadIdx.x], b = shared[threadIdx.x + stride];
            if (a.id < 0 || (b.id >= 0 && (b.v > a.v || (b.v == a.v && b.id < a.id)))) {
                shared[threadIdx.x] = b;
            }
        }
        __syncthreads();
    }
    best = shared[0];
    const double mx = best.v;
    double sum = 0.0;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) sum += exp(static_cast<double>(row[j]) - mx);
    sum = block_sum(sum, dshared);
    if (threadIdx.x == 0) {
        ids[blockIdx.x] = best.id;
        logprobs[blockIdx.x] = static_cast<double>(best.v) - mx - log(sum);
    }
}

}  // namespace

cudaError_t embedding_forward(float* out, const int32_t* ids, const void* wte, StoreType wt, int64_t N,
                         int64_t C, cudaStream_t s) {
    if (N * C == 0) return cudaSuccess;
    embedding_kernel<<<grid_for(N * C), kThreads, 0, s>>>(out, ids, wte, wt, N, C);
    return cudaPeekAtLastError();
}

cudaError_t position_embedding_forward(float* x, const int32_t* pos, const float* wpe, int64_t N,
                                  int64_t C, cudaStream_t s) {
    if (N * C == 0) return cudaSuccess;
    position_embedding_kernel<<<grid_for(N * C), kThreads, 0, s>>>(x, pos, wpe, N, C);
    return cudaPeekAtLastError();
}

cudaError_t rmsnorm_forward_to(void* out, StoreType ot, const float* inp, const float* weight,
                               int64_t N, int64_t C, float eps, cudaStream_t s) {
    if (N == 0) return cudaSuccess;
    rmsnorm_kernel<<<static_cast<unsigned>(N), kRowThreads, 0, s>>>(out, ot, inp, weight, C, eps);
    return cudaPeekAtLastError();
}

cudaError_t rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N, int64_t C,
                       float eps, cudaStream_t s) {
    return rmsnorm_forward_to(out, StoreType::kF32, inp, weight, N, C, eps, s);
}

cudaError_t layernorm_forward_to(void* out, StoreType ot, const float* inp, const float* weight,
                                 const float* bias, int64_t N, int64_t C, float eps, cudaStream_t s) {
    if (N == 0) return cudaSuccess;
    layernorm_kernel<<<static_cast<unsigned>(N), kRowThreads, 0, s>>>(out, ot, inp, weight, bias, C, eps);
    return cudaPeekAtLastError();
}

cudaError_t layernorm_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int64_t N, int64_t C, float eps, cudaStream_t s) {
    return layernorm_forward_to(out, StoreType::kF32, inp, weight, bias, N, C, eps, s);
}

cudaError_t rope_forward(float* x, const int32_t* pos, const float* inv_freq, float attention_scaling,
                    int64_t R, int64_t N, int64_t H, int64_t HS, cudaStream_t s) {
    const int64_t half = R / 2;
    if (N * H * half == 0) return cudaSuccess;
    rope_kernel<<<grid_for(N * H * half), kThreads, 0, s>>>(x, pos, inv_freq, attention_scaling,
                                                             half, N, H, HS);
    return cudaPeekAtLastError();
}

cudaError_t qkv_split_forward(float* q, float* k, float* v, const float* qkv, int64_t N, int64_t QD,
                         int64_t KVD, cudaStream_t s) {
    if (N == 0) return cudaSuccess;
    qkv_split_kernel<<<grid_for(N * (QD + 2 * KVD)), kThreads, 0, s>>>(q, k, v, qkv, N, QD, KVD);
    return cudaPeekAtLastError();
}

cudaError_t qkv_rope_forward(float* q, float* k, float* v, const float* qkv, const int32_t* pos,
                             const float* inv_freq, float attention_scaling, int64_t R, int64_t N,
                             int64_t NH, int64_t NKV, int64_t HS, cudaStream_t s) {
    if (N == 0) return cudaSuccess;
    if (R <= 0 || R % 2 != 0 || R > HS || (NH + 2 * NKV) * HS > (int64_t{1} << 30)) {
        return cudaErrorInvalidValue;
    }
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(N, 65535));
    qkv_rope_kernel<<<blocks, kThreads, static_cast<size_t>(R) * sizeof(float), s>>>(
        q, k, v, qkv, pos, inv_freq, attention_scaling, static_cast<int>(R / 2), N,
        static_cast<int>(NH), static_cast<int>(NKV), static_cast<int>(HS));
    return cudaPeekAtLastError();
}

cudaError_t swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF, cudaStream_t s) {
    return swiglu_forward_to(out, StoreType::kF32, gu, N, FF, s);
}

cudaError_t swiglu_forward_to(void* out, StoreType ot, const float* gu, int64_t N, int64_t FF,
                              cudaStream_t s) {
    if (N * FF == 0) return cudaSuccess;
    if (FF % 4 == 0) {
        const dim3 grid(static_cast<unsigned>((FF / 4 + kThreads - 1) / kThreads),
                        static_cast<unsigned>(std::min<int64_t>(N, 65535)));
        swiglu4_kernel<<<grid, kThreads, 0, s>>>(out, ot, gu, N, FF);
        return cudaPeekAtLastError();
    }
    const dim3 grid(static_cast<unsigned>((FF + kThreads - 1) / kThreads),
                    static_cast<unsigned>(std::min<int64_t>(N, 65535)));
    swiglu_kernel<<<grid, kThreads, 0, s>>>(out, ot, gu, N, FF);
    return cudaPeekAtLastError();
}

cudaError_t gelu_tanh_forward(float* x, int64_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    gelu_tanh_kernel<<<grid_for(n), kThreads, 0, s>>>(x, n);
    return cudaPeekAtLastError();
}

cudaError_t gelu_forward(float* x, int64_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    gelu_kernel<<<grid_for(n), kThreads, 0, s>>>(x, n);
    return cudaPeekAtLastError();
}

cudaError_t silu_forward(float* x, int64_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    silu_kernel<<<grid_for(n), kThreads, 0, s>>>(x, n);
    return cudaPeekAtLastError();
}

cudaError_t residual_forward(float* x, const float* y, int64_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    residual_kernel<<<grid_for(n), kThreads, 0, s>>>(x, y, n);
    return cudaPeekAtLastError();
}

cudaError_t softcap_forward(float* x, int64_t n, float cap, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    softcap_kernel<<<grid_for(n), kThreads, 0, s>>>(x, n, cap);
    return cudaPeekAtLastError();
}

cudaError_t add_bias_forward(float* out, const float* bias, int64_t N, int64_t OC, cudaStream_t s) {
    if (N * OC == 0) return cudaSuccess;
    add_bias_kernel<<<grid_for(N * OC), kThreads, 0, s>>>(out, bias, N, OC);
    return cudaPeekAtLastError();
}

cudaError_t cast_forward(void* dst, StoreType dt, const float* src, int64_t n, cudaStream_t s) {
    if (n == 0) return cudaSuccess;
    cast_kernel<<<grid_for(n), kThreads, 0, s>>>(dst, dt, src, n);
    return cudaPeekAtLastError();
}

cudaError_t topk_forward(int32_t* ids, float* vals, const float* logits, int64_t rows, int64_t V,
                    int64_t K, cudaStream_t s) {
    if (rows == 0) return cudaSuccess;
    topk_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, s>>>(ids, vals, logits, V, K);
    return cudaPeekAtLastError();
}

cudaError_t argmax_logprob_forward(int32_t* ids, double* logprobs, const float* logits, int64_t rows,
                              int64_t V, cudaStream_t s) {
    if (rows == 0) return cudaSuccess;
    argmax_logprob_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, s>>>(ids, logprobs, logits, V);
    return cudaPeekAtLastError();
}

}  // namespace modelprint::cuda

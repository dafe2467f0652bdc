// CUDA transformer operations: the launchers of the kernels in cuda_ops.cu, cuda_attention.cu and
// cuda_dequant.cu, one per cpu_ops.h function with the same name and meaning, on DEVICE buffers,
// queued on `s` (asynchronous; each returns the launch's cudaError_t, cudaSuccess when queued).
// The callers (.cpp files) validate sizes and turn errors into Status: this header and the .cu
// files include no fmt/Status code, which nvcc cannot compile in C++20 mode. Shapes use the letters
// of cpu_ops.h and every buffer carries its shape in a comment. Activations are f32; weight
// matrices are stored as StoreType (f32, bf16 or f16) and norm weights / biases as f32.
// Numerics: reductions of norms and log-softmax are accumulated in double like the CPU oracle;
// attention is a fused, tiled online softmax (Milakov & Gimelshein 2018; Dao et al. 2022,
// FlashAttention Alg. 1) that never forms the T x T score matrix.
// Not here: matrix products (cublas_gemm.cuh), weight placement (cuda_weights.cuh).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace modelprint::cuda {

// Element type of a weight matrix on the device.
enum class StoreType : uint8_t { kF32, kBF16, kF16 };
inline size_t store_size(StoreType t) { return t == StoreType::kF32 ? 4 : 2; }

// Stored (file) element types with a device dequantiser (DType of fingerprint/base/dtype.h,
// mapped in cuda_weights.cpp). kLut: one byte per element through a 256-entry table (the f8
// types, decoded on the host by dtype.cpp and uploaded).
enum class StoredKind : uint8_t { kF32, kF16, kBF16, kLut, kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ4_K, kQ6_K };
struct ByteLut {
    float v[256];
};

// out (N, C) = wte (V, C) rows ids[n]; wte stored as wt.
cudaError_t embedding_forward(float* out, const int32_t* ids, const void* wte, StoreType wt, int64_t N,
                         int64_t C, cudaStream_t s);
// x (N, C) += wpe (maxpos, C) rows pos[n]; wpe f32.
cudaError_t position_embedding_forward(float* x, const int32_t* pos, const float* wpe, int64_t N,
                                  int64_t C, cudaStream_t s);
// out, inp (N, C); weight (C). out may alias inp. Sum of squares in double.
cudaError_t rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N, int64_t C,
                       float eps, cudaStream_t s);
// The same, writing out (N, C) as StoreType ot (the 16-bit input of the next product, rounded
// once from the f32 result exactly as cast_forward rounds).
cudaError_t rmsnorm_forward_to(void* out, StoreType ot, const float* inp, const float* weight,
                               int64_t N, int64_t C, float eps, cudaStream_t s);
cudaError_t layernorm_forward_to(void* out, StoreType ot, const float* inp, const float* weight,
                                 const float* bias, int64_t N, int64_t C, float eps, cudaStream_t s);
// out, inp (N, C); weight, bias (C). Mean and variance in double (two passes).
cudaError_t layernorm_forward(float* out, const float* inp, const float* weight, const float* bias,
                         int64_t N, int64_t C, float eps, cudaStream_t s);
// x (N, H, HS) in place, rotate_half order; inv_freq (R/2) on the device.
cudaError_t rope_forward(float* x, const int32_t* pos, const float* inv_freq, float attention_scaling,
                    int64_t R, int64_t N, int64_t H, int64_t HS, cudaStream_t s);
// Splits qkv (N, QD + 2*KVD) into q (N, QD), k (N, KVD), v (N, KVD) (k and v may point into a
// KV cache).
cudaError_t qkv_split_forward(float* q, float* k, float* v, const float* qkv, int64_t N, int64_t QD,
                         int64_t KVD, cudaStream_t s);
// qkv_split_forward followed by rope_forward on q and k, in one pass and bit-identical to the two
// (R = rotary dims, even, <= HS). For models without q/k norms.
cudaError_t qkv_rope_forward(float* q, float* k, float* v, const float* qkv, const int32_t* pos,
                             const float* inv_freq, float attention_scaling, int64_t R, int64_t N,
                             int64_t NH, int64_t NKV, int64_t HS, cudaStream_t s);

// One sequence of a packed attention batch: its queries are rows q_row..q_row+T-1 of q/out at
// absolute positions P..P+T-1; its keys/values for positions 0..P+T-1 are rows kv_row.. of k/v.
struct AttnSeq {
    int64_t q_row;
    int64_t kv_row;
    int32_t T;
    int32_t P;
};
// A block of work: kAttnQTile queries of one sequence starting at query index q0.
struct AttnTile {
    int32_t seq;
    int32_t q0;
};
inline constexpr int kAttnQTile = 16;
inline constexpr int kAttnMaxHS = 256;
// out (Nq, NH*HS) = causal GQA attention; q (Nq, NH*HS); k, v (*, NKV*HS); seqs (n_seqs) and
// tiles (n_tiles) on the device. HS <= kAttnMaxHS.
cudaError_t attention_forward(float* out, const float* q, const float* k, const float* v,
                         const AttnSeq* seqs, const AttnTile* tiles, int64_t n_tiles, int64_t NH,
                         int64_t NKV, int64_t HS, float scale, int64_t sliding_window,
                         cudaStream_t s);
// Tensor-core variant for the 16-bit modes (cuda_attention_tc.cu): same arguments and semantics,
// but tiles of kAttnTcQTile queries and q, k, v, p rounded to bf16 with f32 accumulation; out is
// written as StoreType ot (f32, or the 16-bit input of the output projection).
// Head sizes: attention_tc_supports(HS) (32, 64, 80, 96, 128); others use attention_forward.
inline constexpr int kAttnTcQTile = 64;
bool attention_tc_supports(int64_t HS);
cudaError_t attention_tc_forward(void* out, StoreType ot, const float* q, const float* k, const float* v,
                                 const AttnSeq* seqs, const AttnTile* tiles, int64_t n_tiles,
                                 int64_t NH, int64_t NKV, int64_t HS, float scale,
                                 int64_t sliding_window, cudaStream_t s);

// out (N, FF) = silu(gu[:, :FF]) * gu[:, FF:]; gu (N, 2*FF).
cudaError_t swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF, cudaStream_t s);
cudaError_t swiglu_forward_to(void* out, StoreType ot, const float* gu, int64_t N, int64_t FF,
                              cudaStream_t s);  // out (N, FF) as StoreType ot
cudaError_t gelu_tanh_forward(float* x, int64_t n, cudaStream_t s);  // in place (n)
cudaError_t gelu_forward(float* x, int64_t n, cudaStream_t s);       // in place (n)
cudaError_t silu_forward(float* x, int64_t n, cudaStream_t s);       // in place (n)
cudaError_t residual_forward(float* x, const float* y, int64_t n, cudaStream_t s);  // x += y (n)
cudaError_t softcap_forward(float* x, int64_t n, float cap, cudaStream_t s);        // in place (n)
// out (N, OC) += bias (OC).
cudaError_t add_bias_forward(float* out, const float* bias, int64_t N, int64_t OC, cudaStream_t s);
// dst (n) = src (n) rounded to nearest even in the storage type (bf16/f16; f32 copies).
cudaError_t cast_forward(void* dst, StoreType dt, const float* src, int64_t n, cudaStream_t s);

// Row-wise top-k: ids, vals (rows, K) of logits (rows, V), descending, ties to the lower id,
// NaN last (cpu_ops topk_forward).
cudaError_t topk_forward(int32_t* ids, float* vals, const float* logits, int64_t rows, int64_t V,
                    int64_t K, cudaStream_t s);
// ids (rows): first maximal logit of each row; logprobs (rows): its log-softmax (double).
cudaError_t argmax_logprob_forward(int32_t* ids, double* logprobs, const float* logits, int64_t rows,
                              int64_t V, cudaStream_t s);

// Where a stored element (r, c) of a (rows, cols) tensor lands in the destination.
enum class RowMap : uint8_t {
    kIdentity,   // r * cols + c
    kTranspose,  // c * rows + r  (GPT-2 Conv1D [in, out] -> Linear [out, in])
    kUnpermute,  // unpermute_qk_row(r, hs) * cols + c  (GGUF Llama Q/K rows)
};
// dst (rows*cols, StoreType dt) = stored bytes src (device) of kind k, mapped by `map`
// (hs: head size for kUnpermute; lut for kLut). Block types need cols % block size == 0 (the
// caller checks).
cudaError_t dequantize_forward(void* dst, StoreType dt, const uint8_t* src, StoredKind k,
                               const ByteLut* lut, int64_t rows, int64_t cols, RowMap map,
                               int64_t hs, cudaStream_t s);

}  // namespace modelprint::cuda

// CPU transformer operations in the llm.c style: plain functions
// `op_forward(out, inputs..., weights..., sizes...)` on raw row-major f32 buffers, each buffer
// with its shape in a comment. These are the oracle the CUDA kernels are checked against.
// Dimension letters: N rows (tokens of all sequences), T tokens of one sequence, P positions
// already in the KV cache, C hidden, V vocab, NH query heads, NKV kv heads, HS head dim,
// R rotary dims (<= HS), IC/OC in/out features, FF intermediate, K top-k.
// Semantics follow Hugging Face transformers (modeling_llama.py, modeling_qwen3.py,
// modeling_gpt2.py, modeling_rope_utils.py); each function cites its formula.
// Invariants: no op allocates per element or throws; every reduction has a fixed order that does
// not depend on the thread count (matmul partitions rows/columns, never the inner dimension;
// attention gives each (token, head) pair to one thread), so results are bitwise repeatable.
// Not here: weight loading, shapes validation against a model (cpu_backend.cpp does that).
#pragma once

#include <cstdint>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/config.h"

namespace modelprint {

// out (N, C) = wte[ids[n]] (V, C) rows. Ids must be validated by the caller.
void embedding_forward(float* out, const int32_t* ids, const float* wte, int64_t N, int64_t C);

// x (N, C) += wpe[pos[n]] (maxpos, C) rows (GPT-2 learned absolute positions).
void position_embedding_forward(float* x, const int32_t* pos, const float* wpe, int64_t N,
                                int64_t C);

// RMSNorm (Zhang & Sennrich 2019; HF LlamaRMSNorm): out = x / sqrt(mean(x^2) + eps) * weight.
// out, inp (N, C); weight (C). The mean is accumulated in double. out may alias inp.
// Rows are split between `threads` threads (each row computed the same way by any thread).
void rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N, int64_t C,
                     float eps, int threads = 1);

// LayerNorm (Ba et al. 2016; torch.nn.LayerNorm, biased variance):
// out = (x - mean) / sqrt(var + eps) * weight + bias. out, inp (N, C); weight, bias (C).
void layernorm_forward(float* out, const float* inp, const float* weight, const float* bias,
                       int64_t N, int64_t C, float eps);

// nn.Linear: out (N, OC) = inp (N, IC) @ weight (OC, IC)^T + bias (OC, may be null).
// Packs the weight (cpu_gemm.h) and runs the packed product: each output is the fma chain over
// k in order, so results depend neither on `threads` nor on the batch. The engine packs its
// weights once instead (CpuBackend); this entry point is for one-off products and tests.
void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t N, int64_t IC, int64_t OC, int threads = 1);

// Rotary position embedding frequencies (Su et al. 2021, RoFormer eq. 34) with the scalings of
// transformers modeling_rope_utils.py: default, linear (_compute_linear_scaling_rope_parameters),
// llama3 (_compute_llama3_parameters), yarn (_compute_yarn_parameters, truncate=true).
struct RopeFreqs {
    std::vector<float> inv_freq;     // (R/2)
    float attention_scaling = 1.0f;  // multiplies cos and sin (yarn mscale)
    int64_t rotary_dim = 0;          // R
};
// kUnsupported for dynamic NTK scaling; kInvalidArgument for an odd rotary dimension or a
// scaling that needs original_max_position when it is 0.
Result<RopeFreqs> rope_frequencies(const RopeConfig& rope, int64_t head_dim,
                                   int64_t max_position);

// Apply RoPE in Hugging Face rotate_half order to x (N, H, HS) in place, token n at absolute
// position pos[n]: for d < R/2, (a, b) = (x[d], x[d + R/2]),
// x[d] = a*cos - b*sin, x[d + R/2] = b*cos + a*sin, with cos/sin of pos*inv_freq[d] (angle formed
// in f32 as transformers does) times attention_scaling. Dims R..HS pass through.
void rope_forward(float* x, const int32_t* pos, const RopeFreqs& f, int64_t N, int64_t H,
                  int64_t HS);

// Causal grouped-query attention (Ainslie et al. 2023) for one sequence:
// out (T, NH*HS) = softmax(q k^T * scale + causal mask) v, query head h reading kv head
// h / (NH/NKV). q (T, NH*HS) for positions P..P+T-1; k, v (P+T, NKV*HS) cover positions
// 0..P+T-1. sliding_window > 0 also masks keys with qpos - kpos >= sliding_window (HF Mistral).
// q . k in 8 f32 lanes (fma) summed in a fixed tree; softmax in f32 with max subtraction and
// exp_f32, sum in double. threads <= 0: default.
void attention_forward(float* out, const float* q, const float* k, const float* v, int64_t T,
                       int64_t P, int64_t NH, int64_t NKV, int64_t HS, float scale,
                       int64_t sliding_window, int threads);

// exp in f32 as swiglu_forward / silu_forward compute it: 8 lanes of the Cephes expf polynomial,
// within 2 ulp of exp on [-87.3, 88.7], +inf above, 0 below (libm's expf per element was 5 % of
// a SmolLM2 prefill).
float exp_f32(float x);

// SwiGLU (Shazeer 2020): out (N, FF) = silu(gu[:, :FF]) * gu[:, FF:], gu (N, 2*FF) holding the
// gate projection then the up projection; silu(x) = x / (1 + exp_f32(-x)).
// Rows are split between `threads` threads.
void swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF, int threads = 1);

// GELU with the tanh approximation (Hendrycks & Gimpel 2016; HF "gelu_new"/NewGELUActivation):
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). In place on x (n).
void gelu_tanh_forward(float* x, int64_t n);
// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)). In place on x (n).
void gelu_forward(float* x, int64_t n);
// SiLU in place on x (n) (non-gated MLPs with SiLU), with exp_f32.
void silu_forward(float* x, int64_t n);

// x (n) += y (n).
void residual_forward(float* x, const float* y, int64_t n);

// Final logit soft-capping (Gemma 2): x = cap * tanh(x / cap), in place on x (n). cap > 0.
void softcap_forward(float* x, int64_t n, float cap);

// Top-k of logits (V): ids (K) and values (K), descending by value, ties to the lower id.
// K <= V.
void topk_forward(int32_t* ids, float* vals, const float* logits, int64_t V, int64_t K);

// log softmax of logits (V) at index i, computed in double.
double log_softmax_at(const float* logits, int64_t V, int64_t i);

}  // namespace modelprint

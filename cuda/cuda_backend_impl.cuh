// CudaBackend: the GPU engine (declared here for cuda_backend.cpp, which runs the model, and
// cuda_ops_harness.cpp, which implements the CudaOps per-op interface). Internal to cuda/.
// One device (0), one compute stream; weights in a WeightStore (resident or streamed); activations
// in buffers grown to the largest batch seen; KV cache per generation.
// Not thread-safe: one prefill/generate at a time per backend (as the CPU engine).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cuda/cublas_gemm.cuh"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_ops.cuh"
#include "cuda/cuda_util.cuh"
#include "cuda/cuda_weights.cuh"
#include "fingerprint/engine/cpu_ops.h"
#include "fingerprint/model/model.h"

namespace modelprint::cuda {

class CudaBackend : public Backend, public CudaOps {
public:
    static Result<std::unique_ptr<CudaBackend>> create(const Model& model,
                                                       const BackendOptions& options);
    ~CudaBackend() override;

    std::string name() const override { return name_; }
    Result<PrefillResult> prefill(const PrefillRequest& req) override;
    Result<GenerateResult> generate(const GenerateRequest& req) override;
    int64_t context_window() const override { return context_; }

    // CudaOps (cuda_ops_harness.cpp).
    Status embedding_forward(float* out, const int32_t* ids, const float* wte, int64_t V,
                             int64_t N, int64_t C) override;
    Status position_embedding_forward(float* x, const int32_t* pos, const float* wpe,
                                      int64_t maxpos, int64_t N, int64_t C) override;
    Status rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N,
                           int64_t C, float eps) override;
    Status layernorm_forward(float* out, const float* inp, const float* weight, const float* bias,
                             int64_t N, int64_t C, float eps) override;
    Status matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                          int64_t N, int64_t IC, int64_t OC, GpuPrecision precision) override;
    Status rope_forward(float* x, const int32_t* pos, const RopeFreqs& f, int64_t N, int64_t H,
                        int64_t HS) override;
    void use_tensor_core_attention(bool on) override { harness_tc_attention_ = on; }
    Status attention_forward(float* out, const float* q, const float* k, const float* v,
                             int64_t T, int64_t P, int64_t NH, int64_t NKV, int64_t HS,
                             float scale, int64_t sliding_window) override;
    Status attention_packed_forward(float* out, const float* q, const float* k, const float* v,
                                    const int64_t* lengths, int64_t n_seqs, int64_t NH,
                                    int64_t NKV, int64_t HS, float scale,
                                    int64_t sliding_window) override;
    Status swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF) override;
    Status gelu_tanh_forward(float* x, int64_t n) override;
    Status gelu_forward(float* x, int64_t n) override;
    Status silu_forward(float* x, int64_t n) override;
    Status residual_forward(float* x, const float* y, int64_t n) override;
    Status softcap_forward(float* x, int64_t n, float cap) override;
    Status topk_forward(int32_t* ids, float* vals, const float* logits, int64_t rows, int64_t V,
                        int64_t K) override;
    Status argmax_logprob_forward(int32_t* ids, double* logprobs, const float* logits,
                                  int64_t rows, int64_t V) override;
    Status dequantize_forward(float* out, DType dtype, const uint8_t* bytes, uint64_t nbytes,
                              int64_t rows, int64_t cols) override;

private:
    CudaBackend(const Model& model, const BackendOptions& options);
    Status init();
    Status check_sequence(std::span<const int32_t> ids, size_t index, int64_t extra) const;

    struct KvCache {
        std::vector<DeviceBuffer> k, v;  // per layer (capacity, KVD)
    };
    struct Segment {
        std::span<const int32_t> ids;
        int64_t past = 0;
        KvCache* cache = nullptr;  // only with a single segment
    };
    // Runs the embeddings and every block; x_ (N, C) ends as the residual stream before the final
    // norm. capture(l, x) receives the stream on the host after the embeddings (0) and block l.
    Status forward(std::span<Segment> segs,
                   const std::function<void(int, const std::vector<float>&)>& capture);
    Status ensure_activations(int64_t N);
    Status matmul(float* out, const float* inp, const void* w, const float* bias, int64_t N,
                  int64_t IC, int64_t OC);
    Status norm(float* out, const float* inp, const float* w, const float* b, int64_t N);
    // out (N, OC) = norm(inp) @ w^T [+ bias]; `xn` receives the f32 norm in exact mode, while the
    // 16-bit modes write the norm straight into the product's 16-bit input (no cast pass).
    Status norm_matmul(float* out, float* xn, const float* inp, const float* nw, const float* nb,
                       int64_t N, const void* w, const float* bias, int64_t OC);
    // logits (rows, V) on the device from final-normed rows xn (rows, C) (soft-capped).
    Status head(float* logits, const float* xn, int64_t rows);

    const Model& model_;
    ModelConfig cfg_;
    BackendOptions options_;
    std::string name_;
    GpuPrecision precision_ = GpuPrecision::kBF16;
    bool harness_tc_attention_ = false;  // CudaOps harness only (use_tensor_core_attention)
    int64_t context_ = 0;
    bool use_rope_ = false;
    RopeFreqs rope_;
    Stream stream_;
    Gemm gemm_;
    std::unique_ptr<WeightStore> weights_;
    DeviceBuffer inv_freq_;  // (R/2)
    // Activations (see forward), grown on demand.
    int64_t cap_rows_ = 0;
    DeviceBuffer x_, xn_, qkv_, q_, k_, v_, att_, proj_, hid_, act_, scratch16_, ids_, pos_;
    DeviceBuffer seqs_, tiles_, logits_, topk_ids_, topk_vals_, argmax_ids_, argmax_lp_;
};

}  // namespace modelprint::cuda

// CpuBackend: the reference engine. Runs the decoder stacks of every architecture's layer plan
// (fingerprint/model/plan.h: Llama, Mistral, Qwen2, Qwen3, GPT-2, and the MoE Mixtral, Qwen2-MoE,
// Qwen3-MoE) in f32 arithmetic on the CPU from any stored dtype, with the ops of cpu_ops.h, matching Hugging
// Face transformers' eager float32 forward.
// Weights stay in their stored dtype: products run on panels packed once in that dtype (f32,
// bf16, f16, GGUF Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K; cpu_gemm.h) and dequantised inside
// the product, bitwise equal to the product on the f32 expansion; other dtypes (f8, f64, Q2_K,
// Q3_K, ...) are expanded to f32 panels. The token embedding is not copied at all: the rows a
// pass looks up are converted from the file. Norms, biases and learned positions are held in f32.
// Memory bound: after a tensor is packed its pages are evicted from the process (the file stays
// in the page cache), so the resident set is ~ the file's size, not twice it. When the packed size
// of all layers fits `BackendOptions::cpu_cache_bytes` (default: 3/4 of physical memory) packed
// layers are kept after first use; otherwise each pass packs each layer again and frees it, so
// peak weight memory is the head + one layer. Activations are
// O(N * max(C + QD + 2*KVD, 3*FF)) for N tokens in a batch, plus the logits requested, plus
// the KV cache of a generation (2 * L * (prompt + new) * KVD floats).
// Not thread-safe: one prefill/generate at a time per backend (the model may be shared).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fingerprint/engine/backend.h"
#include "fingerprint/engine/cpu_gemm.h"
#include "fingerprint/engine/cpu_ops.h"
#include "fingerprint/model/model.h"

namespace modelprint {

class CpuBackend : public Backend {
public:
    // Validates the architecture, the hyper-parameters and that every tensor the architecture
    // needs is present (kUnsupported / kCorruptData / kNotFound), then loads the globals.
    static Result<std::unique_ptr<CpuBackend>> create(const Model& model,
                                                      const BackendOptions& options = {});
    ~CpuBackend() override;

    std::string name() const override { return "cpu"; }
    Result<PrefillResult> prefill(const PrefillRequest& req) override;
    Result<GenerateResult> generate(const GenerateRequest& req) override;
    Result<std::vector<GenerateResult>> generate_batch(
        const std::vector<GenerateRequest>& reqs) override;

    // True when converted layer weights are kept between passes (see file comment).
    bool caches_layers() const { return cache_layers_; }
    // Context window enforced on sequences (0: unknown, not enforced).
    int64_t context_window() const override { return context_; }
    int threads() const { return threads_; }

    struct LayerWeights;  // cpu_backend.cpp
    struct KvCache;

private:
    CpuBackend(const Model& model, const BackendOptions& options);
    Status init();
    Result<const LayerWeights*> layer(int l);  // cached, or loaded into scratch_
    Result<std::unique_ptr<LayerWeights>> load_layer(int l);
    // The row-wise concatenation of layer l's tensors with these roles, (rows_i, cols) each,
    // packed in their stored dtypes (f32 for dtypes without a packed format); the source pages
    // are evicted from memory afterwards. l = -1 for the output head.
    struct LinearPart {
        Role role;
        int64_t rows;
        int expert = -1;  // routed expert index (expert roles)
    };
    Result<PackedMatrix> load_linear(std::initializer_list<LinearPart> parts, int l, int64_t cols);
    // The MoE block of layer l over xn (N, C): router, top-k, experts in expert order, shared
    // expert; writes (N, C) to out.
    void moe_forward(float* out, const float* xn, const LayerWeights& w, const MoePlan& mp,
                     int64_t N);
    Status check_sequence(std::span<const int32_t> ids, size_t index, int64_t extra) const;

    // One contiguous run of tokens of one sequence at positions past..past+ids.size()-1.
    // With a cache, the run's K/V are appended to it and attention reads the whole cache.
    struct Segment {
        std::span<const int32_t> ids;
        int64_t past = 0;
        KvCache* cache = nullptr;
    };
    // Runs embeddings and every block over all segments; x (N, C) ends as the residual stream
    // after the last block (before the final norm). capture(l, x) sees the stream after the
    // embeddings (l = 0) and after block l (1..L) when set.
    Status forward(std::span<Segment> segs, std::vector<float>* x,
                   const std::function<void(int, const std::vector<float>&)>& capture);
    // logits (rows, V) of final-normed rows xn (rows, C), soft-capped when configured.
    void head(float* logits, const float* xn, int64_t rows);

    const Model& model_;
    ModelConfig cfg_;
    const ModelPlan& plan_;
    BackendOptions options_;
    int threads_ = 1;
    int64_t context_ = 0;
    bool cache_layers_ = false;
    double load_s_ = 0.0;  // seconds spent packing layers that are kept
    std::optional<RopeFreqs> rope_;
    StoredTensor embd_;             // token embedding (V, C) as stored; rows converted on use
    int64_t embd_row_bytes_ = 0;
    std::vector<float> pos_embd_;   // (maxpos, C) f32 or empty
    std::vector<float> out_norm_w_, out_norm_b_;  // (C) f32
    PackedMatrix head_;             // output head (V, C) packed (the embedding itself when tied)
    std::vector<std::unique_ptr<LayerWeights>> cache_;  // (L), null until loaded
    std::unique_ptr<LayerWeights> scratch_;             // streamed layer
};

}  // namespace modelprint

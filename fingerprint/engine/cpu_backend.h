// CpuBackend: the reference engine. Runs Llama, Mistral, Qwen2, Qwen3 and GPT-2 decoder stacks in
// f32 on the CPU from any stored dtype (f32/f16/bf16/f8, dequantised GGUF blocks) with the ops
// of cpu_ops.h, matching Hugging Face transformers' eager float32 forward.
// Products run on weights packed once into panels (cpu_gemm.h, same size as f32).
// Memory bound: the global tensors (token embedding, position embedding, final norm) are held in
// f32 and the output head packed (a tied embedding only packed, its rows gathered from the
// panels) for the backend's lifetime; layer weights are converted and packed one layer at a
// time. When the f32 size of all layers fits `BackendOptions::cpu_cache_bytes` (default
// 4 GiB) converted layers are kept after first use; otherwise each pass converts each layer
// again and frees it, so peak weight memory is globals + one layer. Activations are
// O(N * max(C + QD + 2*KVD, 3*FF)) for N tokens in a batch, plus the logits requested, plus
// the KV cache of a generation (2 * L * (prompt + new) * KVD floats).
// Not thread-safe: one prefill/generate at a time per backend (the model may be shared).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
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
    Result<const LayerWeights*> layer(int l);
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
    BackendOptions options_;
    int threads_ = 1;
    int64_t context_ = 0;
    bool cache_layers_ = false;
    std::optional<RopeFreqs> rope_;
    // Globals in f32.
    std::vector<float> tok_embd_;   // (V, C); empty when tied (rows gathered from head_)
    std::vector<float> pos_embd_;   // (maxpos, C) or empty
    std::vector<float> out_norm_w_, out_norm_b_;  // (C)
    PackedMatrix head_;             // output head (V, C) packed (the embedding itself when tied)
    std::vector<std::unique_ptr<LayerWeights>> cache_;  // (L), null until loaded
    std::unique_ptr<LayerWeights> scratch_;             // streamed layer
};

}  // namespace modelprint

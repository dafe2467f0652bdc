// What every Backend implementation shares, so the CPU engine (the oracle) and the CUDA engine
// validate requests with the same messages, shape their results the same way and draw the same
// sampled tokens from the same seed:
//   - request checks (prefill top_k, generate limits, one token sequence against the context
//     window and the vocabulary);
//   - the empty PrefillResult for a request, and the hidden-state capture callback that fills it
//     from the (N, C) residual stream of a packed batch (kFull rows, or kMeanPooled averaged in
//     double);
//   - seeded sampling: softmax(logits / temperature) over the top_k candidates (all when 0;
//     cpu_ops topk_forward order), drawn by inverse CDF with a 53-bit uniform from mt19937_64.
// Not here: the forward passes themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/config.h"
#include "fingerprint/model/model.h"

namespace modelprint {

// The model checks of both engines: a known architecture (every registered ArchSpec; `engine`
// names the engine in the message), no parallel residual, every dimension in
// [1, 2^31], heads a multiple of kv heads, non-negative norm epsilon.
Status check_engine_config(const ModelConfig& c, const std::string& model_path, const char* engine);
// The layer-plan checks of both engines (after check_engine_config): the model has a plan
// (Model::plan_status), every layer is of a kind this engine implements (`moe`: MoE MLP blocks;
// kUnsupported naming the layer otherwise), and every tensor the plan reads exists (kNotFound
// with its canonical name).
Status check_engine_plan(const Model& model, const char* engine, bool moe);

Status check_prefill_request(const PrefillRequest& req, int64_t vocab_size);
Status check_generate_request(const GenerateRequest& req, int64_t vocab_size);

// Sequence `index` of `extra` more tokens to come: non-empty, within `context` (0: no limit) and
// `max_total` (0: no limit; `engine` names it in the message), ids in [0, vocab_size).
Status check_token_sequence(std::span<const int32_t> ids, size_t index, int64_t extra,
                            int64_t context, int64_t vocab_size, const std::string& model_path,
                            int64_t max_total = 0, const char* engine = "");

// Outputs sized for the request: lengths set, hidden vectors allocated per layer (L + 1).
PrefillResult new_prefill_result(const PrefillRequest& req, int64_t vocab_size, int64_t hidden_size,
                                 int64_t n_layers);

using HiddenCaptureFn = std::function<void(int, const std::vector<float>&)>;
// Empty when req.hidden is kNone; else stores layer l's (N, C) rows of the packed batch into
// res.outputs[i].hidden[l]. `res` must outlive the callback.
HiddenCaptureFn hidden_capture(const PrefillRequest& req, PrefillResult& res, int64_t hidden_size);

// The sampled token (temperature > 0).
int32_t sample_token(const float* logits, int64_t vocab_size, float temperature, int top_k,
                     std::mt19937_64& rng);

}  // namespace modelprint

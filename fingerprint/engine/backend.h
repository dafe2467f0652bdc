// Backend: the engine interface every device implements (CPU in fingerprint/engine/cpu_*,
// CUDA in cuda/). Prefill a batch of token sequences (ragged lengths) returning logits at every
// position (or only the last, or top-k per position) and optional per-layer hidden states;
// generation with a KV cache (greedy, or seeded sampling), one prompt or a batch of them.
// make_backend() (backend_factory.cpp, the only file that sees MP_WITH_CUDA) picks the device.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

class Model;

enum class LogitsMode : uint8_t { kAll, kLast, kTopK, kNone };
enum class HiddenCapture : uint8_t { kNone, kFull, kMeanPooled };
enum class DeviceKind : uint8_t { kAuto, kCpu, kCuda };

struct PrefillRequest {
    std::vector<std::vector<int32_t>> sequences;  // token ids, ragged
    LogitsMode logits = LogitsMode::kAll;
    int top_k = 0;                                 // for kTopK
    HiddenCapture hidden = HiddenCapture::kNone;
};

struct SequenceOutput {
    int64_t length = 0;               // T
    std::vector<float> logits;        // (T, V) for kAll, (V) for kLast, empty otherwise
    std::vector<int32_t> topk_ids;    // (T, K) for kTopK, descending by logit
    std::vector<float> topk_logits;   // (T, K)
    // hidden[l] for l in 0..L (0 = embeddings, l = output of block l): (T, C) for kFull,
    // (C) for kMeanPooled. Empty when not requested.
    std::vector<std::vector<float>> hidden;
};

// Wall-clock seconds of one call, split like llama.cpp's server timings (prompt_n/prompt_ms,
// predicted_n/predicted_ms). load_s: weights loaded (packed) during the call, not counted in
// prefill_s/decode_s (the first pass of a backend that keeps its layers; 0 afterwards). Prefill:
// the forward pass(es) over all prompt tokens (and their heads). Decode: the single-token passes
// of a generation after the prompt's, decode_tokens of them (tokens per second =
// decode_tokens / decode_s). A batch reports the whole batch's timings.
struct EngineTimings {
    double load_s = 0.0;
    int64_t prefill_tokens = 0;
    double prefill_s = 0.0;
    int64_t decode_tokens = 0;
    double decode_s = 0.0;
};

struct PrefillResult {
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    std::vector<SequenceOutput> outputs;  // one per input sequence, same order
    EngineTimings timings;
};

struct GenerateRequest {
    std::vector<int32_t> prompt;
    int max_new_tokens = 32;
    std::vector<int32_t> stop_ids;  // generation ends after emitting one of these
    float temperature = 0.0f;       // 0: greedy
    int top_k = 0;                  // 0: whole vocabulary (sampling only)
    uint64_t seed = 0;
    // Optional, called before each new token is chosen with the ids so far (prompt + new
    // tokens) and the next-token logits (V), which it may change in place: a watermark adds its
    // bias to the green ids (fingerprint/watermark.h). Greedy and sampled choices both see the
    // processed logits; token_logprobs stay the model's own (unprocessed) log-probabilities.
    // Every engine calls it on the host, once per step, in step order, per sequence of a batch
    // (so it must be stateless; docs/watermark.md).
    std::function<void(std::span<const int32_t> ids, std::span<float> logits)> logits_processor;
};

struct GenerateResult {
    std::vector<int32_t> tokens;         // new tokens only
    std::vector<float> token_logprobs;   // log p of each chosen token
    bool stopped = false;                // ended on a stop id
    EngineTimings timings;               // of the call (of the whole batch for generate_batch)
};

struct BackendOptions {
    int threads = 0;             // CPU threads (0: default)
    bool exact_f32 = false;      // CUDA: f32 pedantic matmuls for parity runs
    uint64_t gpu_memory_cap = 0; // CUDA: bytes usable (0: all); smaller forces layer streaming
    // CPU: packed layer weights (stored dtype) are kept between passes when all layers fit this
    // many bytes (-1: default, 3/4 of physical memory; 0: never, each pass packs each layer
    // again).
    int64_t cpu_cache_bytes = -1;
    // CPU: expand every weight to f32 panels instead of keeping its stored dtype (the f32 oracle
    // path the stored-dtype kernels are tested against; same logits bit for bit, ~4-8x memory).
    bool cpu_f32_weights = false;
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;  // "cpu", "cuda:0 (NVIDIA H100 ...)"
    virtual Result<PrefillResult> prefill(const PrefillRequest& req) = 0;
    virtual Result<GenerateResult> generate(const GenerateRequest& req) = 0;
    // Several generations at once, results in request order. Each result is bitwise what
    // generate() gives for that request alone, whatever else is in the batch (the CPU engine runs
    // every live sequence in one forward pass per step; this default runs them one by one).
    // An invalid request fails the whole batch, naming its index.
    virtual Result<std::vector<GenerateResult>> generate_batch(
        const std::vector<GenerateRequest>& reqs);
    // Tokens a sequence may span (prompt + generated); 0 when unknown (not enforced). A longer
    // sequence is kOutOfRange in prefill/generate; callers that run arbitrary text (ProbeRunner)
    // cut it to this window first (docs/behavior.md "Truncation").
    virtual int64_t context_window() const { return 0; }
};

// Prompts per generate_batch call where probe sets and audits generate (what batching buys on
// the CPU: one pass of the weights per step for all of them; KV caches grow with it).
constexpr int kGenerateBatch = 16;

// Runs n generations `batch` at a time through generate_batch, results in order.
Result<std::vector<GenerateResult>> generate_all(Backend& backend,
                                                 const std::vector<GenerateRequest>& reqs,
                                                 int batch);

// Prefills n sequences (sequence i = ids(i)) `batch` at a time with every position's logits and
// calls visit(i, logits (T_i, V), V) for each, in index order (backend_common.cpp). What probe
// scoring and the idiosyncrasy test share.
Status prefill_all_logits(Backend& backend, size_t n, int batch,
                          const std::function<const std::vector<int32_t>&(size_t)>& ids,
                          const std::function<void(size_t, const float*, int64_t)>& visit);

// kAuto: CUDA when built with it and a device answers, else CPU. kCuda without a usable GPU
// fails with the reason (kFailedPrecondition). The model must outlive the backend.
Result<std::unique_ptr<Backend>> make_backend(const Model& model, DeviceKind device,
                                              const BackendOptions& options = {});
Result<DeviceKind> parse_device(std::string_view s);

}  // namespace modelprint

// Behaviour fingerprint of one model on a probe set, and the probe runner that computes it.
//   - greedy continuation of every probe (OutputPrint, with identity claims);
//   - next-token top-k log-probabilities at every prompt position, tokens kept as their raw byte
//     strings (so prints of models with different tokenizers compare over shared tokens), with
//     each position's text boundary (bytes of the decoded prompt covered so far) so positions of
//     two tokenizations meet where both cut the text at the same place;
//   - per-layer mean hidden state of every probe prompt (layers 0..L, 0 = embeddings).
// Stored compactly as a versioned little-endian binary blob (layout in logit_print.cpp) carrying
// the probe-set digest and the engine; parse_behavior_print() validates every count and length
// against the blob (kCorruptData naming the field) and never trusts a size it has not checked.
// ProbeRunner also scores given responses under the model (the cross-likelihood primitive).
// Prompt format: a chat template when the tokenizer has a recognised one (ChatTemplate "auto"),
// else the raw prompt with the tokenizer's special tokens (BOS).
// Truncation (the same rule for generation, prompt logits, response scoring and byte scoring):
// no sequence run through the model is longer than its context window W
// (Backend::context_window). The prompt is kept whole; generation stops at the window; a scored
// response is scored on the tokens that fit (at most max_tokens); a probe whose formatted prompt
// alone fills the window (>= W tokens) gets no answer (present = false) and no score, and its
// prompt logits cover the first W tokens. Never an error (docs/behavior.md "Truncation").
// Numerics: log-softmax in double; results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/output_print.h"
#include "fingerprint/probes/probe_set.h"

namespace modelprint {

class Backend;
class Model;
class Tokenizer;
class ChatTemplate;

inline constexpr uint32_t kNoBoundary = 0xFFFFFFFFu;

struct ProbeTrace {
    std::string prompt_text;           // decoded prompt (special tokens skipped)
    std::vector<uint32_t> boundary;    // (T) bytes of prompt_text covered through token t
    std::vector<uint32_t> topk_token;  // (T, K) indices into LogitPrint::tokens
    std::vector<float> topk_logprob;   // (T, K) log p of the next token, descending
    std::vector<float> hidden_mean;    // (L1, C) mean over the prompt's positions
    int64_t length() const { return static_cast<int64_t>(boundary.size()); }
};

struct LogitPrint {
    int32_t top_k = 0;       // K
    int64_t layers = 0;      // L1 = L + 1
    int64_t hidden_size = 0; // C
    std::vector<std::string> tokens;  // byte strings referenced by topk_token
    std::vector<ProbeTrace> probes;   // parallel to the probe set
};

struct BehaviorPrint {
    std::string probe_set;     // probe-set name
    std::string probe_digest;  // ProbeSet::digest
    std::string engine;        // backend name, e.g. "cpu"
    std::string model;         // model path or name
    std::string tokenizer;     // Tokenizer::describe()
    std::string chat_format;   // "none", "chatml", ...
    OutputPrint outputs;
    LogitPrint logits;
};

struct BehaviorPrintOptions {
    int top_k = 16;
    std::string chat_template = "auto";  // ChatTemplate::select name
    int batch = 8;                       // probes per prefill
    bool progress = false;               // stderr progress
    // Set: applied to the logits of every generated token of the continuations (the watermark
    // of `fingerprint --watermark`: GreenLists::apply; GenerateRequest::logits_processor).
    // The log-probability fingerprint is not affected (it reads the prompts' positions).
    std::function<void(std::span<const int32_t> ids, std::span<float> logits)> logits_processor;
};

// Per-probe log-likelihood of a response under a model.
struct ResponseScore {
    double sum_logprob = 0.0;
    int64_t tokens = 0;  // response tokens scored (0: nothing to score)
    double mean() const { return tokens > 0 ? sum_logprob / static_cast<double>(tokens) : 0.0; }
};

// The token ids of a probe's prompt followed by a response, as every response scorer sees them:
// the prompt formatted as for generation, the response appended to its text; the response
// starts at `first`, after the longest common prefix with the prompt's own ids (a token that
// merges across the seam counts as response, the same for every responder; at least 1: position
// 0 has no prediction).
struct ResponseSequence {
    std::vector<int32_t> ids;
    size_t first = 0;
};

// Runs probes through one model. The model, backend and tokenizer must outlive the runner.
class ProbeRunner {
public:
    static Result<std::unique_ptr<ProbeRunner>> create(Backend& backend, const Tokenizer& tok,
                                                       int64_t model_vocab,
                                                       std::string_view chat_template = "auto");
    ~ProbeRunner();

    std::string_view chat_format() const;
    // The model's context window in tokens (0: unknown, nothing is cut).
    int64_t context_window() const;
    // Per probe: does the formatted prompt leave room for at least one answer token?
    Result<std::vector<bool>> answerable(const ProbeSet& probes) const;
    // Token ids of the formatted prompt.
    Result<std::vector<int32_t>> prompt_ids(std::string_view prompt) const;
    // The scored sequence of `response` after `prompt` (above), cut at the context window;
    // nullopt when the response adds no token inside the window. kOutOfRange for a token id outside the model's vocabulary (probe_id names it).
    Result<std::optional<ResponseSequence>> response_sequence(std::string_view probe_id,
                                                              std::string_view prompt,
                                                              std::string_view response) const;
    Backend& backend() const { return backend_; }
    const Tokenizer& tokenizer() const { return tok_; }
    // Greedy continuation (text following the prompt, see transcript.h) of every probe; ""
    // for a probe that is not answerable (file comment).
    // `processor` (may be empty): GenerateRequest::logits_processor of every continuation.
    Result<std::vector<std::string>> generate(
        const ProbeSet& probes, bool progress = false,
        const std::function<void(std::span<const int32_t>, std::span<float>)>& processor = {});
    // Log-likelihood of responses[i] after probe i's prompt, for probes with present[i]; at
    // most max_tokens response tokens are scored. kInvalidArgument for size mismatches.
    Result<std::vector<ResponseScore>> score(const ProbeSet& probes,
                                             const std::vector<std::string>& responses,
                                             const std::vector<bool>& present,
                                             int max_tokens = 256, int batch = 8);
    // Top-k log-probabilities, boundaries and hidden means of every probe prompt.
    Result<LogitPrint> logit_print(const ProbeSet& probes, int top_k, int batch = 8,
                                   bool progress = false);

private:
    ProbeRunner(Backend& backend, const Tokenizer& tok, int64_t model_vocab);
    Backend& backend_;
    const Tokenizer& tok_;
    int64_t model_vocab_;
    std::unique_ptr<ChatTemplate> template_;
};

// Opens the tokenizer that belongs to a model (GGUF metadata, or tokenizer.json in its dir).
Result<std::unique_ptr<Tokenizer>> load_model_tokenizer(const Model& model);

// Everything above for one model.
Result<BehaviorPrint> compute_behavior_print(const Model& model, Backend& backend,
                                             const Tokenizer& tok, const ProbeSet& probes,
                                             const BehaviorPrintOptions& options = {});

std::vector<uint8_t> serialize_behavior_print(const BehaviorPrint& p);
// `probes` re-derives the identity claims; its digest must equal the stored one
// (kInvalidArgument otherwise). kCorruptData for any malformed field.
Result<BehaviorPrint> parse_behavior_print(std::span<const uint8_t> blob, const ProbeSet& probes,
                                           std::string_view what);

}  // namespace modelprint

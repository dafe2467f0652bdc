// OpenAI-compatible completion API: request bodies for /v1/completions and
// /v1/chat/completions, and parsing of the response shapes that OpenAI, vLLM, SGLang and
// llama.cpp's server return. Log-probabilities come in three layouts, all read here:
//   legacy completions (OpenAI, vLLM, SGLang): choices[i].logprobs = {tokens, token_logprobs,
//     top_logprobs: [{token: logprob}], text_offset};
//   chat (OpenAI, vLLM, SGLang, llama.cpp): choices[i].logprobs.content = [{token, logprob,
//     bytes, top_logprobs: [{token, logprob, bytes}]}];
//   llama.cpp /v1/completions: the chat layout (plus "id" per token) under choices[i].logprobs;
//   llama.cpp /completion (native): completion_probabilities = [{id, token, logprob, bytes,
//     top_logprobs}].
// Sampling sent explicitly: temperature, top_p 1, seed, and for servers that take them (vLLM,
// SGLang, llama.cpp) top_k off, min_p 0 and no repetition penalties, so that the local engine's
// plain temperature sampling is the same distribution.
// Not here: HTTP (http.h), transcripts (endpoint_probe.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/endpoint/http.h"

namespace modelprint {

enum class EndpointApi : uint8_t { kCompletions, kChat };
enum class ServerDialect : uint8_t { kOpenAI, kVllm, kSglang, kLlamaCpp, kUnknown };
std::string_view endpoint_api_name(EndpointApi a);
std::string_view server_dialect_name(ServerDialect d);
// From /v1/models "owned_by" ("vllm", "sglang", "llamacpp", "openai"/"system").
ServerDialect dialect_from_owner(std::string_view owned_by);

struct SamplingParams {
    double temperature = 1.0;
    int max_tokens = 32;
    int logprobs = 0;  // top log-probabilities per token (0: none asked)
    uint64_t seed = 0;
};

struct CompletionRequest {
    EndpointApi api = EndpointApi::kCompletions;
    std::string model;
    std::string prompt;  // completions: the text; chat: the one user message
    SamplingParams sampling;
};

struct TopLogprob {
    std::string token;  // bytes of the token (from "bytes" when given, else the token string)
    double logprob = 0.0;
};

struct TokenLogprob {
    std::string token;          // bytes of the token (as above)
    std::optional<int32_t> id;  // llama.cpp gives the token id
    double logprob = 0.0;
    std::vector<TopLogprob> top;  // descending as the server sent them
};

struct CompletionChoice {
    std::string text;
    std::string finish_reason;  // "stop", "length", ... ("" when absent)
    bool has_logprobs = false;
    std::vector<TokenLogprob> logprobs;
};

struct CompletionResponse {
    std::string id;
    std::string model;               // the served model name the server reports
    std::string system_fingerprint;  // "" when absent
    std::vector<CompletionChoice> choices;
};

// The JSON request body (dialect decides which extra sampling keys are sent).
std::string completion_request_body(const CompletionRequest& req, ServerDialect dialect);
// kCorruptData for a body that is not JSON (truncated included), has no choices, or has a
// choice without text; naming `what`. An "error" object in a 200 body is kIoError.
Result<CompletionResponse> parse_completion_response(std::string_view body, EndpointApi api,
                                                     std::string_view what);

struct ModelList {
    std::vector<std::string> ids;
    std::string owned_by;  // of the first model ("" when absent)
};
Result<ModelList> parse_model_list(std::string_view body, std::string_view what);

// A short, secret-free description of an error body ({"error": {"message": ...}} or text),
// at most 300 bytes, with every occurrence of `secret` removed.
std::string error_summary(std::string_view body, std::string_view secret);

struct EndpointOptions {
    std::string base_url;  // http(s)://host[:port][/prefix]; "/v1" appended when missing
    std::string api_key;   // "" for none; sent as "Authorization: Bearer", never shown
    HttpOptions http;
};

// A client of one endpoint. Thread-safe (each call makes its own connection).
class EndpointClient {
public:
    static Result<std::unique_ptr<EndpointClient>> create(const EndpointOptions& options);
    // GET /v1/models. kNotFound when the server has no model list (404): callers may go on.
    Result<ModelList> models() const;
    // POST the request. HTTP errors: 401/403 kFailedPrecondition; 404 kNotFound (unknown model
    // or path); other 4xx kInvalidArgument; 429/5xx after the retries kIoError. The
    // messages carry the server's error text with the API key removed.
    Result<CompletionResponse> complete(const CompletionRequest& req, ServerDialect dialect) const;
    const std::string& base_url() const { return base_url_; }  // normalised, user-info removed
    std::string shown_url() const { return redact_url(base_url_); }

private:
    EndpointClient() = default;
    Result<HttpResponse> call(std::string_view method, std::string_view path,
                              const std::string& body) const;
    std::string base_url_;
    std::string api_key_;
    std::unique_ptr<HttpClient> http_;
};

}  // namespace modelprint

// OpenAI-compatible request bodies and response parsing (see openai.h). nlohmann stays here.
#include "fingerprint/endpoint/openai.h"

#include <cmath>

#include "fingerprint/base/json.h"

namespace modelprint {

namespace {

constexpr size_t kMaxChoices = 1024;
constexpr size_t kMaxTokensPerChoice = 1u << 20;

// Bytes of one token entry: the "bytes" array when it is a valid one, else the token string.
Result<std::string> token_bytes_of(const Json& e, std::string_view what) {
    if (auto b = e.find("bytes"); b != e.end() && b->is_array()) {
        std::string out;
        for (const auto& v : *b) {
            if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 255) {
                return corrupt_data("{}: a token's \"bytes\" holds {} (not a byte)", what,
                                    v.dump());
            }
            out.push_back(static_cast<char>(v.get<int64_t>()));
        }
        return out;
    }
    auto t = e.find("token");
    if (t == e.end() || !t->is_string()) {
        return corrupt_data("{}: a log-probability entry has no string \"token\"", what);
    }
    return t->get<std::string>();
}

Result<double> logprob_of(const Json& e, std::string_view what) {
    auto l = e.find("logprob");
    if (l == e.end() || !l->is_number()) {
        return corrupt_data("{}: a log-probability entry has no numeric \"logprob\"", what);
    }
    double v = l->get<double>();
    if (std::isnan(v) || v > 1e-6)
        return corrupt_data("{}: log-probability {} is not <= 0", what, v);
    return v;
}

// Chat layout (and llama.cpp's completions): [{token, logprob, bytes, id?, top_logprobs}].
Result<std::vector<TokenLogprob>> parse_content_layout(const Json& content, std::string_view what) {
    std::vector<TokenLogprob> out;
    if (!content.is_array()) return corrupt_data("{}: logprobs.content is not an array", what);
    if (content.size() > kMaxTokensPerChoice) {
        return corrupt_data("{}: {} log-probability entries (limit {})", what, content.size(),
                            kMaxTokensPerChoice);
    }
    for (const auto& e : content) {
        if (!e.is_object())
            return corrupt_data("{}: a logprobs.content entry is not an object", what);
        TokenLogprob t;
        MP_ASSIGN_OR_RETURN(t.token, token_bytes_of(e, what));
        MP_ASSIGN_OR_RETURN(t.logprob, logprob_of(e, what));
        if (auto id = e.find("id"); id != e.end() && id->is_number_integer()) {
            int64_t v = id->get<int64_t>();
            if (v >= 0 && v <= INT32_MAX) t.id = static_cast<int32_t>(v);
        }
        if (auto top = e.find("top_logprobs"); top != e.end() && top->is_array()) {
            for (const auto& c : *top) {
                if (!c.is_object())
                    return corrupt_data("{}: a top_logprobs entry is not an object", what);
                TopLogprob tl;
                MP_ASSIGN_OR_RETURN(tl.token, token_bytes_of(c, what));
                MP_ASSIGN_OR_RETURN(tl.logprob, logprob_of(c, what));
                t.top.push_back(std::move(tl));
            }
        }
        out.push_back(std::move(t));
    }
    return out;
}

// Legacy completions layout: {tokens, token_logprobs, top_logprobs: [{token: lp}]}.
Result<std::vector<TokenLogprob>> parse_legacy_layout(const Json& lp, std::string_view what) {
    auto toks = lp.find("tokens");
    auto lps = lp.find("token_logprobs");
    if (toks == lp.end() || lps == lp.end() || !toks->is_array() || !lps->is_array() ||
        toks->size() != lps->size()) {
        return corrupt_data(
            "{}: logprobs needs arrays \"tokens\" and \"token_logprobs\" of one length", what);
    }
    if (toks->size() > kMaxTokensPerChoice) {
        return corrupt_data("{}: {} log-probability entries (limit {})", what, toks->size(),
                            kMaxTokensPerChoice);
    }
    const Json* tops = nullptr;
    if (auto t = lp.find("top_logprobs"); t != lp.end() && t->is_array()) {
        if (t->size() != toks->size()) {
            return corrupt_data("{}: top_logprobs has {} entries for {} tokens", what, t->size(),
                                toks->size());
        }
        tops = &*t;
    }
    std::vector<TokenLogprob> out;
    for (size_t i = 0; i < toks->size(); ++i) {
        const Json& tk = (*toks)[i];
        const Json& l = (*lps)[i];
        if (!tk.is_string())
            return corrupt_data("{}: logprobs.tokens[{}] is not a string", what, i);
        TokenLogprob t;
        t.token = tk.get<std::string>();
        if (l.is_null()) continue;  // vLLM: the echoed first prompt token has none
        if (!l.is_number()) return corrupt_data("{}: token_logprobs[{}] is not a number", what, i);
        t.logprob = l.get<double>();
        if (std::isnan(t.logprob) || t.logprob > 1e-6) {
            return corrupt_data("{}: token_logprobs[{}] = {} is not <= 0", what, i, t.logprob);
        }
        if (tops != nullptr && (*tops)[i].is_object()) {
            for (const auto& [k, v] : (*tops)[i].items()) {
                if (!v.is_number())
                    return corrupt_data("{}: top_logprobs[{}] value is not a number", what, i);
                t.top.push_back({k, v.get<double>()});
            }
            std::stable_sort(
                t.top.begin(), t.top.end(),
                [](const TopLogprob& a, const TopLogprob& b) { return a.logprob > b.logprob; });
        }
        out.push_back(std::move(t));
    }
    return out;
}

Result<CompletionChoice> parse_choice(const Json& c, EndpointApi api, std::string_view what) {
    if (!c.is_object()) return corrupt_data("{}: a choice is not an object", what);
    CompletionChoice ch;
    if (api == EndpointApi::kChat) {
        auto m = c.find("message");
        if (m == c.end() || !m->is_object())
            return corrupt_data("{}: a chat choice has no \"message\"", what);
        auto content = m->find("content");
        if (content == m->end() || !(content->is_string() || content->is_null())) {
            return corrupt_data("{}: message.content is missing or not a string", what);
        }
        if (content->is_string()) ch.text = content->get<std::string>();
    } else {
        auto t = c.find("text");
        if (t == c.end() || !t->is_string())
            return corrupt_data("{}: a choice has no string \"text\"", what);
        ch.text = t->get<std::string>();
    }
    if (auto f = c.find("finish_reason"); f != c.end() && f->is_string())
        ch.finish_reason = f->get<std::string>();
    auto lp = c.find("logprobs");
    if (lp != c.end() && lp->is_object()) {
        if (auto content = lp->find("content"); content != lp->end() && !content->is_null()) {
            MP_ASSIGN_OR_RETURN(ch.logprobs, parse_content_layout(*content, what));
            ch.has_logprobs = true;
        } else if (lp->contains("tokens")) {
            MP_ASSIGN_OR_RETURN(ch.logprobs, parse_legacy_layout(*lp, what));
            ch.has_logprobs = true;
        }
    }
    return ch;
}

std::string string_field(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view endpoint_api_name(EndpointApi a) {
    return a == EndpointApi::kChat ? "chat" : "completions";
}

std::string_view server_dialect_name(ServerDialect d) {
    switch (d) {
        case ServerDialect::kOpenAI:
            return "openai";
        case ServerDialect::kVllm:
            return "vllm";
        case ServerDialect::kSglang:
            return "sglang";
        case ServerDialect::kLlamaCpp:
            return "llama.cpp";
        case ServerDialect::kUnknown:
            return "unknown";
    }
    return "unknown";
}

ServerDialect dialect_from_owner(std::string_view o) {
    if (o == "vllm") return ServerDialect::kVllm;
    if (o == "sglang") return ServerDialect::kSglang;
    if (o == "llamacpp" || o == "llama.cpp") return ServerDialect::kLlamaCpp;
    if (o == "openai" || o == "system" || o == "openai-internal") return ServerDialect::kOpenAI;
    return ServerDialect::kUnknown;
}

std::string completion_request_body(const CompletionRequest& req, ServerDialect dialect) {
    OrderedJson j;
    j["model"] = req.model;
    if (req.api == EndpointApi::kChat) {
        j["messages"] =
            OrderedJson::array({OrderedJson{{"role", "user"}, {"content", req.prompt}}});
    } else {
        j["prompt"] = req.prompt;
    }
    j["max_tokens"] = req.sampling.max_tokens;
    j["temperature"] = req.sampling.temperature;
    j["top_p"] = 1.0;
    j["seed"] = req.sampling.seed;
    j["n"] = 1;
    j["stream"] = false;
    j["presence_penalty"] = 0.0;
    j["frequency_penalty"] = 0.0;
    if (req.sampling.logprobs > 0) {
        if (req.api == EndpointApi::kChat) {
            j["logprobs"] = true;
            j["top_logprobs"] = req.sampling.logprobs;
        } else {
            j["logprobs"] = req.sampling.logprobs;
        }
    }
    switch (dialect) {
        case ServerDialect::kVllm:
        case ServerDialect::kSglang:
            j["top_k"] = -1;
            j["min_p"] = 0.0;
            j["repetition_penalty"] = 1.0;
            break;
        case ServerDialect::kLlamaCpp:
            j["top_k"] = 0;
            j["min_p"] = 0.0;
            j["typical_p"] = 1.0;
            j["repeat_penalty"] = 1.0;
            j["dry_multiplier"] = 0.0;
            j["xtc_probability"] = 0.0;
            j["mirostat"] = 0;
            j["n_probs"] = req.sampling.logprobs;
            break;
        case ServerDialect::kOpenAI:
        case ServerDialect::kUnknown:
            break;
    }
    return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

Result<CompletionResponse> parse_completion_response(std::string_view body, EndpointApi api,
                                                     std::string_view what) {
    auto parsed = parse_json(body, what, JsonParseOptions{false, 64});
    if (!parsed.ok()) {
        return corrupt_data("{}: response is not valid JSON (truncated or malformed, {} bytes): {}",
                            what, body.size(), parsed.status().message());
    }
    const Json& j = *parsed;
    if (!j.is_object()) return corrupt_data("{}: response is not a JSON object", what);
    if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
        return io_error("{}: the server answered with an error: {}", what, error_summary(body, ""));
    }
    CompletionResponse r;
    r.id = string_field(j, "id");
    r.model = string_field(j, "model");
    r.system_fingerprint = string_field(j, "system_fingerprint");
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) {
        return corrupt_data("{}: response has no \"choices\"", what);
    }
    if (choices->size() > kMaxChoices) {
        return corrupt_data("{}: {} choices (limit {})", what, choices->size(), kMaxChoices);
    }
    for (const auto& c : *choices) {
        MP_ASSIGN_OR_RETURN(CompletionChoice ch, parse_choice(c, api, what));
        r.choices.push_back(std::move(ch));
    }
    return r;
}

Result<ModelList> parse_model_list(std::string_view body, std::string_view what) {
    auto parsed = parse_json(body, what, JsonParseOptions{false, 64});
    if (!parsed.ok()) return corrupt_data("{}: model list is not valid JSON", what);
    const Json& j = *parsed;
    auto data = j.is_object() ? j.find("data") : j.end();
    if (!j.is_object() || data == j.end() || !data->is_array()) {
        return corrupt_data("{}: model list has no \"data\" array", what);
    }
    ModelList out;
    for (const auto& m : *data) {
        if (!m.is_object()) continue;
        std::string id = string_field(m, "id");
        if (id.empty()) continue;
        if (out.ids.empty()) out.owned_by = string_field(m, "owned_by");
        out.ids.push_back(std::move(id));
        // llama.cpp lists its alias(es) as "aliases"; accept them as names too.
        if (auto a = m.find("aliases"); a != m.end() && a->is_array()) {
            for (const auto& s : *a) {
                if (s.is_string()) out.ids.push_back(s.get<std::string>());
            }
        }
    }
    return out;
}

std::string error_summary(std::string_view body, std::string_view secret) {
    std::string msg;
    auto parsed = parse_json(body, "error body", JsonParseOptions{false, 16});
    if (parsed.ok() && parsed->is_object()) {
        const Json& j = *parsed;
        auto e = j.find("error");
        if (e != j.end() && e->is_object())
            msg = string_field(*e, "message");
        else if (e != j.end() && e->is_string())
            msg = e->get<std::string>();
        if (msg.empty()) msg = string_field(j, "message");
        if (msg.empty()) msg = string_field(j, "detail");
    }
    if (msg.empty()) msg = std::string(body.substr(0, 300));
    if (!secret.empty()) {
        for (size_t p; (p = msg.find(secret)) != std::string::npos;)
            msg.replace(p, secret.size(), "***");
    }
    if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
    for (char& c : msg) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return msg;
}

Result<std::unique_ptr<EndpointClient>> EndpointClient::create(const EndpointOptions& options) {
    std::string url = options.base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return invalid_argument("endpoint URL {} must start with http:// or https://",
                                redact_url(url));
    }
    if (url.size() < 3 || url.substr(url.size() - 3) != "/v1") url += "/v1";
    if (options.api_key.find_first_of("\r\n") != std::string::npos) {
        return invalid_argument("the API key contains a line break");
    }
    auto c = std::unique_ptr<EndpointClient>(new EndpointClient());
    c->base_url_ = url;
    c->api_key_ = options.api_key;
    MP_ASSIGN_OR_RETURN(c->http_, HttpClient::create(options.http));
    return c;
}

Result<HttpResponse> EndpointClient::call(std::string_view method, std::string_view path,
                                          const std::string& body) const {
    HttpHeaders headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    HttpHeaders secret;
    if (!api_key_.empty()) secret.push_back({"Authorization", "Bearer " + api_key_});
    return http_->request(method, base_url_ + std::string(path), body, headers, secret);
}

namespace {

Status status_error(const HttpResponse& r, const std::string& where, std::string_view secret,
                    double max_wait) {
    if (r.status == 401 || r.status == 403) {
        // The body is not shown: some servers echo part of the key back.
        return failed_precondition(
            "{}: HTTP {}: the endpoint refused the credentials (check the "
            "API key given by --api-key-env / --api-key-file)",
            where, r.status);
    }
    std::string msg = error_summary(r.body, secret);
    if (r.status == 404) return not_found("{}: HTTP 404: {}", where, msg);
    if (r.status == 429 || r.status >= 500) {
        double ra = parse_retry_after(r.retry_after);
        if (ra > max_wait) {
            return io_error(
                "{}: HTTP {}: the server asks to retry after {} s (more than the "
                "{} s waited at most): {}",
                where, r.status, ra, max_wait, msg);
        }
        return io_error("{}: HTTP {} after {} attempt(s): {}", where, r.status, r.attempts, msg);
    }
    return invalid_argument("{}: HTTP {}: {}", where, r.status, msg);
}

}  // namespace

Result<ModelList> EndpointClient::models() const {
    MP_ASSIGN_OR_RETURN(HttpResponse r, call("GET", "/models", ""));
    std::string where = shown_url() + "/models";
    if (r.status < 200 || r.status >= 300)
        return status_error(r, where, api_key_, http_->options().backoff_max_s);
    return parse_model_list(r.body, where);
}

Result<CompletionResponse> EndpointClient::complete(const CompletionRequest& req,
                                                    ServerDialect dialect) const {
    std::string path = req.api == EndpointApi::kChat ? "/chat/completions" : "/completions";
    MP_ASSIGN_OR_RETURN(HttpResponse r, call("POST", path, completion_request_body(req, dialect)));
    std::string where = shown_url() + path;
    if (r.status < 200 || r.status >= 300)
        return status_error(r, where, api_key_, http_->options().backoff_max_s);
    return parse_completion_response(r.body, req.api, where);
}

}  // namespace modelprint

// `modelprint logits MODEL (--ids 1,2,3 | --text TEXT) [--top-k K] [--json] [--device D]`:
// next-token logits at every position of one sequence, from the engine (what tests and audits
// use to compare with a reference implementation).
// --json prints {"ids": [...], "vocab_size": V, "logits": [[V floats], ...], "timings": {...}} with
// one full row per position, or with --top-k K, "logits": [[[id, logit] x K], ...] (descending);
// timings: {load_s (open + weights packed), prefill_tokens, prefill_s, decode_tokens, decode_s}
// in seconds, as llama.cpp's server reports them. Floats are
// printed as the shortest decimal that round-trips to the f32 value.
// --text needs the model's tokenizer (tokenizer.json beside the weights, or the GGUF vocabulary)
// and encodes with the tokenizer's special tokens (e.g. BOS); --ids needs no tokenizer.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint::cli {

// Shared with cmd_generate.cpp: parses "1,2,3" (spaces allowed) into ids.
Result<std::vector<int32_t>> parse_id_list(const std::string& s);
// The tokenizer of a model: the GGUF's vocabulary, or tokenizer.json in its directory.
Result<std::unique_ptr<Tokenizer>> model_tokenizer(const Model& model);
// Shared with cmd_generate.cpp: {"load_s", "prefill_tokens", "prefill_s", "decode_tokens",
// "decode_s"}; load_s adds open_s (opening the model and creating the backend).
std::string timings_json(const EngineTimings& t, double open_s);

Result<std::vector<int32_t>> parse_id_list(const std::string& s) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == ',')) ++i;
        if (i == s.size()) break;
        size_t j = i;
        if (s[j] == '-') ++j;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
        if (j == i || (j == i + 1 && s[i] == '-') || (j < s.size() && s[j] != ',' && s[j] != ' ')) {
            return invalid_argument("--ids: \"{}\" is not a comma-separated list of integers", s);
        }
        const long long v = std::stoll(s.substr(i, j - i));
        if (v < INT32_MIN || v > INT32_MAX) return invalid_argument("--ids: {} does not fit in 32 bits", v);
        ids.push_back(static_cast<int32_t>(v));
        i = j;
    }
    if (ids.empty()) return invalid_argument("--ids: no token ids in \"{}\"", s);
    return ids;
}

Result<std::unique_ptr<Tokenizer>> model_tokenizer(const Model& model) {
    const std::string src = model.format() == ModelFormat::kGguf ? model.path() : model.root_dir();
    auto tok = Tokenizer::from_file(src);
    if (!tok.ok()) return tok.status().with_context("loading the tokenizer of " + model.path());
    return tok;
}

std::string timings_json(const EngineTimings& t, double open_s) {
    return fmt::format("{{\"load_s\": {:.6f}, \"prefill_tokens\": {}, \"prefill_s\": {:.6f}, "
                       "\"decode_tokens\": {}, \"decode_s\": {:.6f}}}",
                       open_s + t.load_s, t.prefill_tokens, t.prefill_s, t.decode_tokens, t.decode_s);
}

namespace {

struct LogitsArgs {
    std::string model;
    std::string ids;
    std::string text;
    int top_k = 0;
    bool json = false;
    std::string device = "cpu";
    int threads = 0;
};

Status run_logits(const LogitsArgs& a) {
    if (a.ids.empty() == a.text.empty()) return invalid_argument("give exactly one of --ids and --text");
    const auto t_open = std::chrono::steady_clock::now();
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    std::vector<int32_t> ids;
    if (!a.ids.empty()) {
        MP_ASSIGN_OR_RETURN(ids, parse_id_list(a.ids));
    } else {
        MP_ASSIGN_OR_RETURN(auto tok, model_tokenizer(*model));
        MP_ASSIGN_OR_RETURN(ids, tok->encode(a.text, true));
        if (ids.empty()) return invalid_argument("--text \"{}\" encodes to no tokens", a.text);
    }
    MP_ASSIGN_OR_RETURN(DeviceKind dev, parse_device(a.device));
    BackendOptions opt;
    opt.threads = a.threads;
    MP_ASSIGN_OR_RETURN(auto backend, make_backend(*model, dev, opt));
    const double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_open).count();
    PrefillRequest req;
    req.sequences = {ids};
    const int display_k = a.top_k > 0 ? a.top_k : 5;
    req.logits = a.json && a.top_k == 0 ? LogitsMode::kAll : LogitsMode::kTopK;
    req.top_k = display_k;
    MP_ASSIGN_OR_RETURN(PrefillResult res, backend->prefill(req));
    const SequenceOutput& out = res.outputs[0];
    const int64_t V = res.vocab_size, T = out.length;
    if (a.json) {
        std::string s = "{\"ids\": [";
        for (size_t i = 0; i < ids.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", ids[i]);
        s += fmt::format("], \"vocab_size\": {}, \"device\": \"{}\", \"logits\": [", V, backend->name());
        for (int64_t t = 0; t < T; ++t) {
            s += t ? ",\n  [" : "\n  [";
            if (req.logits == LogitsMode::kAll) {
                for (int64_t v = 0; v < V; ++v) s += fmt::format("{}{}", v ? ", " : "", out.logits[t * V + v]);
            } else {
                for (int k = 0; k < display_k; ++k) {
                    s += fmt::format("{}[{}, {}]", k ? ", " : "", out.topk_ids[t * display_k + k],
                                     out.topk_logits[t * display_k + k]);
                }
            }
            s += "]";
        }
        s += "\n], \"timings\": " + timings_json(res.timings, open_s) + "}\n";
        std::fputs(s.c_str(), stdout);
        return Status();
    }
    std::printf("%s  (%s, vocabulary %lld, %lld tokens)\n", model->path().c_str(),
                backend->name().c_str(), static_cast<long long>(V), static_cast<long long>(T));
    std::printf("%5s  %8s  top-%d next tokens (id:logit)\n", "pos", "id", display_k);
    for (int64_t t = 0; t < T; ++t) {
        std::printf("%5lld  %8d ", static_cast<long long>(t), ids[t]);
        for (int k = 0; k < display_k; ++k) {
            std::printf(" %d:%.4f", out.topk_ids[t * display_k + k], out.topk_logits[t * display_k + k]);
        }
        std::printf("\n");
    }
    return Status();
}

CommandRegistrar reg({"logits", "Next-token logits at every position of a token sequence", 60,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<LogitsArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_option("--ids", a->ids, "Token ids, comma-separated (1,2,3)");
                          sub.add_option("--text", a->text, "Text, encoded with the model's tokenizer");
                          sub.add_option("--top-k", a->top_k, "Only the K largest logits per position")
                              ->check(CLI::PositiveNumber);
                          sub.add_flag("--json", a->json, "Print one JSON object");
                          sub.add_option("--device", a->device, "auto, cpu or cuda (default cpu)");
                          sub.add_option("--threads", a->threads, "CPU threads (default: all cores)")
                              ->check(CLI::NonNegativeNumber);
                          return [a] { return run_logits(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

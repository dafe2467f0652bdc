// `modelprint generate MODEL (--prompt TEXT | --ids 1,2,3) [--max-tokens N] [--chat FORMAT]
//  [--temperature T --seed S --top-k K] [--json] [--device D]`: continue a prompt with the engine
// (KV cache; greedy unless --temperature > 0). Generation stops after an end-of-sequence id of
// the config or tokenizer (printed, then reported as stopped) or after N tokens.
// --chat auto|chatml|llama3|... wraps the prompt as one user message with the model's chat
// format (fingerprint/tokenizer/chat_template.h) and the generation prompt; default: none.
// --json: {"prompt_ids", "tokens", "logprobs", "stopped", "text", "timings"} (text only with a
// tokenizer; timings as `logits --json`: decode_tokens = passes after the prompt's).
// --watermark KEY.json: green-list watermark (fingerprint/watermark.h, transformers'
// WatermarkLogitsProcessor) on the model's vocabulary; the key is never printed, --json carries
// its commitment as "watermark_key_commitment".
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/watermark.h"

namespace modelprint::cli {

Result<std::vector<int32_t>> parse_id_list(const std::string& s);        // cmd_logits.cpp
Result<std::unique_ptr<Tokenizer>> model_tokenizer(const Model& model);  // cmd_logits.cpp
std::string timings_json(const EngineTimings& t, double open_s);         // cmd_logits.cpp

namespace {

struct GenerateArgs {
    std::string model;
    std::string prompt;
    std::string ids;
    std::string chat = "none";
    int max_tokens = 32;
    float temperature = 0.0f;
    uint64_t seed = 0;
    int top_k = 0;
    bool json = false;
    std::string device = "cpu";
    int threads = 0;
    std::string watermark;
};

std::string json_escape(const std::string& s) {
    std::string o;
    for (unsigned char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (c < 0x20) o += fmt::format("\\u{:04x}", c);
                else o += static_cast<char>(c);
        }
    }
    return o;
}

Status run_generate(const GenerateArgs& a) {
    if (a.prompt.empty() == a.ids.empty()) return invalid_argument("give exactly one of --prompt and --ids");
    const auto t_open = std::chrono::steady_clock::now();
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    std::unique_ptr<Tokenizer> tok;
    GenerateRequest req;
    if (!a.prompt.empty()) {
        MP_ASSIGN_OR_RETURN(tok, model_tokenizer(*model));
        if (a.chat != "none") {
            std::string warning;
            MP_ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::select(*tok, a.chat, &warning));
            if (!warning.empty()) std::fprintf(stderr, "modelprint: warning: %s\n", warning.c_str());
            std::vector<ChatMessage> msgs = {{"user", a.prompt}};
            MP_ASSIGN_OR_RETURN(std::string text, chat.apply(msgs, true));
            MP_ASSIGN_OR_RETURN(req.prompt, tok->encode(text, false));
        } else {
            MP_ASSIGN_OR_RETURN(req.prompt, tok->encode(a.prompt, true));
        }
        if (auto eos = tok->eos_id()) req.stop_ids.push_back(*eos);
    } else {
        MP_ASSIGN_OR_RETURN(req.prompt, parse_id_list(a.ids));
        auto t = model_tokenizer(*model);  // optional with --ids: only for printing text
        if (t.ok()) tok = std::move(t).value();
    }
    for (int64_t e : model->config().eos_token_ids) {
        if (e >= 0 && e <= INT32_MAX) req.stop_ids.push_back(static_cast<int32_t>(e));
    }
    req.max_new_tokens = a.max_tokens;
    req.temperature = a.temperature;
    req.seed = a.seed;
    req.top_k = a.top_k;
    std::shared_ptr<const GreenLists> lists;
    if (!a.watermark.empty()) {
        MP_ASSIGN_OR_RETURN(WatermarkKey key, load_watermark_key(a.watermark));
        MP_ASSIGN_OR_RETURN(GreenLists g, GreenLists::create(key, model->config().vocab_size));
        lists = std::make_shared<const GreenLists>(std::move(g));
        req.logits_processor = [lists](std::span<const int32_t> ids, std::span<float> logits) {
            lists->apply(ids, logits);
        };
    }
    MP_ASSIGN_OR_RETURN(DeviceKind dev, parse_device(a.device));
    BackendOptions opt;
    opt.threads = a.threads;
    MP_ASSIGN_OR_RETURN(auto backend, make_backend(*model, dev, opt));
    const double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_open).count();
    MP_ASSIGN_OR_RETURN(GenerateResult res, backend->generate(req));
    std::string text;
    bool have_text = false;
    if (tok) {
        auto d = tok->decode(res.tokens, true);
        if (d.ok()) {
            text = *d;
            have_text = true;
        }
    }
    if (a.json) {
        std::string s = "{\"prompt_ids\": [";
        for (size_t i = 0; i < req.prompt.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", req.prompt[i]);
        s += "], \"tokens\": [";
        for (size_t i = 0; i < res.tokens.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", res.tokens[i]);
        s += "], \"logprobs\": [";
        for (size_t i = 0; i < res.token_logprobs.size(); ++i) {
            s += fmt::format("{}{}", i ? ", " : "", res.token_logprobs[i]);
        }
        s += fmt::format("], \"stopped\": {}, \"device\": \"{}\"", res.stopped ? "true" : "false",
                         backend->name());
        if (have_text) s += ", \"text\": \"" + json_escape(text) + "\"";
        if (lists) {
            s += ", \"watermark_key_commitment\": \"" + watermark_key_commitment(lists->key()) + "\"";
        }
        s += ", \"timings\": " + timings_json(res.timings, open_s) + "}\n";
        std::fputs(s.c_str(), stdout);
        return Status();
    }
    if (have_text) {
        std::printf("%s\n", text.c_str());
    } else {
        for (size_t i = 0; i < res.tokens.size(); ++i) std::printf("%s%d", i ? " " : "", res.tokens[i]);
        std::printf("\n");
    }
    return Status();
}

CommandRegistrar reg({"generate", "Continue a prompt with the model (greedy or seeded sampling)", 61,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<GenerateArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_option("--prompt", a->prompt, "Prompt text (needs the model's tokenizer)");
                          sub.add_option("--ids", a->ids, "Prompt token ids, comma-separated");
                          sub.add_option("--max-tokens", a->max_tokens, "New tokens at most (default 32)")
                              ->check(CLI::NonNegativeNumber);
                          sub.add_option("--chat", a->chat,
                                         "Chat format for the prompt: none (default), auto, chatml, "
                                         "llama3, llama2, mistral, deepseek");
                          sub.add_option("--temperature", a->temperature, "0 (default): greedy")
                              ->check(CLI::NonNegativeNumber);
                          sub.add_option("--seed", a->seed, "Sampling seed (default 0)");
                          sub.add_option("--top-k", a->top_k, "Sample from the K best tokens (0: all)")
                              ->check(CLI::NonNegativeNumber);
                          sub.add_option("--watermark", a->watermark,
                                         "Watermark the output with this key (watermark keygen)");
                          sub.add_flag("--json", a->json, "Print one JSON object");
                          sub.add_option("--device", a->device, "auto, cpu or cuda (default cpu)");
                          sub.add_option("--threads", a->threads, "CPU threads (default: all cores)")
                              ->check(CLI::NonNegativeNumber);
                          return [a] { return run_generate(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

// `modelprint tokenize MODEL_OR_TOKENIZER (--text TEXT | --input FILE.jsonl) [--no-special]
//  [--json] [--chat-template none|auto|NAME]`: token ids and pieces of a text, or of every line
// of a JSONL file (one JSON string per line, or {"text": ...} / {"hex": "<bytes>"} objects) as
// one {"ids": [...], "pieces": [...]} object per line, in input order, in one process.
// MODEL_OR_TOKENIZER is a model directory, a tokenizer.json, a SentencePiece .model, their
// folder, or a .gguf file.
// With a chat template the text becomes one user message plus the generation prompt, encoded
// without adding special tokens again (the template already holds BOS), as transformers'
// apply_chat_template(tokenize=True) does. Blank input lines are skipped.
#include <cstdio>

#include "cli/command.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint::cli {
namespace {

struct TokenizeArgs {
    std::string model;
    std::string text;
    std::string input;
    bool no_special = false;
    bool json = false;
    std::string chat_template = "none";
};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json encode_json(const Tokenizer& tok, const std::vector<int32_t>& ids) {
    Json pieces = Json::array();
    for (int32_t id : ids) pieces.push_back(tok.id_to_token(id));
    return Json{{"ids", ids}, {"pieces", std::move(pieces)}};
}

Result<std::vector<int32_t>> tokenize_one(const Tokenizer& tok, const ChatTemplate& tpl,
                                          const std::string& text, bool add_special) {
    if (tpl.format() == ChatFormat::kNone) return tok.encode(text, add_special);
    const ChatMessage msg{"user", text};
    MP_ASSIGN_OR_RETURN(std::string prompt, tpl.apply(std::span(&msg, 1), true));
    return tok.encode(prompt, false);
}

Result<std::string> hex_bytes(const std::string& hex, size_t line_no, const std::string& file) {
    if (hex.size() % 2 != 0) {
        return corrupt_data("{} line {}: \"hex\" has odd length {}", file, line_no, hex.size());
    }
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        int v = 0;
        for (size_t k = 0; k < 2; ++k) {
            const char c = hex[i + k];
            const int d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
            if (d < 0)
                return corrupt_data("{} line {}: \"hex\" has a non-hex digit", file, line_no);
            v = v * 16 + d;
        }
        out.push_back(static_cast<char>(v));
    }
    return out;
}

Status run_input(const Tokenizer& tok, const ChatTemplate& tpl, const TokenizeArgs& a) {
    MP_ASSIGN_OR_RETURN(std::string content, read_file(a.input));
    size_t pos = 0, line_no = 0;
    while (pos < content.size()) {
        size_t end = content.find('\n', pos);
        if (end == std::string::npos) end = content.size();
        const std::string_view line(content.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto parsed = parse_json(line, a.input);
        if (!parsed.ok()) {
            return corrupt_data("{} line {}: {}", a.input, line_no, parsed.status().message());
        }
        const Json& j = *parsed;
        std::string text;
        if (j.is_string()) {
            text = j.get<std::string>();
        } else if (j.is_object() && j.contains("text") && j["text"].is_string()) {
            text = j["text"].get<std::string>();
        } else if (j.is_object() && j.contains("hex") && j["hex"].is_string()) {
            MP_ASSIGN_OR_RETURN(text, hex_bytes(j["hex"].get<std::string>(), line_no, a.input));
        } else {
            return corrupt_data("{} line {}: expected a JSON string or an object with \"text\"",
                                a.input, line_no);
        }
        MP_ASSIGN_OR_RETURN(auto ids, tokenize_one(tok, tpl, text, !a.no_special));
        const std::string out = dump(encode_json(tok, ids)) + "\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return Status();
}

Status run_tokenize(const TokenizeArgs& a) {
    MP_ASSIGN_OR_RETURN(auto tok, Tokenizer::from_file(a.model));
    std::string warning;
    MP_ASSIGN_OR_RETURN(ChatTemplate tpl, ChatTemplate::select(*tok, a.chat_template, &warning));
    if (!warning.empty()) std::fprintf(stderr, "modelprint: warning: %s\n", warning.c_str());
    if (!a.input.empty()) return run_input(*tok, tpl, a);
    MP_ASSIGN_OR_RETURN(auto ids, tokenize_one(*tok, tpl, a.text, !a.no_special));
    if (a.json) {
        std::printf("%s\n", dump(encode_json(*tok, ids)).c_str());
        return Status();
    }
    std::printf("tokenizer  %s\n", tok->describe().c_str());
    std::printf("tokens     %zu\n", ids.size());
    std::string list;
    for (size_t i = 0; i < ids.size(); ++i) list += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("ids        [%s]\n\n", list.c_str());
    for (int32_t id : ids) {
        std::printf("  %8d  %s\n", id, dump(Json(tok->id_to_token(id))).c_str());
    }
    return Status();
}

CommandRegistrar reg({"tokenize", "Token ids and pieces of a text or of a JSONL file of texts", 60,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<TokenizeArgs>();
                          sub.add_option("MODEL_OR_TOKENIZER", a->model,
                                         "Model directory, tokenizer.json, tokenizer.model, "
                                         "its folder, or .gguf")
                              ->required();
                          auto* text = sub.add_option("--text", a->text, "Text to tokenize");
                          auto* input = sub.add_option(
                              "--input", a->input,
                              "JSONL file: one JSON string (or {\"text\"}/{\"hex\"}) per line");
                          text->excludes(input);
                          sub.add_flag("--no-special", a->no_special,
                                       "Do not add special tokens (BOS/EOS) around the text");
                          sub.add_flag("--json", a->json, "Print {\"ids\", \"pieces\"} as JSON");
                          sub.add_option("--chat-template", a->chat_template,
                                         "none | auto | chatml | llama3 | llama2 | mistral | "
                                         "deepseek (text becomes a user turn)");
                          return [a, text, input] {
                              if (text->count() == 0 && input->count() == 0) {
                                  return invalid_argument(
                                      "tokenize: give --text TEXT or --input FILE.jsonl");
                              }
                              return run_tokenize(*a);
                          };
                      }});

}  // namespace
}  // namespace modelprint::cli

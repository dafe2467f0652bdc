// Chat formats (see chat_template.h). Each layout transcribes the Jinja template of its family:
// Qwen3-4B / Qwen2.5 (chatml, without Qwen2.5's default system prompt), Meta-Llama-3-8B as
// shipped in shared/tokenizers/llama3 (llama3), meta-llama/Llama-2-7b-chat-hf (llama2),
// mistralai/Mistral-7B-Instruct-v0.1 (mistral), deepseek-ai/DeepSeek-V3 (deepseek).
#include "fingerprint/tokenizer/chat_template.h"

#include <filesystem>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint {

namespace {

// Python str.strip() / Jinja trim over ASCII whitespace and the common Unicode spaces.
std::string strip(std::string_view s) {
    const auto ws = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    };
    size_t b = 0, e = s.size();
    while (b < e && ws(s[b])) ++b;
    while (e > b && ws(s[e - 1])) --e;
    return std::string(s.substr(b, e - b));
}

Status check_role(const ChatMessage& m, ChatFormat f) {
    if (m.role == "system" || m.role == "user" || m.role == "assistant") return Status::ok_status();
    return invalid_argument(
        "chat format {}: unsupported message role '{}' (system, user, assistant)",
        chat_format_name(f), m.role);
}

}  // namespace

Result<std::string> read_chat_template_file(const std::string& dir, std::string* file) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path jinja = fs::path(dir) / "chat_template.jinja";
    if (fs::is_regular_file(jinja, ec)) {
        if (file != nullptr) *file = "chat_template.jinja";
        return read_file(jinja.string());
    }
    const fs::path json = fs::path(dir) / "chat_template.json";
    if (!fs::is_regular_file(json, ec)) return std::string();
    if (file != nullptr) *file = "chat_template.json";
    MP_ASSIGN_OR_RETURN(std::string text, read_file(json.string()));
    MP_ASSIGN_OR_RETURN(Json j, parse_json(text, "chat_template.json"));
    const auto it = j.is_object() ? j.find("chat_template") : j.end();
    if (it == j.end()) {
        return corrupt_data("chat_template.json: expected an object with a \"chat_template\" key");
    }
    if (it->is_string()) return it->get<std::string>();
    std::string out;
    if (it->is_array()) {  // [{"name": ..., "template": ...}]: "default", else the first
        for (const Json& e : *it) {
            const auto t = e.is_object() ? e.find("template") : e.end();
            if (t == e.end() || !t->is_string()) {
                return corrupt_data("chat_template.json: each entry of \"chat_template\" needs a "
                                    "string \"template\"");
            }
            const auto n = e.find("name");
            const bool is_default = n != e.end() && n->is_string() && *n == "default";
            if (is_default || out.empty()) out = t->get<std::string>();
        }
        if (!out.empty()) return out;
    }
    return corrupt_data("chat_template.json: \"chat_template\" must be a string or a non-empty "
                        "list of {{\"name\", \"template\"}}");
}

std::string_view chat_format_name(ChatFormat f) {
    switch (f) {
        case ChatFormat::kNone:
            return "none";
        case ChatFormat::kChatML:
            return "chatml";
        case ChatFormat::kLlama3:
            return "llama3";
        case ChatFormat::kLlama2:
            return "llama2";
        case ChatFormat::kMistral:
            return "mistral";
        case ChatFormat::kDeepSeek:
            return "deepseek";
    }
    return "none";
}

std::optional<ChatFormat> ChatTemplate::detect(std::string_view t) {
    if (t.find("<|im_start|>") != std::string_view::npos) return ChatFormat::kChatML;
    if (t.find("<|start_header_id|>") != std::string_view::npos) return ChatFormat::kLlama3;
    if (t.find("<\xEF\xBD\x9CUser\xEF\xBD\x9C>") != std::string_view::npos) {  // <｜User｜>
        return ChatFormat::kDeepSeek;
    }
    if (t.find("[INST]") != std::string_view::npos) {
        return t.find("<<SYS>>") != std::string_view::npos ? ChatFormat::kLlama2
                                                           : ChatFormat::kMistral;
    }
    return std::nullopt;
}

ChatTemplate::ChatTemplate(ChatFormat format, std::string bos_token, std::string eos_token,
                           std::string default_system)
    : format_(format), bos_(std::move(bos_token)), eos_(std::move(eos_token)),
      default_system_(std::move(default_system)) {}

std::string ChatTemplate::default_system_prompt(std::string_view t) {
    constexpr std::string_view kOpen = "<|im_start|>system";
    for (size_t pos = t.find(kOpen); pos != std::string_view::npos; pos = t.find(kOpen, pos + 1)) {
        std::string_view rest = t.substr(pos + kOpen.size());
        if (rest.starts_with("\\n")) {
            rest.remove_prefix(2);  // Jinja string escape "\n"
        } else if (rest.starts_with("\n")) {
            rest.remove_prefix(1);
        } else {
            continue;
        }
        const size_t end = rest.find("<|im_end|>");
        if (end == std::string_view::npos || end == 0) continue;
        std::string_view text = rest.substr(0, end);
        if (text.find_first_of("'\"{}+\\") != std::string_view::npos) continue;
        return std::string(text);
    }
    return {};
}

Result<ChatTemplate> ChatTemplate::select(const Tokenizer& tok, std::string_view name,
                                          std::string* warning) {
    const auto token = [&](std::optional<int32_t> id) {
        return id ? tok.id_to_token(*id) : std::string();
    };
    std::optional<ChatFormat> f;
    if (name == "auto") {
        f = detect(tok.chat_template_source());
        if (!f) {
            f = ChatFormat::kNone;
            if (warning != nullptr) {
                *warning = tok.chat_template_source().empty()
                               ? "the tokenizer has no chat template; using plain text"
                               : "chat template not recognised (no ChatML, Llama-3, Llama-2/"
                                 "Mistral or DeepSeek markers); using plain text";
            }
        }
    } else {
        for (auto c : {ChatFormat::kNone, ChatFormat::kChatML, ChatFormat::kLlama3,
                       ChatFormat::kLlama2, ChatFormat::kMistral, ChatFormat::kDeepSeek}) {
            if (name == chat_format_name(c)) f = c;
        }
        if (!f) {
            return invalid_argument(
                "unknown chat template '{}' (none, auto, chatml, llama3, llama2, mistral, "
                "deepseek)",
                name);
        }
    }
    std::string default_system;
    if (*f == ChatFormat::kChatML) default_system = default_system_prompt(tok.chat_template_source());
    return ChatTemplate(*f, token(tok.bos_id()), token(tok.eos_id()), std::move(default_system));
}

Result<std::string> ChatTemplate::apply(std::span<const ChatMessage> messages,
                                        bool add_generation_prompt) const {
    std::string out;
    for (const auto& m : messages) MP_TRY(check_role(m, format_));
    switch (format_) {
        case ChatFormat::kNone:
            for (size_t i = 0; i < messages.size(); ++i) {
                if (i > 0) out += '\n';
                out += messages[i].content;
            }
            return out;
        case ChatFormat::kChatML:
            if (!default_system_.empty() && (messages.empty() || messages[0].role != "system")) {
                out += "<|im_start|>system\n" + default_system_ + "<|im_end|>\n";
            }
            for (const auto& m : messages) {
                out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            }
            if (add_generation_prompt) out += "<|im_start|>assistant\n";
            return out;
        case ChatFormat::kLlama3:
            for (size_t i = 0; i < messages.size(); ++i) {
                if (i == 0) out += bos_;
                out += "<|start_header_id|>" + messages[i].role + "<|end_header_id|>\n\n" +
                       strip(messages[i].content) + "<|eot_id|>";
            }
            if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            return out;
        case ChatFormat::kDeepSeek: {
            std::string system;
            bool first = true;
            for (const auto& m : messages) {
                if (m.role != "system") continue;
                if (!first) system += "\n\n";
                system += m.content;
                first = false;
            }
            out = bos_ + system;
            for (const auto& m : messages) {
                if (m.role == "user") out += "<\xEF\xBD\x9CUser\xEF\xBD\x9C>" + m.content;
                if (m.role == "assistant") {
                    out +=
                        "<\xEF\xBD\x9C"
                        "Assistant\xEF\xBD\x9C>" +
                        m.content + eos_;
                }
            }
            if (add_generation_prompt)
                out +=
                    "<\xEF\xBD\x9C"
                    "Assistant\xEF\xBD\x9C>";
            return out;
        }
        case ChatFormat::kLlama2:
        case ChatFormat::kMistral: {
            size_t start = 0;
            std::string system;
            bool has_system = false;
            if (!messages.empty() && messages[0].role == "system") {
                if (format_ == ChatFormat::kMistral) {
                    return invalid_argument(
                        "chat format mistral: a system message is not supported");
                }
                system = messages[0].content;
                has_system = true;
                start = 1;
            }
            if (format_ == ChatFormat::kMistral) out += bos_;
            for (size_t i = start; i < messages.size(); ++i) {
                const auto& m = messages[i];
                const bool expect_user = (i - start) % 2 == 0;
                if ((m.role == "user") != expect_user || m.role == "system") {
                    return invalid_argument(
                        "chat format {}: roles must alternate user/assistant; message {} is '{}'",
                        chat_format_name(format_), i, m.role);
                }
                if (format_ == ChatFormat::kLlama2) {
                    std::string content = m.content;
                    if (i == start && has_system) {
                        content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content;
                    }
                    if (m.role == "user") {
                        out += bos_ + "[INST] " + strip(content) + " [/INST]";
                    } else {
                        out += " " + strip(content) + " " + eos_;
                    }
                } else {
                    if (m.role == "user") {
                        out += "[INST] " + m.content + " [/INST]";
                    } else {
                        out += m.content + eos_;
                    }
                }
            }
            return out;  // these templates have no generation prompt: [/INST] ends the turn
        }
    }
    return out;
}

}  // namespace modelprint

// Chat formatting for instruct models: the prompt layouts of the supported families, chosen
// from the chat template text (chat_template.jinja, chat_template.json or tokenizer_config.json
// of a model directory — read_chat_template_file — or GGUF tokenizer.chat_template) by
// recognising its markers, or named explicitly. modelprint does not run Jinja: each format is
// written out here and checked against transformers' apply_chat_template on the shipped
// templates (tests/tokenizer_test.cpp, testdata/tokenizer/chat_golden.json).
//   chatml   <|im_start|>ROLE\nCONTENT<|im_end|>\n ... [<|im_start|>assistant\n] (Qwen2/2.5/3,
//            SmolLM2), with the template's default system turn when the messages have none
//   llama3   <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT.strip()<|eot_id|>
//   llama2   <s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nUSER [/INST] ASSISTANT </s> (Llama-2-chat)
//   mistral  <s>[INST] USER [/INST]ASSISTANT</s> (Mistral-Instruct v0.1)
//   deepseek <｜begin▁of▁sentence｜>SYS<｜User｜>USER<｜Assistant｜>ASSISTANT<｜end▁of▁sentence｜>
//            (DeepSeek-V3/R1 and the R1 distills)
// Not reproduced: tools/tool calls, Qwen3's <think> re-insertion for a final assistant turn.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fingerprint/base/status.h"

namespace modelprint {

class Tokenizer;

// The chat template saved as its own file in model directory `dir`, as current transformers
// saves it (tokenizer.save_pretrained writes chat_template.jinja; processors and older
// versions wrote chat_template.json = {"chat_template": "..."}, a string or a list of
// {"name", "template"} where "default" is taken). Order, as transformers loads them:
// chat_template.jinja, then chat_template.json; either overrides tokenizer_config.json's
// "chat_template". Returns "" when neither file exists; *file (optional) names the file read.
// kCorruptData names the file when chat_template.json is not JSON of that shape.
Result<std::string> read_chat_template_file(const std::string& dir, std::string* file = nullptr);

enum class ChatFormat { kNone, kChatML, kLlama3, kLlama2, kMistral, kDeepSeek };
std::string_view chat_format_name(ChatFormat f);

struct ChatMessage {
    std::string role;  // "system", "user" or "assistant"
    std::string content;
};

class ChatTemplate {
public:
    // Recognises a Jinja chat template by its markers; nullopt when none matches.
    static std::optional<ChatFormat> detect(std::string_view template_source);
    // `name`: "none", "auto" (detect from the tokenizer's chat_template; an unrecognised or
    // absent template falls back to none and sets *warning) or a format name.
    // kInvalidArgument for an unknown name.
    static Result<ChatTemplate> select(const Tokenizer& tok, std::string_view name,
                                       std::string* warning);
    ChatTemplate(ChatFormat format, std::string bos_token, std::string eos_token,
                 std::string default_system = {});
    // ChatML templates that insert a fixed system turn when the conversation has none (SmolLM2:
    // "You are a helpful AI assistant named SmolLM, ..."; Qwen2.5: "You are Qwen, ..."):
    // the literal text between "<|im_start|>system\n" and "<|im_end|>" in the template source,
    // or empty. Found only when it is a plain literal (no quotes, braces or '+').
    static std::string default_system_prompt(std::string_view template_source);
    const std::string& default_system() const { return default_system_; }

    ChatFormat format() const { return format_; }
    // The prompt text (to be encoded with add_special_tokens = false: BOS is already in it).
    // kInvalidArgument for a role the format does not know, or (llama2/mistral) roles that do
    // not alternate user/assistant. Format none joins the contents with "\n".
    Result<std::string> apply(std::span<const ChatMessage> messages,
                              bool add_generation_prompt) const;

private:
    ChatFormat format_;
    std::string bos_, eos_;
    std::string default_system_;
};

}  // namespace modelprint

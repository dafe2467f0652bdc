// libFuzzer target: the tokenizer loaders on arbitrary bytes. An input that starts with "GGUF"
// is a GGUF file whose tokenizer.ggml.* vocabulary is loaded (Tokenizer::from_gguf); any other
// input is split at its first two NUL bytes into tokenizer.json, tokenizer_config.json (chat
// template, bos/eos) and a text (Tokenizer::from_json). An accepted tokenizer then encodes the
// text and a few fixed strings, decodes the ids, maps them to bytes, and selects and applies
// its chat template. Invariants checked: every encoded id is in 0..vocab_size() and has bytes,
// ids that encode() produced decode, and chat formatting either works or returns an error.
// Any violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/model/gguf.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fuzz/fuzz_targets.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_tokenizer invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

void exercise(const modelprint::Tokenizer& tok, std::string_view text) {
    using namespace modelprint;
    const int64_t vocab = tok.vocab_size();
    if (vocab < 0) fail("negative vocab_size", std::to_string(vocab));
    for (std::string_view s : {text, std::string_view("Hello world! 123 \xe4\xbd\xa0\xe5\xa5\xbd"),
                               std::string_view("bad \xff\xfe utf-8 \xc3")}) {
        for (bool special : {true, false}) {
            auto ids = tok.encode(s, special);
            if (!ids.ok()) continue;
            for (int32_t id : *ids) {
                if (id < 0 || id >= vocab)
                    fail("encoded id outside the vocabulary", std::to_string(id));
                if (!tok.token_bytes(id).has_value())
                    fail("encoded id has no bytes", std::to_string(id));
                (void)tok.id_to_token(id);
                (void)tok.is_special(id);
            }
            auto back = tok.decode(*ids, false);
            if (!back.ok()) fail("decode of encoded ids", back.status().to_string());
            (void)tok.decode(*ids, true);
        }
    }
    const int32_t probe_ids[] = {0, 1, 2, -1, static_cast<int32_t>(vocab), 0x7fffffff};
    (void)tok.decode(probe_ids);
    for (int32_t id : probe_ids) {
        (void)tok.token_bytes(id);
        (void)tok.id_to_token(id);
    }
    (void)tok.token_to_id(text);
    (void)tok.describe();
    const std::string& src = tok.chat_template_source();
    (void)ChatTemplate::detect(src);
    (void)ChatTemplate::default_system_prompt(src);
    std::string warning;
    auto chat = ChatTemplate::select(tok, "auto", &warning);
    if (!chat.ok()) fail("ChatTemplate::select auto", chat.status().to_string());
    const ChatMessage msgs[] = {{"system", "Be brief."},
                                {"user", std::string(text.substr(0, 64))},
                                {"assistant", "ok"},
                                {"user", "again"}};
    for (bool gen : {true, false}) {
        (void)chat->apply(msgs, gen);
        (void)chat->apply(std::span<const ChatMessage>(msgs + 1, 1), gen);
    }
}

}  // namespace

int modelprint::fuzz::fuzz_tokenizer(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (in.substr(0, 4) == "GGUF") {
        auto g = parse_gguf(std::span<const uint8_t>(data, size), "fuzz.gguf");
        if (!g.ok()) return 0;
        auto tok = Tokenizer::from_gguf(*g, "fuzz.gguf");
        if (tok.ok()) exercise(**tok, "Once upon a time <s> </s>");
        return 0;
    }
    const size_t a = in.find('\0');
    const std::string_view json = in.substr(0, a);
    std::string_view config, text;
    if (a != std::string_view::npos) {
        const std::string_view rest = in.substr(a + 1);
        const size_t b = rest.find('\0');
        config = rest.substr(0, b);
        if (b != std::string_view::npos) text = rest.substr(b + 1);
    }
    auto tok = Tokenizer::from_json(json, config, "fuzz tokenizer.json");
    if (!tok.ok()) {
        if (tok.status().message().empty()) fail("error without a message", "");
        return 0;
    }
    exercise(**tok, text);
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_tokenizer)

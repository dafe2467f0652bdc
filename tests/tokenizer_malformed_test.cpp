// Malformed tokenizer files built byte by byte (hostile inputs, issue 15 item 11):
// tokenizer.json, tokenizer_config.json (chat template, special tokens) and a GGUF vocabulary.
// Rejections are kCorruptData (kUnsupported for a valid component modelprint does not
// implement, kNotFound for a missing GGUF key) naming the file and the field; nothing crashes,
// hangs or allocates by an attacker-chosen id. The libFuzzer target is fuzz/fuzz_tokenizer.cpp;
// its crash regressions are replayed by fuzz_corpus_test.
#include <string>

#include "fingerprint/model/gguf.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using testing::Bytes;

// A complete small tokenizer.json; `vocab`, `extra` (more top-level members) are spliced in.
std::string tok_json(const std::string& vocab = R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
                     const std::string& extra = "") {
    return R"({"model": {"type": "BPE", "vocab": {)" + vocab +
           R"(}, "merges": ["a b"]}, "added_tokens": [{"id": 3, "content": "<s>", "special": true}])" +
           extra + "}";
}

Result<std::unique_ptr<Tokenizer>> load(const std::string& json, const std::string& config = "") {
    return Tokenizer::from_json(json, config, "tok.json");
}

TEST(TokenizerMalformed, GoodBaseLoads) {
    auto t = load(tok_json());
    MP_ASSERT_OK(t);
    auto ids = (*t)->encode("ab<s>a");
    MP_ASSERT_OK(ids);
    EXPECT_EQ(*ids, (std::vector<int32_t>{2, 3, 0}));
}

TEST(TokenizerMalformed, EveryTruncationIsRejected) {
    const std::string good = tok_json();
    for (size_t n = 0; n < good.size(); ++n) {
        SCOPED_TRACE(n);
        EXPECT_THAT(load(good.substr(0, n)), StatusIs(StatusCode::kCorruptData, "tok.json"));
    }
    const std::string cfg = R"({"bos_token": "<s>", "chat_template": "{{ x }}"})";
    for (size_t n = 0; n < cfg.size(); ++n) {
        SCOPED_TRACE(n);
        if (n == 0) continue;  // an empty config is "no config"
        EXPECT_THAT(load(good, cfg.substr(0, n)),
                    StatusIs(StatusCode::kCorruptData, "tok.json (tokenizer_config.json)"));
    }
}

TEST(TokenizerMalformed, BadUtf8IsRejected) {
    for (const std::string& bad :
         {std::string("\xff"), std::string("\xc3"), std::string("\xed\xbf\xbf"),
          std::string("\xf8\x88\x80\x80\x80")}) {
        EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, ")" + bad + R"(": 4)")),
                    StatusIs(StatusCode::kCorruptData, "tok.json: invalid JSON"));
        EXPECT_THAT(load(tok_json(), R"({"chat_template": ")" + bad + "\"}"),
                    StatusIs(StatusCode::kCorruptData, "tokenizer_config.json): invalid JSON"));
    }
}

TEST(TokenizerMalformed, DeepNestingIsRejected) {
    // Sequence normalizers nest recursively; the JSON depth limit bounds the recursion.
    std::string seq = R"({"type": "NFC"})";
    for (int i = 0; i < 200; ++i) seq = R"({"type": "Sequence", "normalizers": [)" + seq + "]}";
    EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3)", R"(, "normalizer": )" + seq)),
                StatusIs(StatusCode::kCorruptData, "tok.json: invalid JSON: nesting deeper"));
    std::string ok = R"({"type": "NFC"})";
    for (int i = 0; i < 20; ++i) ok = R"({"type": "Sequence", "normalizers": [)" + ok + "]}";
    MP_ASSERT_OK(
        load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3)", R"(, "normalizer": )" + ok)));
    EXPECT_THAT(load(std::string(100000, '[')), StatusIs(StatusCode::kCorruptData, "tok.json"));
}

TEST(TokenizerMalformed, HugeAndWrongIdsNameTheField) {
    for (const char* id : {"4294967298", "18446744073709551615", "-1", "2147483648"}) {
        SCOPED_TRACE(id);
        EXPECT_THAT(load(tok_json(std::string(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "c": )") + id)),
                    StatusIs(StatusCode::kCorruptData, "model.vocab['c'] is"));
    }
    for (const char* id : {"1e10", "2.5", "\"7\"", "null", "[4]"}) {
        SCOPED_TRACE(id);
        EXPECT_THAT(
            load(tok_json(std::string(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "c": )") + id)),
            StatusIs(StatusCode::kCorruptData, "model.vocab['c'] must be an integer token id"));
    }
    // An id far past the vocabulary would size a dense table by it (2^30 strings): refused.
    EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "c": 1073741823)")),
                StatusIs(StatusCode::kCorruptData,
                         "vocab id 1073741823 leaves more than 65536 ids unused"));
    MP_ASSERT_OK(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "c": 60000)")));
    // Added tokens: the same id rules, and at most 65536 past the model vocabulary.
    EXPECT_THAT(
        load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                         "added_tokens": [{"id": 2147483647, "content": "<x>"}]})"),
        StatusIs(StatusCode::kCorruptData, "added token '<x>' has id 2147483647, more than 65536"));
    EXPECT_THAT(
        load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                         "added_tokens": [{"id": 1.5, "content": "<x>"}]})"),
        StatusIs(StatusCode::kCorruptData, "added_tokens[0].id must be an integer token id"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                         "added_tokens": [{"id": -5, "content": "<x>"}]})"),
                StatusIs(StatusCode::kCorruptData, "added_tokens[0].id is -5"));
    // A post-processor id must name a token.
    const std::string tp =
        R"(, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}},
            {"Sequence": {"id": "A"}}], "special_tokens": {"<s>": {"ids": [ID]}}})";
    auto with_id = [&](const std::string& id) {
        std::string e = tp;
        e.replace(e.find("ID"), 2, id);
        return tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3)", e);
    };
    MP_ASSERT_OK(load(with_id("3")));
    EXPECT_THAT(load(with_id("99")),
                StatusIs(StatusCode::kCorruptData,
                         "special token '<s>' has id 99, which is not in the vocabulary"));
    EXPECT_THAT(load(with_id("4294967299")),
                StatusIs(StatusCode::kCorruptData, "special token '<s>' id is"));
    EXPECT_THAT(load(with_id("1e99")),
                StatusIs(StatusCode::kCorruptData, "must be an integer token id"));
}

TEST(TokenizerMalformed, WrongTypesAndMissingFields) {
    EXPECT_THAT(load("[]"), StatusIs(StatusCode::kCorruptData, "no \"model\" object"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "merges": []}})"),
                StatusIs(StatusCode::kCorruptData, "vocab"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": [], "merges": []}})"),
                StatusIs(StatusCode::kCorruptData, "model.vocab is not an object"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}})"),
                StatusIs(StatusCode::kCorruptData, "merge 7 is neither"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a a"]}})"),
                StatusIs(StatusCode::kCorruptData, "merge 'a a a' is not two tokens"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})"),
                StatusIs(StatusCode::kCorruptData, "uses a token that is not in the vocab"));
    EXPECT_THAT(load(R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})"),
                StatusIs(StatusCode::kUnsupported, "model 'WordPiece'"));
    EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
                              R"(, "normalizer": {"type": "Prepend"})")),
                StatusIs(StatusCode::kCorruptData, "prepend"));
    EXPECT_THAT(
        load(tok_json(
            R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
            R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"})")),
        StatusIs(StatusCode::kUnsupported, "does not compile"));
    EXPECT_THAT(
        load(tok_json(
            R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
            R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": 5}, "behavior": "Isolated"})")),
        StatusIs(StatusCode::kCorruptData, "unexpected JSON structure"));
    EXPECT_THAT(
        load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
                      R"(, "decoder": {"type": "Strip", "content": " ", "start": -1, "stop": 0})")),
        StatusIs(StatusCode::kCorruptData,
                 "decoder Strip \"start\" must be a non-negative integer, got -1"));
    // An empty Strip content used to make decode loop `start` times without advancing.
    EXPECT_THAT(
        load(tok_json(
            R"("a": 0, "b": 1, "ab": 2, "<s>": 3)",
            R"(, "decoder": {"type": "Strip", "content": "", "start": 18446744073709551615, "stop": 0})")),
        StatusIs(StatusCode::kCorruptData, "decoder Strip has an empty \"content\""));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                         "added_tokens": [{"id": 1, "content": ""}]})"),
                StatusIs(StatusCode::kCorruptData, "added token '' with id 1 is invalid"));
    EXPECT_THAT(load(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                         "added_tokens": [{"content": "<x>"}]})"),
                StatusIs(StatusCode::kCorruptData, "id"));
}

TEST(TokenizerMalformed, DuplicateKeysAndIds) {
    EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "a": 4)")),
                StatusIs(StatusCode::kCorruptData, "tok.json: invalid JSON: duplicate key \"a\""));
    EXPECT_THAT(load(tok_json(R"("a": 0, "b": 1, "ab": 2, "<s>": 3, "c": 1)")),
                StatusIs(StatusCode::kCorruptData, "vocab id 1 is used by both"));
    EXPECT_THAT(load(tok_json(), R"({"bos_token": "<s>", "bos_token": "a"})"),
                StatusIs(StatusCode::kCorruptData, "duplicate key \"bos_token\""));
}

TEST(TokenizerMalformed, HostileConfigAndChatTemplates) {
    EXPECT_THAT(load(tok_json(), "[1]"),
                StatusIs(StatusCode::kCorruptData, "top level is not an object"));
    EXPECT_THAT(load(tok_json(), R"({"add_bos_token": "yes"})"),
                StatusIs(StatusCode::kCorruptData, "unexpected JSON structure"));
    EXPECT_THAT(load(tok_json(), R"({"chat_template": [5]})"),
                StatusIs(StatusCode::kCorruptData, "unexpected JSON structure"));
    EXPECT_THAT(load(tok_json(), R"({"chat_template": [{"name": "default"}]})"),
                StatusIs(StatusCode::kCorruptData, "template"));
    // Unknown-type tokens and templates are not errors: they are ignored or fall back to none.
    auto t = load(tok_json(),
                  R"({"bos_token": {"content": 7}, "eos_token": "<nope>", "chat_template": 12})");
    MP_ASSERT_OK(t);
    EXPECT_FALSE((*t)->bos_id().has_value());
    EXPECT_FALSE((*t)->eos_id().has_value());
    // A template with ChatML markers but hostile text around them still formats.
    auto c = load(
        tok_json(),
        R"({"chat_template": "<|im_start|>system\n{{'\u0000'}}<|im_end|>\u00ff<|im_start|>"})");
    MP_ASSERT_OK(c);
    std::string warning;
    auto chat = ChatTemplate::select(**c, "auto", &warning);
    MP_ASSERT_OK(chat);
    const ChatMessage msgs[] = {{"user", std::string("hi\0there", 8)}};
    MP_ASSERT_OK(chat->apply(msgs, true));
    EXPECT_THAT(ChatTemplate::select(**c, "jinja2", &warning),
                StatusIs(StatusCode::kInvalidArgument, "jinja2"));
}

// A GGUF holding only tokenizer metadata (no tensors).
Bytes gguf_with(const std::function<void(Bytes&)>& kvs, uint64_t n_kv) {
    Bytes b;
    b.str("GGUF").u32(3).u64(0).u64(n_kv);
    kvs(b);
    return b;
}
void kv_string(Bytes& b, const std::string& k, const std::string& v) {
    b.gguf_str(k).u32(8).gguf_str(v);
}
void kv_strings(Bytes& b, const std::string& k, const std::vector<std::string>& v) {
    b.gguf_str(k).u32(9).u32(8).u64(v.size());
    for (const auto& s : v) b.gguf_str(s);
}
void kv_floats(Bytes& b, const std::string& k, const std::vector<float>& v) {
    b.gguf_str(k).u32(9).u32(6).u64(v.size());
    for (float f : v) b.f32(f);
}

Result<std::unique_ptr<Tokenizer>> load_gguf(const Bytes& b) {
    auto g = parse_gguf(std::span<const uint8_t>(b.data()), "v.gguf");
    if (!g.ok()) return g.status();
    return Tokenizer::from_gguf(*g, "v.gguf");
}

TEST(TokenizerMalformed, GgufVocabulary) {
    const std::vector<std::string> toks = {"<unk>", "<s>", "</s>",
                                           "\xe2\x96\x81"
                                           "a",
                                           "b"};
    auto good = gguf_with(
        [&](Bytes& b) {
            kv_string(b, "tokenizer.ggml.model", "llama");
            kv_strings(b, "tokenizer.ggml.tokens", toks);
            kv_floats(b, "tokenizer.ggml.scores", {0, 0, 0, -1, -2});
        },
        3);
    MP_ASSERT_OK(load_gguf(good));
    // Truncated anywhere: the GGUF parser refuses it before the vocabulary is read.
    for (size_t n = 0; n < good.size(); ++n) {
        Bytes cut;
        for (size_t i = 0; i < n; ++i) cut.u8(good.data()[i]);
        SCOPED_TRACE(n);
        EXPECT_THAT(load_gguf(cut), StatusIs(StatusCode::kCorruptData, "v.gguf"));
    }
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "llama");
                        kv_strings(b, "tokenizer.ggml.tokens", toks);
                        kv_floats(b, "tokenizer.ggml.scores", {0, 0});
                    },
                    3)),
                StatusIs(StatusCode::kCorruptData,
                         "tokenizer.ggml.scores has 2 entries but there are 5 tokens"));
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "llama");
                        kv_strings(b, "tokenizer.ggml.tokens", toks);
                        kv_floats(b, "tokenizer.ggml.scores", {0, 0, 0, std::nanf(""), 0});
                    },
                    3)),
                StatusIs(StatusCode::kCorruptData, "score of token 3 is nan"));
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "llama");
                        kv_strings(b, "tokenizer.ggml.tokens", {});
                    },
                    2)),
                StatusIs(StatusCode::kCorruptData, "tokenizer.ggml.tokens has 0 entries"));
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "llama");
                        kv_string(b, "tokenizer.ggml.tokens", "not an array");
                    },
                    2)),
                StatusIs(StatusCode::kCorruptData, "tokenizer.ggml.tokens is not an array"));
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "llama");
                        kv_strings(b, "tokenizer.ggml.tokens", toks);
                    },
                    2)),
                StatusIs(StatusCode::kNotFound, "tokenizer.ggml.scores is missing"));
    EXPECT_THAT(
        load_gguf(gguf_with([&](Bytes& b) { kv_string(b, "tokenizer.ggml.model", "bert"); }, 1)),
        StatusIs(StatusCode::kUnsupported, "tokenizer.ggml.model 'bert'"));
    EXPECT_THAT(load_gguf(gguf_with(
                    [&](Bytes& b) {
                        kv_string(b, "tokenizer.ggml.model", "gpt2");
                        kv_strings(b, "tokenizer.ggml.tokens", {"a", "b", "ab"});
                        kv_strings(b, "tokenizer.ggml.merges", {"a  b"});
                    },
                    3)),
                StatusIs(StatusCode::kCorruptData, "merge 'a  b' is not two tokens"));
    // A huge declared array length is refused by the GGUF parser, not allocated.
    Bytes huge;
    huge.str("GGUF")
        .u32(3)
        .u64(0)
        .u64(1)
        .gguf_str("tokenizer.ggml.tokens")
        .u32(9)
        .u32(8)
        .u64(uint64_t{1} << 62);
    EXPECT_THAT(load_gguf(huge), StatusIs(StatusCode::kCorruptData, "v.gguf"));
}

}  // namespace
}  // namespace modelprint

// Unit tests of fingerprint/tokenizer: components against reference outputs (mini_cases.json and
// chat_golden.json from testdata/gen/make_tokenizer_golden.py), UTF-8/NFC helpers, GGUF
// vocabularies built byte by byte, vocabulary mapping, and every error path.
#include "fingerprint/tokenizer/tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fingerprint/model/gguf.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/unicode.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::Bytes;
using ::modelprint::testing::shared_dir;
using ::modelprint::testing::stories_dir;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_bytes;
using ::modelprint::testing::write_text;
using ::testing::ElementsAre;
using Json = nlohmann::json;

Json read_json(const std::string& name) {
    std::ifstream in(testdata_dir() / "tokenizer" / name);
    return Json::parse(in);
}

std::unique_ptr<Tokenizer> load_shared(const std::string& name) {
    auto path = name == "stories260K" ? stories_dir() : shared_dir() / "tokenizers" / name;
    auto t = Tokenizer::from_file(path.string());
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? std::move(t).value() : nullptr;
}

// A minimal valid tokenizer.json; `patch` edits it before serialisation.
std::string mini_json(const std::function<void(Json&)>& patch = nullptr) {
    Json j = read_json("mini_cases.json")[0]["tokenizer"];
    if (patch) patch(j);
    return j.dump();
}

// ---- UTF-8 and NFC

TEST(Unicode, SanitizeReplacesMaximalSubparts) {
    EXPECT_EQ(tok::sanitize_utf8("abc"), "abc");
    EXPECT_EQ(tok::sanitize_utf8("\xff"), "\xEF\xBF\xBD");
    // F0 9F 98 is one truncated sequence -> one U+FFFD; C0 80 is two bad bytes -> two.
    EXPECT_EQ(tok::sanitize_utf8("\xF0\x9F\x98x"), "\xEF\xBF\xBDx");
    EXPECT_EQ(tok::sanitize_utf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(tok::sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_FALSE(tok::is_valid_utf8("\xE4\xB8"));
    EXPECT_TRUE(tok::is_valid_utf8("\xE4\xB8\xAD"));
}

TEST(Unicode, NfcComposesReordersAndKeepsCompatibilityCharacters) {
    EXPECT_EQ(tok::nfc("e\xCC\x81"), "\xC3\xA9");                                 // e + acute -> é
    EXPECT_EQ(tok::nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo -> 각
    EXPECT_EQ(tok::nfc("\xE2\x84\xAB"), "\xC3\x85");      // Å (U+212B) -> Å
    EXPECT_EQ(tok::nfc("\xEF\xAC\x81"), "\xEF\xAC\x81");  // ﬁ unchanged
    // d + dot above (230) + dot below (220) -> ḍ + dot above (reordered, then composed).
    EXPECT_EQ(tok::nfc("d\xCC\x87\xCC\xA3"), "\xE1\xB8\x8D\xCC\x87");
    EXPECT_EQ(tok::nfc("plain ascii"), "plain ascii");
}

TEST(Unicode, ByteLevelAlphabetRoundTrips) {
    std::string mapped, raw;
    tok::byte_level_encode(" the\n\xff", mapped);
    EXPECT_EQ(mapped, "\xC4\xA0the\xC4\x8A\xC3\xBF");  // Ġthe Ċ ÿ
    ASSERT_TRUE(tok::byte_level_decode(mapped, raw));
    EXPECT_EQ(raw, " the\n\xff");
    EXPECT_FALSE(tok::byte_level_decode("\xE4\xB8\xAD", raw));  // 中 is not in the alphabet
}

// ---- components against the reference (mini_cases.json)

TEST(Components, MiniTokenizersMatchReference) {
    const Json cases = read_json("mini_cases.json");
    ASSERT_GE(cases.size(), 7u);
    for (const auto& c : cases) {
        auto t = Tokenizer::from_json(c["tokenizer"].dump(), "", c["name"].get<std::string>());
        MP_ASSERT_OK(t);
        for (const auto& row : c["cases"]) {
            const auto text = row["text"].get<std::string>();
            auto ids = (*t)->encode(text, true);
            MP_ASSERT_OK(ids);
            EXPECT_EQ(*ids, row["ids"].get<std::vector<int32_t>>()) << c["name"] << " " << text;
            auto d = (*t)->decode(*ids, true);
            auto all = (*t)->decode(*ids, false);
            MP_ASSERT_OK(d);
            EXPECT_EQ(*d, row["decoded"].get<std::string>()) << c["name"] << " " << text;
            EXPECT_EQ(*all, row["decoded_all"].get<std::string>()) << c["name"] << " " << text;
        }
    }
}

// ---- chat templates (chat_golden.json: transformers / jinja2 renderings)

TEST(Chat, FormatsMatchReferenceRenderings) {
    const Json cases = read_json("chat_golden.json");
    ASSERT_GE(cases.size(), 20u);
    std::map<std::string, std::unique_ptr<Tokenizer>> toks;
    for (const auto& c : cases) {
        const auto name = c["tokenizer"].get<std::string>();
        if (!toks.count(name)) toks[name] = load_shared(name);
        ASSERT_NE(toks[name], nullptr);
        std::string warning;
        auto tpl = ChatTemplate::select(*toks[name], c["format"].get<std::string>(), &warning);
        MP_ASSERT_OK(tpl);
        EXPECT_EQ(warning, "");
        std::vector<ChatMessage> msgs;
        for (const auto& m : c["messages"]) {
            msgs.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
        }
        auto text = tpl->apply(msgs, c["add_generation_prompt"].get<bool>());
        MP_ASSERT_OK(text);
        EXPECT_EQ(*text, c["text"].get<std::string>()) << name << " " << c["format"];
    }
}

TEST(Chat, DetectsFamiliesAndFallsBackWithWarning) {
    EXPECT_EQ(ChatTemplate::detect("{{'<|im_start|>' + m}}"), ChatFormat::kChatML);
    EXPECT_EQ(ChatTemplate::detect("<|start_header_id|>"), ChatFormat::kLlama3);
    EXPECT_EQ(ChatTemplate::detect("[INST] <<SYS>>"), ChatFormat::kLlama2);
    EXPECT_EQ(ChatTemplate::detect("[INST]"), ChatFormat::kMistral);
    EXPECT_EQ(ChatTemplate::detect("<\xEF\xBD\x9CUser\xEF\xBD\x9C>"), ChatFormat::kDeepSeek);
    EXPECT_EQ(ChatTemplate::detect("{{ messages }}"), std::nullopt);
    auto gpt2 = load_shared("gpt2");  // its config has no chat template
    std::string warning;
    auto tpl = ChatTemplate::select(*gpt2, "auto", &warning);
    MP_ASSERT_OK(tpl);
    EXPECT_EQ(tpl->format(), ChatFormat::kNone);
    EXPECT_THAT(warning, ::testing::HasSubstr("no chat template"));
    std::vector<ChatMessage> msgs = {{"user", "a"}, {"user", "b"}};
    EXPECT_EQ(*tpl->apply(msgs, true), "a\nb");
}

// A directory laid out as current transformers saves it (save_pretrained writes the template to
// chat_template.jinja and leaves it out of tokenizer_config.json): built from the qwen3 fixture
// by moving the template out; the rendering must equal transformers' (chat_golden.json).
TEST(Chat, TemplateFromChatTemplateJinjaAndJson) {
    const auto src = shared_dir() / "tokenizers" / "qwen3";
    Json cfg = Json::parse(std::ifstream(src / "tokenizer_config.json"));
    const std::string tpl_text = cfg.at("chat_template").get<std::string>();
    cfg.erase("chat_template");
    TempDir dir;
    std::filesystem::copy_file(src / "tokenizer.json", dir / "tokenizer.json");
    write_text(dir / "tokenizer_config.json", cfg.dump());
    {  // without the template file: no chat template, "auto" warns
        auto tok = Tokenizer::from_file(dir.path().string());
        MP_ASSERT_OK(tok);
        EXPECT_EQ((*tok)->chat_template_source(), "");
    }
    const Json cases = read_json("chat_golden.json");
    const Json* qwen = nullptr;
    for (const auto& c : cases) {
        if (c["tokenizer"] == "qwen3" && c["format"] == "auto") qwen = &c;
    }
    ASSERT_NE(qwen, nullptr) << "chat_golden.json has no qwen3 'auto' case";
    std::vector<ChatMessage> msgs;
    for (const auto& m : (*qwen)["messages"]) {
        msgs.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    auto render = [&](const std::string& what) {
        auto tok = Tokenizer::from_file(dir.path().string());
        MP_EXPECT_OK(tok);
        if (!tok.ok()) return std::string();
        EXPECT_EQ((*tok)->chat_template_source(), tpl_text) << what;
        std::string warning;
        auto tpl = ChatTemplate::select(**tok, "auto", &warning);
        MP_EXPECT_OK(tpl);
        EXPECT_EQ(warning, "") << what;
        EXPECT_EQ(tpl->format(), ChatFormat::kChatML) << what;
        auto text = tpl->apply(msgs, (*qwen)["add_generation_prompt"].get<bool>());
        MP_EXPECT_OK(text);
        return text.ok() ? *text : std::string();
    };
    write_text(dir / "chat_template.jinja", tpl_text);
    EXPECT_EQ(render("chat_template.jinja"), (*qwen)["text"].get<std::string>());
    std::filesystem::remove(dir / "chat_template.jinja");
    // chat_template.json: a string, and the list form with a "default" entry.
    write_text(dir / "chat_template.json", Json{{"chat_template", tpl_text}}.dump());
    EXPECT_EQ(render("chat_template.json"), (*qwen)["text"].get<std::string>());
    write_text(dir / "chat_template.json",
               Json{{"chat_template", Json::array({Json{{"name", "tool_use"}, {"template", "x"}},
                                                   Json{{"name", "default"},
                                                        {"template", tpl_text}}})}}
                   .dump());
    EXPECT_EQ(render("chat_template.json list"), (*qwen)["text"].get<std::string>());
    // chat_template.jinja wins over chat_template.json and tokenizer_config.json.
    write_text(dir / "chat_template.jinja", "{{ messages }}");
    {
        auto tok = Tokenizer::from_file(dir.path().string());
        MP_ASSERT_OK(tok);
        EXPECT_EQ((*tok)->chat_template_source(), "{{ messages }}");
    }
    std::filesystem::remove(dir / "chat_template.jinja");
    // Malformed chat_template.json: a clear error naming the file.
    for (const std::string bad : {"{", "[1]", "{\"chat_template\": 3}",
                                  "{\"chat_template\": []}",
                                  "{\"chat_template\": [{\"name\": \"default\"}]}"}) {
        write_text(dir / "chat_template.json", bad);
        EXPECT_THAT(Tokenizer::from_file(dir.path().string()),
                    StatusIs(StatusCode::kCorruptData, "chat_template.json"))
            << bad;
    }
}

TEST(Chat, Errors) {
    auto gpt2 = load_shared("gpt2");
    EXPECT_THAT(ChatTemplate::select(*gpt2, "vicuna", nullptr),
                StatusIs(StatusCode::kInvalidArgument, "unknown chat template 'vicuna'"));
    ChatTemplate llama2(ChatFormat::kLlama2, "<s>", "</s>");
    std::vector<ChatMessage> twice = {{"user", "a"}, {"user", "b"}};
    EXPECT_THAT(llama2.apply(twice, true),
                StatusIs(StatusCode::kInvalidArgument, "roles must alternate"));
    std::vector<ChatMessage> tool = {{"tool", "x"}};
    EXPECT_THAT(llama2.apply(tool, true),
                StatusIs(StatusCode::kInvalidArgument, "unsupported message role 'tool'"));
    ChatTemplate mistral(ChatFormat::kMistral, "<s>", "</s>");
    std::vector<ChatMessage> sys = {{"system", "s"}, {"user", "u"}};
    EXPECT_THAT(mistral.apply(sys, true),
                StatusIs(StatusCode::kInvalidArgument, "system message is not supported"));
}

// ---- lookups, token bytes, vocabulary mapping

TEST(Vocab, LookupsAndTokenBytes) {
    auto gpt2 = load_shared("gpt2");
    auto stories = load_shared("stories260K");
    auto qwen = load_shared("qwen3");
    EXPECT_EQ(gpt2->vocab_size(), 50257);
    EXPECT_EQ(qwen->vocab_size(), 151669);
    EXPECT_EQ(stories->vocab_size(), 512);
    const auto the = gpt2->token_to_id("\xC4\xA0the");
    ASSERT_TRUE(the.has_value());
    EXPECT_EQ(*the, 262);
    EXPECT_EQ(*gpt2->token_bytes(*the), " the");
    EXPECT_EQ(gpt2->id_to_token(50256), "<|endoftext|>");
    EXPECT_TRUE(gpt2->is_special(50256));
    EXPECT_EQ(gpt2->eos_id(), 50256);
    EXPECT_EQ(*stories->token_bytes(*stories->token_to_id("<0x0A>")), "\n");
    EXPECT_EQ(*stories->token_bytes(*stories->token_to_id("\xE2\x96\x81the")), " the");
    EXPECT_EQ(stories->bos_id(), 1);
    EXPECT_TRUE(stories->config_adds_bos());
    EXPECT_EQ(qwen->eos_id(), qwen->token_to_id("<|im_end|>"));
    EXPECT_FALSE(qwen->bos_id().has_value());
    EXPECT_EQ(gpt2->token_bytes(999999), std::nullopt);
    EXPECT_EQ(gpt2->id_to_token(-1), "");
    EXPECT_EQ(gpt2->token_to_id("no such token here"), std::nullopt);
    EXPECT_THAT(gpt2->describe(), ::testing::HasSubstr("byte-level BPE"));
}

TEST(Vocab, MappingMeetsOnBytes) {
    auto gpt2 = load_shared("gpt2");
    auto llama3 = load_shared("llama3");
    auto stories = load_shared("stories260K");
    // stories "▁the" and GPT-2 "Ġthe" both stand for " the".
    const auto m = map_vocabularies(*stories, *gpt2);
    EXPECT_EQ(m.vocab_a, 512);
    const int32_t s_the = *stories->token_to_id("\xE2\x96\x81the");
    bool found = false;
    for (const auto& [a, b] : m.pairs) {
        if (a == s_the) {
            found = true;
            EXPECT_EQ(b, *gpt2->token_to_id("\xC4\xA0the"));
        }
        EXPECT_EQ(*stories->token_bytes(a), *gpt2->token_bytes(b));
    }
    EXPECT_TRUE(found);
    // The control token <s> must not meet anything; GPT-2's 256 byte tokens and every piece are
    // shared with Llama-3, whose 128k vocabulary extends GPT-2-style byte-level BPE.
    for (const auto& [a, b] : m.pairs) EXPECT_NE(a, 1);
    const auto g = map_vocabularies(*gpt2, *llama3);
    EXPECT_GT(g.pairs.size(), 25000u);
    EXPECT_LT(g.pairs.size(), 50257u);
    for (size_t i = 1; i < g.pairs.size(); ++i) EXPECT_LT(g.pairs[i - 1].first, g.pairs[i].first);
}

TEST(Tokenizer, EncodeDecodeBasics) {
    auto qwen = load_shared("qwen3");
    auto ids = qwen->encode("Hello world", false);
    MP_ASSERT_OK(ids);
    EXPECT_THAT(*ids, ElementsAre(9707, 1879));
    EXPECT_THAT(*qwen->encode("", true), ElementsAre());
    auto stories = load_shared("stories260K");
    EXPECT_THAT(*stories->encode("Hello world", true),
                ElementsAre(1, 346, 306, 414, 263, 304, 341));
    const std::vector<int32_t> bad = {9707, 999999};
    EXPECT_THAT(qwen->decode(bad), StatusIs(StatusCode::kOutOfRange, "token id 999999"));
}

// ---- loading errors

TEST(Load, FileErrors) {
    TempDir dir;
    EXPECT_THAT(Tokenizer::from_file((dir / "missing.json").string()),
                StatusIs(StatusCode::kNotFound, "does not exist"));
    EXPECT_THAT(Tokenizer::from_file(dir.path().string()),
                StatusIs(StatusCode::kNotFound, "no tokenizer in directory"));
    write_text(dir / "tokenizer.json", "{\"model\": ");
    EXPECT_THAT(Tokenizer::from_file(dir.path().string()), StatusIs(StatusCode::kCorruptData, ""));
    write_text(dir / "tokenizer.json", "[1, 2]");
    EXPECT_THAT(Tokenizer::from_file(dir.path().string()),
                StatusIs(StatusCode::kCorruptData, "no \"model\" object"));
    write_text(dir / "tokenizer.json", mini_json());
    write_text(dir / "tokenizer_config.json", "{\"bos_token\": ");
    EXPECT_THAT(Tokenizer::from_file(dir.path().string()),
                StatusIs(StatusCode::kCorruptData, "tokenizer_config.json"));
    write_text(dir / "tokenizer_config.json",
               "{\"bos_token\": \"a\", \"chat_template\": "
               "[{\"name\": \"default\", \"template\": \"[INST]\"}]}");
    auto t = Tokenizer::from_file(dir.path().string());
    MP_ASSERT_OK(t);
    EXPECT_EQ((*t)->bos_id(), 2);
    EXPECT_EQ((*t)->chat_template_source(), "[INST]");
}

TEST(Load, UnsupportedComponentsAreRejected) {
    const auto expect_unsupported = [](const std::function<void(Json&)>& patch,
                                       const std::string& msg) {
        EXPECT_THAT(Tokenizer::from_json(mini_json(patch), "", "t.json"),
                    StatusIs(StatusCode::kUnsupported, msg));
    };
    expect_unsupported([](Json& j) { j["model"]["type"] = "WordPiece"; },
                       "unsupported tokenizer component: model 'WordPiece'");
    expect_unsupported(
        [](Json& j) {
            j["normalizer"] = {{"type", "Lowercase"}};
        },
        "unsupported tokenizer component: normalizer 'Lowercase'");
    expect_unsupported(
        [](Json& j) {
            j["pre_tokenizer"] = {{"type", "Whitespace"}};
        },
        "unsupported tokenizer component: pre-tokenizer 'Whitespace'");
    expect_unsupported(
        [](Json& j) {
            j["decoder"] = {{"type", "WordPiece"}};
        },
        "unsupported tokenizer component: decoder 'WordPiece'");
    expect_unsupported(
        [](Json& j) {
            j["post_processor"] = {{"type", "Custom"}};
        },
        "unsupported tokenizer component: post-processor 'Custom'");
    expect_unsupported([](Json& j) { j["model"]["dropout"] = 0.1; }, "BPE dropout");
    expect_unsupported([](Json& j) { j["model"]["continuing_subword_prefix"] = "##"; },
                       "continuing_subword_prefix");
    expect_unsupported(
        [](Json& j) {
            j["pre_tokenizer"] = {{"type", "Split"},
                                  {"pattern", {{"Regex", "(unclosed"}}},
                                  {"behavior", "Isolated"},
                                  {"invert", false}};
        },
        "does not compile");
    expect_unsupported(
        [](Json& j) {
            j["pre_tokenizer"] = {{"type", "Split"},
                                  {"pattern", {{"Regex", "a"}}},
                                  {"behavior", "Sideways"},
                                  {"invert", false}};
        },
        "Split behavior 'Sideways'");
    expect_unsupported(
        [](Json& j) {
            j["pre_tokenizer"] = {
                {"type", "Metaspace"}, {"replacement", "_"}, {"prepend_scheme", "sometimes"}};
        },
        "prepend_scheme 'sometimes'");
}

TEST(Load, CorruptModelsAreRejected) {
    const auto expect_corrupt = [](const std::function<void(Json&)>& patch,
                                   const std::string& msg) {
        EXPECT_THAT(Tokenizer::from_json(mini_json(patch), "", "t.json"),
                    StatusIs(StatusCode::kCorruptData, msg));
    };
    expect_corrupt([](Json& j) { j["model"]["merges"].push_back("q r"); },
                   "uses a token that is not in the vocab");
    expect_corrupt([](Json& j) { j["model"]["merges"].push_back("b c"); },
                   "'bc' is not in the vocab");
    expect_corrupt([](Json& j) { j["model"]["merges"].push_back("abc"); },
                   "not two tokens separated by one space");
    expect_corrupt([](Json& j) { j["model"]["merges"].push_back(7); }, "neither");
    expect_corrupt([](Json& j) { j["model"]["unk_token"] = "<nope>"; },
                   "unk_token '<nope>' is not in the vocab");
    expect_corrupt([](Json& j) { j["model"]["vocab"]["dup"] = 2; }, "vocab id 2 is used by both");
    expect_corrupt([](Json& j) { j["model"]["vocab"]["neg"] = -5; }, "model.vocab['neg'] is -5, outside the token ids");
    expect_corrupt([](Json& j) { j["model"]["vocab"] = Json::array(); }, "not an object");
    expect_corrupt([](Json& j) { j["added_tokens"][0]["content"] = ""; }, "added token");
    expect_corrupt([](Json& j) { j["model"]["vocab"]["a"] = "two"; }, "model.vocab['a'] must be an integer token id, got string");
    expect_corrupt(
        [](Json& j) {
            j["post_processor"] = {
                {"type", "RobertaProcessing"}, {"cls", {"<cls>", 1}}, {"sep", {"a", 2}}};
        },
        "post-processor token '<cls>'");
}

TEST(Load, TemplateAndRobertaPostProcessors) {
    auto t = Tokenizer::from_json(mini_json([](Json& j) {
                                      j["post_processor"] = {{"type", "RobertaProcessing"},
                                                             {"cls", {"x", 12}},
                                                             {"sep", {"c", 4}}};
                                  }),
                                  "", "t.json");
    MP_ASSERT_OK(t);
    // The mini tokenizer's Metaspace prepends "▁": "ab" -> "▁ab" (id 11).
    EXPECT_THAT(*(*t)->encode("ab", true), ElementsAre(12, 11, 4));
    EXPECT_THAT(*(*t)->encode("ab", false), ElementsAre(11));
}

// ---- GGUF vocabularies built byte by byte

// A GGUF v3 file with no tensors and the given metadata writer.
struct GgufBuilder {
    Bytes b;
    uint64_t kv = 0;
    Bytes body;
    GgufBuilder& str(const std::string& key, const std::string& v) {
        body.gguf_str(key).u32(8).gguf_str(v);
        ++kv;
        return *this;
    }
    GgufBuilder& u32(const std::string& key, uint32_t v) {
        body.gguf_str(key).u32(4).u32(v);
        ++kv;
        return *this;
    }
    GgufBuilder& strs(const std::string& key, const std::vector<std::string>& v) {
        body.gguf_str(key).u32(9).u32(8).u64(v.size());
        for (const auto& s : v) body.gguf_str(s);
        ++kv;
        return *this;
    }
    GgufBuilder& i32s(const std::string& key, const std::vector<int32_t>& v) {
        body.gguf_str(key).u32(9).u32(5).u64(v.size());
        for (int32_t x : v) body.i32(x);
        ++kv;
        return *this;
    }
    GgufBuilder& f32s(const std::string& key, const std::vector<float>& v) {
        body.gguf_str(key).u32(9).u32(6).u64(v.size());
        for (float x : v) body.f32(x);
        ++kv;
        return *this;
    }
    Result<GgufFile> parse() {
        Bytes f;
        f.str("GGUF").u32(3).u64(0).u64(kv);
        f.str(std::string(body.data().begin(), body.data().end()));
        bytes = f.data();
        return parse_gguf(bytes, "tiny.gguf");
    }
    std::vector<uint8_t> bytes;
};

// Byte-level vocabulary: the 256 byte symbols, "Ġt", "he", "Ġthe" and an end token.
GgufBuilder gpt2_gguf() {
    GgufBuilder g;
    std::vector<std::string> tokens;
    std::string s;
    for (int b = 0; b < 256; ++b) {
        tok::byte_level_encode(std::string(1, static_cast<char>(b)), s);
        tokens.push_back(s);
    }
    tokens.insert(tokens.end(), {"\xC4\xA0t", "he", "\xC4\xA0the", "<|end|>"});
    std::vector<int32_t> types(tokens.size(), 1);
    types.back() = 3;
    g.str("tokenizer.ggml.model", "gpt2")
        .strs("tokenizer.ggml.tokens", tokens)
        .i32s("tokenizer.ggml.token_type", types)
        .strs("tokenizer.ggml.merges", {"\xC4\xA0 t", "h e", "\xC4\xA0t he"})
        .u32("tokenizer.ggml.eos_token_id", 259);
    return g;
}

TEST(Gguf, ByteLevelVocabulary) {
    auto g = gpt2_gguf();
    auto file = g.parse();
    MP_ASSERT_OK(file);
    auto t = Tokenizer::from_gguf(*file);
    MP_ASSERT_OK(t);
    // " the<|end|>x": Ġthe, the special token, then x as its byte symbol.
    EXPECT_THAT(*(*t)->encode(" the<|end|>x", true), ElementsAre(258, 259, 'x'));
    EXPECT_EQ(*(*t)->decode(std::vector<int32_t>{258, 259, 'x'}, true), " thex");
    EXPECT_EQ((*t)->eos_id(), 259);
    EXPECT_FALSE((*t)->bos_id().has_value());
    EXPECT_EQ(*(*t)->token_bytes(258), " the");
}

TEST(Gguf, Errors) {
    {
        GgufBuilder g;
        g.str("general.architecture", "llama");
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kNotFound, "tokenizer.ggml.model"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "bert").strs("tokenizer.ggml.tokens", {"a"});
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kUnsupported, "tokenizer.ggml.model 'bert'"));
    }
    {
        auto g = gpt2_gguf();
        g.str("tokenizer.ggml.pre", "exotic-pre");
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kUnsupported, "tokenizer.ggml.pre 'exotic-pre'"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"a", "b"});
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kNotFound, "tokenizer.ggml.scores is missing"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "llama")
            .strs("tokenizer.ggml.tokens", {"a", "b"})
            .f32s("tokenizer.ggml.scores", {0.0f})
            .i32s("tokenizer.ggml.token_type", {1, 1});
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kCorruptData, "tokenizer.ggml.scores has 1 entries"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {});
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f), StatusIs(StatusCode::kCorruptData, "has 0 entries"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.tokens", "not an array");
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f), StatusIs(StatusCode::kCorruptData, "not an array"));
    }
    {
        GgufBuilder g;
        g.str("tokenizer.ggml.model", "gpt2")
            .strs("tokenizer.ggml.tokens", {"a", "b"})
            .strs("tokenizer.ggml.merges", {"a b c"});
        auto f = g.parse();
        MP_ASSERT_OK(f);
        EXPECT_THAT(Tokenizer::from_gguf(*f),
                    StatusIs(StatusCode::kCorruptData, "not two tokens separated by one space"));
    }
}

TEST(Gguf, FromFileFindsTheGgufInADirectory) {
    TempDir dir;
    auto g = gpt2_gguf();
    MP_ASSERT_OK(g.parse());
    write_bytes(dir / "tiny.gguf", g.bytes);
    auto t = Tokenizer::from_file(dir.path().string());
    MP_ASSERT_OK(t);
    EXPECT_THAT(*(*t)->encode(" the", false), ElementsAre(258));
}

}  // namespace
}  // namespace modelprint

namespace modelprint {
namespace {

// Default system turns of ChatML templates (SmolLM2 writes a literal newline, Qwen2.5 the Jinja
// escape); Qwen3's system block is built from the messages, so it has none.
TEST(ChatTemplateDefaultSystem, ExtractsOnlyPlainLiterals) {
    EXPECT_EQ(ChatTemplate::default_system_prompt(
                  "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
                  "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"),
              "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
    EXPECT_EQ(ChatTemplate::default_system_prompt(
                  "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
                  "helpful assistant.<|im_end|>\\n' }}"),
              "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
    EXPECT_EQ(ChatTemplate::default_system_prompt(
                  "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"),
              "");
    ChatTemplate t(ChatFormat::kChatML, "", "", "SYS");
    std::vector<ChatMessage> user = {{"user", "hi"}};
    auto a = t.apply(user, true);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    std::vector<ChatMessage> with_sys = {{"system", "S2"}, {"user", "hi"}};
    auto b = t.apply(with_sys, false);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, "<|im_start|>system\nS2<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n");
}

}  // namespace
}  // namespace modelprint

// Probe sets and transcripts: the built-in set (embedding == data file, digest stability,
// categories), parsing rules and every error path, transcript parsing and alignment, identity
// claim extraction.
#include <gtest/gtest.h>

#include <set>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/output_print.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/transcript.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::source_dir;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::write_text;

TEST(ProbeSet, EmbeddedDefaultEqualsDataFile) {
    auto text = read_file((source_dir() / "fingerprint/probes/default_v1.jsonl").string());
    MP_ASSERT_OK(text);
    EXPECT_EQ(*text, default_probe_set_text())
        << "default_v1.inc is stale: run sh fingerprint/probes/make_inc.sh";
}

TEST(ProbeSet, DefaultSetCoversEveryCategory) {
    auto s = load_probe_set("default");
    MP_ASSERT_OK(s);
    EXPECT_EQ(s->name, "modelprint-default");
    EXPECT_EQ(s->version, 1);
    EXPECT_EQ(s->digest.size(), 64u);
    for (const char* c : {"identity", "factual", "open", "code", "arithmetic", "reasoning",
                          "refusal", "rare"}) {
        EXPECT_FALSE(s->indices_of(c).empty()) << c;
    }
    // Identity probes in both languages.
    int zh = 0, en = 0;
    for (size_t i : s->indices_of("identity")) {
        zh += s->probes[i].lang == "zh";
        en += s->probes[i].lang == "en";
    }
    EXPECT_GE(zh, 3);
    EXPECT_GE(en, 3);
    EXPECT_EQ(s->find("identity-zh-01"), static_cast<int64_t>(s->indices_of("identity")[en]));
    EXPECT_EQ(s->find("no-such-id"), -1);
    auto again = load_probe_set("default_v1");
    MP_ASSERT_OK(again);
    EXPECT_EQ(again->digest, s->digest);
}

TEST(ProbeSet, DigestIgnoresFormattingButNotContent) {
    auto a = parse_probe_set("{\"prompt\": \"hi\", \"id\": \"x\"}\n", "a");
    auto b = parse_probe_set("  {\"id\":\"x\",\"prompt\":\"hi\"}\r\n\n", "b");
    auto c = parse_probe_set("{\"id\":\"x\",\"prompt\":\"hi!\"}", "c");
    auto d = parse_probe_set("{\"id\":\"x\",\"prompt\":\"hi\",\"max_new_tokens\":33}", "d");
    MP_ASSERT_OK(a);
    MP_ASSERT_OK(b);
    MP_ASSERT_OK(c);
    MP_ASSERT_OK(d);
    EXPECT_EQ(a->digest, b->digest);
    EXPECT_NE(a->digest, c->digest);
    EXPECT_NE(a->digest, d->digest);
    EXPECT_EQ(probe_set_digest(*a), a->digest);
}

TEST(ProbeSet, DefaultsAndTranscriptLinesAreProbes) {
    auto s = parse_probe_set("{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"response\": \"c\"}\n", "t");
    MP_ASSERT_OK(s);
    ASSERT_EQ(s->probes.size(), 2u);
    EXPECT_EQ(s->probes[0].id, "p1");
    EXPECT_EQ(s->probes[1].id, "p2");
    EXPECT_EQ(s->probes[0].category, "other");
    EXPECT_EQ(s->probes[0].max_new_tokens, 32);
    EXPECT_TRUE(s->name.empty());
}

TEST(ProbeSet, ErrorPaths) {
    using testing::TempDir;
    EXPECT_THAT(parse_probe_set("", "e"), StatusIs(StatusCode::kInvalidArgument, "no probes"));
    EXPECT_THAT(parse_probe_set("{\"probe_set\": \"x\"}\n", "e"),
                StatusIs(StatusCode::kInvalidArgument, "no probes"));
    EXPECT_THAT(parse_probe_set("[1]", "e"), StatusIs(StatusCode::kCorruptData, "expected a JSON object"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": 3}", "e"),
                StatusIs(StatusCode::kCorruptData, "needs a string \"prompt\""));
    EXPECT_THAT(parse_probe_set("{\"id\": \"a\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "needs a string \"prompt\""));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\"", "e"), StatusIs(StatusCode::kCorruptData, "e line 1"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"id\": \"x\"}\n{\"prompt\": \"b\", \"id\": \"x\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "line 2: duplicate probe id \"x\""));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"category\": \"poetry\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "unknown category \"poetry\""));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"max_new_tokens\": 0}", "e"),
                StatusIs(StatusCode::kCorruptData, "1..4096"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"max_new_tokens\": 4097}", "e"),
                StatusIs(StatusCode::kCorruptData, "1..4096"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"max_new_tokens\": \"8\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "max_new_tokens"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"lang\": 5}", "e"),
                StatusIs(StatusCode::kCorruptData, "\"lang\" must be a string"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\"}\n{\"probe_set\": \"late\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "header must be the first line"));
    EXPECT_THAT(parse_probe_set("{\"probe_set\": 1}\n{\"prompt\": \"a\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "\"probe_set\" must be a string"));
    EXPECT_THAT(parse_probe_set("{\"probe_set\": \"x\", \"version\": -1}\n{\"prompt\": \"a\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "\"version\" must be an integer"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"prompt\": \"b\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "duplicate"));
    EXPECT_THAT(load_probe_set("/nonexistent/probes.jsonl"), StatusIs(StatusCode::kNotFound, "probes.jsonl"));
}

TEST(ProbeSetV2, EmbeddedEqualsDataFileAndHasEveryDomain) {
    auto text = read_file((source_dir() / "fingerprint/probes/default_v2.jsonl").string());
    MP_ASSERT_OK(text);
    EXPECT_EQ(*text, default_v2_probe_set_text())
        << "default_v2.inc is stale: run sh fingerprint/probes/make_inc.sh";
    auto s = load_probe_set("default-v2");
    MP_ASSERT_OK(s);
    EXPECT_EQ(s->name, "modelprint-default-v2");
    EXPECT_EQ(s->version, 2);
    EXPECT_GE(s->probes.size(), 500u);
    EXPECT_EQ(s->subsets(), (std::vector<std::string>{"code", "narrative", "factual", "chat",
                                                      "multilingual", "arithmetic", "identity"}));
    std::set<std::string> langs;
    size_t zh = 0;
    for (const Probe& p : s->probes) {
        langs.insert(p.lang);
        zh += p.lang == "zh";
    }
    EXPECT_GE(langs.size(), 10u);  // English, Chinese and at least eight other languages
    EXPECT_GE(zh, 40u);
    // Identity probes are of category identity (their answers are searched for claims).
    auto id = load_probe_set("default-v2:identity");
    MP_ASSERT_OK(id);
    EXPECT_GE(id->probes.size(), 40u);
    for (const Probe& p : id->probes) EXPECT_EQ(p.category, "identity") << p.id;
    auto alias = load_probe_set("default_v2");
    MP_ASSERT_OK(alias);
    EXPECT_EQ(alias->digest, s->digest);
    auto v1 = load_probe_set("default");
    MP_ASSERT_OK(v1);
    EXPECT_NE(v1->digest, s->digest);
}

TEST(ProbeSetV2, SubsetSelection) {
    auto all = load_probe_set("default-v2");
    MP_ASSERT_OK(all);
    auto code = load_probe_set("default-v2:code");
    MP_ASSERT_OK(code);
    EXPECT_EQ(code->name, "modelprint-default-v2:code");
    ASSERT_FALSE(code->probes.empty());
    for (const Probe& p : code->probes) EXPECT_EQ(p.subset_name(), "code");
    EXPECT_NE(code->digest, all->digest);
    EXPECT_EQ(code->digest, probe_set_digest(*code));
    auto cc = load_probe_set("default-v2:chat,code");
    auto cc2 = load_probe_set("default-v2:code,chat,code");
    MP_ASSERT_OK(cc);
    MP_ASSERT_OK(cc2);
    EXPECT_EQ(cc->name, "modelprint-default-v2:code,chat");  // subsets in file order
    EXPECT_EQ(cc->digest, cc2->digest);
    auto chat = load_probe_set("default-v2:chat");
    MP_ASSERT_OK(chat);
    EXPECT_EQ(cc->probes.size(), code->probes.size() + chat->probes.size());
    // File order is kept: code probes come before chat probes in the file.
    EXPECT_EQ(cc->probes.front().subset_name(), "code");
    EXPECT_EQ(cc->probes.back().subset_name(), "chat");
    // Every probe is in exactly one subset: the subsets partition the set.
    size_t total = 0;
    for (const std::string& sub : all->subsets()) {
        auto one = select_probe_subsets(*all, sub);
        MP_ASSERT_OK(one);
        total += one->probes.size();
    }
    EXPECT_EQ(total, all->probes.size());
    // v1 has no explicit subsets: its categories are its subsets, and its digest is unchanged
    // by the subset field (a probe without "subset" hashes as before).
    auto v1id = load_probe_set("default:identity");
    MP_ASSERT_OK(v1id);
    EXPECT_EQ(v1id->probes.size(), load_probe_set("default")->indices_of("identity").size());
    auto plain = parse_probe_set("{\"id\":\"x\",\"prompt\":\"hi\"}", "a");
    auto with = parse_probe_set("{\"id\":\"x\",\"prompt\":\"hi\",\"subset\":\"other\"}", "b");
    MP_ASSERT_OK(plain);
    MP_ASSERT_OK(with);
    EXPECT_NE(plain->digest, with->digest);
    EXPECT_EQ(plain->probes[0].subset_name(), with->probes[0].subset_name());
}

TEST(ProbeSetV2, SubsetErrors) {
    EXPECT_THAT(load_probe_set("default-v2:poetry"),
                StatusIs(StatusCode::kInvalidArgument, "no subset \"poetry\" (subsets: code, "));
    EXPECT_THAT(load_probe_set("default-v2:"),
                StatusIs(StatusCode::kInvalidArgument, "empty subset name"));
    EXPECT_THAT(load_probe_set("default-v2:code,,chat"),
                StatusIs(StatusCode::kInvalidArgument, "empty subset name"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"subset\": \"a b\"}", "e"),
                StatusIs(StatusCode::kCorruptData, "subset \"a b\" must be"));
    EXPECT_THAT(parse_probe_set("{\"prompt\": \"a\", \"subset\": 3}", "e"),
                StatusIs(StatusCode::kCorruptData, "\"subset\" must be a string"));
}

TEST(Transcript, ParsesAlignsAndRoundTrips) {
    TempDir dir;
    const auto path = dir / "api.jsonl";
    write_text(path,
               "{\"prompt\": \"Which model are you?\", \"response\": \"I am ChatGPT, made by OpenAI.\"}\n"
               "{\"id\": \"identity-zh-01\", \"prompt\": \"changed prompt\", \"response\": \"我是通义千问。\"}\n"
               "{\"prompt\": \"The capital of France is\", \"response\": \" Paris.\"}\n");
    auto t = load_transcript(path.string());
    MP_ASSERT_OK(t);
    EXPECT_EQ(t->entries.size(), 3u);
    EXPECT_EQ(t->digest.size(), 64u);
    auto again = parse_transcript(transcript_to_jsonl(*t), "again");
    MP_ASSERT_OK(again);
    EXPECT_EQ(again->digest, t->digest);
    EXPECT_TRUE(is_transcript_path(path.string()));
    EXPECT_FALSE(is_transcript_path("model.safetensors"));

    auto probes = load_probe_set("default");
    MP_ASSERT_OK(probes);
    auto op = output_print_from_transcript(*probes, *t);
    MP_ASSERT_OK(op);
    EXPECT_EQ(op->answered(), 3u);
    const auto i_en = static_cast<size_t>(probes->find("identity-en-01"));
    const auto i_zh = static_cast<size_t>(probes->find("identity-zh-01"));
    const auto i_fact = static_cast<size_t>(probes->find("factual-01"));
    EXPECT_EQ(op->responses[i_zh], "我是通义千问。");  // by id, despite the changed prompt
    EXPECT_EQ(op->responses[i_fact], " Paris.");     // by prompt
    EXPECT_TRUE(op->present[i_en]);
    EXPECT_FALSE(op->present[static_cast<size_t>(probes->find("code-01"))]);
    EXPECT_EQ(claimed_entities(*op), (std::vector<std::string>{"openai-gpt", "qwen"}));

    auto miss = parse_transcript("{\"prompt\": \"unrelated\", \"response\": \"x\"}", "m");
    MP_ASSERT_OK(miss);
    EXPECT_THAT(output_print_from_transcript(*probes, *miss),
                StatusIs(StatusCode::kInvalidArgument, "none of its 1 entries answers a probe"));
}

TEST(Transcript, ErrorPaths) {
    EXPECT_THAT(parse_transcript("\n\n", "t"), StatusIs(StatusCode::kInvalidArgument, "no entries"));
    EXPECT_THAT(parse_transcript("\"x\"", "t"), StatusIs(StatusCode::kCorruptData, "expected a JSON object"));
    EXPECT_THAT(parse_transcript("{\"prompt\": \"a\"}", "t"),
                StatusIs(StatusCode::kCorruptData, "needs a string \"response\""));
    EXPECT_THAT(parse_transcript("{\"response\": \"a\"}", "t"),
                StatusIs(StatusCode::kCorruptData, "needs a string \"prompt\""));
    EXPECT_THAT(parse_transcript("{\"prompt\": \"a\", \"response\": \"b\", \"id\": 1}", "t"),
                StatusIs(StatusCode::kCorruptData, "\"id\" must be a string"));
    EXPECT_THAT(parse_transcript("{\"prompt\": \"a\", \"response\": \"b\", \"id\": \"i\"}\n"
                                 "{\"prompt\": \"c\", \"response\": \"d\", \"id\": \"i\"}", "t"),
                StatusIs(StatusCode::kCorruptData, "line 2: duplicate id \"i\""));
    EXPECT_THAT(parse_transcript("{bad json", "t"), StatusIs(StatusCode::kCorruptData, "t line 1"));
    EXPECT_THAT(load_transcript("/nonexistent/t.jsonl"), StatusIs(StatusCode::kNotFound, "t.jsonl"));
}

TEST(IdentityClaims, EnglishChineseWordBoundaries) {
    auto c = find_identity_claims("I am Qwen, a large language model created by Alibaba Cloud.", 3);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].entity, "qwen");
    EXPECT_EQ(c[0].probe, 3u);
    c = find_identity_claims("我是DeepSeek，由深度求索公司开发。我不是 ChatGPT。", 0);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].entity, "deepseek");
    EXPECT_EQ(c[1].entity, "openai-gpt");
    // Case-insensitive, but only on word boundaries: "llamas" and "claudette" are not claims.
    EXPECT_EQ(find_identity_claims("i am LLAMA", 0).size(), 1u);
    EXPECT_TRUE(find_identity_claims("Two llamas met Claudette in the field.", 0).empty());
    EXPECT_TRUE(find_identity_claims("", 0).empty());
}

}  // namespace
}  // namespace modelprint

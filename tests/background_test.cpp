// Behaviour backgrounds that a user can trust (issue 15 items 6 and 7): transcripts with several
// answers per prompt and every malformed line named (byte-built), a transcript's own prompts
// as the probe set, the truncation rule at the context window (never an error), and background
// members that fail one at a time — no tokenizer, a context that cannot hold the prompts, an
// unreadable path, a vocabulary the tokenizer overflows (found while scoring) — dropped with
// their reasons while the verdict still comes from the others. The store as the default
// background is tested end to end in tests/cli/store_background.sh (resolve_background is CLI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/model.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"
#include "forensics/behavior_paths.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_text;

std::string lineage(const std::string& m) { return (testdata_dir() / "lineage" / m).string(); }
std::string behav(const std::string& m) {
    return (testdata_dir() / "behavior" / "models" / m).string();
}
std::string base_transcript() {
    return (testdata_dir() / "behavior" / "base_transcript.jsonl").string();
}

// The background of tests/cli/behavior.sh (six models independent of base and its students).
std::vector<std::string> six_background() {
    return {lineage("indep_seed"), lineage("indep_width"), lineage("indep_arch"),
            behav("control_seq"),  behav("control_seq2"),  behav("control_bytes")};
}

// Relation and statistic names whether BehaviorEvidence holds strings or the evidence
// pipeline's enums (relation_name / statistic_name, found by argument-dependent lookup).
template <typename T>
std::string rel_name(const T& v) {
    if constexpr (std::is_convertible_v<T, std::string>) {
        return std::string(v);
    } else {
        return std::string(relation_name(v));
    }
}
template <typename T>
std::string stat_name(const T& v) {
    if constexpr (std::is_convertible_v<T, std::string>) {
        return std::string(v);
    } else {
        return std::string(statistic_name(v));
    }
}

// A copy of a model directory with config.json edited (and files left out).
std::string copy_model(const std::string& from, const fs::path& to,
                       const std::function<void(nlohmann::json&)>& edit,
                       const std::vector<std::string>& leave_out = {}) {
    fs::create_directories(to);
    for (const auto& f : fs::directory_iterator(from)) {
        const std::string name = f.path().filename().string();
        if (std::find(leave_out.begin(), leave_out.end(), name) != leave_out.end()) continue;
        fs::copy_file(f.path(), to / name);
    }
    if (edit) {
        std::ifstream in(to / "config.json");
        nlohmann::json c = nlohmann::json::parse(in);
        in.close();
        edit(c);
        write_text(to / "config.json", c.dump(2));
    }
    return to.string();
}

// ------------------------------------------------------------------ transcripts

TEST(Transcript, SeveralResponsesPerPromptOnOneLine) {
    auto t = parse_transcript(
        "{\"prompt\": \"Hi\", \"responses\": [\"first\", \"second\", \"third\"]}\n"
        "{\"prompt\": \"Bye\", \"response\": \"only\", \"id\": \"b\"}\n",
        "t.jsonl");
    MP_ASSERT_OK(t);
    ASSERT_EQ(t->entries.size(), 2u);
    EXPECT_EQ(t->entries[0].response, "first");  // the scored answer
    EXPECT_EQ(t->entries[0].alternatives, (std::vector<std::string>{"second", "third"}));
    EXPECT_EQ(t->entries[0].line, 1u);
    EXPECT_EQ(t->entries[1].line, 2u);
    EXPECT_TRUE(t->entries[1].alternatives.empty());
    auto again = parse_transcript(transcript_to_jsonl(*t), "again");
    MP_ASSERT_OK(again);
    EXPECT_EQ(again->digest, t->digest);
    EXPECT_EQ(again->entries[0].alternatives.size(), 2u);
    // A single-answer transcript keeps its canonical form (and digest) of before.
    EXPECT_NE(transcript_to_jsonl(*t).find("\"response\":\"only\""), std::string::npos);
}

TEST(Transcript, EveryMalformedLineIsNamed) {
    const std::string ok = "{\"prompt\": \"a\", \"response\": \"x\"}\n";
    struct Case {
        std::string text;
        StatusCode code;
        std::string want;
    };
    const std::vector<Case> cases = {
        {ok + "{\"prompt\": \"b\", \"response\": \"y\"\n", StatusCode::kCorruptData, "line 2"},
        {ok + "\n" + std::string("{\"prompt\": \"a\", \"response\": \"z\"}\n"),
         StatusCode::kCorruptData, "line 3: duplicate prompt (first on line 1)"},
        {"{\"prompt\": \"a\", \"response\": \"x\", \"responses\": [\"y\"]}",
         StatusCode::kCorruptData, "line 1: give \"response\" or \"responses\", not both"},
        {"{\"prompt\": \"a\", \"responses\": []}", StatusCode::kCorruptData,
         "line 1: \"responses\" must be a non-empty array"},
        {ok + "{\"prompt\": \"b\", \"responses\": [\"y\", 7]}", StatusCode::kCorruptData,
         "line 2: \"responses\"[1] must be a string"},
        {"{\"prompt\": \"a\", \"response\": 3}", StatusCode::kCorruptData,
         "line 1: \"response\" must be a string"},
        {"{\"prompt\": \"a\"}", StatusCode::kCorruptData, "line 1: a transcript line needs"},
        {"{\"response\": \"a\"}", StatusCode::kCorruptData,
         "line 1: a transcript line needs a "
         "string \"prompt\""},
        {"[1, 2]", StatusCode::kCorruptData, "line 1: expected a JSON object"},
        {ok + "{\"prompt\": \"b\", \"response\": \"y\", \"id\": 4}", StatusCode::kCorruptData,
         "line 2: \"id\" must be a string"},
        {"", StatusCode::kInvalidArgument, "no usable lines"},
        {"\n  \n\t\n", StatusCode::kInvalidArgument, "no usable lines"},
        {std::string("\xff\xfe{\"prompt\"", 11), StatusCode::kCorruptData, "line 1"},
    };
    for (const auto& c : cases) {
        EXPECT_THAT(parse_transcript(c.text, "t.jsonl"), StatusIs(c.code, c.want)) << c.text;
    }
}

TEST(ComparisonProbes, TranscriptBringsItsOwnPrompts) {
    TempDir tmp;
    // Within the default set: the default set stays.
    auto within = comparison_probes(base_transcript(), lineage("base"), "default");
    MP_ASSERT_OK(within);
    EXPECT_FALSE(within->from_transcript);
    EXPECT_EQ(within->set.probes.size(), 50u);
    // 15 prompts of the auditor's own, on either side.
    std::string text;
    for (int i = 0; i < 15; ++i) {
        text += nlohmann::json{{"prompt", "Tell me story number " + std::to_string(i)},
                               {"response", " Once upon a time"}}
                    .dump() +
                "\n";
    }
    const fs::path t15 = tmp / "own.jsonl";
    write_text(t15, text);
    for (const auto& [a, b] :
         {std::pair{t15.string(), lineage("base")}, std::pair{lineage("base"), t15.string()}}) {
        auto own = comparison_probes(a, b, "default");
        MP_ASSERT_OK(own);
        EXPECT_TRUE(own->from_transcript);
        EXPECT_EQ(own->set.probes.size(), 15u);
        EXPECT_NE(own->origin.find("own.jsonl"), std::string::npos);
        // The same digest as `--probes own.jsonl` (so stored prints of that set are reused).
        auto as_set = load_probe_set(t15.string());
        MP_ASSERT_OK(as_set);
        EXPECT_EQ(own->set.digest, as_set->digest);
    }
    // A malformed transcript is an error naming its line.
    write_text(tmp / "bad.jsonl", text + "{\"prompt\": \"x\", \"response\": 1}\n");
    EXPECT_THAT(comparison_probes((tmp / "bad.jsonl").string(), lineage("base"), "default"),
                StatusIs(StatusCode::kCorruptData, "line 16"));
}

// ------------------------------------------------------------------ truncation

TEST(Truncation, SequencesLongerThanTheContextAreCutNeverAnError) {
    TempDir tmp;
    auto probes = load_probe_set("default");
    MP_ASSERT_OK(probes);
    // A 12-token window: shorter than many default prompts.
    const std::string small = copy_model(lineage("base"), tmp / "ctx12", [](nlohmann::json& c) {
        c["max_position_embeddings"] = 12;
    });
    auto model = Model::open(small);
    MP_ASSERT_OK(model);
    auto tok = load_model_tokenizer(**model);
    MP_ASSERT_OK(tok);
    auto backend = make_backend(**model, DeviceKind::kCpu);
    MP_ASSERT_OK(backend);
    ASSERT_EQ((*backend)->context_window(), 12);
    auto print = compute_behavior_print(**model, **backend, **tok, *probes);
    MP_ASSERT_OK(print);
    size_t unanswered = 0;
    for (size_t i = 0; i < probes->probes.size(); ++i) {
        if (!print->outputs.present[i]) {
            ++unanswered;
            EXPECT_TRUE(print->outputs.responses[i].empty());
        }
        EXPECT_LE(print->logits.probes[i].length(), 12);
    }
    EXPECT_GT(unanswered, 0u);
    EXPECT_LT(unanswered, probes->probes.size());
    // Scoring a long answer: scored on the tokens inside the window only.
    auto runner = ProbeRunner::create(**backend, **tok, (*model)->config().vocab_size);
    MP_ASSERT_OK(runner);
    std::vector<std::string> responses(probes->probes.size(),
                                       std::string(2000, 'a') + " long story");
    std::vector<bool> present(probes->probes.size(), true);
    auto scores = (*runner)->score(*probes, responses, present, 256, 8);
    MP_ASSERT_OK(scores);
    for (size_t i = 0; i < scores->size(); ++i) {
        auto ids = (*runner)->prompt_ids(probes->probes[i].prompt);
        MP_ASSERT_OK(ids);
        const int64_t room = 12 - static_cast<int64_t>(ids->size());
        EXPECT_LE((*scores)[i].tokens, std::max<int64_t>(room, 0)) << probes->probes[i].id;
        if (room > 1) {
            EXPECT_GT((*scores)[i].tokens, 0) << probes->probes[i].id;
        }
    }
    // The 256-token models of the families: a 2000-byte answer is cut at the window too.
    auto full = Model::open(lineage("base"));
    MP_ASSERT_OK(full);
    auto ftok = load_model_tokenizer(**full);
    MP_ASSERT_OK(ftok);
    auto fb = make_backend(**full, DeviceKind::kCpu);
    MP_ASSERT_OK(fb);
    auto fr = ProbeRunner::create(**fb, **ftok, (*full)->config().vocab_size);
    MP_ASSERT_OK(fr);
    auto fs_ = (*fr)->score(*probes, responses, present, 256, 8);
    MP_ASSERT_OK(fs_);
    for (size_t i = 0; i < fs_->size(); ++i) {
        auto seq =
            (*fr)->response_sequence(probes->probes[i].id, probes->probes[i].prompt, responses[i]);
        MP_ASSERT_OK(seq);
        ASSERT_TRUE(seq->has_value());
        EXPECT_EQ((*seq)->ids.size(), 256u);  // the window, not the 256 response tokens
        EXPECT_EQ((*fs_)[i].tokens, static_cast<int64_t>(256 - (*seq)->first));
    }
}

// ------------------------------------------------------------------ members fail one at a time

TEST(Background, DroppedMembersLeaveTheVerdictToTheOthers) {
    TempDir tmp;
    BehaviorRunOptions o;
    o.device = DeviceKind::kCpu;
    // Fixtures: no tokenizer; a context window (12) that cannot hold the default prompts
    // (every testdata model already has a 256-token window: a 256 copy would not be shorter);
    // a path that does not exist.
    const std::string no_tok =
        copy_model(behav("control_seq"), tmp / "no_tokenizer", nullptr, {"tokenizer.json"});
    const std::string short_ctx =
        copy_model(behav("control_seq2"), tmp / "short_context",
                   [](nlohmann::json& c) { c["max_position_embeddings"] = 12; });
    std::vector<std::string> bg = six_background();
    bg.push_back(no_tok);
    bg.push_back(short_ctx);
    bg.push_back((tmp / "missing_model").string());
    auto probes = comparison_probes(base_transcript(), behav("student_seq2"), "default");
    MP_ASSERT_OK(probes);
    auto e = compare_behavior_paths(base_transcript(), behav("student_seq2"), *probes,
                                    command_line_background(bg), o);
    MP_ASSERT_OK(e);
    EXPECT_EQ(rel_name(e->relation), "distilled") << e->reason;
    EXPECT_EQ(e->background.size(), 6u);
    EXPECT_EQ(e->background_members.size(), 6u);
    EXPECT_EQ(e->null_pairs, 27u);  // as with the six alone (tests/cli/behavior.sh)
    ASSERT_EQ(e->dropped.size(), 3u);
    std::map<std::string, std::string> why;
    for (const auto& d : e->dropped) why[d.name] = d.reason;
    EXPECT_NE(why[no_tok].find("tokenizer"), std::string::npos) << why[no_tok];
    EXPECT_NE(why[short_ctx].find("context too short"), std::string::npos) << why[short_ctx];
    EXPECT_NE(why[short_ctx].find("12 tokens"), std::string::npos) << why[short_ctx];
    EXPECT_NE(why[(tmp / "missing_model").string()].find("unreadable"), std::string::npos);
    EXPECT_EQ(e->probes_used.probes, 50u);
    // Rendered: JSON background.{participants, dropped[{name, reason}]}, and the text.
    auto j = nlohmann::json::parse(behavior_evidence_json(*e));
    EXPECT_EQ(j["background"]["participants"].size(), 6u);
    ASSERT_EQ(j["background"]["dropped"].size(), 3u);
    EXPECT_TRUE(j["background"]["dropped"][0].contains("reason"));
    const std::string text = behavior_evidence_text(*e);
    EXPECT_NE(text.find("dropped: " + no_tok), std::string::npos) << text;
    EXPECT_NE(text.find("dropped: " + short_ctx), std::string::npos) << text;
}

TEST(Background, ScoringFailureDropsOnlyThatMember) {
    // A member that took part with a stored print and a model whose tokenizer overflows its
    // vocabulary (base's 512-token tokenizer on student_bytes's 320-row embedding): it fails
    // only when it scores the others' answers, and is dropped then.
    TempDir tmp;
    BehaviorRunOptions o;
    o.device = DeviceKind::kCpu;
    auto probes = comparison_probes(base_transcript(), behav("student_seq2"), "default");
    MP_ASSERT_OK(probes);
    // The stored print: student_bytes's own (computed here as `fingerprint` would).
    auto sb = Model::open(behav("student_bytes"));
    MP_ASSERT_OK(sb);
    auto sbt = load_model_tokenizer(**sb);
    MP_ASSERT_OK(sbt);
    auto sbb = make_backend(**sb, DeviceKind::kCpu);
    MP_ASSERT_OK(sbb);
    auto print = compute_behavior_print(**sb, **sbb, **sbt, probes->set);
    MP_ASSERT_OK(print);
    const fs::path mixed = tmp / "mixed_vocab";
    copy_model(behav("student_bytes"), mixed, nullptr, {"tokenizer.json", "tokenizer_config.json"});
    fs::copy_file(fs::path(lineage("base")) / "tokenizer.json", mixed / "tokenizer.json");
    fs::copy_file(fs::path(lineage("base")) / "tokenizer_config.json",
                  mixed / "tokenizer_config.json");
    BackgroundPlan plan = command_line_background(six_background());
    BackgroundMember m;
    m.name = "mixed_vocab";
    m.source = BackgroundSource::kStore;
    m.path = mixed.string();
    m.stored = *print;
    plan.members.push_back(std::move(m));
    auto e = compare_behavior_paths(base_transcript(), behav("student_seq2"), *probes, plan, o);
    MP_ASSERT_OK(e);
    EXPECT_EQ(rel_name(e->relation), "distilled") << e->reason;
    EXPECT_EQ(e->background.size(), 6u);
    ASSERT_EQ(e->dropped.size(), 1u);
    EXPECT_EQ(e->dropped[0].name, "mixed_vocab");
    EXPECT_EQ(e->dropped[0].source, BackgroundSource::kStore);
    EXPECT_NE(e->dropped[0].reason.find("cannot score"), std::string::npos) << e->dropped[0].reason;
    EXPECT_NE(e->dropped[0].reason.find("vocabulary"), std::string::npos) << e->dropped[0].reason;
}

TEST(Background, TranscriptOfFifteenOwnPromptsOnEitherSide) {
    TempDir tmp;
    // The base's greedy answers to 15 prompts of the auditor's own (none is a default probe).
    const std::vector<std::string> prompts = {
        "Once upon a time there was a red ball that",
        "The little girl looked at the sky and",
        "Tom had a big dog. One day the dog",
        "In the park, the children found a",
        "Mom said it was time to go to bed, but",
        "The cat climbed up the tree because",
        "Lily wanted to bake a cake for her",
        "The boy and his friend went to the river to",
        "A small bird sat on the window and",
        "When the sun came up, the farmer",
        "Ben was sad because his toy",
        "The old man told the kids a story about",
        "Sara found a shiny stone in the garden and",
        "The fish swam to the bottom of the lake to",
        "After lunch, the two friends decided to",
    };
    std::string set_text;
    for (size_t i = 0; i < prompts.size(); ++i) {
        set_text +=
            nlohmann::json{{"id", "own" + std::to_string(i)}, {"prompt", prompts[i]}}.dump() + "\n";
    }
    auto own = parse_probe_set(set_text, "own prompts");
    MP_ASSERT_OK(own);
    auto base = Model::open(lineage("base"));
    MP_ASSERT_OK(base);
    auto tok = load_model_tokenizer(**base);
    MP_ASSERT_OK(tok);
    auto be = make_backend(**base, DeviceKind::kCpu);
    MP_ASSERT_OK(be);
    auto runner = ProbeRunner::create(**be, **tok, (*base)->config().vocab_size);
    MP_ASSERT_OK(runner);
    auto answers = (*runner)->generate(*own);
    MP_ASSERT_OK(answers);
    std::string t_text;
    for (size_t i = 0; i < prompts.size(); ++i) {
        t_text += nlohmann::json{{"prompt", prompts[i]}, {"response", (*answers)[i]}}.dump() + "\n";
    }
    const std::string t15 = (tmp / "api_answers.jsonl").string();
    write_text(t15, t_text);

    BehaviorRunOptions o;
    o.device = DeviceKind::kCpu;
    o.background = six_background();
    for (const bool transcript_is_a : {true, false}) {
        const std::string a = transcript_is_a ? t15 : behav("student_seq");
        const std::string b = transcript_is_a ? behav("student_seq") : t15;
        auto e = compare_behavior_paths(a, b, o);
        MP_ASSERT_OK(e);
        EXPECT_EQ(e->probes_used.probes, 15u);
        EXPECT_NE(e->probes_used.origin.find("api_answers.jsonl"), std::string::npos);
        EXPECT_EQ(transcript_is_a ? e->kind_a : e->kind_b, "transcript");
        EXPECT_EQ(e->background.size(), 6u);
        EXPECT_TRUE(e->dropped.empty());
        // Every model was run on the 15 prompts: the student scores the transcript's answers.
        const DirectionalXl& d = transcript_is_a ? e->xl_b_given_a : e->xl_a_given_b;
        EXPECT_TRUE(d.available);
        EXPECT_EQ(d.probes, 15);
        // Measured: passes the null on both sides (distillation_z 1.37, p 5.5e-8; 8 of 15 wins;
        // `distilled` before issue 16's rule), but on these 15 prompts no background member is a
        // same-domain control of A (raw z >= 2.326): `similar-behavior` (docs/behavior.md).
        EXPECT_EQ(rel_name(e->relation), "similar-behavior") << e->reason;
        std::printf("transcript on side %s: %s (%s = %.3f, p = %.3g; xl z %.2f, %lld of %lld)\n",
                    transcript_is_a ? "A" : "B", rel_name(e->relation).c_str(), stat_name(e->decisive).c_str(),
                    e->stat(e->decisive)->cal.value, e->p_value, d.z,
                    static_cast<long long>(d.wins), static_cast<long long>(d.probes));
    }
}

}  // namespace
}  // namespace modelprint

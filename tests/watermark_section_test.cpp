// Tests of forensics/watermark_section.h (the keyed watermark evidence section of `compare`):
// the vote (distilled / not detected / inconclusive with the tokens needed), one test per
// rendering (text, JSON, report parts with Markdown and HTML), the pipeline end to end on the
// committed transcripts of testdata/watermark (teacher stories260K): transformers-watermarked
// responses -> distilled basis watermark, unwatermarked -> not; the key's hashing_key appears in
// none of the outputs; the weighted Stouffer of the open-model test against a hand combination;
// and malformed keys whose parser message would have quoted the secret.
#include "forensics/watermark_section.h"

#include <cmath>
#include <string>

#include "fingerprint/base/json.h"
#include "fingerprint/watermark.h"
#include "forensics/pipeline.h"
#include "forensics/watermark.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::stories_dir;
using ::modelprint::testing::testdata_dir;

// A made-up commitment and a hashing key that must never appear (the section never sees it).
constexpr const char* kCommit = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

WatermarkEvidence model_evidence(double z, double log_p, bool conclusive) {
    WatermarkEvidence e;
    e.mode = WatermarkEvidence::Mode::kOpenModel;
    e.key_commitment = kCommit;
    e.teacher = "teacher";
    e.suspect = "suspect";
    e.statistic = Statistic::kWatermarkOpenModelZ;
    e.z = z;
    e.log_p = log_p;
    e.p_value = std::exp(log_p);
    e.conclusive = conclusive;
    GreenMassTest& om = e.radioactivity.open_model;
    om.reference = true;
    om.z = z;
    om.log_p = log_p;
    om.p_value = e.p_value;
    om.contexts = conclusive ? 300 : 5;
    om.positions = 6000;
    om.conclusive = conclusive;
    om.expected = 0.25;
    e.radioactivity.open_model_equal = om;
    e.radioactivity.open_model_equal.weights = ContextWeights::kEqual;
    e.radioactivity.open_model_plain = om;
    e.radioactivity.open_model_plain.reference = false;
    e.radioactivity.responses = 64;
    e.null_z = {-1.0, 0.5, 0.2, 1.3};
    e.null_ks_p = 0.7;
    e.null_min_p = 0.1;
    return e;
}

TEST(WatermarkSection, VotesDistilledOnlyBelowAlpha) {
    WatermarkSection yes(model_evidence(10.5, std::log(5e-26), true));
    const Vote v = yes.vote();
    EXPECT_EQ(v.relation, Relation::kDistilled);
    EXPECT_EQ(v.basis, Basis::kWatermark);
    EXPECT_EQ(v.confidence, Confidence::kHigh);
    EXPECT_TRUE(v.can_judge);
    EXPECT_THAT(v.reason, ::testing::HasSubstr("detected in B"));
    ASSERT_TRUE(yes.decisive().has_value());
    EXPECT_EQ(yes.decisive()->statistic, Statistic::kWatermarkOpenModelZ);
    EXPECT_NEAR(yes.decisive()->log10_p, std::log10(5e-26), 1e-9);

    WatermarkSection no(model_evidence(1.9, std::log(0.03), true));
    EXPECT_EQ(no.vote().relation, Relation::kUnknown);
    EXPECT_TRUE(no.vote().can_judge);
    EXPECT_THAT(no.vote().reason, ::testing::HasSubstr("no accusation"));
    // just above alpha is not enough
    WatermarkSection edge(model_evidence(3.0, std::log(1.0001e-3), true));
    EXPECT_EQ(edge.vote().relation, Relation::kUnknown);

    WatermarkSection few(model_evidence(9.0, std::log(1e-20), false));
    EXPECT_EQ(few.vote().relation, Relation::kUnknown);
    EXPECT_FALSE(few.vote().can_judge);
    EXPECT_THAT(few.vote().reason, ::testing::HasSubstr("fewer than the 16"));
}

TEST(WatermarkSection, InconclusiveTextSaysHowManyTokensAreNeeded) {
    WatermarkEvidence e;
    e.mode = WatermarkEvidence::Mode::kText;
    e.key_commitment = kCommit;
    e.statistic = Statistic::kWatermarkTextZ;
    e.text.pooled.count.scored = 3;
    e.text.pooled.verdict = WatermarkVerdict::kInconclusive;
    e.text.pooled.tokens_needed = 7;
    e.tokens_needed = 7;
    e.conclusive = false;
    WatermarkSection s(e);
    EXPECT_EQ(s.vote().relation, Relation::kUnknown);
    EXPECT_FALSE(s.vote().can_judge);
    EXPECT_THAT(s.vote().reason, ::testing::HasSubstr("3 scored tokens"));
    EXPECT_THAT(s.vote().reason, ::testing::HasSubstr("7 more needed"));
    auto j = parse_json(s.json(), "section");
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)["tokens_needed"], 7);
    EXPECT_EQ((*j)["verdict"], "inconclusive");
}

TEST(WatermarkSection, TextRendering) {
    WatermarkSection s(model_evidence(10.5, std::log(5e-26), true));
    const std::string t = s.text();
    EXPECT_THAT(t, ::testing::StartsWith("watermark: distilled"));
    EXPECT_THAT(t, ::testing::HasSubstr(std::string("commitment sha256:") + kCommit));
    EXPECT_THAT(t, ::testing::HasSubstr("open-model"));
    EXPECT_THAT(t, ::testing::HasSubstr("z 10.50"));
    EXPECT_THAT(t, ::testing::HasSubstr("4 random keys"));
    // a p-value below the double range is printed in log10
    WatermarkSection tiny(model_evidence(40.0, -800.0, true));
    EXPECT_THAT(tiny.text(), ::testing::HasSubstr("1e-347.4"));
}

TEST(WatermarkSection, JsonRendering) {
    WatermarkSection s(model_evidence(10.5, std::log(5e-26), true));
    auto j = parse_json(s.json(), "section");
    ASSERT_TRUE(j.ok()) << j.status().to_string();
    EXPECT_EQ((*j)["ran"], true);
    EXPECT_EQ((*j)["mode"], "open-model");
    EXPECT_EQ((*j)["key_commitment"], kCommit);
    EXPECT_EQ((*j)["verdict"], "detected");
    EXPECT_EQ((*j)["vote"], "distilled");
    EXPECT_EQ((*j)["decisive"]["statistic"], "watermark_open_model_z");
    EXPECT_NEAR((*j)["decisive"]["log10_p"].get<double>(), std::log10(5e-26), 1e-9);
    ASSERT_TRUE((*j)["tests"].is_array());
    EXPECT_EQ((*j)["tests"][0]["weights"], "sqrt-positions");
    EXPECT_EQ((*j)["tests"][1]["weights"], "equal");
    EXPECT_EQ((*j)["null_keys"]["keys"], 4);
    EXPECT_FALSE(j->contains("hashing_key"));
}

TEST(WatermarkSection, ReportRendering) {
    WatermarkSection s(model_evidence(10.5, std::log(5e-26), true));
    ReportParts parts;
    s.report(parts);
    ASSERT_EQ(parts.tables.size(), 1u);
    EXPECT_EQ(parts.tables[0].title, "Keyed watermark evidence");
    EXPECT_THAT(parts.tables[0].text, ::testing::HasSubstr(kCommit));
    EXPECT_EQ(parts.tables[0].rows.size(), 4u);  // open-model, equal, plain, generation
    EXPECT_EQ(parts.tables[0].rows[0].back(), "yes");
    ASSERT_EQ(parts.distributions.size(), 1u);
    EXPECT_EQ(parts.distributions[0].background.size(), 4u);
    EXPECT_DOUBLE_EQ(parts.distributions[0].observed, 10.5);
    const std::string md = s.markdown(), html = s.html();
    EXPECT_THAT(md, ::testing::HasSubstr("Keyed watermark evidence"));
    EXPECT_THAT(md, ::testing::HasSubstr("| open-model, equal weights | 6000 | 300 |"));
    EXPECT_THAT(html, ::testing::HasSubstr("<svg"));
    const auto rows = s.statistics();
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].n_null, 4u);
    EXPECT_DOUBLE_EQ(rows[0].percentile, 100.0);
}

// The pipeline end to end on the committed transcripts: A = stories260K (the teacher), B a
// transcript of its samples, watermarked by transformers with testdata/watermark/key.json or not.
ComparisonResult compare_with_key(const std::string& b, const WatermarkKey& key) {
    CompareRequest req;
    req.a = stories_dir().string();
    req.b = b;
    req.behavior_only = true;
    req.watermark_key = key;
    req.watermark.null_keys = 20;
    auto r = run_comparison(req);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? std::move(*r) : ComparisonResult{};
}

TEST(WatermarkSection, PipelineOnCommittedTranscriptsNeverShowsTheKey) {
    auto key = load_watermark_key((testdata_dir() / "watermark" / "key.json").string());
    ASSERT_TRUE(key.ok()) << key.status().to_string();
    const std::string hk = std::to_string(key->hashing_key);
    const std::string commit = watermark_key_commitment(*key);

    ComparisonResult wm =
        compare_with_key((testdata_dir() / "watermark" / "wm_teacher.jsonl").string(), *key);
    const EvidenceSection* s = wm.section(SectionKind::kWatermark);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->ran()) << s->vote().reason;
    EXPECT_EQ(s->vote().relation, Relation::kDistilled);
    EXPECT_EQ(wm.verdict.relation, Relation::kDistilled);
    EXPECT_EQ(wm.verdict.basis, Basis::kWatermark);
    ASSERT_TRUE(wm.verdict.decisive.has_value());
    EXPECT_EQ(wm.verdict.decisive->statistic, Statistic::kWatermarkTextZ);
    EXPECT_LT(wm.verdict.decisive->log10_p, -6.0);
    const std::string doc = comparison_document(wm), text = comparison_text_of(wm),
                      pred = comparison_predicate_of(wm);
    for (const std::string* out : {&doc, &text, &pred}) {
        EXPECT_EQ(out->find(hk), std::string::npos) << "the hashing key leaked";
        EXPECT_NE(out->find(commit), std::string::npos);
    }

    ComparisonResult clean =
        compare_with_key((testdata_dir() / "watermark" / "clean_teacher.jsonl").string(), *key);
    const EvidenceSection* c = clean.section(SectionKind::kWatermark);
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(c->ran());
    EXPECT_EQ(c->vote().relation, Relation::kUnknown);
    EXPECT_NE(clean.verdict.relation, Relation::kDistilled);
    EXPECT_GT(c->decisive()->p_value, 1e-3);
    auto j = parse_json(comparison_document(clean), "document");
    ASSERT_TRUE(j.ok());
    EXPECT_EQ((*j)["evidence"]["watermark"]["verdict"], "not-detected");
    EXPECT_EQ((*j)["evidence"]["watermark"]["null_keys"]["keys"], 20);
}

TEST(WatermarkSection, KeyOfAnotherVocabularyIsAFlagError) {
    WatermarkKey key;
    key.vocab_size = 1000;  // stories260K has 512
    CompareRequest req;
    req.a = stories_dir().string();
    req.b = (testdata_dir() / "watermark" / "wm_teacher.jsonl").string();
    req.behavior_only = true;
    req.watermark_key = key;
    EXPECT_THAT(run_comparison(req),
                StatusIs(StatusCode::kInvalidArgument,
                         "bound to a vocabulary of 1000 ids, the teacher A has 512"));
}

TEST(WatermarkSection, TeacherTranscriptIsSkippedWithTheReason) {
    WatermarkKey key;
    CompareRequest req;
    req.a = (testdata_dir() / "watermark" / "wm_teacher.jsonl").string();
    req.b = stories_dir().string();
    req.behavior_only = true;
    req.watermark_key = key;
    req.watermark.null_keys = 0;
    auto r = run_comparison(req);
    // the behaviour section may fail on its own terms; the watermark section never runs here
    if (r.ok()) {
        const EvidenceSection* s = r->section(SectionKind::kWatermark);
        ASSERT_NE(s, nullptr);
        EXPECT_FALSE(s->ran());
        EXPECT_THAT(s->vote().reason, ::testing::HasSubstr("needs the teacher A as a model"));
    }
}

// The open-model combination: sqrt(n)-weighted Stouffer of the per-context z's, checked against
// the z's of each context alone (a one-context data set gives that context's z).
TEST(WatermarkSection, WeightedStoufferCombinesPerContextZs) {
    WatermarkKey k;
    auto L = GreenLists::create(k, 64);
    ASSERT_TRUE(L.ok());
    RadioactivityData d;
    d.vocab = 64;
    d.reference = true;
    for (int c = 0; c < 3; ++c) {
        RadioactivityData::Context ctx;
        ctx.window = {c + 1};
        ctx.n = (c + 1) * (c + 1) * 4;  // 4, 16, 36 positions
        for (int32_t id = 0; id < 64; ++id) {
            const double x = std::sin(0.7 * id + c) * 0.01 * static_cast<double>(ctx.n);
            ctx.ref.emplace_back(id, x);
            ctx.plain.emplace_back(id, std::abs(x));
            ctx.logratio.emplace_back(id, x);
        }
        d.contexts.push_back(ctx);
    }
    RadioactivityOptions o;
    o.min_contexts = 1;
    std::vector<double> z;
    for (const auto& ctx : d.contexts) {
        RadioactivityData one = d;
        one.contexts = {ctx};
        auto r = evaluate_radioactivity(*L, one, o);
        ASSERT_TRUE(r.ok());
        z.push_back(r->open_model.z);
    }
    auto r = evaluate_radioactivity(*L, d, o);
    ASSERT_TRUE(r.ok());
    const double w[3] = {2.0, 4.0, 6.0};
    const double want = (w[0] * z[0] + w[1] * z[1] + w[2] * z[2]) / std::sqrt(4.0 + 16 + 36);
    EXPECT_NEAR(r->open_model.z, want, 1e-12);
    EXPECT_NEAR(r->open_model_equal.z, (z[0] + z[1] + z[2]) / std::sqrt(3.0), 1e-12);
    EXPECT_EQ(r->open_model.weights, ContextWeights::kSqrtPositions);
    EXPECT_EQ(r->open_model_equal.weights, ContextWeights::kEqual);
}

TEST(WatermarkSection, MalformedKeyErrorsNeverQuoteTheKey) {
    // the parser would have said "last read: '7342195813572913x'"
    auto k =
        parse_watermark_key(R"({"greenlist_ratio":0.25,"bias":2.0,"hashing_key":7342195813572913x,)"
                            R"("seeding_scheme":"lefthash","context_width":1})",
                            "k.json");
    ASSERT_THAT(k, StatusIs(StatusCode::kCorruptData, "not valid JSON at line 1"));
    EXPECT_EQ(k.status().message().find("7342195813572913"), std::string::npos)
        << k.status().message();
    auto k2 = parse_watermark_key(R"({"hashing_key":73421958135729})", "k.json");
    ASSERT_FALSE(k2.ok());
    EXPECT_EQ(k2.status().message().find("73421958135729"), std::string::npos);
}

}  // namespace
}  // namespace modelprint

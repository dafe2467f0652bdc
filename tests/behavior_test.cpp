// Behaviour fingerprints and pairwise statistics: JS/top-k/Spearman on hand-made distributions,
// unbiased CKA invariances, text overlap, calibration maths against closed forms, the binary
// fingerprint (round trip and every malformed field, built byte by byte), and probing the real
// stories260K model with the CPU engine (determinism, self-comparison, throughput bound).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/behavior_compare.h"
#include "forensics/behavior_stats.h"
#include "forensics/calibration.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::Bytes;
using ::modelprint::testing::stories_dir;

// ------------------------------------------------------------------ statistics

TEST(Stats, JsDivergenceClosedForms) {
    const std::vector<double> p = {1.0, 0.0}, q = {0.0, 1.0}, u = {0.5, 0.5};
    EXPECT_NEAR(js_divergence(p, q), 1.0, 1e-12);  // disjoint supports: 1 bit
    EXPECT_NEAR(js_divergence(p, p), 0.0, 1e-12);
    // JS(p, u) = 1/2 [1*log2(1/0.75)] + 1/2 [0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25)]
    const double want = 0.5 * std::log2(1 / 0.75) + 0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5);
    EXPECT_NEAR(js_divergence(p, u), want, 1e-12);
}

TEST(Stats, SpearmanWithTies) {
    const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 4, 6, 8, 100}, z = {5, 4, 3, 2, 1};
    EXPECT_NEAR(spearman(x, y), 1.0, 1e-12);
    EXPECT_NEAR(spearman(x, z), -1.0, 1e-12);
    // scipy.stats.spearmanr([1,2,3,4], [1,1,2,2]) = 0.894427191
    const std::vector<double> a = {1, 2, 3, 4}, b = {1, 1, 2, 2};
    EXPECT_NEAR(spearman(a, b), 0.894427191, 1e-9);
    const std::vector<double> c = {1, 1, 1, 1};
    EXPECT_TRUE(std::isnan(spearman(a, c)));
}

TEST(Stats, TopkAgreementSharedAndDisjointTokens) {
    TopkList a{{"a", "b", "c"}, {std::log(0.5f), std::log(0.3f), std::log(0.1f)}};
    TopkAgreement same = compare_topk(a, a);
    EXPECT_NEAR(same.js, 0.0, 1e-9);
    EXPECT_DOUBLE_EQ(same.overlap, 1.0);
    EXPECT_NEAR(same.spearman, 1.0, 1e-9);
    TopkList d{{"x", "y", "z"}, {std::log(0.5f), std::log(0.3f), std::log(0.1f)}};
    TopkAgreement dis = compare_topk(a, d);
    EXPECT_DOUBLE_EQ(dis.overlap, 0.0);
    EXPECT_GT(dis.js, 0.5);
    EXPECT_LT(dis.spearman, 0.0);
    TopkList swapped{{"b", "a", "c"}, {std::log(0.5f), std::log(0.3f), std::log(0.1f)}};
    TopkAgreement sw = compare_topk(a, swapped);
    EXPECT_DOUBLE_EQ(sw.overlap, 1.0);
    EXPECT_GT(sw.js, 0.0);
    EXPECT_LT(sw.js, dis.js);
}

std::vector<float> random_matrix(int64_t n, int64_t p, uint32_t seed) {
    std::mt19937 g(seed);
    std::normal_distribution<float> nd;
    std::vector<float> x(static_cast<size_t>(n * p));
    for (auto& v : x) v = nd(g);
    return x;
}

TEST(Stats, UnbiasedCkaInvariancesAndNull) {
    const int64_t n = 40, p = 16;
    auto X = random_matrix(n, p, 1);
    EXPECT_NEAR(linear_cka_unbiased(X, X, n, p, p), 1.0, 1e-9);
    // Invariant to isotropic scaling and to an orthogonal map (a permutation with sign flips),
    // and defined across widths: X padded with a copy of its columns (width 2p).
    std::vector<float> Y(static_cast<size_t>(n * 2 * p));
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < p; ++k) {
            const float v = 3.0f * X[i * p + (p - 1 - k)] * (k % 2 ? -1.0f : 1.0f);
            Y[i * 2 * p + k] = v;
            Y[i * 2 * p + p + k] = v;
        }
    }
    EXPECT_NEAR(linear_cka_unbiased(X, Y, n, p, 2 * p), 1.0, 1e-6);
    // Independent representations: the unbiased estimator is centred near 0.
    double mean = 0;
    for (uint32_t s = 0; s < 20; ++s) {
        auto Z = random_matrix(n, 24, 100 + s);
        mean += linear_cka_unbiased(X, Z, n, p, 24) / 20;
    }
    EXPECT_LT(std::fabs(mean), 0.05);
    EXPECT_TRUE(std::isnan(linear_cka_unbiased(X, X, 3, p, p)));
}

TEST(Stats, TextOverlap) {
    auto same = text_overlap(" Once upon a time ", "Once upon a time");
    EXPECT_DOUBLE_EQ(same.exact, 1.0);
    EXPECT_DOUBLE_EQ(same.ngram, 1.0);
    EXPECT_DOUBLE_EQ(same.lcs, 1.0);
    auto o = text_overlap("abcd", "abxd");  // LCS "abd" = 3: 2*3/8
    EXPECT_DOUBLE_EQ(o.exact, 0.0);
    EXPECT_DOUBLE_EQ(o.lcs, 0.75);
    EXPECT_DOUBLE_EQ(o.ngram, 0.0);  // trigrams abc,bcd vs abx,bxd
    auto zh = text_overlap("我是通义千问", "我是千问");  // code points: LCS 4 of 6 + 4
    EXPECT_DOUBLE_EQ(zh.lcs, 0.8);
    auto none = text_overlap("", "");
    EXPECT_DOUBLE_EQ(none.lcs, 1.0);
    auto one = text_overlap("", "x");
    EXPECT_DOUBLE_EQ(one.lcs, 0.0);
}

// ------------------------------------------------------------------ calibration

TEST(Calibration, StudentTAndNormalTails) {
    // scipy.stats.t.sf(2.0, 5) = 0.05096973941 ; t.sf(-1, 3) = 0.8044988905 ; norm.sf(3) = 0.0013498980
    EXPECT_NEAR(student_t_sf(2.0, 5), 0.05096973941, 1e-9);
    EXPECT_NEAR(student_t_sf(-1.0, 3), 0.8044988905, 1e-9);
    EXPECT_NEAR(student_t_sf(0.0, 7), 0.5, 1e-12);
    EXPECT_NEAR(normal_sf(3.0), 0.0013498980316, 1e-12);
    EXPECT_NEAR(normal_cdf(0.0), 0.5, 1e-15);
    EXPECT_NEAR(incomplete_beta(2, 3, 0.4), 0.5248, 1e-10);  // closed form 1-(1-x)^4-4x(1-x)^3
    EXPECT_TRUE(std::isnan(student_t_sf(1.0, 0)));
}

TEST(Calibration, EmpiricalAndPredictive) {
    const std::vector<double> null = {0.1, 0.2, 0.3, 0.4, 0.5};
    Calibrated c = calibrate(0.9, null);
    EXPECT_EQ(c.n_null, 5u);
    EXPECT_TRUE(c.sufficient);
    EXPECT_TRUE(c.exceeds_null);
    EXPECT_DOUBLE_EQ(c.percentile, 1.0);
    EXPECT_DOUBLE_EQ(c.p_empirical, 1.0 / 6.0);
    // t = (0.9 - 0.3) / (sd * sqrt(1 + 1/5)), sd = sqrt(0.025), df 4
    const double t = 0.6 / (std::sqrt(0.025) * std::sqrt(1.2));
    EXPECT_NEAR(c.p_t, student_t_sf(t, 4), 1e-12);
    Calibrated mid = calibrate(0.3, null);
    EXPECT_FALSE(mid.exceeds_null);
    EXPECT_DOUBLE_EQ(mid.p_empirical, 4.0 / 6.0);
    // "less" statistics: small is extreme.
    Calibrated less = calibrate(0.0, null, Tail::kLess);
    EXPECT_TRUE(less.exceeds_null);
    EXPECT_NEAR(less.null_mean, 0.3, 1e-12);
    // Too little background.
    const std::vector<double> tiny = {0.1, 0.2};
    EXPECT_FALSE(calibrate(5.0, tiny).sufficient);
    EXPECT_EQ(calibrate(5.0, {}).n_null, 0u);
}

TEST(Calibration, RankSumExactSmallCases) {
    // One probe, m = 3: P(rank >= 3) = 1/4; two probes: P(sum >= 6) = 1/16, P(sum >= 5) = 3/16.
    EXPECT_NEAR(rank_sum_p(std::vector<int>{3}, 3), 0.25, 1e-15);
    EXPECT_NEAR(rank_sum_p(std::vector<int>{3, 3}, 3), 1.0 / 16, 1e-15);
    EXPECT_NEAR(rank_sum_p(std::vector<int>{3, 2}, 3), 3.0 / 16, 1e-15);
    EXPECT_NEAR(rank_sum_p(std::vector<int>{0, 0}, 3), 1.0, 1e-15);
    // 50 probes all ranked top among 4: (1/5)^50.
    std::vector<int> top(50, 4);
    EXPECT_NEAR(rank_sum_p(top, 4) / std::pow(0.2, 50), 1.0, 1e-9);
    EXPECT_DOUBLE_EQ(rank_sum_p({}, 3), 1.0);
}

TEST(Calibration, BinomialTailClosedForms) {
    EXPECT_DOUBLE_EQ(binomial_sf(0, 10, 0.3), 1.0);
    EXPECT_NEAR(binomial_sf(1, 1, 0.25), 0.25, 1e-15);
    EXPECT_NEAR(binomial_sf(2, 2, 0.5), 0.25, 1e-15);
    EXPECT_NEAR(binomial_sf(1, 2, 0.5), 0.75, 1e-15);
    // P(X >= 2), n = 3, p = 1/3: 3 (1/9)(2/3) + 1/27 = 7/27.
    EXPECT_NEAR(binomial_sf(2, 3, 1.0 / 3), 7.0 / 27, 1e-14);
    // All 50 probes won among 4 responders: (1/5)^50, far below double's normal range for sums
    // of non-log terms but exact in log space.
    EXPECT_NEAR(binomial_sf(50, 50, 0.2) / std::pow(0.2, 50), 1.0, 1e-9);
    EXPECT_DOUBLE_EQ(binomial_sf(4, 3, 0.5), 0.0);
    EXPECT_DOUBLE_EQ(binomial_sf(1, 3, 0.0), 0.0);
    EXPECT_DOUBLE_EQ(binomial_sf(1, 3, 1.0), 1.0);
}

TEST(Calibration, RocAuc) {
    EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{3, 4}, std::vector<double>{1, 2}), 1.0);
    EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{1}, std::vector<double>{1}), 0.5);
    EXPECT_DOUBLE_EQ(roc_auc(std::vector<double>{2, 0}, std::vector<double>{1}), 0.5);
    EXPECT_DOUBLE_EQ(roc_auc({}, std::vector<double>{1}), 0.5);
}

// ------------------------------------------------------------------ fingerprints

ProbeSet small_probes() {
    auto s = parse_probe_set(
        "{\"probe_set\": \"t\", \"version\": 1}\n"
        "{\"id\": \"a\", \"category\": \"open\", \"prompt\": \"Once upon a time\", \"max_new_tokens\": 12}\n"
        "{\"id\": \"b\", \"category\": \"identity\", \"prompt\": \"Who are you?\", \"max_new_tokens\": 8}\n"
        "{\"id\": \"c\", \"category\": \"open\", \"prompt\": \"The dog ran to the tree and\", \"max_new_tokens\": 10}\n"
        "{\"id\": \"d\", \"category\": \"rare\", \"prompt\": \"Zoë saw a 🐶\", \"max_new_tokens\": 6}\n"
        "{\"id\": \"e\", \"category\": \"open\", \"prompt\": \"Lily and Ben\", \"max_new_tokens\": 6}\n",
        "small");
    return std::move(s).value();
}

struct Stories {
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tok;
    std::unique_ptr<Backend> backend;
};

Stories open_stories(const std::string& file = "") {
    Stories s;
    auto m = Model::open((stories_dir() / file).string());
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    s.model = std::move(m).value();
    auto t = load_model_tokenizer(*s.model);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    s.tok = std::move(t).value();
    auto b = make_backend(*s.model, DeviceKind::kCpu);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    s.backend = std::move(b).value();
    return s;
}

TEST(BehaviorPrint, StoriesGreedyMatchesGoldenAndRoundTrips) {
    Stories s = open_stories();
    ProbeSet probes = small_probes();
    auto bp = compute_behavior_print(*s.model, *s.backend, *s.tok, probes);
    MP_ASSERT_OK(bp);
    EXPECT_EQ(bp->engine, "cpu");
    EXPECT_EQ(bp->probe_digest, probes.digest);
    EXPECT_EQ(bp->chat_format, "none");
    ASSERT_EQ(bp->outputs.responses.size(), 5u);
    // golden.json greedy from <s> reads "Once upon a time, there was a little girl named Lily.";
    // from the prompt "Once upon a time" the continuation starts the same way.
    EXPECT_EQ(bp->outputs.responses[0].rfind(", there was a little girl named Lily", 0), 0u)
        << bp->outputs.responses[0];
    const LogitPrint& lp = bp->logits;
    EXPECT_EQ(lp.top_k, 16);
    EXPECT_EQ(lp.layers, 6);  // embeddings + 5 blocks
    EXPECT_EQ(lp.hidden_size, 64);
    const ProbeTrace& t0 = lp.probes[0];
    EXPECT_EQ(t0.prompt_text, "Once upon a time");
    // <s> covers nothing, then "Once", " upon", " a", " time".
    EXPECT_EQ(t0.boundary, (std::vector<uint32_t>{0, 4, 9, 11, 16}));
    // Top-1 after "Once upon a time" is "," (golden reference sentence), log-probs descending.
    EXPECT_EQ(lp.tokens[t0.topk_token[4 * 16]], ",");
    for (int k = 1; k < 16; ++k) EXPECT_LE(t0.topk_logprob[4 * 16 + k], t0.topk_logprob[4 * 16 + k - 1]);
    // The emoji's byte-fallback tokens cut inside a character: no boundary there.
    const ProbeTrace& t3 = lp.probes[3];
    int none = 0;
    for (uint32_t b : t3.boundary) none += b == kNoBoundary;
    EXPECT_GE(none, 3);
    EXPECT_EQ(static_cast<int64_t>(t3.hidden_mean.size()), 6 * 64);

    auto blob = serialize_behavior_print(*bp);
    auto back = parse_behavior_print(blob, probes, "blob");
    MP_ASSERT_OK(back);
    EXPECT_EQ(back->outputs.responses, bp->outputs.responses);
    EXPECT_EQ(back->logits.tokens, lp.tokens);
    EXPECT_EQ(back->logits.probes[2].topk_logprob, lp.probes[2].topk_logprob);
    EXPECT_EQ(back->logits.probes[4].hidden_mean, lp.probes[4].hidden_mean);
    EXPECT_EQ(serialize_behavior_print(*back), blob);

    // The safetensors and the GGUF twin behave the same: self-similarity is perfect.
    Stories g = open_stories("stories260K.gguf");
    auto bg = compute_behavior_print(*g.model, *g.backend, *g.tok, probes);
    MP_ASSERT_OK(bg);
    EXPECT_EQ(bg->outputs.responses, bp->outputs.responses);
    LogitSimilarity ls = logit_similarity(bp->logits, bg->logits);
    EXPECT_EQ(ls.probes, 5);
    EXPECT_LT(ls.js, 1e-6);
    EXPECT_GT(ls.overlap, 0.99);
    auto cka = cka_matrix(bp->logits, bg->logits);
    MP_ASSERT_OK(cka);
    EXPECT_NEAR(cka->best_match_mean, 1.0, 1e-4);
    OutputSimilarity os = output_similarity(bp->outputs, bg->outputs);
    EXPECT_DOUBLE_EQ(os.exact, 1.0);
}

TEST(BehaviorPrint, ScoreAgreesWithGenerationLogprobs) {
    Stories s = open_stories();
    ProbeSet probes = small_probes();
    auto runner = ProbeRunner::create(*s.backend, *s.tok, s.model->config().vocab_size);
    MP_ASSERT_OK(runner);
    auto ids = (*runner)->prompt_ids(probes.probes[0].prompt);
    MP_ASSERT_OK(ids);
    GenerateRequest req;
    req.prompt = *ids;
    req.max_new_tokens = 12;
    auto gen = s.backend->generate(req);
    MP_ASSERT_OK(gen);
    auto resp = (*runner)->generate(probes);
    MP_ASSERT_OK(resp);
    std::vector<bool> present = {true, false, false, false, false};
    auto sc = (*runner)->score(probes, *resp, present);
    MP_ASSERT_OK(sc);
    double want = 0;
    for (float lp : gen->token_logprobs) want += lp;
    // The response re-tokenizes to the generated tokens here, so the sums agree.
    EXPECT_EQ((*sc)[0].tokens, 12);
    EXPECT_NEAR((*sc)[0].sum_logprob, want, 1e-3);
    EXPECT_EQ((*sc)[1].tokens, 0);
    EXPECT_THAT((*runner)->score(probes, *resp, {true}), StatusIs(StatusCode::kInvalidArgument, "flags"));
    EXPECT_THAT((*runner)->score(probes, *resp, present, 0), StatusIs(StatusCode::kInvalidArgument, "max_tokens"));
    EXPECT_THAT((*runner)->logit_print(probes, 0), StatusIs(StatusCode::kInvalidArgument, "top_k"));
    EXPECT_THAT(ProbeRunner::create(*s.backend, *s.tok, 0), StatusIs(StatusCode::kInvalidArgument, "vocabulary size"));
    EXPECT_THAT(ProbeRunner::create(*s.backend, *s.tok, 512, "klingon"), StatusIs(StatusCode::kInvalidArgument, "klingon"));
}

TEST(BehaviorPrint, DefaultProbeSetOnStoriesWellUnderAMinute) {
    Stories s = open_stories();
    auto probes = load_probe_set("default");
    MP_ASSERT_OK(probes);
    const auto t0 = std::chrono::steady_clock::now();
    auto bp = compute_behavior_print(*s.model, *s.backend, *s.tok, *probes);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MP_ASSERT_OK(bp);
    EXPECT_LT(secs, 30.0);
    EXPECT_EQ(bp->outputs.answered(), probes->probes.size());
    RecordProperty("default_probe_seconds", std::to_string(secs));
}

// A valid blob's header up to the probe count, for the malformed cases below.
Bytes header(const ProbeSet& probes, uint32_t version = 1) {
    Bytes b;
    b.str("MPBP").u32(version);
    for (const char* s : {"t", "", "cpu", "m", "tok", "none"}) {
        const std::string v = std::string(s).empty() ? probes.digest : s;
        b.u32(static_cast<uint32_t>(v.size())).str(v);
    }
    return b;
}

TEST(BehaviorPrint, MalformedBlobs) {
    auto ps = parse_probe_set("{\"prompt\": \"x\"}", "one");
    MP_ASSERT_OK(ps);
    const ProbeSet& probes = *ps;
    auto parse = [&](const Bytes& b) { return parse_behavior_print(b.data(), probes, "fp"); };
    // A minimal valid blob: one probe, K = 1, 1 layer of width 2, one position.
    auto valid = [&]() {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(2).str("hi");
        b.i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(1).u32(1).u32(0).f32(-0.5f).u8(1).f32(1.0f).f32(2.0f);
        return b;
    };
    MP_ASSERT_OK(parse(valid()));
    EXPECT_THAT(parse(Bytes().str("MPB")), StatusIs(StatusCode::kCorruptData, "magic and version"));
    EXPECT_THAT(parse(Bytes().str("NOPE").u32(1)), StatusIs(StatusCode::kCorruptData, "magic"));
    EXPECT_THAT(parse(header(probes, 2)), StatusIs(StatusCode::kUnsupported, "version 2"));
    {
        Bytes b;
        b.str("MPBP").u32(1).u32(1000).str("x");
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "needs 1000 bytes"));
    }
    {
        Bytes b;
        b.str("MPBP").u32(1).u32(1).str("t").u32(3).str("abc");
        for (int i = 0; i < 4; ++i) b.u32(0);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kInvalidArgument, "computed on probe set abc"));
    }
    EXPECT_THAT(parse(Bytes(header(probes)).u32(2)), StatusIs(StatusCode::kCorruptData, "2 probes stored"));
    EXPECT_THAT(parse(Bytes(header(probes)).u32(1).u8(7)), StatusIs(StatusCode::kCorruptData, "present flag 7"));
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(2000).u64(1).u64(2);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "top_k 2000"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(0xFFFFFFF0u);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "token table of"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(0x40000000u);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "boundaries declares"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(1).u32(1).u32(5).f32(-0.5f).u8(0);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "refers to token 5"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(1).u32(1).u32(0).f32(0.25f).u8(0);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "log-probability 0.25"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(1).u32(1).u32(0).f32(-0.5f).u8(3);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "hidden flag 3"));
    }
    {
        Bytes b = header(probes);
        b.u32(1).u8(1).u32(0).i32(1).u64(1).u64(2).u32(1).u32(1).str("a");
        b.u32(1).str("x").u32(1).u32(1).u32(0).f32(-0.5f).u8(1).f32(1.0f);
        EXPECT_THAT(parse(b), StatusIs(StatusCode::kCorruptData, "hidden means"));
    }
    EXPECT_THAT(parse(Bytes(valid()).u8(0)), StatusIs(StatusCode::kCorruptData, "1 trailing bytes"));
}

// ------------------------------------------------------------------ compare on a tiny panel

TEST(CompareBehavior, TranscriptsOnlyAndTooLittleBackground) {
    auto probes = load_probe_set("default");
    MP_ASSERT_OK(probes);
    BehaviorPanel panel(*probes);
    auto add_text = [&](const std::string& name, const std::string& resp) {
        Transcript t;
        t.source = name;
        for (const auto& p : probes->probes) {
            TranscriptEntry e;
            e.id = p.id;
            e.prompt = p.prompt;
            e.response = resp + p.id;
            t.entries.push_back(std::move(e));
        }
        auto op = output_print_from_transcript(*probes, t);
        EXPECT_TRUE(op.ok());
        auto part = std::make_unique<BehaviorParticipant>();
        part->name = name;
        part->kind = "transcript";
        part->outputs = std::move(op).value();
        return panel.add(std::move(part));
    };
    const size_t a = add_text("a", "I am a little cat ");
    const size_t b = add_text("b", "I am a little cat ");
    const size_t c = add_text("c", "Fish swim in deep water ");
    auto e = compare_behavior(panel, a, b);
    MP_ASSERT_OK(e);
    EXPECT_EQ(e->decisive, Statistic::kOutputLcs);
    EXPECT_EQ(e->relation, Relation::kUnknown);  // 2 null pairs
    EXPECT_NE(e->reason.find("too little background: 2 independent pairs"), std::string::npos) << e->reason;
    EXPECT_FALSE(e->stat(Statistic::kCrossLikelihoodZ)->available);
    EXPECT_DOUBLE_EQ(e->outputs.exact, 1.0);
    const std::string json = behavior_evidence_json(*e);
    EXPECT_NE(json.find("\"relation\":\"unknown\""), std::string::npos);
    EXPECT_NE(behavior_evidence_text(*e).find("output_lcs"), std::string::npos);
    EXPECT_THAT(compare_behavior(panel, a, a), StatusIs(StatusCode::kInvalidArgument, "participants"));
    BehaviorOptions bad;
    bad.background = {a};
    EXPECT_THAT(compare_behavior(panel, a, c, bad), StatusIs(StatusCode::kInvalidArgument, "background"));
    BehaviorOptions bad_nulls;
    bad_nulls.null_pairs = {{b, c}};
    bad_nulls.null_responders = {{a}, {b}};
    EXPECT_THAT(compare_behavior(panel, a, c, bad_nulls),
                StatusIs(StatusCode::kInvalidArgument, "2 null responder lists for 1 null pairs"));
    bad_nulls.null_responders = {{7}};
    EXPECT_THAT(compare_behavior(panel, a, c, bad_nulls),
                StatusIs(StatusCode::kInvalidArgument, "null responder 7 out of range"));
    bad_nulls.null_responders.clear();
    bad_nulls.null_pairs = {{b, b}};
    EXPECT_THAT(compare_behavior(panel, a, c, bad_nulls),
                StatusIs(StatusCode::kInvalidArgument, "null pair (1, 1) is invalid"));
    EXPECT_THAT(panel.scores(a, b, {}), StatusIs(StatusCode::kFailedPrecondition, "cannot score"));
}

}  // namespace
}  // namespace modelprint

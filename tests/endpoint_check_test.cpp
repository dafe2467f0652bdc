// Endpoint-equality statistics on synthetic samples with known truth: the MMD permutation test
// and the rank test hold their level under H0 (same distribution) and reject a shifted one;
// the logprob sign test separates engine noise, a precision change and other weights; the
// verdict rules and their error paths; the endpoint evidence section's votes, statistics,
// null and renderings (forensics/endpoint_section.h).
#include "forensics/endpoint_check.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cmath>
#include <random>

#include "forensics/endpoint_section.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::testing::HasSubstr;

// A string of n letters drawn from a skewed alphabet; `shift` moves probability to 'z'.
std::string draw(std::mt19937_64& rng, int n, double shift) {
    std::string s;
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < n; ++i) {
        double x = u(rng);
        if (x < shift)
            s.push_back('z');
        else
            s.push_back(static_cast<char>('a' + static_cast<int>(x * 4)));
    }
    return s;
}

std::vector<EndpointPromptData> synth(uint64_t seed, int prompts, int n, int m, double shift,
                                      double ll_shift) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> g(0, 1);
    std::vector<EndpointPromptData> out(prompts);
    for (int i = 0; i < prompts; ++i) {
        auto& d = out[i];
        d.id = "p" + std::to_string(i);
        for (int k = 0; k < n; ++k) d.endpoint.push_back(draw(rng, 16, shift));
        for (int k = 0; k < m; ++k) d.local.push_back(draw(rng, 16, 0.0));
        d.has_ll = true;
        d.endpoint_ll = g(rng) - ll_shift;
        for (int k = 0; k < m; ++k) d.local_ll.push_back(g(rng));
    }
    return out;
}

TEST(EndpointCheckStats, MmdHoldsLevelAndHasPower) {
    int rejects_null = 0, rejects_alt = 0;
    const int trials = 60;
    for (int t = 0; t < trials; ++t) {
        auto null = synth(100 + t, 10, 5, 5, 0.0, 0.0);
        auto alt = synth(900 + t, 10, 5, 5, 0.25, 0.0);
        auto a = mmd_hamming_test(null, 16, 199, t);
        auto b = mmd_hamming_test(alt, 16, 199, t);
        ASSERT_TRUE(a.ok() && b.ok());
        rejects_null += a->p_value < 0.05;
        rejects_alt += b->p_value < 0.05;
    }
    // Level 0.05: 60 trials, binomial 99.9% bound ~ 9.
    EXPECT_LE(rejects_null, 9);
    EXPECT_GE(rejects_alt, 50);
}

TEST(EndpointCheckStats, MmdErrors) {
    std::vector<EndpointPromptData> one(1);
    one[0].endpoint = {"a"};
    one[0].local = {"a", "b"};
    EXPECT_THAT(mmd_hamming_test(one, 8, 10, 0).status(),
                StatusIs(StatusCode::kInvalidArgument, "at least 2"));
    EXPECT_THAT(mmd_hamming_test(one, 0, 10, 0).status(),
                StatusIs(StatusCode::kInvalidArgument, "Hamming"));
}

TEST(EndpointCheckStats, RankTestLevelAndPower) {
    int rejects_null = 0;
    for (int t = 0; t < 100; ++t) {
        auto null = synth(300 + t, 50, 1, 9, 0.0, 0.0);
        auto r = rank_test(null, t);
        ASSERT_TRUE(r.ran);
        rejects_null += r.p_value < 0.05;
    }
    EXPECT_LE(rejects_null, 12);  // binomial(100, 0.05) 99.9% bound
    auto alt = rank_test(synth(7, 100, 1, 9, 0.0, 1.0), 1);
    EXPECT_LT(alt.p_value, 1e-4);
    EXPECT_LT(alt.statistic, 0);  // endpoint text less likely under the claim
    EXPECT_FALSE(rank_test({}, 0).ran);
}

// Log-probability deltas of a server that runs the claim (match = -1), re-encoding `match`, or
// other weights (match = -2), with engine noise `noise`; levels = claim vs each re-encoding.
std::vector<EndpointPromptData> with_lp(std::vector<double> levels, int match, double noise,
                                        int n = 30) {
    std::vector<EndpointPromptData> d = synth(5, n, 2, 4, 0.0, 0.0);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0.8, 1.2);
    for (auto& p : d) {
        p.has_lp = true;
        p.lp_tokens = 10;
        p.lp_calibration.clear();
        p.lp_to_level.clear();
        for (double l : levels) p.lp_calibration.push_back(l * u(rng));
        if (match == -2) {
            p.lp_delta = 0.5 * u(rng);
            for (size_t l = 0; l < levels.size(); ++l) p.lp_to_level.push_back(0.5 * u(rng));
        } else {
            double at = match < 0 ? 0.0 : levels[match];
            p.lp_delta = at > 0 ? at * u(rng) : noise * u(rng);
            for (size_t l = 0; l < levels.size(); ++l) {
                p.lp_to_level.push_back(static_cast<int>(l) == match
                                            ? noise * u(rng)
                                            : std::fabs(levels[l] - at) * u(rng) + noise);
            }
        }
    }
    return d;
}

TEST(EndpointCheckStats, LogprobVerdicts) {
    EndpointCheckOptions o;
    o.permutations = 99;
    std::vector<std::string> names = {"f16", "q8_0", "q4_0"};
    std::vector<double> levels = {1e-3, 1e-2, 5e-2};
    auto same = evaluate_endpoint_check(with_lp(levels, -1, 5e-4), names, 60, o);
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(same->verdict, EndpointVerdict::kSame) << same->reason;
    auto q4 = evaluate_endpoint_check(with_lp(levels, 2, 1e-2), names, 60, o);
    EXPECT_EQ(q4->verdict, EndpointVerdict::kSameWeightsOtherPrecision) << q4->reason;
    EXPECT_EQ(q4->nearest_level, "q4_0");
    auto diff = evaluate_endpoint_check(with_lp(levels, -2, 0), names, 60, o);
    EXPECT_EQ(diff->verdict, EndpointVerdict::kDifferent) << diff->reason;
    EXPECT_LT(diff->logprob.p_value, 1e-6);
    ASSERT_EQ(diff->levels.size(), 3u);
    EXPECT_LT(diff->levels[0].mean_delta, diff->levels[2].mean_delta);  // ascending
    // Uncalibrated log-probabilities do not decide.
    auto unc = evaluate_endpoint_check(with_lp({}, -2, 0), {}, 60, o);
    EXPECT_FALSE(unc->logprob.ran);
    EXPECT_NE(unc->logprob.note.find("not calibrated"), std::string::npos);
}

TEST(EndpointCheckStats, SampleOnlyVerdicts) {
    EndpointCheckOptions o;
    o.permutations = 199;
    o.min_queries_for_same = 100;
    auto few = evaluate_endpoint_check(synth(11, 10, 2, 4, 0.0, 0.0), {}, 20, o);
    ASSERT_TRUE(few.ok());
    EXPECT_EQ(few->verdict, EndpointVerdict::kInconclusive);
    EXPECT_GE(few->queries_needed, 21);
    auto enough = evaluate_endpoint_check(synth(12, 50, 2, 4, 0.0, 0.0), {}, 100, o);
    EXPECT_EQ(enough->verdict, EndpointVerdict::kSame) << enough->reason;
    auto diff = evaluate_endpoint_check(synth(13, 50, 2, 4, 0.4, 1.5), {}, 100, o);
    EXPECT_EQ(diff->verdict, EndpointVerdict::kDifferent) << diff->reason;
    std::string json = endpoint_check_json(*diff);
    EXPECT_NE(json.find("\"verdict\": \"different\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"mmd_hamming\""), std::string::npos);
    EXPECT_NE(endpoint_check_text(*few).find("needed"), std::string::npos);
    o.alpha = 0;
    EXPECT_THAT(evaluate_endpoint_check({}, {}, 0, o).status(),
                StatusIs(StatusCode::kInvalidArgument, "alpha"));
}

}  // namespace
}  // namespace modelprint

// ---- the endpoint evidence section (forensics/endpoint_section.h) on the same synthetic data

namespace modelprint {
namespace {

TEST(EndpointSection, VotesMapTheEndpointVerdicts) {
    EndpointCheckOptions o;
    o.permutations = 99;
    std::vector<std::string> names = {"f16", "q8_0", "q4_0"};
    std::vector<double> levels = {1e-3, 1e-2, 5e-2};
    auto same = evaluate_endpoint_check(with_lp(levels, -1, 5e-4), names, 60, o);
    ASSERT_TRUE(same.ok());
    EndpointSection s1(*same);
    EXPECT_EQ(s1.kind(), SectionKind::kEndpoint);
    EXPECT_EQ(s1.vote().relation, Relation::kServesClaimed);
    EXPECT_EQ(s1.vote().subtype, "same");
    EXPECT_EQ(s1.vote().basis, Basis::kEndpoint);
    EXPECT_EQ(s1.vote().confidence, Confidence::kHigh);  // calibrated log-probabilities
    ASSERT_TRUE(s1.decisive().has_value());
    EXPECT_EQ(s1.decisive()->statistic, Statistic::kEndpointLogprob);

    auto q4 = evaluate_endpoint_check(with_lp(levels, 2, 1e-2), names, 60, o);
    EndpointSection s2(*q4);
    EXPECT_EQ(s2.vote().relation, Relation::kServesClaimed);
    EXPECT_EQ(s2.vote().subtype, "other-precision");
    EXPECT_THAT(s2.vote().reason, HasSubstr("nearest: q4_0"));
    EXPECT_EQ(s2.decisive()->statistic, Statistic::kEndpointPrecision);
    EXPECT_LT(s2.decisive()->p_value, 0.05);

    auto diff = evaluate_endpoint_check(with_lp(levels, -2, 0), names, 60, o);
    EndpointSection s3(*diff);
    EXPECT_EQ(s3.vote().relation, Relation::kNotClaimed);
    EXPECT_EQ(s3.decisive()->statistic, Statistic::kEndpointLogprob);
    EXPECT_LT(s3.decisive()->log10_p, -6);

    // Samples only: inconclusive -> unknown (cannot judge), with the queries needed.
    o.permutations = 199;
    o.min_queries_for_same = 100;
    auto few = evaluate_endpoint_check(synth(11, 10, 2, 4, 0.0, 0.0), {}, 20, o);
    EndpointSection s4(*few);
    EXPECT_EQ(s4.vote().relation, Relation::kUnknown);
    EXPECT_FALSE(s4.vote().can_judge);
    EXPECT_THAT(s4.vote().reason, HasSubstr("needed for a decisive answer"));
    auto sdiff = evaluate_endpoint_check(synth(13, 50, 2, 4, 0.4, 1.5), {}, 100, o);
    EndpointSection s5(*sdiff);
    EXPECT_EQ(s5.vote().relation, Relation::kNotClaimed);
    EXPECT_EQ(s5.vote().confidence, Confidence::kMedium);  // sample tests alone
    const Statistic d5 = s5.decisive()->statistic;
    EXPECT_TRUE(d5 == Statistic::kEndpointMmd || d5 == Statistic::kEndpointRank);
    EXPECT_LT(s5.decisive()->p_value, 0.025);
}

TEST(EndpointSection, StatisticsNullAndRenderings) {
    EndpointCheckOptions o;
    o.permutations = 199;
    o.min_queries_for_same = 100;
    auto r = evaluate_endpoint_check(synth(13, 50, 2, 4, 0.4, 1.5), {}, 100, o);
    ASSERT_TRUE(r.ok());
    r->endpoint = "http://127.0.0.1:9/v1";
    r->model = "stories260K";
    r->claim = "claim.gguf";
    EndpointSection s(*r);
    // Every test has a row; the MMD row carries its permutation null.
    const auto rows = s.statistics();
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].statistic, Statistic::kEndpointMmd);
    EXPECT_TRUE(rows[0].available);
    EXPECT_EQ(rows[0].n_null, 199u);
    EXPECT_GT(rows[0].percentile, 0.9);
    EXPECT_FALSE(rows[2].available);  // no log-probabilities
    auto n = s.null_distribution();
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->values.size(), 199u);
    EXPECT_DOUBLE_EQ(n->observed, r->mmd.statistic);
    // Renderings: JSON is the check's object; the report has the tests table and the null.
    EXPECT_THAT(s.json(), HasSubstr("\"verdict\": \"different\""));
    EXPECT_THAT(s.text(), HasSubstr("endpoint:\n"));
    ReportParts parts;
    s.report(parts);
    ASSERT_GE(parts.tables.size(), 1u);
    EXPECT_EQ(parts.tables[0].title, "Endpoint evidence");
    ASSERT_EQ(parts.tables[0].rows.size(), 4u);
    EXPECT_THAT(parts.tables[0].text, HasSubstr("100 queries on 50 prompts"));
    ASSERT_EQ(parts.distributions.size(), 1u);
    EXPECT_EQ(parts.distributions[0].statistic, "endpoint_mmd_hamming");
    EXPECT_THAT(s.markdown(), HasSubstr("Endpoint evidence"));
    EXPECT_THAT(s.html(), HasSubstr("<svg"));
    // The endpoint side's identity digest: stable, and depends on URL and model name.
    EXPECT_EQ(endpoint_side_digest("http://h/v1", "m"), endpoint_side_digest("http://h/v1", "m"));
    EXPECT_NE(endpoint_side_digest("http://h/v1", "m"), endpoint_side_digest("http://h/v1", "n"));
    EXPECT_EQ(endpoint_side_digest("http://h/v1", "m").size(), 64u);
}

}  // namespace
}  // namespace modelprint

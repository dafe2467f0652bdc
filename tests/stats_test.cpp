// Tests of forensics/stats: every expected value was computed with scipy 1.17 / mpmath (50
// digits) — the commands are in the comments. Tolerances: 1e-9 relative unless stated.
#include "forensics/stats.h"

#include <cmath>
#include <random>

#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

TEST(Stats, AverageRanksLikeScipyRankdata) {
    const std::vector<double> x = {3, 1, 4, 1, 5, 9, 2, 6};
    // scipy.stats.rankdata(x)
    EXPECT_THAT(average_ranks(x), ElementsAre(4, 1.5, 5, 1.5, 6, 8, 3, 7));
}

TEST(Stats, SpearmanWithTies) {
    const std::vector<double> x = {3, 1, 4, 1, 5, 9, 2, 6};
    const std::vector<double> y = {2, 7, 1, 8, 2, 8, 1, 8};
    auto r = spearman_rho(x, y);
    MP_ASSERT_OK(r);
    EXPECT_NEAR(*r, 0.19885368120992467, 1e-12);  // scipy.stats.spearmanr(x, y).statistic
}

TEST(Stats, SpearmanErrors) {
    const std::vector<double> a = {1, 2, 3}, b = {1, 2};
    EXPECT_THAT(spearman_rho(a, b), StatusIs(StatusCode::kInvalidArgument, "lengths differ (3 vs 2)"));
    EXPECT_THAT(spearman_rho(b, b), StatusIs(StatusCode::kInvalidArgument, "at least 3 pairs"));
}

TEST(Stats, NormalTailInLogSpace) {
    // scipy.stats.norm.logsf(z); z = 200 from mpmath log(erfc(200/sqrt 2)/2)
    EXPECT_NEAR(log_normal_sf(0.5), -1.1759117615936188, 1e-12);
    EXPECT_NEAR(log_normal_sf(3), -6.60772622151035, 1e-12);
    EXPECT_NEAR(log_normal_sf(10), -53.23128515051248, 1e-8);
    EXPECT_NEAR(log_normal_sf(40), -804.6084420137539, 1e-8);
    EXPECT_NEAR(log_normal_sf(200), -20006.217280898190, 1e-6);
}

TEST(Stats, StudentTTail) {
    // scipy.stats.t.logsf(t, df)
    EXPECT_NEAR(log_student_t_sf(2.0, 5), -2.976523167161812, 1e-10);
    EXPECT_NEAR(log_student_t_sf(10.0, 30), -24.50092155365831, 1e-9);
    EXPECT_NEAR(log_student_t_sf(50.0, 100), -166.10963191099665, 1e-8);
    EXPECT_NEAR(log_student_t_sf(-1.0, 7), -0.19274569754635276, 1e-10);
}

TEST(Stats, IncompleteBeta) {
    // numpy.log(scipy.special.betainc(a, b, x))
    EXPECT_NEAR(log_beta_inc(2.5, 0.5, 0.3), -3.9671592496583292, 1e-10);
    EXPECT_NEAR(log_beta_inc(3, 4, 0.9), -0.0012708071334453497, 1e-12);
    EXPECT_EQ(log_beta_inc(3, 4, 0.0), -INFINITY);
    EXPECT_EQ(log_beta_inc(3, 4, 1.0), 0.0);
}

TEST(Stats, ChiSquareTail) {
    // scipy.stats.chi2.logsf(x, df); (2000, 40) from mpmath (scipy underflows to -inf there)
    EXPECT_NEAR(log_chi2_sf(3.0, 4), -0.5837092681258446, 1e-12);
    EXPECT_NEAR(log_chi2_sf(100.0, 10), -37.44838565575167, 1e-9);
    EXPECT_NEAR(log_chi2_sf(2000.0, 40), -908.07337076913739, 1e-7);
    EXPECT_NEAR(log_chi2_sf(7.5, 3), -2.8549542914761807, 1e-9);  // odd df: incomplete gamma
    EXPECT_NEAR(log_chi2_sf(500.0, 7), -237.38731145409354, 1e-7);
    EXPECT_NEAR(log_gamma_q(3.5, 250.0), -237.38731145409354, 1e-7);
    EXPECT_EQ(log_chi2_sf(0.0, 4), 0.0);
}

TEST(Stats, FisherCombinationDoesNotUnderflow) {
    std::vector<double> lp = {std::log(1e-3), std::log(0.2), std::log(1e-50), std::log(0.7)};
    // scipy.stats.chi2.logsf(-2 * sum(log p), 8)
    EXPECT_NEAR(fisher_combine_log(lp), -111.30967310076764, 1e-8);
    // 40 layers at p = 1e-300 each: the combined p is far below the double range.
    std::vector<double> tiny(40, -300 * std::log(10.0));
    const double c = fisher_combine_log(tiny);
    EXPECT_TRUE(std::isfinite(c));
    EXPECT_LT(c, -300 * std::log(10.0) * 30);
    EXPECT_EQ(fisher_combine_log({}), 0.0);
}

TEST(Stats, SpearmanPValue) {
    // scipy.stats.t.logsf(0.5 * sqrt(28 / 0.75), 28)
    EXPECT_NEAR(log_spearman_pvalue(0.5, 30), -6.011680791850176, 1e-9);
    // rho = 1: exactly 1/n! under random permutations
    EXPECT_NEAR(log_spearman_pvalue(1.0, 10), -std::log(3628800.0), 1e-9);
    EXPECT_LE(log_spearman_pvalue(-0.9, 30), 0.0);
    EXPECT_GT(log_spearman_pvalue(-0.9, 30), -0.01);
    EXPECT_EQ(log_spearman_pvalue(0.9, 2), 0.0);
}

TEST(Stats, SpearmanPValueIsCalibratedOnRandomPermutations) {
    // Under the null, P(p < 0.05) should be about 0.05 (2000 draws: 0.05 +- 0.015).
    std::mt19937_64 rng(7);
    int hits = 0;
    const int n = 64, draws = 2000;
    std::vector<double> x(n), y(n);
    for (int i = 0; i < n; ++i) x[i] = i;
    for (int d = 0; d < draws; ++d) {
        for (int i = 0; i < n; ++i) y[i] = i;
        std::shuffle(y.begin(), y.end(), rng);
        hits += log_spearman_pvalue(*spearman_rho(x, y), n) < std::log(0.05);
    }
    EXPECT_NEAR(hits / double(draws), 0.05, 0.015);
}

TEST(Stats, UnbiasedCkaInvariances) {
    std::mt19937_64 rng(3);
    std::normal_distribution<float> nd;
    const int64_t n = 40, p = 6;
    std::vector<float> x(n * p), y(n * p), z(n * p);
    for (auto& v : x) v = nd(rng);
    for (auto& v : z) v = nd(rng);
    // y = x with permuted, sign-flipped and uniformly scaled columns (an orthogonal map)
    const int perm[p] = {3, 0, 5, 1, 4, 2};
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < p; ++c) y[i * p + c] = (c % 2 ? -2.5f : 2.5f) * x[i * p + perm[c]];
    auto same = unbiased_cka(x, n, p, y, p);
    MP_ASSERT_OK(same);
    EXPECT_NEAR(*same, 1.0, 1e-9);
    auto indep = unbiased_cka(x, n, p, z, p);
    MP_ASSERT_OK(indep);
    EXPECT_LT(std::fabs(*indep), 0.2);  // unbiased: near 0 for independent data
    EXPECT_THAT(unbiased_cka(x, 3, p, y, p), StatusIs(StatusCode::kInvalidArgument, "4 rows"));
    EXPECT_THAT(unbiased_cka(x, n, p + 1, y, p), StatusIs(StatusCode::kInvalidArgument, "sizes"));
}

TEST(Stats, ProcrustesRecoversARotation) {
    const int64_t n = 30, p = 3;
    std::mt19937_64 rng(5);
    std::normal_distribution<double> nd;
    std::vector<double> x(n * p), y(n * p);
    for (auto& v : x) v = nd(rng);
    // rotation about z by 0.7 rad, then a reflection of x
    const double c = std::cos(0.7), s = std::sin(0.7);
    const double r[9] = {-c, s, 0, s, c, 0, 0, 0, 1};
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < p; ++j) {
            double acc = 0;
            for (int64_t k = 0; k < p; ++k) acc += x[i * p + k] * r[k * p + j];
            y[i * p + j] = acc;
        }
    auto got = orthogonal_procrustes(x, y, n, p);
    MP_ASSERT_OK(got);
    for (int k = 0; k < 9; ++k) EXPECT_NEAR((*got)[k], r[k], 1e-10) << k;
    EXPECT_THAT(orthogonal_procrustes(x, y, n, p + 1),
                StatusIs(StatusCode::kInvalidArgument, "procrustes"));
}

TEST(Stats, Cosine) {
    const std::vector<float> a = {1, 0, 1}, b = {2, 0, 2}, z = {0, 0, 0}, o = {0, 1, 0};
    EXPECT_NEAR(cosine(a, b), 1.0, 1e-12);
    EXPECT_EQ(cosine(a, z), 0.0);
    EXPECT_EQ(cosine(a, o), 0.0);
    const std::vector<double> xs = {1, 2, 3}, ys = {2, 4, 7};
    EXPECT_NEAR(pearson(xs, ys), 0.99339926779878274, 1e-12);  // numpy.corrcoef
}

}  // namespace
}  // namespace modelprint

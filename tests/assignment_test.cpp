// Tests of forensics/assignment: optimality against brute force over all injective maps on
// small random matrices (square and rectangular), a scipy-checked example, permutation
// recovery at size 300, and every error path.
#include "forensics/assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include <set>
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

double total(const std::vector<double>& c, int64_t m, const std::vector<int32_t>& col) {
    double s = 0;
    for (size_t i = 0; i < col.size(); ++i) s += c[i * m + col[i]];
    return s;
}

// Minimum over injective maps rows -> columns by enumerating permutations of the columns.
double brute_min(const std::vector<double>& c, int64_t n, int64_t m) {
    std::vector<int32_t> cols(m);
    std::iota(cols.begin(), cols.end(), 0);
    double best = std::numeric_limits<double>::infinity();
    do {
        std::vector<int32_t> pick(cols.begin(), cols.begin() + n);
        best = std::min(best, total(c, m, pick));
    } while (std::next_permutation(cols.begin(), cols.end()));
    return best;
}

TEST(Assignment, MatchesBruteForce) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int trial = 0; trial < 60; ++trial) {
        const int64_t n = 1 + trial % 6, m = n + (trial / 6) % 3;
        std::vector<double> c(n * m);
        for (auto& v : c) v = (trial % 4 == 0) ? std::round(u(rng) * 3) : u(rng);  // ties too
        auto got = solve_assignment_min(c, n, m);
        MP_ASSERT_OK(got);
        std::vector<int32_t> sorted = *got;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "distinct";
        EXPECT_NEAR(total(c, m, *got), brute_min(c, n, m), 1e-12) << n << "x" << m;
    }
}

TEST(Assignment, ScipyExample) {
    // scipy.optimize.linear_sum_assignment([[4,1,3],[2,0,5],[3,2,2]]) -> cols [1,0,2], cost 5
    const std::vector<double> c = {4, 1, 3, 2, 0, 5, 3, 2, 2};
    auto got = solve_assignment_min(c, 3, 3);
    MP_ASSERT_OK(got);
    EXPECT_THAT(*got, ::testing::ElementsAre(1, 0, 2));
}

TEST(Assignment, RecoversANoisyPermutation) {
    const int64_t n = 300;
    std::mt19937_64 rng(2);
    std::vector<int32_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::normal_distribution<double> nd(0, 0.1);
    std::vector<double> sim(n * n);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) sim[i * n + j] = (perm[i] == j ? 1.0 : 0.0) + nd(rng);
    auto got = solve_max_similarity(sim, n, n);
    MP_ASSERT_OK(got);
    EXPECT_EQ(*got, perm);
}

TEST(Assignment, MaxSimilarityRectangularBothWays) {
    // 3 rows x 2 cols: row 1 is left unmatched.
    const std::vector<double> tall = {0.9, 0.1, 0.2, 0.3, 0.1, 0.8};
    auto got = solve_max_similarity(tall, 3, 2);
    MP_ASSERT_OK(got);
    EXPECT_THAT(*got, ::testing::ElementsAre(0, -1, 1));
    const std::vector<double> wide = {0.1, 0.9, 0.2, 0.7, 0.8, 0.0};
    got = solve_max_similarity(wide, 2, 3);
    MP_ASSERT_OK(got);
    EXPECT_THAT(*got, ::testing::ElementsAre(1, 0));
}

TEST(Assignment, Errors) {
    const std::vector<double> c = {1, 2, 3, 4, 5, 6};
    EXPECT_THAT(solve_assignment_min(c, 3, 2),
                StatusIs(StatusCode::kInvalidArgument, "need 0 <= rows <= cols, got 3 x 2"));
    EXPECT_THAT(solve_assignment_min(c, 2, 2),
                StatusIs(StatusCode::kInvalidArgument, "cost has 6 entries, expected 2 x 2"));
    const std::vector<double> bad = {1, std::nan(""), 3, 4};
    EXPECT_THAT(solve_assignment_min(bad, 2, 2),
                StatusIs(StatusCode::kInvalidArgument, "entry 1 (row 0, col 1) is not finite"));
    EXPECT_THAT(solve_max_similarity(c, 4, 2),
                StatusIs(StatusCode::kInvalidArgument, "similarity has 6 entries"));
    auto empty = solve_assignment_min({}, 0, 0);
    MP_ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(Assignment, GreedyRecoversANoisyPermutation) {
    // 300 x 500: row i belongs to column perm[i] (similarity ~0.8 + noise) among noise ~0.1.
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0.0, 0.2);
    const int64_t n = 300, m = 500;
    std::vector<int32_t> perm(m);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<double> sim(n * m);
    for (auto& x : sim) x = u(rng);
    for (int64_t i = 0; i < n; ++i) sim[i * m + perm[i]] = 0.7 + u(rng);
    auto greedy = greedy_max_similarity(sim, n, m);
    auto exact = solve_max_similarity(sim, n, m);
    MP_ASSERT_OK(greedy);
    MP_ASSERT_OK(exact);
    EXPECT_EQ(*greedy, *exact);
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ((*greedy)[i], perm[i]);
    // The switch: a limit below n^2 m takes the greedy path, with the same answer here.
    auto switched = match_max_similarity(sim, n, m, 1.0);
    MP_ASSERT_OK(switched);
    EXPECT_EQ(*switched, *exact);
}

TEST(Assignment, GreedyIsAMatchingOnNoise) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (auto [n, m] : {std::pair<int64_t, int64_t>{64, 64}, {80, 50}, {50, 80}}) {
        std::vector<double> sim(n * m);
        for (auto& x : sim) x = u(rng);
        auto g = greedy_max_similarity(sim, n, m, 2);  // few candidates: the fallback scan runs
        MP_ASSERT_OK(g);
        std::set<int32_t> cols;
        int64_t unmatched = 0;
        double total_g = 0, total_e = 0;
        for (int64_t i = 0; i < n; ++i) {
            if ((*g)[i] < 0) {
                ++unmatched;
                continue;
            }
            EXPECT_TRUE(cols.insert((*g)[i]).second) << "column used twice";
            total_g += sim[i * m + (*g)[i]];
        }
        EXPECT_EQ(unmatched, std::max<int64_t>(0, n - m));
        auto e = solve_max_similarity(sim, n, m);
        MP_ASSERT_OK(e);
        for (int64_t i = 0; i < n; ++i)
            if ((*e)[i] >= 0) total_e += sim[i * m + (*e)[i]];
        EXPECT_LE(total_g, total_e + 1e-9);  // the exact solver is optimal...
        EXPECT_GT(total_g, 0.9 * total_e);   // ...and greedy is close on uniform noise
    }
    const std::vector<double> bad = {1, std::nan(""), 3, 4};
    EXPECT_THAT(greedy_max_similarity(bad, 2, 2), StatusIs(StatusCode::kInvalidArgument, "not finite"));
    EXPECT_THAT(greedy_max_similarity(bad, 3, 2), StatusIs(StatusCode::kInvalidArgument, "4 entries"));
}

}  // namespace
}  // namespace modelprint

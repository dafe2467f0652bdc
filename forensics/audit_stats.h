// Statistics of the benchmark audit: the Wilson score interval of an accuracy, exact binomial
// tails in log space (no underflow: a p-value of 1e-900 is returned as its logarithm), the
// one-sided exact binomial test of a claimed accuracy, the exact sign test, the permutation
// p-value, Min-K% probability, and the seeded random numbers (SplitMix64) behind few-shot
// sampling, shuffled-order permutations and anything else the audit draws.
// Sources: Wilson, "Probable inference, the law of succession, and statistical inference",
// JASA 22 (1927) — the same interval as scipy.stats.binomtest(...).proportion_ci("wilson");
// the binomial tails are sums of pmf terms evaluated with lgamma and log1p, checked against
// 60-digit mpmath sums and scipy.stats.binom (tests/audit_test.cpp, stats_golden.json);
// Min-K% from Shi et al., "Detecting Pretraining Data from Large Language Models", ICLR 2024
// (mean of the k% lowest token log-probabilities, k_length = int(T * ratio) as their code);
// SplitMix64 from Steele, Lea & Flood, OOPSLA 2014 (the constants of Vigna's splitmix64.c).
// Not here: the engine, benchmark files (audit_bench.h), the audit itself (audit.h).
// Invariants: every function is deterministic; log-probabilities are <= 0; -inf stands for
// probability 0.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

// Two-sided 95% normal quantile, scipy.stats.norm.ppf(0.975).
inline constexpr double kZ975 = 1.959963984540054;

struct Interval {
    double low = 0.0;
    double high = 0.0;
};

// Wilson score interval of k successes in n trials at the normal quantile z.
// kInvalidArgument when n <= 0, k < 0 or k > n.
Result<Interval> wilson_interval(int64_t k, int64_t n, double z = kZ975);

// ln P(X <= k) and ln P(X >= k) for X ~ Binomial(n, p), exact up to double rounding, in log
// space. k outside [0, n] is allowed (the tail is then 0 or 1). kInvalidArgument when n < 0 or
// p is not in [0, 1].
Result<double> binom_log_cdf(int64_t k, int64_t n, double p);
Result<double> binom_log_sf_ge(int64_t k, int64_t n, double p);

// One-sided exact binomial test of H0 "the true accuracy is at least `claim`" against
// "it is lower", from `correct` of `n`: p-value = P(X <= correct | n, claim).
struct ClaimTest {
    double claim = 0.0;
    double alpha = 0.05;
    double log_p_value = 0.0;  // natural log
    double p_value = 1.0;      // exp(log_p_value); 0 when it underflows (see log10_p_value)
    double log10_p_value = 0.0;
    bool consistent = true;  // p_value >= alpha
};
// kInvalidArgument when claim or alpha is outside [0, 1] / (0, 1), or correct/n are invalid.
Result<ClaimTest> test_claim(int64_t correct, int64_t n, double claim, double alpha);

// Exact one-sided sign test: `wins` pairs where the first member is larger, `losses` where it
// is smaller (ties dropped); ln P(W >= wins) for W ~ Binomial(wins + losses, 1/2). 0 (p = 1)
// when there are no untied pairs.
Result<double> sign_test_log_p(int64_t wins, int64_t losses);

// Monte Carlo permutation p-value with the observed statistic counted among the permutations:
// (1 + #{permuted >= observed}) / (1 + M) (Phipson & Smyth 2010, never 0).
double permutation_p_value(double observed, std::span<const double> permuted);

// Min-K% probability of a text from its token log-probabilities: the mean of the
// max(1, floor(T * ratio)) lowest. kInvalidArgument for an empty span or ratio outside (0, 1].
Result<double> min_k_percent(std::span<const double> token_logprobs, double ratio);

// SplitMix64 (Vigna, splitmix64.c): state += 0x9E3779B97F4A7C15 then the two xor-shift-multiply
// rounds. uniform(n) is unbiased by rejection of the lowest (2^64 mod n) outputs.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next();
    uint64_t uniform(uint64_t n);  // in [0, n); n >= 1

private:
    uint64_t state_;
};

// Fisher-Yates from the end: for i = n-1 .. 1, swap(a[i], a[uniform(i + 1)]), starting from the
// identity. The same sequence as bench/audit_vs_transformers.py's seeded_permutation.
std::vector<size_t> seeded_permutation(size_t n, uint64_t seed);

}  // namespace modelprint

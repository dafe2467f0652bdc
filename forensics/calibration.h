// Calibration of behaviour statistics against a null of independent pairs.
// A statistic observed for the pair under test is compared with the same statistic over pairs
// of models known (or assumed, and then named as such in the report) to be independent:
//   percentile   fraction of null values <= the observed value (for "greater" statistics);
//   p_empirical  (1 + #{null >= observed}) / (n + 1) — exact under exchangeability of the pair
//                with the null pairs (Phipson & Smyth 2010), never below 1/(n+1);
//   p_t          the Student-t predictive p-value of the observed value under a normal model of
//                the null (mean m, sd s from n values): t = (x - m) / (s * sqrt(1 + 1/n)),
//                df = n - 1 (the prediction-interval form; e.g. Geisser 1993, ch. 2).
// A null of fewer than kMinNullPairs values is `insufficient`: callers must say so and lower
// their confidence (or answer unknown) instead of using the p-values as if they were firm.
// "less" statistics (e.g. JS divergence) are handled by negating internally.
// Also: the exact rank-sum p-value of per-probe ranks (cross-likelihood rank test) and ROC AUC
// (Mann-Whitney U / (n_pos n_neg), ties counted 1/2).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace modelprint {

inline constexpr size_t kMinNullPairs = 5;

enum class Tail : uint8_t { kGreater, kLess };

struct Calibrated {
    double value = 0.0;
    size_t n_null = 0;
    double null_mean = 0.0, null_sd = 0.0, null_max = 0.0;  // null_max: the most extreme
    double percentile = 0.0;
    double p_empirical = 1.0;
    double p_t = 1.0;
    bool sufficient = false;  // n_null >= kMinNullPairs
    bool exceeds_null = false;  // more extreme than every null value
};

Calibrated calibrate(double value, std::span<const double> null, Tail tail = Tail::kGreater);

double normal_cdf(double z);
double normal_sf(double z);  // 1 - Phi(z), accurate in the tail
// Upper tail P(T > t) of Student's t with df > 0 degrees of freedom.
double student_t_sf(double t, double df);
// Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes 3rd ed. §6.4).
double incomplete_beta(double a, double b, double x);

// Probes i = 1..n each give a rank r_i in {0..m} of the reference among m+1 responders (0 =
// lowest); under exchangeability ranks are independent and uniform. Returns the exact
// P(sum r >= observed sum). Needs m >= 1; O(n^2 m^2) time (probe sets are small).
double rank_sum_p(std::span<const int> ranks, int m);

// Exact upper binomial tail P(X >= k), X ~ Binomial(n, p), summed in log space.
double binomial_sf(int64_t k, int64_t n, double p);

// ROC AUC of scores of positives vs negatives (0.5 when either is empty).
double roc_auc(std::span<const double> positives, std::span<const double> negatives);

}  // namespace modelprint

// Statistics of the benchmark audit (see audit_stats.h for sources).
// Binomial tails: a tail that lies on one side of the mode floor((n + 1) p) is summed directly
// in log space, walking outward from the term nearest the mode until the terms fall 60 nats
// (1e-26 relative) below the largest; a tail that contains the mode is computed as
// log1p(-other tail), so values near 1 (log near 0) keep full relative precision.
#include "forensics/audit_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace modelprint {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kNegligibleNats = 60.0;

Status check_binom(int64_t n, double p) {
    if (n < 0) return invalid_argument("binomial: n = {} is negative", n);
    if (!(p >= 0.0 && p <= 1.0)) return invalid_argument("binomial: p = {} is not in [0, 1]", p);
    return Status();
}

// ln of the Binomial(n, p) pmf at i, 0 < p < 1, 0 <= i <= n.
double log_pmf(int64_t i, int64_t n, double log_p, double log_q, double lg_n1) {
    const double di = static_cast<double>(i), dn = static_cast<double>(n);
    return lg_n1 - std::lgamma(di + 1.0) - std::lgamma(dn - di + 1.0) + di * log_p +
           (dn - di) * log_q;
}

// ln sum_{i=lo}^{hi} pmf(i), 0 <= lo <= hi <= n, 0 < p < 1: outward from the term nearest the
// mode, stopping in each direction once a term is kNegligibleNats below the first.
double log_sum_range(int64_t lo, int64_t hi, int64_t n, double p) {
    const double log_p = std::log(p), log_q = std::log1p(-p);
    const double lg_n1 = std::lgamma(static_cast<double>(n) + 1.0);
    const auto mode = static_cast<int64_t>(std::floor((static_cast<double>(n) + 1.0) * p));
    const int64_t start = std::clamp(mode, lo, hi);
    const double top = log_pmf(start, n, log_p, log_q, lg_n1);
    double sum = 1.0;  // exp(term - top), accumulated in a double
    for (int64_t i = start + 1; i <= hi; ++i) {
        const double t = log_pmf(i, n, log_p, log_q, lg_n1) - top;
        if (t < -kNegligibleNats) break;
        sum += std::exp(t);
    }
    for (int64_t i = start - 1; i >= lo; --i) {
        const double t = log_pmf(i, n, log_p, log_q, lg_n1) - top;
        if (t < -kNegligibleNats) break;
        sum += std::exp(t);
    }
    return top + std::log(sum);
}

// ln(1 - exp(x)) for x <= 0.
double log1m_exp(double x) {
    if (x == kNegInf) return 0.0;
    return x > -0.693 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

}  // namespace

Result<Interval> wilson_interval(int64_t k, int64_t n, double z) {
    if (n <= 0) return invalid_argument("Wilson interval: n = {} trials (need at least 1)", n);
    if (k < 0 || k > n) return invalid_argument("Wilson interval: k = {} is not in [0, {}]", k, n);
    if (!(z > 0.0)) return invalid_argument("Wilson interval: z = {} is not positive", z);
    const double dn = static_cast<double>(n), ph = static_cast<double>(k) / dn, z2 = z * z;
    const double denom = 1.0 + z2 / dn;
    const double center = (ph + z2 / (2.0 * dn)) / denom;
    const double half = z / denom * std::sqrt(ph * (1.0 - ph) / dn + z2 / (4.0 * dn * dn));
    Interval iv{std::max(0.0, center - half), std::min(1.0, center + half)};
    if (k == 0) iv.low = 0.0;
    if (k == n) iv.high = 1.0;
    return iv;
}

Result<double> binom_log_cdf(int64_t k, int64_t n, double p) {
    MP_TRY(check_binom(n, p));
    if (k < 0) return kNegInf;
    if (k >= n) return 0.0;
    if (p == 0.0) return 0.0;      // X = 0 <= k
    if (p == 1.0) return kNegInf;  // X = n > k
    const auto mode = static_cast<int64_t>(std::floor((static_cast<double>(n) + 1.0) * p));
    if (k < mode) return log_sum_range(0, k, n, p);
    return log1m_exp(log_sum_range(k + 1, n, n, p));
}

Result<double> binom_log_sf_ge(int64_t k, int64_t n, double p) {
    MP_TRY(check_binom(n, p));
    if (k <= 0) return 0.0;
    if (k > n) return kNegInf;
    if (p == 0.0) return kNegInf;  // X = 0 < k
    if (p == 1.0) return 0.0;      // X = n >= k
    const auto mode = static_cast<int64_t>(std::floor((static_cast<double>(n) + 1.0) * p));
    if (k > mode) return log_sum_range(k, n, n, p);
    return log1m_exp(log_sum_range(0, k - 1, n, p));
}

Result<ClaimTest> test_claim(int64_t correct, int64_t n, double claim, double alpha) {
    if (!(claim >= 0.0 && claim <= 1.0)) {
        return invalid_argument(
            "claimed accuracy {} is not in [0, 1] (give a fraction: 0.9, not 90)", claim);
    }
    if (!(alpha > 0.0 && alpha < 1.0)) {
        return invalid_argument("significance level alpha = {} is not in (0, 1)", alpha);
    }
    if (n <= 0) return invalid_argument("claim test: n = {} items (need at least 1)", n);
    if (correct < 0 || correct > n) {
        return invalid_argument("claim test: {} correct is not in [0, {}]", correct, n);
    }
    ClaimTest t;
    t.claim = claim;
    t.alpha = alpha;
    MP_ASSIGN_OR_RETURN(t.log_p_value, binom_log_cdf(correct, n, claim));
    t.p_value = std::exp(t.log_p_value);
    t.log10_p_value = t.log_p_value / std::log(10.0);
    t.consistent = t.log_p_value >= std::log(alpha);
    return t;
}

Result<double> sign_test_log_p(int64_t wins, int64_t losses) {
    if (wins < 0 || losses < 0) {
        return invalid_argument("sign test: wins = {} and losses = {} must be >= 0", wins, losses);
    }
    if (wins + losses == 0) return 0.0;
    return binom_log_sf_ge(wins, wins + losses, 0.5);
}

double permutation_p_value(double observed, std::span<const double> permuted) {
    size_t ge = 0;
    for (double v : permuted) ge += v >= observed ? 1 : 0;
    return static_cast<double>(1 + ge) / static_cast<double>(1 + permuted.size());
}

Result<double> min_k_percent(std::span<const double> token_logprobs, double ratio) {
    if (token_logprobs.empty()) return invalid_argument("Min-K%: no scored tokens");
    if (!(ratio > 0.0 && ratio <= 1.0)) {
        return invalid_argument("Min-K%: ratio {} is not in (0, 1]", ratio);
    }
    std::vector<double> v(token_logprobs.begin(), token_logprobs.end());
    std::sort(v.begin(), v.end());
    const auto count =
        std::max<size_t>(1, static_cast<size_t>(std::floor(static_cast<double>(v.size()) * ratio)));
    double sum = 0.0;
    for (size_t i = 0; i < count; ++i) sum += v[i];
    return sum / static_cast<double>(count);
}

uint64_t SplitMix64::next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::uniform(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
        const uint64_t r = next();
        if (r >= threshold) return r % n;
    }
}

std::vector<size_t> seeded_permutation(size_t n, uint64_t seed) {
    std::vector<size_t> a(n);
    for (size_t i = 0; i < n; ++i) a[i] = i;
    SplitMix64 rng(seed);
    for (size_t i = n; i > 1; --i) {
        const auto j = static_cast<size_t>(rng.uniform(i));
        std::swap(a[i - 1], a[j]);
    }
    return a;
}

}  // namespace modelprint

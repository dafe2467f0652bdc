// Calibration against null pairs, t and normal tails, rank-sum test, ROC AUC (calibration.h).
#include "forensics/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "forensics/stats.h"

namespace modelprint {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double normal_sf(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// Both through the log-space tails of forensics/stats.h (one continued fraction, NR3 §6.4).
double incomplete_beta(double a, double b, double x) { return std::exp(log_beta_inc(a, b, x)); }

double student_t_sf(double t, double df) {
    if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
    if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
    return std::exp(log_student_t_sf(t, df));
}

Calibrated calibrate(double value, std::span<const double> null_in, Tail tail) {
    const double sign = tail == Tail::kGreater ? 1.0 : -1.0;
    std::vector<double> null;
    for (double v : null_in) {
        if (std::isfinite(v)) null.push_back(sign * v);
    }
    const double x = sign * value;
    Calibrated c;
    c.value = value;
    c.n_null = null.size();
    c.sufficient = c.n_null >= kMinNullPairs;
    if (null.empty()) return c;
    const double n = static_cast<double>(null.size());
    double mean = std::accumulate(null.begin(), null.end(), 0.0) / n;
    double ss = 0.0;
    for (double v : null) ss += (v - mean) * (v - mean);
    const double sd = null.size() > 1 ? std::sqrt(ss / (n - 1.0)) : 0.0;
    const double mx = *std::max_element(null.begin(), null.end());
    c.null_mean = sign * mean;
    c.null_sd = sd;
    c.null_max = sign * mx;
    size_t below = 0, at_or_above = 0;
    for (double v : null) {
        below += v <= x ? 1 : 0;
        at_or_above += v >= x ? 1 : 0;
    }
    c.percentile = static_cast<double>(below) / n;
    c.p_empirical = (1.0 + static_cast<double>(at_or_above)) / (n + 1.0);
    c.exceeds_null = std::isfinite(x) && x > mx;
    if (null.size() >= 3 && sd > 0) {
        const double t = (x - mean) / (sd * std::sqrt(1.0 + 1.0 / n));
        c.p_t = student_t_sf(t, n - 1.0);
    } else {
        c.p_t = c.p_empirical;
    }
    return c;
}

double binomial_sf(int64_t k, int64_t n, double p) {
    if (k <= 0) return 1.0;
    if (k > n || !(p > 0.0)) return 0.0;
    if (p >= 1.0) return 1.0;
    // log C(n, j) + j log p + (n - j) log(1 - p), summed from the largest term (log-sum-exp).
    std::vector<double> terms;
    for (int64_t j = k; j <= n; ++j) {
        const double lc = std::lgamma(static_cast<double>(n) + 1) -
                          std::lgamma(static_cast<double>(j) + 1) -
                          std::lgamma(static_cast<double>(n - j) + 1);
        terms.push_back(lc + static_cast<double>(j) * std::log(p) +
                        static_cast<double>(n - j) * std::log1p(-p));
    }
    const double mx = *std::max_element(terms.begin(), terms.end());
    double sum = 0.0;
    for (double t : terms) sum += std::exp(t - mx);
    return std::min(1.0, std::exp(mx) * sum);
}

double rank_sum_p(std::span<const int> ranks, int m) {
    if (m < 1 || ranks.empty()) return 1.0;
    const size_t n = ranks.size();
    const size_t max_sum = n * static_cast<size_t>(m);
    int64_t observed = 0;
    for (int r : ranks) observed += std::clamp(r, 0, m);
    // dist[s] = P(sum of the first k ranks = s), each rank uniform on 0..m; direct convolution
    // (no running-window subtraction, whose cancellation would swamp p-values below 1e-17).
    std::vector<double> dist(max_sum + 1, 0.0), next(max_sum + 1, 0.0);
    dist[0] = 1.0;
    const double w = 1.0 / (m + 1);
    size_t top = 0;
    for (size_t k = 0; k < n; ++k) {
        const size_t new_top = top + static_cast<size_t>(m);
        std::fill(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(new_top) + 1, 0.0);
        for (size_t s = 0; s <= top; ++s) {
            if (dist[s] == 0.0) continue;
            const double v = dist[s] * w;
            for (size_t r = 0; r <= static_cast<size_t>(m); ++r) next[s + r] += v;
        }
        std::swap(dist, next);
        top = new_top;
    }
    double p = 0.0;
    for (size_t s = static_cast<size_t>(std::max<int64_t>(observed, 0)); s <= max_sum; ++s) {
        p += dist[s];
    }
    return std::clamp(p, 0.0, 1.0);
}

double roc_auc(std::span<const double> positives, std::span<const double> negatives) {
    if (positives.empty() || negatives.empty()) return 0.5;
    double u = 0.0;
    for (double p : positives) {
        for (double q : negatives) u += p > q ? 1.0 : (p == q ? 0.5 : 0.0);
    }
    return u / (static_cast<double>(positives.size()) * static_cast<double>(negatives.size()));
}

}  // namespace modelprint

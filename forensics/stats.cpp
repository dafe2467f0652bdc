// Statistics for weight forensics (see stats.h for the sources of every formula).
#include "forensics/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

extern "C" {
// LAPACK (OpenBLAS exports it): SVD of a column-major m x n matrix.
void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a,
             const int* lda, double* s, double* u, const int* ldu, double* vt, const int* ldvt,
             double* work, const int* lwork, int* info);
}

namespace modelprint {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double log_sum_exp(double a, double b) {
    if (a == kNegInf) return b;
    if (b == kNegInf) return a;
    const double m = std::max(a, b);
    return m + std::log(std::exp(a - m) + std::exp(b - m));
}

// log(1 - exp(x)) for x <= 0 (Maechler 2012, "Accurately computing log(1 - exp(-|a|))").
double log1m_exp(double x) {
    if (x >= 0) return kNegInf;
    return x > -0.693147 ? std::log(-std::expm1(x)) : std::log1p(-std::exp(x));
}

// Continued fraction of the incomplete beta (Numerical Recipes 3rd ed. 6.4, betacf; Lentz).
double beta_cf(double a, double b, double x) {
    constexpr double kFpMin = 1e-300;
    constexpr double kEps = 1e-15;
    const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (std::fabs(d) < kFpMin) d = kFpMin;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 10000; ++m) {
        const int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < kFpMin) d = kFpMin;
        c = 1.0 + aa / c;
        if (std::fabs(c) < kFpMin) c = kFpMin;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < kFpMin) d = kFpMin;
        c = 1.0 + aa / c;
        if (std::fabs(c) < kFpMin) c = kFpMin;
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (std::fabs(del - 1.0) < kEps) break;
    }
    return h;
}
}  // namespace

std::vector<double> average_ranks(std::span<const double> x) {
    const size_t n = x.size();
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> r(n);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) ++j;
        const double avg = 0.5 * static_cast<double>(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
        i = j + 1;
    }
    return r;
}

double pearson(std::span<const double> x, std::span<const double> y) {
    const size_t n = std::min(x.size(), y.size());
    if (n == 0) return 0.0;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx <= 0 || syy <= 0) return 0.0;
    return sxy / std::sqrt(sxx * syy);
}

Result<double> spearman_rho(std::span<const double> x, std::span<const double> y) {
    if (x.size() != y.size()) {
        return invalid_argument("spearman: lengths differ ({} vs {})", x.size(), y.size());
    }
    if (x.size() < 3) return invalid_argument("spearman: need at least 3 pairs, got {}", x.size());
    const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
    return pearson(rx, ry);
}

double log_normal_sf(double z) {
    if (z < 37.0) return std::log(0.5 * std::erfc(z / std::sqrt(2.0)));  // no underflow below 37
    // Asymptotic series (Abramowitz & Stegun 26.2.12): phi(z)/z * (1 - 1/z^2 + 3/z^4 - 15/z^6).
    const double z2 = z * z;
    const double series = 1.0 - 1.0 / z2 + 3.0 / (z2 * z2) - 15.0 / (z2 * z2 * z2);
    return -0.5 * z2 - std::log(z) - 0.5 * std::log(2.0 * M_PI) + std::log(series);
}

double log_beta_inc(double a, double b, double x) {
    if (x <= 0) return kNegInf;
    if (x >= 1) return 0.0;
    const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                             a * std::log(x) + b * std::log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) return log_front + std::log(beta_cf(a, b, x)) - std::log(a);
    // I_x(a,b) = 1 - I_{1-x}(b,a)
    const double other = log_front + std::log(beta_cf(b, a, 1.0 - x)) - std::log(b);
    return log1m_exp(other);
}

double log_binomial_sf(int64_t k, int64_t n, double p) {
    if (k <= 0) return 0.0;
    if (k > n) return kNegInf;
    if (n > 100000) return log_beta_inc(static_cast<double>(k), static_cast<double>(n - k + 1), p);
    // log pmf(j) = lgamma(n+1) - lgamma(j+1) - lgamma(n-j+1) + j log p + (n-j) log(1-p), summed
    // from the largest term outwards in a fixed order (log-sum-exp).
    const double lp = std::log(p), lq = std::log1p(-p), ln = std::lgamma(static_cast<double>(n) + 1);
    auto term = [&](int64_t j) {
        return ln - std::lgamma(static_cast<double>(j) + 1) -
               std::lgamma(static_cast<double>(n - j) + 1) + static_cast<double>(j) * lp +
               static_cast<double>(n - j) * lq;
    };
    double mx = kNegInf;
    for (int64_t j = k; j <= n; ++j) mx = std::max(mx, term(j));
    double acc = 0.0;
    for (int64_t j = k; j <= n; ++j) acc += std::exp(term(j) - mx);
    return std::min(0.0, mx + std::log(acc));
}

KsResult ks_uniform(std::span<const double> u) {
    KsResult r;
    if (u.empty()) return r;
    std::vector<double> x(u.begin(), u.end());
    std::sort(x.begin(), x.end());
    const auto n = static_cast<double>(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = std::clamp(x[i], 0.0, 1.0);
        r.d = std::max({r.d, (static_cast<double>(i) + 1.0) / n - v, v - static_cast<double>(i) / n});
    }
    const double sn = std::sqrt(n), lambda = (sn + 0.12 + 0.11 / sn) * r.d;
    double sum = 0.0, sign = 1.0;
    for (int k = 1; k <= 200; ++k) {
        const double term = std::exp(-2.0 * k * k * lambda * lambda);
        sum += sign * term;
        sign = -sign;
        if (term < 1e-18) break;
    }
    r.p_value = std::clamp(2.0 * sum, 0.0, 1.0);
    if (lambda < 0.3) r.p_value = 1.0;  // the series converges slowly there; Q(lambda) = 1 - 1e-9
    return r;
}

double log_student_t_sf(double t, double df) {
    if (std::isinf(t)) return t > 0 ? kNegInf : 0.0;
    // P(T > t) = 0.5 * I_{df/(df+t^2)}(df/2, 1/2) for t >= 0 (NR 3rd ed. 6.14.10).
    const double x = df / (df + t * t);
    const double half_tail = std::log(0.5) + log_beta_inc(0.5 * df, 0.5, x);
    return t >= 0 ? half_tail : log1m_exp(half_tail);
}

double log_gamma_q(double a, double x) {
    if (x <= 0) return 0.0;
    const double log_front = -x + a * std::log(x) - std::lgamma(a);
    if (x < a + 1.0) {
        // Series for P(a, x) (NR 6.2.5), Q = 1 - P.
        double ap = a, sum = 1.0 / a, del = sum;
        for (int n = 0; n < 100000; ++n) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (std::fabs(del) < std::fabs(sum) * 1e-16) break;
        }
        return log1m_exp(log_front + std::log(sum));
    }
    // Continued fraction for Q(a, x) (NR 6.2.7, Lentz).
    constexpr double kFpMin = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / kFpMin, d = 1.0 / b, h = d;
    for (int i = 1; i < 100000; ++i) {
        const double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (std::fabs(d) < kFpMin) d = kFpMin;
        c = b + an / c;
        if (std::fabs(c) < kFpMin) c = kFpMin;
        d = 1.0 / d;
        const double del = d * c;
        h *= del;
        if (std::fabs(del - 1.0) < 1e-16) break;
    }
    return log_front + std::log(h);
}

double log_chi2_sf(double x, double df) {
    if (x <= 0) return 0.0;
    const double k = 0.5 * df;
    if (df == std::floor(df) && static_cast<int64_t>(df) % 2 == 0 && df <= 2000) {
        // Even df: P(X > x) = exp(-x/2) sum_{j<k} (x/2)^j / j!  (exact, log-sum-exp).
        const double h = 0.5 * x;
        double acc = kNegInf;
        for (int64_t j = 0; j < static_cast<int64_t>(k); ++j) {
            acc = log_sum_exp(acc, static_cast<double>(j) * std::log(h) -
                                       std::lgamma(static_cast<double>(j) + 1.0));
        }
        return -h + acc;
    }
    return log_gamma_q(k, 0.5 * x);
}

double log_spearman_pvalue(double rho, int64_t n) {
    if (n < 3) return 0.0;
    const double floor_log = -std::lgamma(static_cast<double>(n) + 1.0);  // log(1/n!)
    if (rho >= 1.0) return floor_log;
    const double df = static_cast<double>(n - 2);
    const double t = rho * std::sqrt(df / std::max(1e-300, 1.0 - rho * rho));
    return std::min(0.0, std::max(floor_log, log_student_t_sf(t, df)));
}

double fisher_combine_log(std::span<const double> log_ps) {
    if (log_ps.empty()) return 0.0;
    double x = 0;
    for (double lp : log_ps) x += -2.0 * std::min(0.0, lp);
    return std::min(0.0, log_chi2_sf(x, 2.0 * static_cast<double>(log_ps.size())));
}

Result<double> unbiased_cka(std::span<const float> x, int64_t n, int64_t p,
                            std::span<const float> y, int64_t q) {
    if (n < 4) return invalid_argument("unbiased CKA: need at least 4 rows, got {}", n);
    if (static_cast<int64_t>(x.size()) != n * p || static_cast<int64_t>(y.size()) != n * q) {
        return invalid_argument("unbiased CKA: sizes {} and {} do not match {} x {} and {} x {}",
                                x.size(), y.size(), n, p, n, q);
    }
    auto gram = [n](std::span<const float> m, int64_t d) {
        std::vector<double> k(static_cast<size_t>(n * n), 0.0);
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = i; j < n; ++j) {
                double s = 0;
                for (int64_t c = 0; c < d; ++c) s += double(m[i * d + c]) * double(m[j * d + c]);
                k[i * n + j] = k[j * n + i] = (i == j) ? 0.0 : s;  // diagonal zeroed (eq. 5)
            }
        }
        return k;
    };
    const std::vector<double> k = gram(x, p), l = gram(y, q);
    // HSIC_1 = [tr(K L) + 1^T K 1 1^T L 1 / ((n-1)(n-2)) - 2/(n-2) 1^T K L 1] / (n (n-3))
    auto hsic = [n](const std::vector<double>& a, const std::vector<double>& b) {
        double tr = 0, sa = 0, sb = 0, cross = 0;
        std::vector<double> ra(n, 0.0), rb(n, 0.0);
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = 0; j < n; ++j) {
                tr += a[i * n + j] * b[j * n + i];
                ra[i] += a[i * n + j];
                rb[i] += b[i * n + j];
            }
            sa += ra[i];
            sb += rb[i];
        }
        for (int64_t i = 0; i < n; ++i) cross += ra[i] * rb[i];
        const double dn = static_cast<double>(n);
        return (tr + sa * sb / ((dn - 1) * (dn - 2)) - 2.0 / (dn - 2) * cross) / (dn * (dn - 3));
    };
    const double kl = hsic(k, l), kk = hsic(k, k), ll = hsic(l, l);
    if (kk <= 0 || ll <= 0) return 0.0;
    return kl / std::sqrt(kk * ll);
}

double cosine(std::span<const float> a, std::span<const float> b) {
    const size_t n = std::min(a.size(), b.size());
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; ++i) {
        ab += double(a[i]) * double(b[i]);
        aa += double(a[i]) * double(a[i]);
        bb += double(b[i]) * double(b[i]);
    }
    if (aa <= 0 || bb <= 0) return 0.0;
    return ab / std::sqrt(aa * bb);
}

Result<std::vector<double>> orthogonal_procrustes(std::span<const double> x,
                                                  std::span<const double> y, int64_t n,
                                                  int64_t p) {
    if (n < 1 || p < 1 || static_cast<int64_t>(x.size()) != n * p ||
        static_cast<int64_t>(y.size()) != n * p) {
        return invalid_argument("procrustes: need two {} x {} matrices, got {} and {} entries", n,
                                p, x.size(), y.size());
    }
    if (p > 65536) return invalid_argument("procrustes: width {} exceeds the limit 65536", p);
    // M = X^T Y (p x p), stored column-major for LAPACK: colmajor[r + c*p] = M[r][c].
    std::vector<double> m(static_cast<size_t>(p * p), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t r = 0; r < p; ++r) {
            const double xr = x[i * p + r];
            if (xr == 0) continue;
            for (int64_t c = 0; c < p; ++c) m[r + c * p] += xr * y[i * p + c];
        }
    }
    const int ip = static_cast<int>(p);
    std::vector<double> s(p), u(static_cast<size_t>(p * p)), vt(static_cast<size_t>(p * p));
    int info = 0, lwork = -1;
    double wq = 0;
    dgesvd_("A", "A", &ip, &ip, m.data(), &ip, s.data(), u.data(), &ip, vt.data(), &ip, &wq,
            &lwork, &info);
    lwork = std::max(1, static_cast<int>(wq));
    std::vector<double> work(lwork);
    dgesvd_("A", "A", &ip, &ip, m.data(), &ip, s.data(), u.data(), &ip, vt.data(), &ip,
            work.data(), &lwork, &info);
    if (info != 0) return internal_error("procrustes: dgesvd failed (info {}) for p = {}", info, p);
    // R = U V^T; column-major U (p x p) and VT (p x p): R[r][c] = sum_k U[r + k p] VT[k + c p].
    std::vector<double> r(static_cast<size_t>(p * p), 0.0);
    for (int64_t i = 0; i < p; ++i) {
        for (int64_t k = 0; k < p; ++k) {
            const double uik = u[i + k * p];
            for (int64_t c = 0; c < p; ++c) r[i * p + c] += uik * vt[k + c * p];
        }
    }
    return r;
}

}  // namespace modelprint

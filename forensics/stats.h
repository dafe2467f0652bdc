// Statistics for weight forensics: ranks with ties, Spearman's rho and its one-sided p-value,
// normal / Student-t / chi-square tails in log space (so p-values like 1e-400 do not underflow),
// Fisher's combination of independent p-values, unbiased linear CKA, cosine helpers and the
// orthogonal Procrustes fit (SVD through OpenBLAS's LAPACK dgesvd).
// Does not: resample or bootstrap (callers measure empirical nulls on independent pairs).
// Invariants: every log-p is <= 0; p-values are one-sided ("more agreement than chance");
// accumulations are in double, in a fixed order.
// Sources: Spearman t-approximation — Kendall & Stuart, The Advanced Theory of Statistics
// vol. 2, 31.19 (t = r sqrt((n-2)/(1-r^2)), Student t with n-2 df); incomplete beta and gamma
// continued fractions — Numerical Recipes 3rd ed. 6.2 and 6.4 (Lentz's method); Fisher's method
// — Fisher (1925), Statistical Methods for Research Workers 21.1 (X = -2 sum ln p ~ chi2(2k));
// unbiased HSIC/CKA — Song et al. (2012) JMLR 13, eq. 5, as used by Nguyen et al. (2021) and
// AWM (Zeng et al., ICLR 2026); orthogonal Procrustes — Schonemann (1966).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

// Average ranks (1-based, ties share the mean of their positions), as scipy.stats.rankdata.
std::vector<double> average_ranks(std::span<const double> x);
double pearson(std::span<const double> x, std::span<const double> y);  // 0 if degenerate
// Spearman's rho with ties (Pearson correlation of average ranks). kInvalidArgument when the
// lengths differ or n < 3.
Result<double> spearman_rho(std::span<const double> x, std::span<const double> y);

// log of the upper tail P(Z > z) of the standard normal, accurate for z up to 1e150.
double log_normal_sf(double z);
// log of P(T > t) for Student's t with df > 0 degrees of freedom.
double log_student_t_sf(double t, double df);
// log of the regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1.
double log_beta_inc(double a, double b, double x);
// log of the exact binomial upper tail P(X >= k) for X ~ Binomial(n, p), 0 < p < 1, n >= 0:
// the sum of the probabilities k..n in log space for n <= 100000, else I_p(k, n - k + 1)
// (Numerical Recipes 3rd ed. 6.4.12). 0 for k <= 0, -inf for k > n. The one place for the
// binomial tail (watermark green counts, forensics/watermark.h).
double log_binomial_sf(int64_t k, int64_t n, double p);
// One-sample Kolmogorov-Smirnov test of `u` against the uniform distribution on [0, 1]:
// the statistic D and its asymptotic p-value with Stephens' correction (Numerical Recipes 3rd
// ed. 14.3.18: lambda = (sqrt(n) + 0.12 + 0.11 / sqrt(n)) D). Used to check that p-values of a
// null are uniform. n = 0 gives D = 0, p = 1.
struct KsResult {
    double d = 0.0;
    double p_value = 1.0;
};
KsResult ks_uniform(std::span<const double> u);
// log of the chi-square survival function P(X > x) with df > 0.
double log_chi2_sf(double x, double df);
// log of the regularised upper incomplete gamma Q(a, x).
double log_gamma_q(double a, double x);

// One-sided p-value (log) of Spearman's rho >= rho under independence for n pairs: Student-t
// approximation, floored at the exact permutation bound log(1/n!) (rho = 1 has probability 1/n!
// under uniformly random rankings without ties).
double log_spearman_pvalue(double rho, int64_t n);

// Fisher's method: log p of the combined test of independent p-values given as logs.
// Empty input gives 0 (p = 1).
double fisher_combine_log(std::span<const double> log_ps);

// Unbiased linear CKA between the rows of X (n x p) and Y (n x q), both row-major, n >= 4.
// Invariant to orthogonal transforms and isotropic scaling of either side's columns.
Result<double> unbiased_cka(std::span<const float> x, int64_t n, int64_t p,
                            std::span<const float> y, int64_t q);

// Cosine similarity of two equal-length vectors (0 when either is zero).
double cosine(std::span<const float> a, std::span<const float> b);

// Orthogonal Procrustes: the orthogonal R (p x p, row-major) minimising ||X R - Y||_F for
// X, Y both n x p row-major: R = U V^T where X^T Y = U S V^T.
Result<std::vector<double>> orthogonal_procrustes(std::span<const double> x,
                                                  std::span<const double> y, int64_t n,
                                                  int64_t p);

}  // namespace modelprint

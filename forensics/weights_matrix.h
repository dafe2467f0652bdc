// Dense f32 matrices and the matrix helpers of the weight comparison
// (forensics/weights_compare.cpp): canonical tensor loading, blocked transposes, row
// normalisation, |cos| and column-correlation matrices (OpenBLAS sgemm, f32 accumulation: they
// feed similarities, decisions use doubles downstream), hidden-basis maps, the quantisation-
// lattice detector and Gram descriptors. Internal to forensics/weights_*; not a public API.
#pragma once

#include <cstdint>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/status.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

class Model;
struct QuantEvidence;

namespace weights_detail {

struct Mat {
    int64_t rows = 0, cols = 0;
    std::vector<float> v;  // row-major
    float* row(int64_t r) { return v.data() + r * cols; }
    const float* row(int64_t r) const { return v.data() + r * cols; }
};

// canonical_f32(role, layer) as a (rows, cols) matrix (vectors: 1 x n).
Result<Mat> load(const Model& m, Role role, int layer);
Mat transpose(const Mat& m);
// Rows normalised to unit L2 (zero rows stay zero).
Mat row_normalised(const Mat& m);
// |A B^T| for row-normalised A (n x C) and B (m x C): n x m |cosines|.
std::vector<double> abs_cos_matrix(const Mat& a, const Mat& b);
// Multiply columns by a gain vector (norm folding): W diag(g); no-op on a size mismatch.
void fold_gain(Mat* w, const Mat& gain);

// Hidden alignment: column c of A corresponds to column perm[c] of B with sign sign[c].
struct HiddenMap {
    std::vector<int32_t> perm;
    std::vector<float> sign;
};
// Map B's columns (hidden in) into A's basis: out[:, c] = sign[c] * w[:, perm[c]].
Mat map_cols(const Mat& w, const HiddenMap& h);
// Map B's rows (hidden out) into A's basis.
Mat map_rows(const Mat& w, const HiddenMap& h);

// Standardised columns of the rows `ids` of emb, transposed: (C x n), each zero-mean, unit norm.
Mat standardised_columns(const Mat& emb, const std::vector<int32_t>& ids);
// Signed correlation matrix of A's and B's columns (C_a x C_b) from standardised columns.
std::vector<float> corr_matrix(const Mat& za, const Mat& zb);

// Fraction of blocks of `block` values (0: whole rows) sitting on k * (absmax / qmax) within
// 0.1 of a step (mean |residual|).
double lattice_fraction(const Mat& m, int64_t block, double qmax);
// Accumulates lattice fractions (4-bit blocks of 32, int8 rows) weighted by size.
struct LatticeAcc {
    double on4 = 0, on8 = 0, n = 0;
    void add(const Mat& m);
    void finish(QuantEvidence* q) const;
};
// hi rounded to lo_dtype (bf16 or f16) equals lo exactly.
bool lower_precision_equal(const Mat& hi, const Mat& lo, DType lo_dtype);
int precision_rank(DType t);  // f64 4 > f32 3 > f16 2 > bf16 1 > others 0
// Off-diagonal Gram entries of row-normalised W restricted to the first d columns.
std::vector<float> gram_descriptor(const Mat& wn, int64_t d);

}  // namespace weights_detail
}  // namespace modelprint

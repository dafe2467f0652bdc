// Matrix helpers of the weight comparison (see weights_matrix.h).
#include "forensics/weights_matrix.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/model/model.h"
#include "forensics/weights_compare.h"

namespace modelprint::weights_detail {

Result<Mat> load(const Model& m, Role role, int layer) {
    MP_ASSIGN_OR_RETURN(TensorF32 t, m.canonical_f32(role, layer));
    Mat out;
    out.rows = t.shape.size() == 2 ? t.shape[0] : 1;
    out.cols = t.shape.empty() ? 1 : t.shape.back();
    out.v = std::move(t.data);
    return out;
}

Mat transpose(const Mat& m) {
    Mat t{m.cols, m.rows, std::vector<float>(m.v.size())};
    constexpr int64_t kBlock = 64;
    for (int64_t r0 = 0; r0 < m.rows; r0 += kBlock)
        for (int64_t c0 = 0; c0 < m.cols; c0 += kBlock)
            for (int64_t r = r0; r < std::min(m.rows, r0 + kBlock); ++r)
                for (int64_t c = c0; c < std::min(m.cols, c0 + kBlock); ++c)
                    t.v[c * m.rows + r] = m.v[r * m.cols + c];
    return t;
}

// Rows normalised to unit L2 (zero rows stay zero).
Mat row_normalised(const Mat& m) {
    Mat o = m;
    for (int64_t r = 0; r < o.rows; ++r) {
        double ss = 0;
        for (int64_t c = 0; c < o.cols; ++c) ss += double(o.row(r)[c]) * o.row(r)[c];
        const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
        for (int64_t c = 0; c < o.cols; ++c) o.row(r)[c] *= inv;
    }
    return o;
}

// |A B^T| for row-normalised A (n x C) and B (m x C): n x m |cosines| (sgemm, f32 accumulate is
// fine for similarities; decisions use doubles downstream).
std::vector<double> abs_cos_matrix(const Mat& a, const Mat& b) {
    std::vector<float> s(static_cast<size_t>(a.rows * b.rows));
    if (a.rows > 0 && b.rows > 0 && a.cols > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(a.rows),
                    static_cast<int>(b.rows), static_cast<int>(a.cols), 1.0f, a.v.data(),
                    static_cast<int>(a.cols), b.v.data(), static_cast<int>(b.cols), 0.0f, s.data(),
                    static_cast<int>(b.rows));
    }
    std::vector<double> out(s.size());
    for (size_t i = 0; i < s.size(); ++i) out[i] = std::fabs(double(s[i]));
    return out;
}

// Multiply columns by a gain vector (norm folding): W diag(g).
void fold_gain(Mat* w, const Mat& gain) {
    if (gain.v.size() != static_cast<size_t>(w->cols)) return;
    for (int64_t r = 0; r < w->rows; ++r)
        for (int64_t c = 0; c < w->cols; ++c) w->row(r)[c] *= gain.v[c];
}

// Map B's columns (hidden in) into A's basis: out[:, c] = sign[c] * w[:, perm[c]].
Mat map_cols(const Mat& w, const HiddenMap& h) {
    Mat o{w.rows, static_cast<int64_t>(h.perm.size()), {}};
    o.v.resize(static_cast<size_t>(o.rows * o.cols));
    for (int64_t r = 0; r < w.rows; ++r)
        for (int64_t c = 0; c < o.cols; ++c) o.row(r)[c] = h.sign[c] * w.row(r)[h.perm[c]];
    return o;
}
// Map B's rows (hidden out) into A's basis.
Mat map_rows(const Mat& w, const HiddenMap& h) {
    Mat o{static_cast<int64_t>(h.perm.size()), w.cols, {}};
    o.v.resize(static_cast<size_t>(o.rows * o.cols));
    for (int64_t r = 0; r < o.rows; ++r)
        for (int64_t c = 0; c < w.cols; ++c) o.row(r)[c] = h.sign[r] * w.row(h.perm[r])[c];
    return o;
}

// Standardised columns of the rows `ids` of emb (n x C, each column zero-mean, unit norm).
Mat standardised_columns(const Mat& emb, const std::vector<int32_t>& ids) {
    const int64_t n = static_cast<int64_t>(ids.size()), c = emb.cols;
    // Column statistics by streaming the rows (cache-friendly), then a blocked transpose.
    std::vector<double> mean(static_cast<size_t>(c), 0.0), ss(static_cast<size_t>(c), 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const float* r = emb.row(ids[i]);
        for (int64_t j = 0; j < c; ++j) mean[j] += r[j];
    }
    for (double& m : mean) m /= static_cast<double>(std::max<int64_t>(1, n));
    for (int64_t i = 0; i < n; ++i) {
        const float* r = emb.row(ids[i]);
        for (int64_t j = 0; j < c; ++j) {
            const double d = r[j] - mean[j];
            ss[j] += d * d;
        }
    }
    std::vector<double> inv(static_cast<size_t>(c));
    for (int64_t j = 0; j < c; ++j) inv[j] = ss[j] > 0 ? 1.0 / std::sqrt(ss[j]) : 0.0;
    Mat z{c, n, std::vector<float>(static_cast<size_t>(c * n))};  // transposed: C x n
    constexpr int64_t kBlock = 64;
    for (int64_t i0 = 0; i0 < n; i0 += kBlock)
        for (int64_t j0 = 0; j0 < c; j0 += kBlock)
            for (int64_t i = i0; i < std::min(n, i0 + kBlock); ++i) {
                const float* r = emb.row(ids[i]);
                for (int64_t j = j0; j < std::min(c, j0 + kBlock); ++j) {
                    z.v[j * n + i] = static_cast<float>((r[j] - mean[j]) * inv[j]);
                }
            }
    return z;
}

// Signed correlation matrix of A's and B's columns (C_a x C_b) from standardised columns.
std::vector<float> corr_matrix(const Mat& za, const Mat& zb) {
    std::vector<float> s(static_cast<size_t>(za.rows * zb.rows));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(za.rows),
                static_cast<int>(zb.rows), static_cast<int>(za.cols), 1.0f, za.v.data(),
                static_cast<int>(za.cols), zb.v.data(), static_cast<int>(zb.cols), 0.0f, s.data(),
                static_cast<int>(zb.rows));
    return s;
}

// Detect a quantisation lattice in one matrix: fraction of blocks whose values sit on
// k * (absmax / qmax) within 0.1 of a step (mean |residual|).
double lattice_fraction(const Mat& m, int64_t block, double qmax) {
    // Rows are counted on the threads (integer counts: any split gives the same fraction).
    // |q - rint(q)| equals |q - round(q)| for every q (they differ only at halves, where both
    // residuals are 0.5); rint is one instruction, round a library call.
    const int64_t b = block > 0 ? block : m.cols;
    if (b <= 0) return 0.0;
    const int64_t per_row = m.cols / b;
    std::vector<int64_t> on_row(static_cast<size_t>(m.rows), 0);
    parallel_for(static_cast<size_t>(m.rows), [&](size_t ri) {
        const float* row = m.row(static_cast<int64_t>(ri));
        int64_t on = 0;
        for (int64_t c0 = 0; c0 + b <= m.cols; c0 += b) {
            double mx = 0;
            for (int64_t c = c0; c < c0 + b; ++c) mx = std::max(mx, std::fabs(double(row[c])));
            if (mx <= 0) continue;
            const double s = mx / qmax;
            double res = 0;
            for (int64_t c = c0; c < c0 + b; ++c) {
                const double q = row[c] / s;
                res += std::fabs(q - std::rint(q));
            }
            on += res / static_cast<double>(b) < 0.1;
        }
        on_row[ri] = on;
    }, 0, 64);
    int64_t on = 0;
    for (int64_t x : on_row) on += x;
    const int64_t total = m.rows * per_row;
    return total > 0 ? double(on) / double(total) : 0.0;
}

void LatticeAcc::add(const Mat& m) {
    const double w = static_cast<double>(m.v.size());
    on4 += w * (m.cols % 32 == 0 ? lattice_fraction(m, 32, 7.0) : 0.0);
    on8 += w * lattice_fraction(m, 0, 127.0);
    n += w;
}

void LatticeAcc::finish(QuantEvidence* q) const {
    if (n <= 0 || !q->lattice.empty()) return;
    const double f4 = on4 / n, f8 = on8 / n;
    if (f4 >= 0.9) {
        q->lattice = "4bit-block32";
        q->lattice_fraction = f4;
    } else if (f8 >= 0.9) {
        q->lattice = "int8-row";
        q->lattice_fraction = f8;
    } else {
        q->lattice_fraction = std::max(f4, f8);
    }
}

bool lower_precision_equal(const Mat& hi, const Mat& lo, DType lo_dtype) {
    if (hi.v.size() != lo.v.size()) return false;
    for (size_t i = 0; i < hi.v.size(); ++i) {
        float r = hi.v[i];
        if (lo_dtype == DType::kBF16)
            r = bf16_to_f32(f32_to_bf16(r));
        else if (lo_dtype == DType::kF16)
            r = f16_to_f32(f32_to_f16(r));
        else
            return false;
        if (r != lo.v[i]) return false;
    }
    return true;
}

int precision_rank(DType t) {
    switch (t) {
        case DType::kF64:
            return 4;
        case DType::kF32:
            return 3;
        case DType::kF16:
            return 2;
        case DType::kBF16:
            return 1;
        default:
            return 0;
    }
}

// Off-diagonal Gram entries of row-normalised W restricted to the first d (aligned) columns.
std::vector<float> gram_descriptor(const Mat& wn, int64_t d) {
    d = std::min(d, wn.cols);
    Mat sub{wn.rows, d, std::vector<float>(static_cast<size_t>(wn.rows * d))};
    for (int64_t r = 0; r < wn.rows; ++r) std::copy(wn.row(r), wn.row(r) + d, sub.row(r));
    std::vector<float> g(static_cast<size_t>(d * d));
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<int>(d), static_cast<int>(d),
                static_cast<int>(wn.rows), 1.0f, sub.v.data(), static_cast<int>(d), sub.v.data(),
                static_cast<int>(d), 0.0f, g.data(), static_cast<int>(d));
    std::vector<float> off;
    off.reserve(static_cast<size_t>(d * (d - 1) / 2));
    for (int64_t i = 0; i < d; ++i)
        for (int64_t j = i + 1; j < d; ++j) off.push_back(g[i * d + j]);
    return off;
}

}  // namespace modelprint::weights_detail

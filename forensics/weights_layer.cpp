// One layer pair of the weight comparison (see weights_layer.h; method in weights_compare.h).
// Shapes follow llm.c letters: C hidden, FF MLP units, NH / NKV heads, HS head dim.
#include "forensics/weights_layer.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/model/model.h"
#include "forensics/assignment.h"
#include "forensics/stats.h"

namespace modelprint::weights_detail {

namespace {

constexpr int64_t kMaxCkaSamples = 512;

constexpr Role kLayerRoles[] = {Role::kAttnNorm, Role::kAttnQ,   Role::kAttnK,
                                Role::kAttnV,    Role::kAttnOut, Role::kFfnNorm,
                                Role::kFfnGate,  Role::kFfnUp,   Role::kFfnDown};

// Mean |cos| of rows of a (n x C) matched to rows of b by `match` (index into b rows).
RoleSimilarity role_rows(const char* name, const Mat& a, const Mat& b,
                         const std::vector<int32_t>& match, int64_t group) {
    // match is over blocks of `group` rows (units: group 1; heads: group HS).
    RoleSimilarity rs;
    rs.role = name;
    double cs = 0, diff = 0, na = 0, nb = 0;
    int64_t cnt = 0;
    for (size_t blk = 0; blk < match.size(); ++blk) {
        if (match[blk] < 0) continue;
        for (int64_t r = 0; r < group; ++r) {
            const int64_t ra = static_cast<int64_t>(blk) * group + r, rb = match[blk] * group + r;
            if (ra >= a.rows || rb >= b.rows) continue;
            std::span<const float> x(a.row(ra), a.cols), y(b.row(rb), b.cols);
            const double c = cosine(x, y);
            cs += std::fabs(c);
            const float sg = c < 0 ? -1.0f : 1.0f;
            for (int64_t j = 0; j < a.cols; ++j) {
                const double d = x[j] - sg * y[j];
                diff += d * d;
                na += double(x[j]) * x[j];
                nb += double(y[j]) * y[j];
            }
            ++cnt;
        }
    }
    rs.cosine = cnt ? cs / cnt : 0.0;
    rs.rel_l2 = na > 0 ? std::sqrt(diff / na) : 0.0;
    rs.norm_ratio = na > 0 ? std::sqrt(nb / na) : 0.0;
    return rs;
}

// Function-preserving rescaling of the MLP (up row of unit u times s_u, down column u times
// 1/s_u: the output is unchanged; HuRef's attack family): per matched unit, x_u = log of the up
// row's norm ratio B/A and y_u = log of the down column's. Rescaled units spread x widely and
// compensate it in y (x + y ~ 0); a fine-tune moves both by small, unrelated amounts.
//   scale_spread       = std(x)
//   scale_compensation = 1 - std(x + y) / std(x)   (1: exact compensation; < 0: none)
// Rows: unit u of A (up_a, down_a_t rows), pi[u] its match in B.
void scale_factors(const Mat& up_a, const Mat& up_b, const Mat& down_a_t, const Mat& down_b_t,
                   const std::vector<int32_t>& pi, LayerEvidence* ev) {
    auto norm = [](const Mat& m, int64_t r) {
        double s = 0;
        for (int64_t j = 0; j < m.cols; ++j) s += double(m.row(r)[j]) * m.row(r)[j];
        return std::sqrt(s);
    };
    std::vector<double> x, sum;
    for (size_t u = 0; u < pi.size(); ++u) {
        const int64_t ra = static_cast<int64_t>(u), rb = pi[u];
        if (rb < 0 || ra >= up_a.rows || rb >= up_b.rows || ra >= down_a_t.rows ||
            rb >= down_b_t.rows) {
            continue;
        }
        const double ua = norm(up_a, ra), ub = norm(up_b, rb);
        const double da = norm(down_a_t, ra), db = norm(down_b_t, rb);
        if (!(ua > 0 && ub > 0 && da > 0 && db > 0)) continue;
        const double xu = std::log(ub / ua), yu = std::log(db / da);
        x.push_back(xu);
        sum.push_back(xu + yu);
    }
    auto stdev = [](const std::vector<double>& v) {
        if (v.size() < 2) return 0.0;
        double m = 0, q = 0;
        for (double e : v) m += e;
        m /= double(v.size());
        for (double e : v) q += (e - m) * (e - m);
        return std::sqrt(q / double(v.size() - 1));
    };
    ev->scale_units = static_cast<int64_t>(x.size());
    ev->scale_spread = stdev(x);
    ev->scale_compensation = ev->scale_spread > 0 ? 1.0 - stdev(sum) / ev->scale_spread : 0.0;
}

// Head similarity: mean over the HS rows of |cos| between head h of a and head g of b.
std::vector<double> head_sim(const Mat& a, const Mat& b, int64_t hs) {
    const int64_t na = a.rows / hs, nb = b.rows / hs;
    std::vector<double> s(static_cast<size_t>(na * nb), 0.0);
    const Mat an = row_normalised(a), bn = row_normalised(b);
    parallel_for(static_cast<size_t>(na), [&](size_t hi) {
        const int64_t h = static_cast<int64_t>(hi);
        for (int64_t g = 0; g < nb; ++g) {
            double acc = 0;
            for (int64_t r = 0; r < hs; ++r) {
                double d = 0;
                const float* x = an.row(h * hs + r);
                const float* y = bn.row(g * hs + r);
                for (int64_t c = 0; c < an.cols; ++c) d += double(x[c]) * y[c];
                acc += std::fabs(d);
            }
            s[h * nb + g] = acc / double(hs);
        }
    });
    return s;
}

Mat select_rows(const Mat& m, const std::vector<int64_t>& rows) {
    Mat o{static_cast<int64_t>(rows.size()), m.cols, {}};
    o.v.resize(static_cast<size_t>(o.rows * o.cols));
    for (size_t i = 0; i < rows.size(); ++i)
        std::copy(m.row(rows[i]), m.row(rows[i]) + m.cols, o.row(i));
    return o;
}

}  // namespace

double spearman_of(const std::vector<int32_t>& x, const std::vector<int32_t>& y, int64_t* n) {
    std::vector<double> a, b;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (x[i] < 0 || y[i] < 0) continue;
        a.push_back(x[i]);
        b.push_back(y[i]);
    }
    *n = static_cast<int64_t>(a.size());
    auto r = spearman_rho(a, b);
    return r.ok() ? *r : 0.0;
}

Result<RawLayer> read_layer(const Model& m, int layer) {
    RawLayer r;
    for (Role role : kLayerRoles) {
        if (m.find_role(role, layer) == nullptr) continue;
        MP_ASSIGN_OR_RETURN(Mat t, load(m, role, layer));
        r.raw.emplace(role, std::move(t));
    }
    return r;
}

LayerMats prepare(const RawLayer& raw, const HiddenMap* h, int64_t gram_dims) {
    LayerMats L;
    auto get = [&](Role r) {
        auto it = raw.raw.find(r);
        return it == raw.raw.end() ? Mat{} : it->second;
    };
    const Mat an = get(Role::kAttnNorm), fn = get(Role::kFfnNorm);
    L.q = get(Role::kAttnQ);
    L.k = get(Role::kAttnK);
    L.v = get(Role::kAttnV);
    L.o = get(Role::kAttnOut);
    L.gate = get(Role::kFfnGate);
    L.up = get(Role::kFfnUp);
    L.down = get(Role::kFfnDown);
    L.gated = !L.gate.v.empty();
    for (Mat* w : {&L.q, &L.k, &L.v}) fold_gain(w, an);
    for (Mat* w : {&L.gate, &L.up}) fold_gain(w, fn);
    if (h != nullptr) {
        for (Mat* w : {&L.q, &L.k, &L.v, &L.gate, &L.up})
            if (!w->v.empty()) *w = map_cols(*w, *h);
        for (Mat* w : {&L.o, &L.down})
            if (!w->v.empty()) *w = map_rows(*w, *h);
    }
    for (Mat* w : {&L.q, &L.k, &L.v, &L.gate, &L.up}) {
        L.desc.push_back(w->v.empty() ? std::vector<float>{}
                                      : gram_descriptor(row_normalised(*w), gram_dims));
    }
    return L;
}

double desc_similarity(const LayerMats& a, const LayerMats& b) {
    double s = 0;
    int n = 0;
    for (size_t i = 0; i < a.desc.size() && i < b.desc.size(); ++i) {
        if (a.desc[i].empty() || a.desc[i].size() != b.desc[i].size()) continue;
        s += cosine(a.desc[i], b.desc[i]);
        ++n;
    }
    return n ? s / n : 0.0;
}

// Full per-layer analysis of aligned layers (B already in A's hidden basis).
Result<LayerEvidence> analyse_layer(const LayerMats& a, const LayerMats& b, int la, int lb,
                                    int64_t hs_a, int64_t hs_b, const WeightCompareOptions& opt) {
    LayerEvidence ev;
    ev.layer_a = la;
    ev.layer_b = lb;
    // MLP units: A's units subsampled by stride, matched against all of B's.
    const Mat& ga = a.gated ? a.gate : a.up;
    const Mat& gb = b.gated ? b.gate : b.up;
    const int64_t ffa = a.up.rows;
    const int64_t stride = std::max<int64_t>(1, (ffa + opt.max_units - 1) / opt.max_units);
    std::vector<int64_t> units;
    for (int64_t u = 0; u < ffa; u += stride) units.push_back(u);
    const Mat down_a_t = transpose(a.down), down_b_t = transpose(b.down);  // FF x C
    const Mat ua = row_normalised(select_rows(a.up, units)), ub = row_normalised(b.up);
    const Mat da = row_normalised(select_rows(down_a_t, units)), db = row_normalised(down_b_t);
    const std::vector<double> s_up = abs_cos_matrix(ua, ub);
    const std::vector<double> s_down = abs_cos_matrix(da, db);
    std::vector<double> s_first = s_up;
    if (a.gated && b.gated) {
        s_first = abs_cos_matrix(row_normalised(select_rows(ga, units)), row_normalised(gb));
    } else {
        s_first = s_down;  // ungated MLP: compare the matchings of up rows and down columns
    }
    const int64_t n = static_cast<int64_t>(units.size()), m = ub.rows;
    MP_ASSIGN_OR_RETURN(std::vector<int32_t> pi_first, match_max_similarity(s_first, n, m));
    MP_ASSIGN_OR_RETURN(std::vector<int32_t> pi_up, match_max_similarity(s_up, n, m));
    ev.unit_rho = spearman_of(pi_first, pi_up, &ev.units);
    ev.log_p = log_spearman_pvalue(ev.unit_rho, ev.units);
    // Joint matching for the similarity report.
    std::vector<double> joint(s_up.size());
    for (size_t i = 0; i < joint.size(); ++i) joint[i] = s_first[i] + s_up[i] + s_down[i];
    MP_ASSIGN_OR_RETURN(std::vector<int32_t> pi_u, match_max_similarity(joint, n, m));
    int64_t same = 0;
    for (int64_t i = 0; i < n; ++i) same += pi_u[i] == units[i];
    ev.unit_identity = n ? double(same) / double(n) : 0.0;
    // Expand pi_u to row indices of A's full matrices (unit i of the subsample).
    const Mat gsub = select_rows(ga, units), usub = select_rows(a.up, units),
              dsub = select_rows(down_a_t, units);
    scale_factors(usub, b.up, dsub, down_b_t, pi_u, &ev);
    if (a.gated && b.gated) ev.roles.push_back(role_rows("ffn_gate", gsub, gb, pi_u, 1));
    ev.roles.push_back(role_rows("ffn_up", usub, b.up, pi_u, 1));
    ev.roles.push_back(role_rows("ffn_down", dsub, down_b_t, pi_u, 1));
    // Heads: kv heads on k + v rows, q heads on q rows.
    if (hs_a == hs_b && hs_a > 0 && a.q.rows % hs_a == 0 && b.q.rows % hs_b == 0 &&
        a.k.rows % hs_a == 0 && b.k.rows % hs_b == 0) {
        std::vector<double> skv = head_sim(a.k, b.k, hs_a);
        const std::vector<double> sv = head_sim(a.v, b.v, hs_a);
        for (size_t i = 0; i < skv.size(); ++i) skv[i] += sv[i];
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> pi_kv,
                            match_max_similarity(skv, a.k.rows / hs_a, b.k.rows / hs_b));
        const std::vector<double> sq = head_sim(a.q, b.q, hs_a);
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> pi_q,
                            match_max_similarity(sq, a.q.rows / hs_a, b.q.rows / hs_b));
        int64_t hsame = 0;
        for (size_t h = 0; h < pi_q.size(); ++h) hsame += pi_q[h] == static_cast<int32_t>(h);
        ev.head_identity = pi_q.empty() ? 0.0 : double(hsame) / double(pi_q.size());
        ev.roles.push_back(role_rows("attn_q", a.q, b.q, pi_q, hs_a));
        ev.roles.push_back(role_rows("attn_k", a.k, b.k, pi_kv, hs_a));
        ev.roles.push_back(role_rows("attn_v", a.v, b.v, pi_kv, hs_a));
        ev.roles.push_back(role_rows("attn_output", transpose(a.o), transpose(b.o), pi_q, hs_a));
    }
    // AWM CKA: samples = aligned hidden dims (B already in A's basis), features = output rows.
    auto cka = [&](const Mat& x, const Mat& y) -> double {
        if (x.v.empty() || y.v.empty() || x.cols != y.cols || x.cols < 8) return 0.0;
        const int64_t step = std::max<int64_t>(1, (x.cols + kMaxCkaSamples - 1) / kMaxCkaSamples);
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < x.cols; d += step) dims.push_back(d);
        const int64_t n = static_cast<int64_t>(dims.size());
        std::vector<float> xt(static_cast<size_t>(n * x.rows)), yt(static_cast<size_t>(n * y.rows));
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t r = 0; r < x.rows; ++r) xt[i * x.rows + r] = x.row(r)[dims[i]];
            for (int64_t r = 0; r < y.rows; ++r) yt[i * y.rows + r] = y.row(r)[dims[i]];
        }
        auto v = unbiased_cka(xt, n, x.rows, yt, y.rows);
        return v.ok() ? *v : 0.0;
    };
    ev.cka_q = cka(a.q, b.q);
    ev.cka_k = cka(a.k, b.k);
    double s = 0;
    for (const RoleSimilarity& r : ev.roles) s += r.cosine;
    ev.similarity = ev.roles.empty() ? 0.0 : s / double(ev.roles.size());
    return ev;
}

}  // namespace modelprint::weights_detail

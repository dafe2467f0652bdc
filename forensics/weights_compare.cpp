// Pairwise weight analysis (see weights_compare.h for the method and its sources).
// Shapes follow llm.c letters: V vocab, C hidden, FF MLP units, NH / NKV heads, HS head dim.
#include "forensics/weights_compare.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "fingerprint/base/progress.h"
#include "fingerprint/base/thread_pool.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/weight_print.h"
#include "forensics/assignment.h"
#include "forensics/stats.h"
#include "forensics/weights_matrix.h"

namespace modelprint {

using namespace weights_detail;  // NOLINT: this file's own matrix helpers

namespace {

constexpr int64_t kMaxProcrustesDims = 1024;
constexpr int64_t kMaxCkaSamples = 512;

Result<std::vector<int32_t>> match_abs(const std::vector<float>& corr, int64_t n, int64_t m) {
    std::vector<double> sim(corr.size());
    for (size_t i = 0; i < corr.size(); ++i) sim[i] = std::fabs(double(corr[i]));
    return match_max_similarity(sim, n, m);
}

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

// Vocabulary pairs shared by the two models (tokenizers when both load, else equal ids).
std::vector<std::pair<int32_t, int32_t>> shared_vocab(const Model& a, const Model& b, int64_t va,
                                                      int64_t vb, std::string* note) {
    auto tok_path = [](const Model& m) {
        return m.format() == ModelFormat::kGguf ? m.path() : m.root_dir();
    };
    auto ta = Tokenizer::from_file(tok_path(a));
    auto tb = Tokenizer::from_file(tok_path(b));
    std::vector<std::pair<int32_t, int32_t>> pairs;
    if (ta.ok() && tb.ok()) {
        VocabMapping vm = map_vocabularies(**ta, **tb);
        for (auto [x, y] : vm.pairs)
            if (x < va && y < vb) pairs.emplace_back(x, y);
        *note = fmt::format("{} tokens shared through the tokenizers", pairs.size());
        return pairs;
    }
    const int64_t n = std::min(va, vb);
    for (int64_t i = 0; i < n; ++i) pairs.emplace_back(static_cast<int32_t>(i), static_cast<int32_t>(i));
    *note = fmt::format("no tokenizer on {} side: token ids 0..{} assumed to mean the same",
                        ta.ok() ? "B's" : "A's", n - 1);
    return pairs;
}

// One layer's projections, norm-folded, B's mapped into A's hidden basis.
struct LayerMats {
    Mat q, k, v, o, gate, up, down;  // nn.Linear layout [out, in]
    bool gated = false;
    std::vector<std::vector<float>> desc;  // depth descriptors (q, k, v, gate/up, up)
};

struct RawLayer {
    std::map<Role, Mat> raw;  // unfolded canonical tensors (identity checks)
};

constexpr Role kLayerRoles[] = {Role::kAttnNorm, Role::kAttnQ,   Role::kAttnK,
                                Role::kAttnV,    Role::kAttnOut, Role::kFfnNorm,
                                Role::kFfnGate,  Role::kFfnUp,   Role::kFfnDown};

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
    auto get = [&](Role r) { auto it = raw.raw.find(r); return it == raw.raw.end() ? Mat{} : it->second; };
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
        L.desc.push_back(w->v.empty() ? std::vector<float>{} : gram_descriptor(row_normalised(*w), gram_dims));
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
    for (size_t i = 0; i < rows.size(); ++i) std::copy(m.row(rows[i]), m.row(rows[i]) + m.cols, o.row(i));
    return o;
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
    const Mat gsub = select_rows(ga, units), usub = select_rows(a.up, units), dsub = select_rows(down_a_t, units);
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

bool layer_layout(const Model& m) {
    if (m.config().n_layers <= 0) return false;
    auto has = [&](Role r) { return m.find_role(r, 0) != nullptr; };
    return has(Role::kAttnQ) && has(Role::kAttnK) && has(Role::kAttnV) && has(Role::kAttnOut) &&
           has(Role::kFfnUp) && has(Role::kFfnDown);
}

int64_t head_dim_of(const Model& m, const Model& other) {
    const ModelConfig& c = m.config();
    // An inferred config cannot read heads from shapes; trust the other side when it has one.
    bool guessed = false;
    for (const std::string& n : c.notes) guessed |= n.find("GUESSED") != std::string::npos;
    if (guessed && other.config().head_dim > 0) return other.config().head_dim;
    return c.head_dim;
}

}  // namespace

Result<WeightEvidence> compare_weights(const Model& a, const Model& b,
                                       const WeightCompareOptions& opt) {
    WeightEvidence ev;
    const ModelConfig &ca = a.config(), &cb = b.config();
    ev.arch_a = std::string(arch_name(ca.arch));
    ev.arch_b = std::string(arch_name(cb.arch));
    ev.layers_a = ca.n_layers;
    ev.layers_b = cb.n_layers;

    // ---- identity by canonical role (one digest per tensor; names may differ)
    std::map<std::string, size_t> ra, rb;
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const std::string cn = canonical_name(a.roles()[i]);
        if (!cn.empty()) ra[cn] = i;
    }
    for (size_t i = 0; i < b.tensors().size(); ++i) {
        const std::string cn = canonical_name(b.roles()[i]);
        if (!cn.empty()) rb[cn] = i;
    }
    std::map<DType, uint64_t> dta, dtb;
    for (const auto& [cn, i] : ra) {
        const TensorInfo& ta = a.tensors()[i];
        dta[ta.dtype] += ta.numel();
        auto it = rb.find(cn);
        if (it == rb.end()) {
            ++ev.identity.only_a;
            continue;
        }
        const TensorInfo& tb = b.tensors()[it->second];
        ++ev.identity.shared_roles;
        ev.identity.names_differ += ta.name != tb.name;
        if (ta.dtype == tb.dtype && ta.nbytes == tb.nbytes && ta.shape == tb.shape &&
            sha256_hex(a.tensor_bytes(ta)) == sha256_hex(b.tensor_bytes(tb))) {
            ++ev.identity.equal_bytes;
        }
    }
    for (const auto& [cn, i] : rb) {
        dtb[b.tensors()[i].dtype] += b.tensors()[i].numel();
        ev.identity.only_b += ra.count(cn) == 0;
    }
    // A tied output head stored explicitly on one side only (HF tie vs GGUF output.weight) is
    // compared through canonical_f32, which returns token_embd for the tied side.
    const std::string kHead = canonical_name(TensorRole{Role::kOutput, -1, false});
    const bool head_a = ra.count(kHead) > 0, head_b = rb.count(kHead) > 0;
    bool head_tied_pair = false;
    if (head_a != head_b && (head_a ? b : a).find_role(Role::kTokenEmbd) != nullptr) {
        head_tied_pair = true;
        (head_a ? ev.identity.only_a : ev.identity.only_b) -= 1;
        ++ev.identity.shared_roles;
    }
    auto dominant = [](const std::map<DType, uint64_t>& m) {
        DType best = DType::kF32;
        uint64_t n = 0;
        for (auto [t, c] : m)
            if (c > n) {
                best = t;
                n = c;
            }
        return best;
    };
    const DType dom_a = dominant(dta), dom_b = dominant(dtb);
    ev.identity.dtype_a = std::string(dtype_name(dom_a));
    ev.identity.dtype_b = std::string(dtype_name(dom_b));
    for (auto [t, c] : dta)
        if (dtype_info(t).is_quantized) {
            ev.quant_a.block_types = true;
            ev.quant_a.lattice = "gguf:" + std::string(dtype_name(t));
        }
    for (auto [t, c] : dtb)
        if (dtype_info(t).is_quantized) {
            ev.quant_b.block_types = true;
            ev.quant_b.lattice = "gguf:" + std::string(dtype_name(t));
        }
    ev.identical_bytes = ev.identity.only_a == 0 && ev.identity.only_b == 0 &&
                         ev.identity.shared_roles > 0 &&
                         ev.identity.equal_bytes == ev.identity.shared_roles;

    // Value identity and dtype casts on the roles both have (canonical layout).
    int64_t equal_values = 0, cast_equal = 0;
    LatticeAcc lat_a, lat_b;
    for (const auto& [cn, i] : ra) {
        auto it = rb.find(cn);
        if (it == rb.end()) continue;
        const TensorRole r = a.roles()[i];
        MP_ASSIGN_OR_RETURN(TensorF32 xa, a.canonical_f32(r.role, r.layer, r.is_bias));
        MP_ASSIGN_OR_RETURN(TensorF32 xb, b.canonical_f32(r.role, r.layer, r.is_bias));
        if (xa.shape == xb.shape) {
            equal_values += xa.data == xb.data;
            const DType da = a.tensors()[i].dtype, db = b.tensors()[it->second].dtype;
            Mat ma{1, static_cast<int64_t>(xa.data.size()), std::move(xa.data)};
            Mat mb{1, static_cast<int64_t>(xb.data.size()), std::move(xb.data)};
            if (precision_rank(da) > precision_rank(db) && precision_rank(db) > 0) {
                cast_equal += lower_precision_equal(ma, mb, db);
            } else if (precision_rank(db) > precision_rank(da) && precision_rank(da) > 0) {
                cast_equal += lower_precision_equal(mb, ma, da);
            }
            if (xa.shape.size() == 2 && r.layer >= 0) {
                ma.rows = xa.shape[0];
                ma.cols = xa.shape[1];
                mb.rows = xb.shape[0];
                mb.cols = xb.shape[1];
                lat_a.add(ma);
                lat_b.add(mb);
            }
        }
    }
    if (head_tied_pair) {
        MP_ASSIGN_OR_RETURN(TensorF32 xa, a.canonical_f32(Role::kOutput));
        MP_ASSIGN_OR_RETURN(TensorF32 xb, b.canonical_f32(Role::kOutput));
        equal_values += xa.shape == xb.shape && xa.data == xb.data;
    }
    lat_a.finish(&ev.quant_a);
    lat_b.finish(&ev.quant_b);
    ev.identity.equal_values = equal_values;
    ev.identity.cast_equal = cast_equal;
    ev.identical_values = ev.identity.only_a == 0 && ev.identity.only_b == 0 &&
                          ev.identity.shared_roles > 0 && equal_values == ev.identity.shared_roles;

    // ---- hidden alignment through shared embedding columns
    if (a.find_role(Role::kTokenEmbd) == nullptr || b.find_role(Role::kTokenEmbd) == nullptr) {
        ev.structure_note = "a model has no token embedding: no shared coordinates to align";
        return ev;
    }
    MP_ASSIGN_OR_RETURN(Mat ea, load(a, Role::kTokenEmbd, -1));
    MP_ASSIGN_OR_RETURN(Mat eb, load(b, Role::kTokenEmbd, -1));
    ev.hidden_a = ea.cols;
    ev.hidden_b = eb.cols;
    auto pairs = shared_vocab(a, b, ea.rows, eb.rows, &ev.vocab_note);
    if (static_cast<int64_t>(pairs.size()) > opt.max_tokens) {
        const size_t stride = (pairs.size() + opt.max_tokens - 1) / opt.max_tokens;
        std::vector<std::pair<int32_t, int32_t>> sub;
        for (size_t i = 0; i < pairs.size(); i += stride) sub.push_back(pairs[i]);
        pairs.swap(sub);
    }
    ev.shared_tokens = static_cast<int64_t>(pairs.size());
    const bool swap_ab = ea.cols > eb.cols;  // assignment rows = the narrower side
    HiddenMap hmap;
    if (ev.shared_tokens >= 16) {
        std::vector<int32_t> ia[2], ib[2], fa, fb;
        for (size_t i = 0; i < pairs.size(); ++i) {
            ia[i % 2].push_back(pairs[i].first);
            ib[i % 2].push_back(pairs[i].second);
            fa.push_back(pairs[i].first);
            fb.push_back(pairs[i].second);
        }
        const Mat& en = swap_ab ? eb : ea;
        const Mat& ew = swap_ab ? ea : eb;
        auto ids_n = [&](int h) { return swap_ab ? ib[h] : ia[h]; };
        auto ids_w = [&](int h) { return swap_ab ? ia[h] : ib[h]; };
        std::vector<int32_t> pi[2];
        std::vector<float> corr_held;
        for (int h = 0; h < 2; ++h) {
            const std::vector<float> c =
                corr_matrix(standardised_columns(en, ids_n(h)), standardised_columns(ew, ids_w(h)));
            MP_ASSIGN_OR_RETURN(pi[h], match_abs(c, en.cols, ew.cols));
            if (h == 1) corr_held = c;
        }
        ev.hidden_rho = spearman_of(pi[0], pi[1], &ev.shared_tokens);
        ev.shared_tokens = static_cast<int64_t>(pairs.size());
        ev.hidden_log_p = log_spearman_pvalue(ev.hidden_rho, en.cols);
        double held = 0;
        int64_t same = 0;
        for (int64_t c = 0; c < en.cols; ++c) {
            held += std::fabs(corr_held[c * ew.cols + pi[0][c]]);
            same += pi[0][c] == c;
        }
        ev.hidden_cos = held / double(en.cols);
        ev.hidden_identity = double(same) / double(en.cols);
        // Full alignment (all shared tokens) for the layer analysis.
        const std::vector<float> cf = corr_matrix(standardised_columns(en, swap_ab ? fb : fa),
                                                  standardised_columns(ew, swap_ab ? fa : fb));
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> pf, match_abs(cf, en.cols, ew.cols));
        double emb = 0;
        for (int64_t c = 0; c < en.cols; ++c) emb += std::fabs(cf[c * ew.cols + pf[c]]);
        ev.embedding_cos = emb / double(en.cols);
        if (!swap_ab) {
            hmap.perm = pf;
            hmap.sign.resize(pf.size());
            for (int64_t c = 0; c < en.cols; ++c) hmap.sign[c] = cf[c * ew.cols + pf[c]] < 0 ? -1.0f : 1.0f;
        }
        // Orthogonal Procrustes (equal widths): fit on half 0, score rows of half 1.
        // (Naive O(n C^2) fit and scoring: only up to kMaxProcrustesDims; reported, not decisive.)
        if (ea.cols == eb.cols && ea.cols > kMaxProcrustesDims) {
            ev.notes.push_back(fmt::format("orthogonal Procrustes skipped: hidden {} > {}", ea.cols,
                                           kMaxProcrustesDims));
        }
        if (ea.cols == eb.cols && ea.cols <= kMaxProcrustesDims) {
            const int64_t c = ea.cols;
            auto rows = [&](const Mat& e, const std::vector<int32_t>& ids) {
                std::vector<double> x(ids.size() * c);
                for (size_t i = 0; i < ids.size(); ++i)
                    for (int64_t j = 0; j < c; ++j) x[i * c + j] = e.row(ids[i])[j];
                return x;
            };
            const std::vector<double> x0 = rows(ea, ia[0]), y0 = rows(eb, ib[0]);
            auto rot = orthogonal_procrustes(x0, y0, static_cast<int64_t>(ia[0].size()), c);
            if (rot.ok()) {
                const std::vector<double> x1 = rows(ea, ia[1]), y1 = rows(eb, ib[1]);
                double acc = 0;
                const int64_t n1 = static_cast<int64_t>(ia[1].size());
                std::vector<float> xr(c), yr(c);
                for (int64_t i = 0; i < n1; ++i) {
                    for (int64_t j = 0; j < c; ++j) {
                        double s = 0;
                        for (int64_t k = 0; k < c; ++k) s += x1[i * c + k] * (*rot)[k * c + j];
                        xr[j] = static_cast<float>(s);
                        yr[j] = static_cast<float>(y1[i * c + j]);
                    }
                    acc += cosine(xr, yr);
                }
                ev.procrustes_cos = n1 ? acc / double(n1) : 0.0;
            }
        }
        ev.hidden_aligned = true;
    } else {
        ev.vocab_note += "; fewer than 16 shared tokens: hidden dimensions cannot be aligned";
    }
    ea = Mat{};
    eb = Mat{};

    // ---- fingerprints: attention-std profile and HuRef-style invariants
    WeightPrintOptions wpo;
    wpo.tensor_digests = false;
    wpo.threads = opt.threads;
    wpo.head_dim_hint = cb.head_dim;
    MP_ASSIGN_OR_RETURN(WeightFingerprint fa, compute_weight_fingerprint(a, wpo));
    wpo.head_dim_hint = ca.head_dim;
    MP_ASSIGN_OR_RETURN(WeightFingerprint fb, compute_weight_fingerprint(b, wpo));
    ev.invariant_cos = invariant_similarity(fa, fb);
    {
        std::vector<double> pa, pb;
        const size_t L = std::min(fa.layer_std.size(), fb.layer_std.size());
        for (size_t l = 0; l < L; ++l) {
            const double x = fa.layer_std[l][0], y = fb.layer_std[l][0];
            if (!std::isnan(x) && !std::isnan(y)) {
                pa.push_back(x);
                pb.push_back(y);
            }
        }
        ev.attn_std_corr = pa.size() >= 3 ? pearson(pa, pb) : 0.0;
    }

    // ---- structure: can layers be compared?
    if (ca.arch != cb.arch && !(layer_layout(a) && layer_layout(b))) {
        ev.structure_note = fmt::format("different architectures ({} vs {}) with different layer "
                                        "layouts", ev.arch_a, ev.arch_b);
    } else if (ev.hidden_a != ev.hidden_b) {
        ev.structure_note = fmt::format("different widths (hidden {} vs {})", ev.hidden_a, ev.hidden_b);
    } else if (!layer_layout(a) || !layer_layout(b)) {
        ev.structure_note = fmt::format("layer layout not comparable ({}: separate q/k/v {}, {}: {})",
                                        ev.arch_a, layer_layout(a), ev.arch_b, layer_layout(b));
    } else if (!ev.hidden_aligned) {
        ev.structure_note = "hidden dimensions could not be aligned (no shared vocabulary)";
    } else {
        ev.layer_comparable = true;
    }
    if (!ev.layer_comparable) return ev;

    // ---- per-layer pass: descriptors for all layers + analysis of the diagonal pairs
    const int La = static_cast<int>(ca.n_layers), Lb = static_cast<int>(cb.n_layers);
    const int64_t hs_a = head_dim_of(a, b), hs_b = head_dim_of(b, a);
    std::vector<LayerMats> la(La), lb(Lb);
    std::map<std::pair<int, int>, LayerEvidence> done;
    Progress progress("compare layers", static_cast<uint64_t>(std::max(La, Lb)), "layers");
    if (!opt.progress) Progress::set_enabled(false);
    // For equal depth the diagonal pairs are analysed as the layers stream by (one read); the
    // descriptors of every layer are kept for the depth alignment.
    for (int l = 0; l < std::max(La, Lb); ++l) {
        if (l < La) {
            MP_ASSIGN_OR_RETURN(RawLayer r, read_layer(a, l));
            la[l] = prepare(r, nullptr, opt.gram_dims);
        }
        if (l < Lb) {
            MP_ASSIGN_OR_RETURN(RawLayer r, read_layer(b, l));
            lb[l] = prepare(r, &hmap, opt.gram_dims);
        }
        if (La == Lb) {
            MP_ASSIGN_OR_RETURN(LayerEvidence le, analyse_layer(la[l], lb[l], l, l, hs_a, hs_b, opt));
            done.emplace(std::make_pair(l, l), std::move(le));
            // keep only descriptors
            for (LayerMats* m : {&la[l], &lb[l]}) {
                auto d = std::move(m->desc);
                bool gated = m->gated;
                *m = LayerMats{};
                m->desc = std::move(d);
                m->gated = gated;
            }
        }
        progress.advance(1);
    }
    progress.finish();
    ev.layer_sim.assign(La, std::vector<double>(Lb, 0.0));
    for (int i = 0; i < La; ++i)
        for (int j = 0; j < Lb; ++j) ev.layer_sim[i][j] = desc_similarity(la[i], lb[j]);
    // Monotone matching (maximum total similarity; skips free): classic DP.
    std::vector<std::vector<double>> dp(La + 1, std::vector<double>(Lb + 1, 0.0));
    for (int i = 1; i <= La; ++i)
        for (int j = 1; j <= Lb; ++j)
            dp[i][j] = std::max({dp[i - 1][j], dp[i][j - 1],
                                 dp[i - 1][j - 1] + std::max(0.0, ev.layer_sim[i - 1][j - 1])});
    std::vector<std::pair<int, int>> path;
    for (int i = La, j = Lb; i > 0 && j > 0;) {
        if (dp[i][j] == dp[i - 1][j - 1] + std::max(0.0, ev.layer_sim[i - 1][j - 1]) &&
            ev.layer_sim[i - 1][j - 1] > 0) {
            path.emplace_back(i - 1, j - 1);
            --i;
            --j;
        } else if (dp[i][j] == dp[i - 1][j]) {
            --i;
        } else {
            --j;
        }
    }
    std::reverse(path.begin(), path.end());
    double diag_total = 0;
    for (int l = 0; l < std::min(La, Lb); ++l) diag_total += std::max(0.0, ev.layer_sim[l][l]);
    // Equal depth: keep the diagonal unless the monotone path is clearly better (0.1 per layer).
    if (La == Lb && dp[La][Lb] <= diag_total + 0.1 * La) {
        path.clear();
        for (int l = 0; l < La; ++l) path.emplace_back(l, l);
    }
    if (path.empty()) {
        for (int l = 0; l < std::min(La, Lb); ++l) path.emplace_back(l, l);
    }
    ev.layer_match = path;
    for (auto [i, j] : path) ev.depth_diagonal &= i == j;
    // Pairs not analysed in the streaming pass are read again (only those).
    for (auto [i, j] : path) {
        if (done.count({i, j})) continue;
        MP_ASSIGN_OR_RETURN(RawLayer r1, read_layer(a, i));
        MP_ASSIGN_OR_RETURN(RawLayer r2, read_layer(b, j));
        const LayerMats x = prepare(r1, nullptr, opt.gram_dims), y = prepare(r2, &hmap, opt.gram_dims);
        MP_ASSIGN_OR_RETURN(LayerEvidence le, analyse_layer(x, y, i, j, hs_a, hs_b, opt));
        done.emplace(std::make_pair(i, j), std::move(le));
    }
    std::vector<double> lps, ratios;
    double sim = 0, rho = 0, l2 = 0, uid = 0, hid = 0, cka_sum = 0;
    double min_sim = 1.0;
    int64_t nroles = 0;
    for (auto [i, j] : path) {
        const LayerEvidence& le = done.at({i, j});
        ev.layers.push_back(le);
        lps.push_back(le.log_p);
        sim += le.similarity;
        min_sim = std::min(min_sim, le.similarity);
        rho += le.unit_rho;
        uid += le.unit_identity;
        hid += le.head_identity;
        cka_sum += 0.5 * (le.cka_q + le.cka_k);
        for (const RoleSimilarity& r : le.roles) {
            l2 += r.rel_l2;
            ratios.push_back(r.norm_ratio);
            ++nroles;
        }
    }
    const double n = std::max<double>(1.0, double(path.size()));
    ev.log_p = fisher_combine_log(lps);
    ev.mean_similarity = sim / n;
    ev.min_similarity = path.empty() ? 0.0 : min_sim;
    ev.mean_unit_rho = rho / n;
    ev.unit_identity = uid / n;
    ev.head_identity = hid / n;
    ev.mean_cka = cka_sum / n;
    ev.mean_rel_l2 = nroles ? l2 / double(nroles) : 0.0;
    if (!ratios.empty()) {
        std::nth_element(ratios.begin(), ratios.begin() + ratios.size() / 2, ratios.end());
        ev.median_norm_ratio = ratios[ratios.size() / 2];
    }
    if (La != Lb) {
        ev.notes.push_back(fmt::format("depth differs ({} vs {} layers): {} layer pairs matched "
                                       "monotonically", La, Lb, path.size()));
    }
    return ev;
}

}  // namespace modelprint

// Weight fingerprint of one model (see weight_print.h for what it holds and the sources).
// One pass: every tensor is converted to f32 once for its statistics; the invariants read the
// embedding and the projections of 4 layers in canonical layout.
#include "fingerprint/weight_print.h"

#include <algorithm>
#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/base/thread_pool.h"
#include "fingerprint/model/model.h"

namespace modelprint {

namespace {

struct Mat {
    int64_t rows = 0, cols = 0;
    std::vector<float> v;  // row-major
    float at(int64_t r, int64_t c) const { return v[r * cols + c]; }
};

Result<Mat> load(const Model& m, Role role, int layer) {
    MP_ASSIGN_OR_RETURN(TensorF32 t, m.canonical_f32(role, layer));
    Mat out;
    if (t.shape.size() == 1) {
        out.rows = 1;
        out.cols = t.shape[0];
    } else if (t.shape.size() == 2) {
        out.rows = t.shape[0];
        out.cols = t.shape[1];
    } else {
        return unsupported("{} of layer {} has rank {}, expected 1 or 2", role_name(role), layer,
                           t.shape.size());
    }
    out.v = std::move(t.data);
    return out;
}

// Rows [r0, r0 + n) of m.
Mat slice_rows(const Mat& m, int64_t r0, int64_t n) {
    Mat o{n, m.cols, {}};
    o.v.assign(m.v.begin() + r0 * m.cols, m.v.begin() + (r0 + n) * m.cols);
    return o;
}

// (K x C) times W^T where W is (R x C): returns K x R.
// Each output is the same in-order sum whatever the loop order or thread split (rows of W are
// read once, by blocks of rows over the threads): bitwise equal to the plain i, r, c loops.
std::vector<double> times_t(const std::vector<double>& x, int64_t k, const Mat& w) {
    std::vector<double> out(static_cast<size_t>(k * w.rows), 0.0);
    constexpr int64_t kRowBlock = 64;
    const int64_t blocks = (w.rows + kRowBlock - 1) / kRowBlock;
    parallel_for(static_cast<size_t>(blocks), [&](size_t bi) {
        const int64_t r0 = static_cast<int64_t>(bi) * kRowBlock;
        const int64_t r1 = std::min(w.rows, r0 + kRowBlock);
        for (int64_t r = r0; r < r1; ++r) {
            const float* wr = w.v.data() + r * w.cols;
            for (int64_t i = 0; i < k; ++i) {
                const double* xi = x.data() + i * w.cols;
                double s = 0;
                for (int64_t c = 0; c < w.cols; ++c) s += xi[c] * wr[c];
                out[i * w.rows + r] = s;
            }
        }
    });
    return out;
}

struct Projections {
    Mat q, k, v, o, up, down, attn_norm, ffn_norm;
    bool ok = false;
};

Result<Projections> load_layer(const Model& m, int layer) {
    Projections p;
    // The layer plan says what the layer is: a MoE layer has no dense MLP to take invariants of
    // (expert-level fingerprints are not implemented), so it is skipped like a layer without one.
    if (m.plan_status().ok() && layer >= 0 && layer < static_cast<int>(m.plan().layers.size()) &&
        m.plan().layers[static_cast<size_t>(layer)].mlp.kind == MlpKind::kMoe) {
        return p;
    }
    auto has = [&](Role r) { return m.find_role(r, layer) != nullptr; };
    if (!has(Role::kAttnOut) || !has(Role::kFfnUp) || !has(Role::kFfnDown)) return p;
    if (has(Role::kAttnQ) && has(Role::kAttnK) && has(Role::kAttnV)) {
        MP_ASSIGN_OR_RETURN(p.q, load(m, Role::kAttnQ, layer));
        MP_ASSIGN_OR_RETURN(p.k, load(m, Role::kAttnK, layer));
        MP_ASSIGN_OR_RETURN(p.v, load(m, Role::kAttnV, layer));
    } else if (has(Role::kAttnQKV)) {
        MP_ASSIGN_OR_RETURN(Mat qkv, load(m, Role::kAttnQKV, layer));
        if (qkv.rows % 3 != 0) return p;
        const int64_t n = qkv.rows / 3;
        p.q = slice_rows(qkv, 0, n);
        p.k = slice_rows(qkv, n, n);
        p.v = slice_rows(qkv, 2 * n, n);
    } else {
        return p;
    }
    MP_ASSIGN_OR_RETURN(p.o, load(m, Role::kAttnOut, layer));
    MP_ASSIGN_OR_RETURN(p.up, load(m, Role::kFfnUp, layer));
    MP_ASSIGN_OR_RETURN(p.down, load(m, Role::kFfnDown, layer));
    if (has(Role::kAttnNorm)) {
        MP_ASSIGN_OR_RETURN(p.attn_norm, load(m, Role::kAttnNorm, layer));
    }
    if (has(Role::kFfnNorm)) {
        MP_ASSIGN_OR_RETURN(p.ffn_norm, load(m, Role::kFfnNorm, layer));
    }
    p.ok = true;
    return p;
}

// Rows of x scaled to unit RMS, times the norm gain (1 where absent).
std::vector<double> normed(const std::vector<double>& x, int64_t k, int64_t c, const Mat& gain) {
    std::vector<double> out(x.size());
    for (int64_t i = 0; i < k; ++i) {
        double ss = 0;
        for (int64_t j = 0; j < c; ++j) ss += x[i * c + j] * x[i * c + j];
        const double inv = ss > 0 ? 1.0 / std::sqrt(ss / static_cast<double>(c)) : 0.0;
        for (int64_t j = 0; j < c; ++j) {
            const double g = gain.cols == c ? gain.v[j] : 1.0;
            out[i * c + j] = x[i * c + j] * inv * g;
        }
    }
    return out;
}

// The three K x K invariant terms of one layer (weight_print.h), appended to `out`.
void layer_invariants(const Projections& p, const std::vector<double>& x, int64_t k, int64_t c,
                      int64_t heads, int64_t kv_heads, std::vector<double>* out) {
    const std::vector<double> xa = normed(x, k, c, p.attn_norm);
    const std::vector<double> xf = normed(x, k, c, p.ffn_norm);
    const std::vector<double> qx = times_t(xa, k, p.q), kx = times_t(xa, k, p.k),
                              vx = times_t(xa, k, p.v);
    const int64_t hs = heads > 0 ? p.q.rows / heads : p.q.rows;
    const int64_t group = kv_heads > 0 ? std::max<int64_t>(1, heads / kv_heads) : 1;
    // qk: sum_h (X~ Wq_h^T)(X~ Wk_g(h)^T)^T
    std::vector<double> qk(k * k, 0.0), vo(k * k, 0.0), ff(k * k, 0.0);
    for (int64_t h = 0; h < std::max<int64_t>(1, heads); ++h) {
        const int64_t g = h / group;
        for (int64_t i = 0; i < k; ++i)
            for (int64_t j = 0; j < k; ++j) {
                double s = 0;
                for (int64_t r = 0; r < hs; ++r) {
                    const int64_t kr = g * hs + r;
                    if (h * hs + r >= p.q.rows || kr >= p.k.rows) continue;
                    s += qx[i * p.q.rows + h * hs + r] * kx[j * p.k.rows + kr];
                }
                qk[i * k + j] += s;
            }
    }
    // vo: sum_h X~ Wv_g(h)^T Wo_h^T X^T; first (K x C) = sum_h vx_g(h) Wo[:, h]^T
    // voc[i][d] accumulates over (h, r) in that order; rows d of Wo are independent (threads).
    std::vector<double> voc(k * c, 0.0);
    const int64_t n_heads = std::max<int64_t>(1, heads);
    parallel_for(static_cast<size_t>(std::min(c, p.o.rows)), [&](size_t di) {
        const int64_t d = static_cast<int64_t>(di);
        const float* od = p.o.v.data() + d * p.o.cols;
        for (int64_t i = 0; i < k; ++i) {
            double acc = voc[i * c + d];
            for (int64_t h = 0; h < n_heads; ++h) {
                const int64_t g = h / group;
                for (int64_t r = 0; r < hs; ++r) {
                    const int64_t vr = g * hs + r, oc = h * hs + r;
                    if (vr >= p.v.rows || oc >= p.o.cols) continue;
                    acc += vx[i * p.v.rows + vr] * od[oc];
                }
            }
            voc[i * c + d] = acc;
        }
    }, 0, 16);
    // ffn: X~' Wup^T Wdown^T X^T
    const std::vector<double> ux = times_t(xf, k, p.up);  // K x FF
    std::vector<double> udc(k * c, 0.0);
    const int64_t n_units = std::min(p.up.rows, p.down.cols);
    parallel_for(static_cast<size_t>(std::min(c, p.down.rows)), [&](size_t di) {
        const int64_t d = static_cast<int64_t>(di);
        const float* dd = p.down.v.data() + d * p.down.cols;
        for (int64_t i = 0; i < k; ++i) {
            const double* ui = ux.data() + i * p.up.rows;
            double s = 0;
            for (int64_t u = 0; u < n_units; ++u) s += ui[u] * dd[u];
            udc[i * c + d] = s;
        }
    }, 0, 16);
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j) {
            double s1 = 0, s2 = 0;
            for (int64_t d = 0; d < c; ++d) {
                s1 += voc[i * c + d] * x[j * c + d];
                s2 += udc[i * c + d] * x[j * c + d];
            }
            vo[i * k + j] = s1;
            ff[i * k + j] = s2;
        }
    for (const auto* term : {&qk, &vo, &ff}) {
        double n = 0;
        for (double v : *term) n += v * v;
        n = n > 0 ? 1.0 / std::sqrt(n) : 0.0;
        for (double v : *term) out->push_back(v * n);
    }
}

}  // namespace

Result<WeightFingerprint> compute_weight_fingerprint(const Model& model,
                                                     const WeightPrintOptions& options) {
    WeightFingerprint fp;
    const ModelConfig& cfg = model.config();
    fp.arch = std::string(arch_name(cfg.arch));
    fp.vocab = cfg.vocab_size;
    fp.hidden = cfg.hidden_size;
    fp.layers = cfg.n_layers;
    fp.heads = cfg.n_heads;
    fp.kv_heads = cfg.n_kv_heads;
    fp.head_dim = cfg.head_dim;
    fp.ffn = cfg.intermediate_size;

    // Per-tensor summaries, in parallel (one tensor per task; results in slot order).
    const auto& ts = model.tensors();
    fp.tensors.resize(ts.size());
    std::vector<Status> errs(ts.size());
    parallel_for(
        ts.size(),
        [&](size_t i) {
            auto s = summarise_tensor(model, i, options.tensor_digests);
            if (s.ok()) fp.tensors[i] = std::move(*s);
            else errs[i] = s.status();
        },
        options.threads);
    for (const Status& e : errs) MP_TRY(e);

    // Per-layer std profile from the summaries (fused QKV counts for q, k and v).
    fp.layer_std.assign(std::max<int64_t>(0, cfg.n_layers), {});
    for (auto& row : fp.layer_std) row.fill(std::nan(""));
    for (size_t i = 0; i < ts.size(); ++i) {
        const TensorRole& r = model.roles()[i];
        if (r.is_bias || r.layer < 0 || r.layer >= cfg.n_layers) continue;
        for (size_t k = 0; k < kProfileRoles.size(); ++k) {
            if (r.role == kProfileRoles[k] ||
                (r.role == Role::kAttnQKV && k < 3)) {
                fp.layer_std[r.layer][k] = fp.tensors[i].std;
            }
        }
    }

    // HuRef-style invariants.
    fp.invariants.assign(kWeightInvariantDim, 0.0f);
    if (model.find_role(Role::kTokenEmbd) == nullptr || cfg.n_layers <= 0) return fp;
    MP_ASSIGN_OR_RETURN(InvariantTokens tokens, invariant_tokens(model));
    fp.invariant_token_ids = tokens.ids;
    std::vector<double> inv;
    for (int layer : invariant_layers(cfg.n_layers)) {
        MP_ASSIGN_OR_RETURN(std::vector<double> block,
                            layer_invariant_terms(model, layer, tokens, options.head_dim_hint));
        inv.insert(inv.end(), block.begin(), block.end());
    }
    fp.invariants = normalised_invariants(inv);
    return fp;
}

Result<TensorSummary> summarise_tensor(const Model& model, size_t index, bool digest) {
    if (index >= model.tensors().size()) {
        return invalid_argument("{}: tensor index {} out of range (the model has {})",
                                model.path(), index, model.tensors().size());
    }
    const TensorInfo& t = model.tensors()[index];
    TensorSummary s;
    s.name = t.name;
    s.canonical = canonical_name(model.roles()[index]);
    s.dtype = t.dtype;
    s.shape = t.shape;
    if (digest) s.sha256 = sha256_hex(model.tensor_bytes(t));
    if (!dtype_info(t.dtype).is_float) return s;
    MP_ASSIGN_OR_RETURN(std::vector<float> v, model.read_f32(t));
    double sum = 0, ss = 0, mx = 0;
    for (float x : v) {
        sum += x;
        ss += double(x) * x;
        mx = std::max(mx, std::fabs(double(x)));
    }
    const double n = std::max<double>(1.0, static_cast<double>(v.size()));
    s.mean = sum / n;
    s.std = std::sqrt(std::max(0.0, ss / n - s.mean * s.mean));
    s.l2 = std::sqrt(ss);
    s.absmax = mx;
    return s;
}

std::array<int, kInvariantLayers> invariant_layers(int64_t n_layers) {
    std::array<int, kInvariantLayers> out{};
    for (int q = 0; q < kInvariantLayers; ++q) {
        out[q] = static_cast<int>(
            std::lround(double(q) * double(n_layers - 1) / double(kInvariantLayers - 1)));
    }
    return out;
}

Result<InvariantTokens> invariant_tokens(const Model& model) {
    MP_ASSIGN_OR_RETURN(Mat emb, load(model, Role::kTokenEmbd, -1));
    InvariantTokens tk;
    const int64_t c = emb.cols;
    tk.hidden = c;
    tk.x.resize(kInvariantTokens * c);
    for (int i = 0; i < kInvariantTokens; ++i) {
        const int64_t id = std::min<int64_t>(emb.rows - 1, 100 + 50 * i);
        tk.ids.push_back(static_cast<int32_t>(id));
        for (int64_t j = 0; j < c; ++j) tk.x[i * c + j] = emb.at(id, j);
    }
    for (const std::string& note : model.config().notes) {
        tk.head_dim_guessed |=
            note.rfind("head_dim", 0) == 0 && note.find("GUESSED") != std::string::npos;
    }
    return tk;
}

Result<std::vector<double>> layer_invariant_terms(const Model& model, int layer,
                                                  const InvariantTokens& tokens,
                                                  int64_t head_dim_hint) {
    const ModelConfig& cfg = model.config();
    const int64_t c = tokens.hidden;
    MP_ASSIGN_OR_RETURN(Projections p, load_layer(model, layer));
    std::vector<double> inv;
    if (p.ok && p.q.cols == c && p.up.cols == c) {
        int64_t heads = cfg.n_heads, kv_heads = cfg.n_kv_heads;
        if (tokens.head_dim_guessed && head_dim_hint > 0 && p.q.rows % head_dim_hint == 0 &&
            p.k.rows % head_dim_hint == 0) {
            heads = p.q.rows / head_dim_hint;
            kv_heads = p.k.rows / head_dim_hint;
        }
        layer_invariants(p, tokens.x, kInvariantTokens, c, heads, kv_heads, &inv);
    }
    inv.resize(kInvariantTerms * kInvariantTokens * kInvariantTokens, 0.0);
    return inv;
}

std::vector<float> normalised_invariants(const std::vector<double>& inv) {
    std::vector<float> out(kWeightInvariantDim, 0.0f);
    double n = 0;
    for (double v : inv) n += v * v;
    n = n > 0 ? 1.0 / std::sqrt(n) : 0.0;
    for (size_t i = 0; i < inv.size() && i < out.size(); ++i) out[i] = static_cast<float>(inv[i] * n);
    return out;
}

double invariant_similarity(const WeightFingerprint& a, const WeightFingerprint& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.invariants.size() && i < b.invariants.size(); ++i) {
        ab += double(a.invariants[i]) * b.invariants[i];
        aa += double(a.invariants[i]) * a.invariants[i];
        bb += double(b.invariants[i]) * b.invariants[i];
    }
    return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

std::vector<float> weight_index_vector(const WeightFingerprint& fp) { return fp.invariants; }

std::string weight_fingerprint_json(const WeightFingerprint& fp) {
    Json j;
    j["version"] = fp.version;
    j["arch"] = fp.arch;
    j["dims"] = {{"vocab", fp.vocab},     {"hidden", fp.hidden},     {"layers", fp.layers},
                 {"heads", fp.heads},     {"kv_heads", fp.kv_heads}, {"head_dim", fp.head_dim},
                 {"ffn", fp.ffn}};
    Json tensors = Json::array();
    for (const TensorSummary& t : fp.tensors) {
        tensors.push_back({{"canonical", t.canonical}, {"name", t.name},
                           {"dtype", std::string(dtype_name(t.dtype))}, {"shape", t.shape},
                           {"sha256", t.sha256}, {"mean", t.mean}, {"std", t.std},
                           {"l2", t.l2}, {"absmax", t.absmax}});
    }
    j["tensors"] = tensors;
    Json prof = Json::array();
    for (const auto& row : fp.layer_std) {
        Json r = Json::object();
        for (size_t k = 0; k < kProfileRoles.size(); ++k) {
            r[std::string(role_name(kProfileRoles[k]))] =
                std::isnan(row[k]) ? Json(nullptr) : Json(row[k]);
        }
        prof.push_back(r);
    }
    j["layer_std"] = prof;
    j["invariant_token_ids"] = fp.invariant_token_ids;
    j["invariants"] = fp.invariants;
    return j.dump();
}

}  // namespace modelprint

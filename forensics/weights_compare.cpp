// Pairwise weight analysis (see weights_compare.h for the method and its sources): identity by
// canonical role, hidden alignment, fingerprint terms, depth alignment and the reductions, run as
// the tasks of one read of every weight file (WeightPass over weights_schedule.h). The analysis of
// one layer pair is in weights_layer.cpp.
// Shapes follow llm.c letters: V vocab, C hidden, FF MLP units, NH / NKV heads, HS head dim.
#include "forensics/weights_compare.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "fingerprint/base/progress.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/weight_print.h"
#include "forensics/assignment.h"
#include "forensics/stats.h"
#include "forensics/weights_identity.h"
#include "forensics/weights_layer.h"
#include "forensics/weights_matrix.h"
#include "forensics/weights_schedule.h"

namespace modelprint {

using namespace weights_detail;  // NOLINT: this file's own matrix helpers

namespace {

constexpr int64_t kMaxProcrustesDims = 1024;

Result<std::vector<int32_t>> match_abs(const std::vector<float>& corr, int64_t n, int64_t m) {
    std::vector<double> sim(corr.size());
    for (size_t i = 0; i < corr.size(); ++i) sim[i] = std::fabs(double(corr[i]));
    return match_max_similarity(sim, n, m);
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

// Identity of one shared canonical role (its own slot: the counts and the lattice terms are
// summed in canonical-name order afterwards, whatever order the roles were read in).
struct RoleIdentity {
    bool equal_bytes = false, equal_values = false, cast_equal = false;
    LatticeAcc lat_a, lat_b;  // this role's lattice terms (layer matrices only)
};

struct SharedRole {
    size_t ia = 0, ib = 0;  // tensor indices in A and B
    int layer = -1;
};

size_t tensor_index(const Model& m, const TensorInfo* t) {
    return static_cast<size_t>(t - m.tensors().data());
}

// The tensor's digest from the hashing read, or computed now (its bytes are in memory).
std::string digest_of(const Model& m, const ModelHashStream& s, size_t i) {
    if (s.hashing() && !s.tensor_digest(i).empty()) return s.tensor_digest(i);
    return sha256_hex(m.tensor_bytes(m.tensors()[i]));
}

// compute_weight_fingerprint's layer_std[layer][0]: std of attn_q (or the fused qkv) of a layer.
Result<double> attn_q_std(const Model& m, int layer) {
    double v = std::nan("");
    for (size_t i = 0; i < m.tensors().size(); ++i) {
        const TensorRole& r = m.roles()[i];
        if (r.is_bias || r.layer != layer || (r.role != Role::kAttnQ && r.role != Role::kAttnQKV)) {
            continue;
        }
        MP_ASSIGN_OR_RETURN(TensorSummary s, summarise_tensor(m, i, false));
        v = s.std;
    }
    return v;
}

// The comparison as tasks over the two models' tensors (weights_schedule.h): the hidden
// alignment on the embeddings, one task per layer index (identity of its roles, the
// fingerprint terms, the depth descriptors and the diagonal analysis), one per global role.
// Every task writes to its own slots; run() reduces them in a fixed order afterwards.
class WeightPass {
public:
    WeightPass(const Model& a, const Model& b, ModelHashStream& sa, ModelHashStream& sb,
               const WeightCompareOptions& opt)
        : a_(a), b_(b), sa_(sa), sb_(sb), opt_(opt), ca_(a.config()), cb_(b.config()) {}
    Result<WeightEvidence> run();

private:
    void metadata();
    Status identity(size_t k);
    Status tensor_digest(bool side_b, size_t i);
    void every_tensor();
    Status hidden();
    Status layer(int l);
    Status depth_and_summary();
    Result<RawLayer> reread_layer(const Model& m, ModelHashStream& s, int l) const;

    const Model &a_, &b_;
    ModelHashStream &sa_, &sb_;
    const WeightCompareOptions& opt_;
    const ModelConfig &ca_, &cb_;
    WeightEvidence ev_;
    std::vector<SharedRole> shared_;  // canonical-name order
    std::vector<RoleIdentity> ids_;
    // Every tensor (identity over all of them): digests of the tensors that need one (all when
    // the (dtype, shape) multisets agree, else those without a role), and f32-value digests of
    // the tensors without a role when their shape multisets agree.
    bool all_digests_ = false, unroled_values_ = false;
    std::vector<std::string> dig_a_, dig_b_, val_a_, val_b_;
    bool head_tied_pair_ = false, tied_equal_ = false, embeddings_ = false;
    HiddenMap hmap_;
    // Fingerprint terms (compute_weight_fingerprint's, computed per layer as layers are read).
    InvariantTokens tok_a_, tok_b_;
    bool inv_a_ = false, inv_b_ = false;
    std::array<std::vector<double>, kInvariantLayers> blocks_a_, blocks_b_;
    std::vector<double> std_a_, std_b_;
    // Per-layer pass.
    int La_ = 0, Lb_ = 0;
    int64_t hs_a_ = 0, hs_b_ = 0;
    std::vector<LayerMats> la_, lb_;
    std::map<std::pair<int, int>, LayerEvidence> done_;
    std::unique_ptr<Progress> progress_;
};

void WeightPass::metadata() {
    ev_.arch_a = std::string(arch_name(ca_.arch));
    ev_.arch_b = std::string(arch_name(cb_.arch));
    ev_.layers_a = ca_.n_layers;
    ev_.layers_b = cb_.n_layers;
    // ---- identity by canonical role (one digest per tensor; names may differ)
    std::map<std::string, size_t> ra, rb;
    for (size_t i = 0; i < a_.tensors().size(); ++i) {
        const std::string cn = canonical_name(a_.roles()[i]);
        if (!cn.empty()) ra[cn] = i;
    }
    for (size_t i = 0; i < b_.tensors().size(); ++i) {
        const std::string cn = canonical_name(b_.roles()[i]);
        if (!cn.empty()) rb[cn] = i;
    }
    std::map<DType, uint64_t> dta, dtb;
    for (const auto& [cn, i] : ra) {
        const TensorInfo& ta = a_.tensors()[i];
        dta[ta.dtype] += ta.numel();
        auto it = rb.find(cn);
        if (it == rb.end()) {
            ++ev_.identity.only_a;
            continue;
        }
        const TensorInfo& tb = b_.tensors()[it->second];
        ++ev_.identity.shared_roles;
        ev_.identity.names_differ += ta.name != tb.name;
        ev_.identity.names_nonstandard +=
            ta.name != tb.name && (!a_.name_is_standard(i) || !b_.name_is_standard(it->second));
        shared_.push_back(SharedRole{i, it->second, a_.roles()[i].layer});
        if (ta.dtype == tb.dtype && ta.nbytes == tb.nbytes && ta.shape == tb.shape) {
            sa_.want(i, true);  // digests from the hashing read
            sb_.want(it->second, true);
        }
    }
    for (const auto& [cn, i] : rb) {
        dtb[b_.tensors()[i].dtype] += b_.tensors()[i].numel();
        ev_.identity.only_b += ra.count(cn) == 0;
    }
    // A tied output head stored explicitly on one side only (HF tie vs GGUF output.weight) is
    // compared through canonical_f32, which returns token_embd for the tied side.
    const std::string kHead = canonical_name(TensorRole{Role::kOutput, -1, false});
    const bool head_a = ra.count(kHead) > 0, head_b = rb.count(kHead) > 0;
    if (head_a != head_b && (head_a ? b_ : a_).find_role(Role::kTokenEmbd) != nullptr) {
        head_tied_pair_ = true;
        (head_a ? ev_.identity.only_a : ev_.identity.only_b) -= 1;
        ++ev_.identity.shared_roles;
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
    ev_.identity.dtype_a = std::string(dtype_name(dom_a));
    ev_.identity.dtype_b = std::string(dtype_name(dom_b));
    for (auto [t, c] : dta)
        if (dtype_info(t).is_quantized) {
            ev_.quant_a.block_types = true;
            ev_.quant_a.lattice = "gguf:" + std::string(dtype_name(t));
        }
    for (auto [t, c] : dtb)
        if (dtype_info(t).is_quantized) {
            ev_.quant_b.block_types = true;
            ev_.quant_b.lattice = "gguf:" + std::string(dtype_name(t));
        }
    ids_.resize(shared_.size());
    // ---- every tensor, with or without a role
    auto shape_key = [](const TensorInfo& t, bool with_dtype) {
        std::string k = with_dtype ? std::string(dtype_name(t.dtype)) : std::string();
        for (int64_t d : t.shape) k += fmt::format(",{}", d);
        return k;
    };
    std::multiset<std::string> sig_a, sig_b, usig_a, usig_b;
    for (size_t i = 0; i < a_.tensors().size(); ++i) {
        sig_a.insert(shape_key(a_.tensors()[i], true));
        if (a_.roles()[i].role == Role::kUnknown) usig_a.insert(shape_key(a_.tensors()[i], false));
    }
    for (size_t i = 0; i < b_.tensors().size(); ++i) {
        sig_b.insert(shape_key(b_.tensors()[i], true));
        if (b_.roles()[i].role == Role::kUnknown) usig_b.insert(shape_key(b_.tensors()[i], false));
    }
    all_digests_ = sig_a == sig_b;
    unroled_values_ = usig_a == usig_b;
    dig_a_.assign(a_.tensors().size(), {});
    dig_b_.assign(b_.tensors().size(), {});
    val_a_.assign(a_.tensors().size(), {});
    val_b_.assign(b_.tensors().size(), {});
    for (size_t i = 0; i < a_.tensors().size(); ++i) {
        if (all_digests_ || a_.roles()[i].role == Role::kUnknown) sa_.want(i, true);
    }
    for (size_t i = 0; i < b_.tensors().size(); ++i) {
        if (all_digests_ || b_.roles()[i].role == Role::kUnknown) sb_.want(i, true);
    }
    embeddings_ = a_.find_role(Role::kTokenEmbd) != nullptr && b_.find_role(Role::kTokenEmbd) != nullptr;
    La_ = static_cast<int>(ca_.n_layers);
    Lb_ = static_cast<int>(cb_.n_layers);
}

// Equal bytes (digests), equal values and exact dtype casts of one shared role (canonical layout).
Status WeightPass::identity(size_t k) {
    const SharedRole& s = shared_[k];
    RoleIdentity& id = ids_[k];
    const TensorInfo &ta = a_.tensors()[s.ia], &tb = b_.tensors()[s.ib];
    id.equal_bytes = ta.dtype == tb.dtype && ta.nbytes == tb.nbytes && ta.shape == tb.shape &&
                     digest_of(a_, sa_, s.ia) == digest_of(b_, sb_, s.ib);
    const TensorRole r = a_.roles()[s.ia];
    MP_ASSIGN_OR_RETURN(TensorF32 xa, a_.canonical_f32(r.role, r.layer, r.is_bias, r.expert));
    MP_ASSIGN_OR_RETURN(TensorF32 xb, b_.canonical_f32(r.role, r.layer, r.is_bias, r.expert));
    if (xa.shape != xb.shape) return Status();
    id.equal_values = xa.data == xb.data;
    const DType da = ta.dtype, db = tb.dtype;
    Mat ma{1, static_cast<int64_t>(xa.data.size()), std::move(xa.data)};
    Mat mb{1, static_cast<int64_t>(xb.data.size()), std::move(xb.data)};
    if (precision_rank(da) > precision_rank(db) && precision_rank(db) > 0) {
        id.cast_equal = lower_precision_equal(ma, mb, db);
    } else if (precision_rank(db) > precision_rank(da) && precision_rank(da) > 0) {
        id.cast_equal = lower_precision_equal(mb, ma, da);
    }
    if (xa.shape.size() == 2 && r.layer >= 0) {
        ma.rows = xa.shape[0];
        ma.cols = xa.shape[1];
        mb.rows = xb.shape[0];
        mb.cols = xb.shape[1];
        id.lat_a.add(ma);
        id.lat_b.add(mb);
    }
    return Status();
}
// One tensor's digest (and, without a role, its f32-value digest) into its own slot.
Status WeightPass::tensor_digest(bool side_b, size_t i) {
    const Model& m = side_b ? b_ : a_;
    const ModelHashStream& s = side_b ? sb_ : sa_;
    (side_b ? dig_b_ : dig_a_)[i] = digest_of(m, s, i);
    if (unroled_values_ && m.roles()[i].role == Role::kUnknown) {
        MP_ASSIGN_OR_RETURN(std::vector<float> v, m.read_f32(m.tensors()[i]));
        (side_b ? val_b_ : val_a_)[i] = sha256_hex(std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)));
    }
    return Status();
}

void WeightPass::every_tensor() {
    identity_over_every_tensor(a_, b_, {all_digests_, unroled_values_, &dig_a_, &dig_b_, &val_a_,
                                        &val_b_},
                               &ev_.identity);
}

// The embeddings of both: hidden alignment, the invariant tokens, and whether layers compare.
Status WeightPass::hidden() {
    MP_ASSIGN_OR_RETURN(Mat ea, load(a_, Role::kTokenEmbd, -1));
    MP_ASSIGN_OR_RETURN(Mat eb, load(b_, Role::kTokenEmbd, -1));
    ev_.hidden_a = ea.cols;
    ev_.hidden_b = eb.cols;
    auto pairs = shared_vocab(a_, b_, ea.rows, eb.rows, &ev_.vocab_note);
    if (static_cast<int64_t>(pairs.size()) > opt_.max_tokens) {
        const size_t stride = (pairs.size() + opt_.max_tokens - 1) / opt_.max_tokens;
        std::vector<std::pair<int32_t, int32_t>> sub;
        for (size_t i = 0; i < pairs.size(); i += stride) sub.push_back(pairs[i]);
        pairs.swap(sub);
    }
    ev_.shared_tokens = static_cast<int64_t>(pairs.size());
    const bool swap_ab = ea.cols > eb.cols;  // assignment rows = the narrower side
    if (ev_.shared_tokens >= 16) {
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
        ev_.hidden_rho = spearman_of(pi[0], pi[1], &ev_.shared_tokens);
        ev_.shared_tokens = static_cast<int64_t>(pairs.size());
        ev_.hidden_log_p = log_spearman_pvalue(ev_.hidden_rho, en.cols);
        double held = 0;
        int64_t same = 0;
        for (int64_t c = 0; c < en.cols; ++c) {
            held += std::fabs(corr_held[c * ew.cols + pi[0][c]]);
            same += pi[0][c] == c;
        }
        ev_.hidden_cos = held / double(en.cols);
        ev_.hidden_identity = double(same) / double(en.cols);
        // Full alignment (all shared tokens) for the layer analysis.
        const std::vector<float> cf = corr_matrix(standardised_columns(en, swap_ab ? fb : fa),
                                                  standardised_columns(ew, swap_ab ? fa : fb));
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> pf, match_abs(cf, en.cols, ew.cols));
        double emb = 0;
        for (int64_t c = 0; c < en.cols; ++c) emb += std::fabs(cf[c * ew.cols + pf[c]]);
        ev_.embedding_cos = emb / double(en.cols);
        if (!swap_ab) {
            hmap_.perm = pf;
            hmap_.sign.resize(pf.size());
            for (int64_t c = 0; c < en.cols; ++c) hmap_.sign[c] = cf[c * ew.cols + pf[c]] < 0 ? -1.0f : 1.0f;
        }
        // Orthogonal Procrustes (equal widths): fit on half 0, score rows of half 1.
        // (Naive O(n C^2) fit and scoring: only up to kMaxProcrustesDims; reported, not decisive.)
        if (ea.cols == eb.cols && ea.cols > kMaxProcrustesDims) {
            ev_.notes.push_back(fmt::format("orthogonal Procrustes skipped: hidden {} > {}", ea.cols,
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
                ev_.procrustes_cos = n1 ? acc / double(n1) : 0.0;
            }
        }
        ev_.hidden_aligned = true;
    } else {
        ev_.vocab_note += "; fewer than 16 shared tokens: hidden dimensions cannot be aligned";
    }
    ea = Mat{};
    eb = Mat{};
    // Fingerprint tokens (compute_weight_fingerprint: no invariants without layers).
    if (ca_.n_layers > 0) {
        MP_ASSIGN_OR_RETURN(tok_a_, invariant_tokens(a_));
        inv_a_ = true;
    }
    if (cb_.n_layers > 0) {
        MP_ASSIGN_OR_RETURN(tok_b_, invariant_tokens(b_));
        inv_b_ = true;
    }
    // ---- structure: can layers be compared? (MoE layers, from the layer plans: expert
    // matching is issue 18 item 3, not implemented; say so rather than compare a part.)
    if (a_.plan().has_moe() || b_.plan().has_moe()) {
        ev_.structure_note = fmt::format(
            "expert-level weight comparison is not implemented for MoE layers ({}: {} of {} "
            "layers MoE, {}: {} of {}); routers, experts and shared experts are compared by "
            "identity (digests) only",
            ev_.arch_a, a_.plan().moe_layers(), ca_.n_layers, ev_.arch_b, b_.plan().moe_layers(),
            cb_.n_layers);
        ev_.notes.push_back(ev_.structure_note);
    } else if (ca_.arch != cb_.arch && !(layer_layout(a_) && layer_layout(b_))) {
        ev_.structure_note = fmt::format("different architectures ({} vs {}) with different layer "
                                        "layouts", ev_.arch_a, ev_.arch_b);
    } else if (ev_.hidden_a != ev_.hidden_b) {
        ev_.structure_note = fmt::format("different widths (hidden {} vs {})", ev_.hidden_a, ev_.hidden_b);
    } else if (!layer_layout(a_) || !layer_layout(b_)) {
        ev_.structure_note = fmt::format("layer layout not comparable ({}: separate q/k/v {}, {}: {})",
                                        ev_.arch_a, layer_layout(a_), ev_.arch_b, layer_layout(b_));
    } else if (!ev_.hidden_aligned) {
        ev_.structure_note = "hidden dimensions could not be aligned (no shared vocabulary)";
    } else {
        ev_.layer_comparable = true;
    }
    if (ev_.layer_comparable) {
        hs_a_ = head_dim_of(a_, b_);
        hs_b_ = head_dim_of(b_, a_);
        la_.resize(La_);
        lb_.resize(Lb_);
        progress_ = std::make_unique<Progress>("compare layers",
                                               static_cast<uint64_t>(std::max(La_, Lb_)), "layers");
        if (!opt_.progress) Progress::set_enabled(false);
    }
    return Status();
}

// Layer index l of both models: identity of its shared roles, the fingerprint terms, and (layers
// comparable) the depth descriptors and, at equal depth, the diagonal pair's analysis.
Status WeightPass::layer(int l) {
    for (size_t k = 0; k < shared_.size(); ++k) {
        if (shared_[k].layer == l) MP_TRY(identity(k));
    }
    if (embeddings_) {
        if (l < La_) {
            MP_ASSIGN_OR_RETURN(std_a_[l], attn_q_std(a_, l));
        }
        if (l < Lb_) {
            MP_ASSIGN_OR_RETURN(std_b_[l], attn_q_std(b_, l));
        }
        const auto qa = invariant_layers(ca_.n_layers), qb = invariant_layers(cb_.n_layers);
        for (int q = 0; q < kInvariantLayers; ++q) {
            if (inv_a_ && qa[q] == l) {
                MP_ASSIGN_OR_RETURN(blocks_a_[q], layer_invariant_terms(a_, l, tok_a_, cb_.head_dim));
            }
            if (inv_b_ && qb[q] == l) {
                MP_ASSIGN_OR_RETURN(blocks_b_[q], layer_invariant_terms(b_, l, tok_b_, ca_.head_dim));
            }
        }
    }
    if (!ev_.layer_comparable || l >= std::max(La_, Lb_)) return Status();
    if (l < La_) {
        MP_ASSIGN_OR_RETURN(RawLayer r, read_layer(a_, l));
        la_[l] = prepare(r, nullptr, opt_.gram_dims);
    }
    if (l < Lb_) {
        MP_ASSIGN_OR_RETURN(RawLayer r, read_layer(b_, l));
        lb_[l] = prepare(r, &hmap_, opt_.gram_dims);
    }
    if (La_ == Lb_) {
        MP_ASSIGN_OR_RETURN(LayerEvidence le, analyse_layer(la_[l], lb_[l], l, l, hs_a_, hs_b_, opt_));
        done_.emplace(std::make_pair(l, l), std::move(le));
    }
    // Keep only the depth descriptors.
    for (LayerMats* m : {l < La_ ? &la_[l] : nullptr, l < Lb_ ? &lb_[l] : nullptr}) {
        if (m == nullptr) continue;
        auto d = std::move(m->desc);
        const bool gated = m->gated;
        *m = LayerMats{};
        m->desc = std::move(d);
        m->gated = gated;
    }
    progress_->advance(1);
    return Status();
}

// A layer read a second time (a matched pair off the diagonal): its pages go again afterwards.
Result<RawLayer> WeightPass::reread_layer(const Model& m, ModelHashStream& s, int l) const {
    auto r = read_layer(m, l);
    if (s.releases()) {
        for (size_t i = 0; i < m.tensors().size(); ++i) {
            if (m.roles()[i].layer == l) {
                const TensorInfo& t = m.tensors()[i];
                m.files()[t.file_index].map->release(t.offset, t.nbytes);
            }
        }
    }
    return r;
}

// Depth alignment on the descriptors, the pairs off the diagonal, and the layer summary.
Status WeightPass::depth_and_summary() {
    ev_.layer_sim.assign(La_, std::vector<double>(Lb_, 0.0));
    for (int i = 0; i < La_; ++i)
        for (int j = 0; j < Lb_; ++j) ev_.layer_sim[i][j] = desc_similarity(la_[i], lb_[j]);
    // Monotone matching (maximum total similarity; skips free): classic DP.
    std::vector<std::vector<double>> dp(La_ + 1, std::vector<double>(Lb_ + 1, 0.0));
    for (int i = 1; i <= La_; ++i)
        for (int j = 1; j <= Lb_; ++j)
            dp[i][j] = std::max({dp[i - 1][j], dp[i][j - 1],
                                 dp[i - 1][j - 1] + std::max(0.0, ev_.layer_sim[i - 1][j - 1])});
    std::vector<std::pair<int, int>> path;
    for (int i = La_, j = Lb_; i > 0 && j > 0;) {
        if (dp[i][j] == dp[i - 1][j - 1] + std::max(0.0, ev_.layer_sim[i - 1][j - 1]) &&
            ev_.layer_sim[i - 1][j - 1] > 0) {
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
    for (int l = 0; l < std::min(La_, Lb_); ++l) diag_total += std::max(0.0, ev_.layer_sim[l][l]);
    // Equal depth: keep the diagonal unless the monotone path is clearly better (0.1 per layer).
    if (La_ == Lb_ && dp[La_][Lb_] <= diag_total + 0.1 * La_) {
        path.clear();
        for (int l = 0; l < La_; ++l) path.emplace_back(l, l);
    }
    if (path.empty()) {
        for (int l = 0; l < std::min(La_, Lb_); ++l) path.emplace_back(l, l);
    }
    ev_.layer_match = path;
    for (auto [i, j] : path) ev_.depth_diagonal &= i == j;
    // Pairs not analysed in the streaming pass are read again (only those).
    for (auto [i, j] : path) {
        if (done_.count({i, j})) continue;
        MP_ASSIGN_OR_RETURN(RawLayer r1, reread_layer(a_, sa_, i));
        MP_ASSIGN_OR_RETURN(RawLayer r2, reread_layer(b_, sb_, j));
        const LayerMats x = prepare(r1, nullptr, opt_.gram_dims), y = prepare(r2, &hmap_, opt_.gram_dims);
        MP_ASSIGN_OR_RETURN(LayerEvidence le, analyse_layer(x, y, i, j, hs_a_, hs_b_, opt_));
        done_.emplace(std::make_pair(i, j), std::move(le));
    }
    std::vector<double> lps, ratios, spreads, comps;
    double sim = 0, rho = 0, l2 = 0, uid = 0, hid = 0, cka_sum = 0;
    double min_sim = 1.0;
    int64_t nroles = 0;
    for (auto [i, j] : path) {
        const LayerEvidence& le = done_.at({i, j});
        ev_.layers.push_back(le);
        lps.push_back(le.log_p);
        sim += le.similarity;
        min_sim = std::min(min_sim, le.similarity);
        rho += le.unit_rho;
        uid += le.unit_identity;
        hid += le.head_identity;
        cka_sum += 0.5 * (le.cka_q + le.cka_k);
        if (le.scale_units >= 2) {
            spreads.push_back(le.scale_spread);
            comps.push_back(le.scale_compensation);
        }
        for (const RoleSimilarity& r : le.roles) {
            l2 += r.rel_l2;
            ratios.push_back(r.norm_ratio);
            ++nroles;
        }
    }
    const double n = std::max<double>(1.0, double(path.size()));
    ev_.log_p = fisher_combine_log(lps);
    ev_.mean_similarity = sim / n;
    ev_.min_similarity = path.empty() ? 0.0 : min_sim;
    ev_.mean_unit_rho = rho / n;
    ev_.unit_identity = uid / n;
    ev_.head_identity = hid / n;
    ev_.mean_cka = cka_sum / n;
    ev_.mean_rel_l2 = nroles ? l2 / double(nroles) : 0.0;
    if (!ratios.empty()) {
        std::nth_element(ratios.begin(), ratios.begin() + ratios.size() / 2, ratios.end());
        ev_.median_norm_ratio = ratios[ratios.size() / 2];
    }
    auto median = [](std::vector<double> v) {
        if (v.empty()) return 0.0;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
    };
    ev_.scale_spread = median(spreads);
    ev_.scale_compensation = median(comps);
    if (La_ != Lb_) {
        ev_.notes.push_back(fmt::format("depth differs ({} vs {} layers): {} layer pairs matched "
                                       "monotonically", La_, Lb_, path.size()));
    }
    return Status();
}

Result<WeightEvidence> WeightPass::run() {
    metadata();
    int max_layer = std::max(La_, Lb_);
    for (const TensorRole& r : a_.roles()) max_layer = std::max(max_layer, r.layer + 1);
    for (const TensorRole& r : b_.roles()) max_layer = std::max(max_layer, r.layer + 1);
    std_a_.assign(std::max(0, La_), std::nan(""));
    std_b_.assign(std::max(0, Lb_), std::nan(""));
    // The plan: embeddings first (everything per layer needs the hidden alignment), then the
    // layers in order, then the global roles; what the reads pass over runs when it can.
    PairSchedule plan(sa_, sb_);
    std::vector<size_t> after;
    if (embeddings_) {
        const size_t ea = tensor_index(a_, a_.find_role(Role::kTokenEmbd));
        const size_t eb = tensor_index(b_, b_.find_role(Role::kTokenEmbd));
        after.push_back(plan.add({ea}, {eb}, [this] { return hidden(); }));
    }
    auto layer_tensors = [](const Model& m, int l) {
        std::vector<size_t> out;
        for (size_t i = 0; i < m.tensors().size(); ++i) {
            if (m.roles()[i].role != Role::kUnknown && m.roles()[i].layer == l) out.push_back(i);
        }
        return out;
    };
    for (int l = 0; l < max_layer; ++l) {
        plan.add(layer_tensors(a_, l), layer_tensors(b_, l), [this, l] { return layer(l); }, after);
    }
    for (size_t k = 0; k < shared_.size(); ++k) {
        if (shared_[k].layer >= 0) continue;
        plan.add({shared_[k].ia}, {shared_[k].ib}, [this, k] { return identity(k); });
    }
    // Every tensor's own digest task (identity over all tensors, with or without a role).
    for (size_t i = 0; i < a_.tensors().size(); ++i) {
        if (all_digests_ || a_.roles()[i].role == Role::kUnknown) {
            plan.add({i}, {}, [this, i] { return tensor_digest(false, i); });
        }
    }
    for (size_t j = 0; j < b_.tensors().size(); ++j) {
        if (all_digests_ || b_.roles()[j].role == Role::kUnknown) {
            plan.add({}, {j}, [this, j] { return tensor_digest(true, j); });
        }
    }
    if (head_tied_pair_) {
        auto head = [](const Model& m) {
            const TensorInfo* t = m.find_role(Role::kOutput);
            return tensor_index(m, t != nullptr ? t : m.find_role(Role::kTokenEmbd));
        };
        plan.add({head(a_)}, {head(b_)}, [this]() -> Status {
            MP_ASSIGN_OR_RETURN(TensorF32 xa, a_.canonical_f32(Role::kOutput));
            MP_ASSIGN_OR_RETURN(TensorF32 xb, b_.canonical_f32(Role::kOutput));
            tied_equal_ = xa.shape == xb.shape && xa.data == xb.data;
            return Status();
        });
    }
    MP_TRY(plan.run_all());
    if (progress_) progress_->finish();

    // Identity, reduced in canonical-name order.
    int64_t equal_values = 0, cast_equal = 0;
    LatticeAcc lat_a, lat_b;
    for (const RoleIdentity& id : ids_) {
        ev_.identity.equal_bytes += id.equal_bytes;
        equal_values += id.equal_values;
        cast_equal += id.cast_equal;
        lat_a.on4 += id.lat_a.on4;
        lat_a.on8 += id.lat_a.on8;
        lat_a.n += id.lat_a.n;
        lat_b.on4 += id.lat_b.on4;
        lat_b.on8 += id.lat_b.on8;
        lat_b.n += id.lat_b.n;
    }
    every_tensor();
    const TensorIdentity& tid = ev_.identity;
    const bool roles_match = tid.only_a == 0 && tid.only_b == 0 && tid.tensors_a > 0;
    ev_.identical_bytes = roles_match && tid.digests_equal &&
                          tid.equal_bytes == tid.shared_roles;
    equal_values += tied_equal_;
    lat_a.finish(&ev_.quant_a);
    lat_b.finish(&ev_.quant_b);
    ev_.identity.equal_values = equal_values;
    ev_.identity.cast_equal = cast_equal;
    ev_.identical_values = roles_match && tid.values_equal_unroled &&
                           equal_values == tid.shared_roles;
    if (!embeddings_) {
        ev_.structure_note = "a model has no token embedding: no shared coordinates to align";
        return ev_;
    }
    // ---- fingerprints: attention-std profile and HuRef-style invariants
    auto invariants = [](const std::array<std::vector<double>, kInvariantLayers>& blocks, bool on) {
        WeightFingerprint fp;
        fp.invariants.assign(kWeightInvariantDim, 0.0f);
        if (!on) return fp;
        std::vector<double> inv;
        for (const auto& b : blocks) inv.insert(inv.end(), b.begin(), b.end());
        fp.invariants = normalised_invariants(inv);
        return fp;
    };
    ev_.invariant_cos = invariant_similarity(invariants(blocks_a_, inv_a_), invariants(blocks_b_, inv_b_));
    {
        std::vector<double> pa, pb;
        const size_t L = std::min(std_a_.size(), std_b_.size());
        for (size_t l = 0; l < L; ++l) {
            const double x = std_a_[l], y = std_b_[l];
            if (!std::isnan(x) && !std::isnan(y)) {
                pa.push_back(x);
                pb.push_back(y);
            }
        }
        ev_.attn_std_corr = pa.size() >= 3 ? pearson(pa, pb) : 0.0;
    }
    if (!ev_.layer_comparable) return ev_;
    MP_TRY(depth_and_summary());
    return ev_;
}

}  // namespace

bool release_pages_for(const Model& a, const Model& b, PageRelease mode) {
    if (mode != PageRelease::kAuto) return mode == PageRelease::kAlways;
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return false;
    const double ram = double(pages) * double(page);
    return double(a.weight_bytes()) + double(b.weight_bytes()) > 0.5 * ram;
}

Result<WeightEvidence> compare_weights(const Model& a, const Model& b, ModelHashStream& sa,
                                       ModelHashStream& sb, const WeightCompareOptions& opt) {
    WeightPass pass(a, b, sa, sb, opt);
    return pass.run();
}

Result<WeightEvidence> compare_weights(const Model& a, const Model& b,
                                       const WeightCompareOptions& opt) {
    HashOptions ho;
    ho.threads = opt.threads;
    ho.tensors = false;
    const bool release = release_pages_for(a, b, opt.release);
    MP_ASSIGN_OR_RETURN(auto sa, ModelHashStream::open(a, ho, false, release));
    MP_ASSIGN_OR_RETURN(auto sb, ModelHashStream::open(b, ho, false, release));
    return compare_weights(a, b, *sa, *sb, opt);
}

}  // namespace modelprint

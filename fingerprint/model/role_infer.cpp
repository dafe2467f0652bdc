// Role inference from shapes and structure (see role_infer.h for the method and its source).
// Dimension letters (llm.c): V vocab, C hidden, L layers, NH / NKV heads, HS head dim, FF MLP.
#include "fingerprint/model/role_infer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace modelprint {

namespace {

constexpr int kMaxNameInts = 8;  // dot components of a name considered as layer indices

// The all-digit dot-separated components of a name ("x.17.y.3" -> {17, 3}).
std::vector<int64_t> name_ints(std::string_view name) {
    std::vector<int64_t> out;
    size_t b = 0;
    while (b <= name.size() && out.size() < kMaxNameInts) {
        size_t e = name.find('.', b);
        if (e == std::string_view::npos) e = name.size();
        std::string_view c = name.substr(b, e - b);
        if (!c.empty() && c.size() <= 6 &&
            std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
            int64_t v = 0;
            std::from_chars(c.data(), c.data() + c.size(), v);
            out.push_back(v);
        }
        b = e + 1;
    }
    return out;
}

std::string shape_key(const std::vector<int64_t>& s) {
    std::string k;
    for (int64_t d : s) k += std::to_string(d) + ",";
    return k;
}

double pearson_of(const std::vector<double>& x, const std::vector<double>& y) {
    const size_t n = std::min(x.size(), y.size());
    if (n < 3) return 0.0;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

// Row norms and column norms of a [rows, cols] matrix stored row-major.
struct Norms {
    std::vector<double> rows, cols;
};

Norms norms_of(const std::vector<float>& v, int64_t rows, int64_t cols) {
    Norms n;
    n.rows.assign(static_cast<size_t>(rows), 0.0);
    n.cols.assign(static_cast<size_t>(cols), 0.0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
            const double x = v[static_cast<size_t>(r * cols + c)];
            n.rows[r] += x * x;
            n.cols[c] += x * x;
        }
    for (double& x : n.rows) x = std::sqrt(x);
    for (double& x : n.cols) x = std::sqrt(x);
    return n;
}

// Average a profile of `groups * per` entries over consecutive blocks of `groups / out_groups`
// (GQA: q heads of one kv group) to `out_groups * per` entries.
std::vector<double> group_mean(const std::vector<double>& p, int64_t groups, int64_t out_groups,
                               int64_t per) {
    if (out_groups <= 0 || groups % out_groups != 0 ||
        static_cast<int64_t>(p.size()) != groups * per) {
        return {};
    }
    const int64_t g = groups / out_groups;
    std::vector<double> out(static_cast<size_t>(out_groups * per), 0.0);
    for (int64_t h = 0; h < groups; ++h)
        for (int64_t j = 0; j < per; ++j) out[(h / g) * per + j] += p[h * per + j] / double(g);
    return out;
}

class Inferrer {
public:
    Inferrer(const std::vector<TensorInfo>& t, const ModelConfig& c, const TensorReader& read)
        : t_(t), c_(c), read_(read) {}

    Result<RoleInference> run();

private:
    Result<Norms> norms(size_t i) {
        auto it = cache_.find(i);
        if (it != cache_.end()) return it->second;
        const TensorInfo& t = t_[i];
        MP_ASSIGN_OR_RETURN(std::vector<float> v, read_(i));
        const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
        const int64_t cols = t.shape.size() == 2 ? t.shape[1] : 1;
        if (static_cast<int64_t>(v.size()) != rows * cols) {
            return failed_precondition("tensor \"{}\" has {} values for shape {}x{}", t.name,
                                       v.size(), rows, cols);
        }
        Norms n = norms_of(v, rows, cols);
        if (t.shape.size() == 1) {  // a gain vector: its |values| are the profile
            n.rows.resize(v.size());
            for (size_t k = 0; k < v.size(); ++k) n.rows[k] = std::fabs(double(v[k]));
        }
        cache_.emplace(i, n);
        return n;
    }
    Status layer_index(std::vector<int>* layer);
    Status globals(const std::vector<int>& layer, RoleInference* out);
    Status one_layer(int l, const std::vector<size_t>& idx, RoleInference* out);

    const std::vector<TensorInfo>& t_;
    const ModelConfig& c_;
    const TensorReader& read_;
    std::map<size_t, Norms> cache_;
};

// Step 1: the name component that is the layer index (every layer's group of equal shapes).
Status Inferrer::layer_index(std::vector<int>* layer) {
    const int64_t L = c_.n_layers;
    std::vector<std::vector<int64_t>> ints(t_.size());
    for (size_t i = 0; i < t_.size(); ++i) ints[i] = name_ints(t_[i].name);
    for (int pos = 0; pos < kMaxNameInts; ++pos) {
        std::vector<int> cand(t_.size(), -1);
        std::vector<std::multiset<std::string>> shapes(static_cast<size_t>(L));
        bool bad = false;
        size_t assigned = 0;
        for (size_t i = 0; i < t_.size() && !bad; ++i) {
            if (static_cast<int>(ints[i].size()) <= pos) continue;
            const int64_t v = ints[i][pos];
            if (v < 0 || v >= L) {
                bad = true;
                break;
            }
            cand[i] = static_cast<int>(v);
            shapes[v].insert(shape_key(t_[i].shape));
            ++assigned;
        }
        if (bad || assigned == 0) continue;
        bool same = true;
        for (int64_t l = 1; l < L; ++l) same &= shapes[l] == shapes[0] && !shapes[l].empty();
        if (same && !shapes[0].empty()) {
            *layer = std::move(cand);
            return Status();
        }
    }
    return failed_precondition(
        "no dot-separated number in the tensor names splits them into "
        "{} layers of equal shapes",
        L);
}

// Step 2: embedding, head and output norm among the tensors outside the layers.
Status Inferrer::globals(const std::vector<int>& layer, RoleInference* out) {
    const int64_t C = c_.hidden_size;
    std::vector<size_t> vc, norm;
    for (size_t i = 0; i < t_.size(); ++i) {
        if (layer[i] >= 0) continue;
        const auto& s = t_[i].shape;
        if (s.size() == 2 && s[1] == C && (c_.vocab_size <= 0 || s[0] == c_.vocab_size)) {
            vc.push_back(i);
        } else if (s.size() == 1 && s[0] == C) {
            norm.push_back(i);
        }
    }
    if (vc.empty() || vc.size() > 2) {
        return failed_precondition(
            "{} matrices outside the layers have the embedding's shape "
            "[{}, {}] (need 1 or 2)",
            vc.size(), c_.vocab_size, C);
    }
    if (norm.size() > 1) {
        return failed_precondition(
            "{} vectors of size {} outside the layers (need 1: the output "
            "norm)",
            norm.size(), C);
    }
    size_t emb = vc[0];
    if (vc.size() == 2) {
        // The head's rows share a common direction; the embedding's much less.
        double score[2];
        for (int k = 0; k < 2; ++k) {
            const TensorInfo& t = t_[vc[k]];
            MP_ASSIGN_OR_RETURN(std::vector<float> v, read_(vc[k]));
            const int64_t R = t.shape[0];
            if (static_cast<int64_t>(v.size()) != R * C) {
                return failed_precondition("tensor \"{}\": {} values", t.name, v.size());
            }
            std::vector<double> mean(static_cast<size_t>(C), 0.0);
            double row_norm = 0;
            for (int64_t r = 0; r < R; ++r) {
                double n = 0;
                for (int64_t j = 0; j < C; ++j) {
                    const double x = v[static_cast<size_t>(r * C + j)];
                    mean[j] += x / double(R);
                    n += x * x;
                }
                row_norm += std::sqrt(n) / double(R);
            }
            double mn = 0;
            for (double x : mean) mn += x * x;
            score[k] = row_norm > 0 ? std::sqrt(mn) / row_norm : 0.0;
        }
        emb = score[0] <= score[1] ? vc[0] : vc[1];
        const size_t head = emb == vc[0] ? vc[1] : vc[0];
        out->roles[head] = TensorRole{Role::kOutput, -1, false};
    }
    out->roles[emb] = TensorRole{Role::kTokenEmbd, -1, false};
    if (!norm.empty()) out->roles[norm[0]] = TensorRole{Role::kOutputNorm, -1, false};
    return Status();
}

// Steps 3-4: the roles of one layer's tensors.
Status Inferrer::one_layer(int l, const std::vector<size_t>& idx, RoleInference* out) {
    const int64_t C = c_.hidden_size, NH = c_.n_heads, NKV = c_.n_kv_heads, HS = c_.head_dim,
                  FF = c_.intermediate_size;
    struct Want {
        Role role;
        std::vector<int64_t> shape;
    };
    const std::vector<Want> want = {
        {Role::kAttnNorm, {C}},        {Role::kFfnNorm, {C}},
        {Role::kAttnQ, {NH * HS, C}},  {Role::kAttnK, {NKV * HS, C}},
        {Role::kAttnV, {NKV * HS, C}}, {Role::kAttnOut, {C, NH * HS}},
        {Role::kFfnGate, {FF, C}},     {Role::kFfnUp, {FF, C}},
        {Role::kFfnDown, {C, FF}},
    };
    if (idx.size() != want.size()) {
        return failed_precondition(
            "layer {} has {} tensors; a Llama-family layer has {} (2 norms, "
            "q, k, v, o, gate, up, down)",
            l, idx.size(), want.size());
    }
    // Candidates per role: the tensors of its shape.
    std::map<Role, std::vector<size_t>> cand;
    for (const Want& w : want) {
        for (size_t i : idx)
            if (t_[i].shape == w.shape) cand[w.role].push_back(i);
        if (cand[w.role].empty()) {
            return failed_precondition("layer {}: no tensor of shape {} for {}", l,
                                       shape_key(w.shape), role_name(w.role));
        }
    }
    // Enumerate assignments role -> distinct tensor (at most 9! in the all-square worst case,
    // pruned by shape; in practice a handful), score ties by composition, keep the best.
    std::vector<Role> order;
    for (const Want& w : want) order.push_back(w.role);
    std::map<Role, size_t> best, cur;
    double best_score = -1e300;
    size_t evaluated = 0;
    std::set<size_t> used;
    // Profiles (lazily read) for the score.
    auto score_of = [&](const std::map<Role, size_t>& a) -> Result<double> {
        MP_ASSIGN_OR_RETURN(Norms q, norms(a.at(Role::kAttnQ)));
        MP_ASSIGN_OR_RETURN(Norms k, norms(a.at(Role::kAttnK)));
        MP_ASSIGN_OR_RETURN(Norms v, norms(a.at(Role::kAttnV)));
        MP_ASSIGN_OR_RETURN(Norms o, norms(a.at(Role::kAttnOut)));
        MP_ASSIGN_OR_RETURN(Norms g, norms(a.at(Role::kFfnGate)));
        MP_ASSIGN_OR_RETURN(Norms u, norms(a.at(Role::kFfnUp)));
        MP_ASSIGN_OR_RETURN(Norms d, norms(a.at(Role::kFfnDown)));
        MP_ASSIGN_OR_RETURN(Norms an, norms(a.at(Role::kAttnNorm)));
        MP_ASSIGN_OR_RETURN(Norms fn, norms(a.at(Role::kFfnNorm)));
        double s = 0;
        s += pearson_of(u.rows, d.cols);                           // up ~ down
        s += pearson_of(group_mean(o.cols, NH, NKV, HS), v.rows);  // v ~ o
        s += pearson_of(group_mean(q.rows, NH, NKV, HS), k.rows);  // q ~ k
        std::vector<double> qkv(static_cast<size_t>(C), 0.0), gu(static_cast<size_t>(C), 0.0);
        for (int64_t c = 0; c < C; ++c) {
            qkv[c] = q.cols[c] + k.cols[c] + v.cols[c];
            gu[c] = g.cols[c] + u.cols[c];
        }
        s += pearson_of(an.rows, qkv) + pearson_of(fn.rows, gu);  // norm ~ inputs
        return s;
    };
    std::function<Status(size_t)> rec = [&](size_t r) -> Status {
        if (r == order.size()) {
            ++evaluated;
            MP_ASSIGN_OR_RETURN(double s, score_of(cur));
            if (s > best_score) {
                best_score = s;
                best = cur;
            }
            return Status();
        }
        for (size_t i : cand[order[r]]) {
            if (used.count(i)) continue;
            used.insert(i);
            cur[order[r]] = i;
            MP_TRY(rec(r + 1));
            used.erase(i);
        }
        return Status();
    };
    MP_TRY(rec(0));
    if (best.empty()) {
        return failed_precondition("layer {}: the shapes admit no assignment of the roles", l);
    }
    for (const auto& [role, i] : best) out->roles[i] = TensorRole{role, l, false};
    return Status();
}

Result<RoleInference> Inferrer::run() {
    const int64_t C = c_.hidden_size, L = c_.n_layers;
    if (C <= 0 || L <= 0 || L > 100000 || c_.n_heads <= 0 || c_.n_kv_heads <= 0 ||
        c_.head_dim <= 0 || c_.intermediate_size <= 0) {
        return failed_precondition(
            "the config does not give the dimensions (hidden, layers, "
            "heads, kv heads, head dim, intermediate size) that roles are "
            "inferred from");
    }
    RoleInference out;
    out.roles.assign(t_.size(), TensorRole{});
    std::vector<int> layer;
    MP_TRY(layer_index(&layer));
    MP_TRY(globals(layer, &out));
    std::vector<std::vector<size_t>> by_layer(static_cast<size_t>(L));
    for (size_t i = 0; i < t_.size(); ++i)
        if (layer[i] >= 0) by_layer[layer[i]].push_back(i);
    for (int64_t l = 0; l < L; ++l) MP_TRY(one_layer(static_cast<int>(l), by_layer[l], &out));
    size_t n = 0;
    for (const TensorRole& r : out.roles) n += r.role != Role::kUnknown;
    out.note = fmt::format(
        "roles of {} of {} tensors inferred from shapes and structure (layer "
        "index from the names, ties resolved by which matrices compose)",
        n, t_.size());
    return out;
}

}  // namespace

Result<RoleInference> infer_roles(const std::vector<TensorInfo>& tensors, const ModelConfig& cfg,
                                  const TensorReader& read) {
    Inferrer inf(tensors, cfg, read);
    return inf.run();
}

bool roles_need_inference(const std::vector<TensorInfo>& tensors,
                          const std::vector<TensorRole>& roles, const ModelConfig& cfg) {
    auto find = [&](Role r, int layer) -> const TensorInfo* {
        for (size_t i = 0; i < tensors.size() && i < roles.size(); ++i) {
            if (roles[i].role == r && roles[i].layer == layer && !roles[i].is_bias) {
                return &tensors[i];
            }
        }
        return nullptr;
    };
    const TensorInfo* e = find(Role::kTokenEmbd, -1);
    if (e == nullptr) return true;
    const int64_t C = cfg.hidden_size;
    if (C > 0 && (e->shape.size() != 2 || e->shape[1] != C)) return true;
    const int64_t NH = cfg.n_heads, NKV = cfg.n_kv_heads, HS = cfg.head_dim,
                  FF = cfg.intermediate_size;
    for (int64_t l = 0; l < cfg.n_layers && l < 100000; ++l) {
        const int li = static_cast<int>(l);
        const TensorInfo* q = find(Role::kAttnQ, li);
        const TensorInfo* k = find(Role::kAttnK, li);
        const TensorInfo* o = find(Role::kAttnOut, li);
        const TensorInfo* up = find(Role::kFfnUp, li);
        const TensorInfo* down = find(Role::kFfnDown, li);
        // A MoE layer (router present) has expert tensors in place of ffn_up/ffn_down; the
        // engine's plan check names any expert tensor that is missing.
        const bool moe = find(Role::kFfnGateInp, li) != nullptr;
        if (q == nullptr || k == nullptr || o == nullptr ||
            (!moe && (up == nullptr || down == nullptr))) {
            return true;
        }
        if (C > 0 && NH > 0 && HS > 0 && q->shape != std::vector<int64_t>{NH * HS, C}) return true;
        if (C > 0 && NKV > 0 && HS > 0 && k->shape != std::vector<int64_t>{NKV * HS, C}) {
            return true;
        }
        if (!moe && C > 0 && FF > 0 && up->shape != std::vector<int64_t>{FF, C}) return true;
    }
    return false;
}

}  // namespace modelprint

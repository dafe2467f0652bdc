// compare A B: open, hash, weigh the evidence, decide, render (see compare.h).
#include "forensics/compare.h"

#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "forensics/identity_render.h"

namespace modelprint {

namespace {
constexpr double kLn10 = 2.302585092994046;

Json finite(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json side_json(const ModelSide& s) {
    return {{"path", s.path},   {"root_digest", s.root_digest}, {"arch", s.arch},
            {"parameters", s.parameters}, {"dtype", s.dtype}};
}

Result<ModelSide> open_side(const std::string& path, const CompareOptions& opt,
                            std::unique_ptr<Model>* model) {
    auto m = Model::open(path);
    if (!m.ok()) return m.status().with_context(fmt::format("opening {}", path));
    ModelSide s;
    if (opt.hash_on_open) {
        HashOptions ho;
        ho.threads = opt.threads;
        ho.tensors = false;
        MP_ASSIGN_OR_RETURN(ModelDigest d, hash_model(**m, ho));
        s.root_digest = d.root_digest;
    }
    s.path = path;
    s.arch = std::string(arch_name((*m)->config().arch));
    s.parameters = (*m)->parameter_count();
    *model = std::move(*m);
    return s;
}
}  // namespace

OpenedPair::OpenedPair() = default;
OpenedPair::OpenedPair(OpenedPair&&) noexcept = default;
OpenedPair& OpenedPair::operator=(OpenedPair&&) noexcept = default;
OpenedPair::~OpenedPair() = default;

Result<OpenedPair> open_pair(const std::string& path_a, const std::string& path_b,
                             const CompareOptions& options) {
    OpenedPair p;
    MP_ASSIGN_OR_RETURN(p.a, open_side(path_a, options, &p.model_a));
    MP_ASSIGN_OR_RETURN(p.b, open_side(path_b, options, &p.model_b));
    return p;
}

Result<ComparisonResult> compare_opened(const OpenedPair& pair, const CompareOptions& options) {
    if (pair.model_a == nullptr || pair.model_b == nullptr) {
        return invalid_argument("compare_opened: the pair {} / {} is not open", pair.a.path,
                                pair.b.path);
    }
    ComparisonResult r;
    r.a = pair.a;
    r.b = pair.b;
    WeightCompareOptions wo = options.weights;
    wo.threads = options.threads;
    wo.progress = options.progress;
    // Not hashed at open: the root digests come out of the comparison's read.
    const bool hash = pair.a.root_digest.empty() || pair.b.root_digest.empty();
    const bool release = release_pages_for(*pair.model_a, *pair.model_b, wo.release);
    HashOptions ho;
    ho.threads = options.threads;
    ho.tensors = false;
    MP_ASSIGN_OR_RETURN(auto sa, ModelHashStream::open(*pair.model_a, ho, hash, release));
    MP_ASSIGN_OR_RETURN(auto sb, ModelHashStream::open(*pair.model_b, ho, hash, release));
    auto ev = compare_weights(*pair.model_a, *pair.model_b, *sa, *sb, wo);
    if (!ev.ok()) {
        return ev.status().with_context(fmt::format("comparing {} with {}", r.a.path, r.b.path));
    }
    if (hash) {
        MP_ASSIGN_OR_RETURN(ModelDigest da, sa->finish());
        MP_ASSIGN_OR_RETURN(ModelDigest db, sb->finish());
        r.a.root_digest = da.root_digest;
        r.b.root_digest = db.root_digest;
    }
    r.weights = std::move(*ev);
    r.a.dtype = r.weights.identity.dtype_a;
    r.b.dtype = r.weights.identity.dtype_b;
    r.verdict = decide_weights(r.weights);
    return r;
}

Result<ComparisonResult> compare_opened(OpenedPair& pair, const CompareOptions& options) {
    MP_ASSIGN_OR_RETURN(ComparisonResult r,
                        compare_opened(static_cast<const OpenedPair&>(pair), options));
    pair.a.root_digest = r.a.root_digest;
    pair.b.root_digest = r.b.root_digest;
    return r;
}

Result<ComparisonResult> compare_models(const std::string& path_a, const std::string& path_b,
                                        const CompareOptions& options) {
    CompareOptions once = options;
    once.hash_on_open = false;  // nothing to look up between the steps: one read
    MP_ASSIGN_OR_RETURN(OpenedPair p, open_pair(path_a, path_b, once));
    return compare_opened(p, once);
}

std::string comparison_json(const ComparisonResult& r, int indent) {
    const WeightEvidence& w = r.weights;
    Json j;
    j["schema"] = "modelprint.comparison/v1";
    j["a"] = side_json(r.a);
    j["b"] = side_json(r.b);
    j["verdict"] = {{"relation", r.verdict.relation},
                    {"subtype", r.verdict.subtype.empty() ? Json(nullptr) : Json(r.verdict.subtype)},
                    {"confidence", r.verdict.confidence},
                    {"decisive", r.verdict.decisive},
                    {"reason", r.verdict.reason},
                    {"scope", "weights"}};
    Json layers = Json::array();
    for (const LayerEvidence& l : w.layers) {
        Json roles = Json::object();
        for (const RoleSimilarity& rs : l.roles) {
            roles[rs.role] = {{"cosine", rs.cosine}, {"rel_l2", rs.rel_l2}, {"norm_ratio", rs.norm_ratio}};
        }
        layers.push_back({{"layer_a", l.layer_a}, {"layer_b", l.layer_b},
                          {"similarity", l.similarity}, {"units", l.units},
                          {"unit_rho", l.unit_rho}, {"log10_p", finite(l.log_p / kLn10)},
                          {"unit_identity", l.unit_identity}, {"head_identity", l.head_identity},
                          {"cka_q", l.cka_q}, {"cka_k", l.cka_k},
                          {"scale_spread", l.scale_spread},
                          {"scale_compensation", l.scale_compensation},
                          {"roles", roles}});
    }
    const bool tested = w.layer_comparable && !w.layers.empty();
    Json wj;
    wj["p_value"] = tested ? finite(std::exp(w.log_p)) : Json(nullptr);
    wj["log10_p_value"] = tested ? finite(w.log_p / kLn10) : Json(nullptr);
    wj["test"] = "Spearman rho between MLP-unit matchings on gate and on up rows per layer "
                 "(Zhu et al. 2025), one-sided, Fisher-combined over matched layers";
    wj["layers"] = layers;
    wj["layer_comparable"] = w.layer_comparable;
    wj["structure_note"] = w.structure_note;
    wj["summary"] = {{"mean_similarity", w.mean_similarity}, {"min_similarity", w.min_similarity},
                     {"mean_unit_rho", w.mean_unit_rho}, {"mean_rel_l2", w.mean_rel_l2},
                     {"median_norm_ratio", w.median_norm_ratio},
                     {"unit_identity", w.unit_identity}, {"head_identity", w.head_identity},
                     {"attn_std_profile_corr", w.attn_std_corr},
                     {"huref_invariant_cos", w.invariant_cos}, {"awm_mean_cka", w.mean_cka},
                     {"scale_spread", w.scale_spread},
                     {"scale_compensation", w.scale_compensation}};
    wj["identity"] = identity_json(w);
    wj["hidden"] = {{"aligned", w.hidden_aligned}, {"vocab", w.vocab_note},
                    {"shared_tokens", w.shared_tokens}, {"heldout_abs_corr", w.hidden_cos},
                    {"identity_fraction", w.hidden_identity}, {"split_half_rho", w.hidden_rho},
                    {"log10_p", finite(w.hidden_log_p / kLn10)},
                    {"procrustes_heldout_cos", w.procrustes_cos},
                    {"embedding_abs_corr", w.embedding_cos}};
    Json match = Json::array();
    for (auto [x, y] : w.layer_match) match.push_back({x, y});
    wj["depth"] = {{"layers_a", w.layers_a}, {"layers_b", w.layers_b}, {"layer_sim", w.layer_sim},
                   {"match", match}, {"diagonal", w.depth_diagonal}};
    wj["notes"] = w.notes;
    j["evidence"]["weights"] = wj;
    return j.dump(indent);
}

std::string comparison_text(const ComparisonResult& r) {
    const WeightEvidence& w = r.weights;
    std::string out;
    auto line = [&](const std::string& s) { out += s + "\n"; };
    line(fmt::format("verdict      {}{}  (confidence {:.2f})", r.verdict.relation,
                     r.verdict.subtype.empty() ? "" : " / " + r.verdict.subtype,
                     r.verdict.confidence));
    line(fmt::format("decided by   {}", r.verdict.decisive));
    line(fmt::format("why          {}", r.verdict.reason));
    line("");
    line(fmt::format("A  {}  {}  {} params  {}  root {}", r.a.path, r.a.arch, r.a.parameters,
                     r.a.dtype, r.a.root_digest.substr(0, 16)));
    line(fmt::format("B  {}  {}  {} params  {}  root {}", r.b.path, r.b.arch, r.b.parameters,
                     r.b.dtype, r.b.root_digest.substr(0, 16)));
    line("");
    for (const std::string& l : identity_text(w)) line(l);
    if (!w.quant_a.lattice.empty() || !w.quant_b.lattice.empty()) {
        line(fmt::format("quantisation A: {}  B: {}", w.quant_a.lattice.empty() ? "-" : w.quant_a.lattice,
                         w.quant_b.lattice.empty() ? "-" : w.quant_b.lattice));
    }
    if (w.hidden_aligned) {
        line(fmt::format("hidden       {}; held-out |corr| of matched embedding columns {:.3f}, "
                         "{:.0f}% at the same index, Procrustes held-out cos {:.3f}",
                         w.vocab_note, w.hidden_cos, 100 * w.hidden_identity, w.procrustes_cos));
    }
    line(fmt::format("profiles     attention-std profile correlation {:.3f} (not evidence on its "
                     "own: independent models reach ~0.9); HuRef invariant cos {:.3f}",
                     w.attn_std_corr, w.invariant_cos));
    if (!w.layer_comparable) {
        line(fmt::format("layers       not compared: {}", w.structure_note));
        return out;
    }
    line(fmt::format("test         Fisher-combined p = 1e{:.1f} over {} layers; mean aligned "
                     "|cos| {:.3f} (min {:.3f})",
                     w.log_p / kLn10, w.layers.size(), w.mean_similarity, w.min_similarity));
    line("");
    // Evidence table.
    std::vector<std::string> roles;
    if (!w.layers.empty())
        for (const RoleSimilarity& rs : w.layers[0].roles) roles.push_back(rs.role);
    std::string hdr = "layer A-B   sim    rho    log10p ";
    for (const std::string& rn : roles) hdr += fmt::format(" {:>10}", rn.substr(0, 10));
    line(hdr);
    for (const LayerEvidence& l : w.layers) {
        std::string s = fmt::format("{:>3} -{:>3}   {:.3f}  {:+.3f} {:>7.1f} ", l.layer_a,
                                    l.layer_b, l.similarity, l.unit_rho, l.log_p / kLn10);
        for (const RoleSimilarity& rs : l.roles) s += fmt::format(" {:>10.3f}", rs.cosine);
        line(s);
    }
    // Heatmap (rows: A's layers, columns: B's), shades by similarity.
    line("");
    line("layer similarity (rows A, columns B; ' .:-=+*#%@' from 0 to 1; [] matched pair)");
    static const char kShade[] = " .:-=+*#%@";
    for (size_t i = 0; i < w.layer_sim.size(); ++i) {
        std::string s = fmt::format("{:>4} ", i);
        for (size_t j = 0; j < w.layer_sim[i].size(); ++j) {
            const double v = std::clamp(w.layer_sim[i][j], 0.0, 1.0);
            const char c = kShade[std::min<int>(9, static_cast<int>(v * 9.999))];
            bool matched = false;
            for (auto [x, y] : w.layer_match) matched |= (x == int(i) && y == int(j));
            s += matched ? fmt::format("[{}]", c) : fmt::format(" {} ", c);
        }
        line(s);
    }
    for (const std::string& n : w.notes) line("note: " + n);
    return out;
}

namespace {
std::string dec(const Json& v) {
    if (v.is_number()) return fmt::format("{:.6g}", v.get<double>());
    if (v.is_null()) return "-";
    return v.is_string() ? v.get<std::string>() : v.dump();
}
}  // namespace

// "p = 3.2e-05", or from the log where p underflows a double ("p = 1e-853.2").
std::string p_text(const Json& w) {
    const Json p = w.value("p_value", Json(nullptr)), l = w.value("log10_p_value", Json(nullptr));
    if (!l.is_number()) return "permutation-matching test: not run (no comparable layers)";
    const double pv = p.is_number() ? p.get<double>() : 0.0;
    return pv > 0 ? fmt::format("permutation-matching test: Fisher-combined p = {:.3g}", pv)
                  : fmt::format("permutation-matching test: Fisher-combined p = 1e{:.1f}",
                                l.get<double>());
}

Result<std::string> comparison_predicate(std::string_view comparison_document) {
    MP_ASSIGN_OR_RETURN(Json doc, parse_json(comparison_document, "comparison document"));
    for (const char* key : {"a", "b", "verdict"}) {
        if (!doc.is_object() || !doc.contains(key) || !doc[key].is_object()) {
            return invalid_argument("comparison document has no object '{}'", key);
        }
    }
    const Json& v = doc["verdict"];
    if (!v.contains("relation") || !v["relation"].is_string()) {
        return invalid_argument("comparison document has no string verdict.relation");
    }
    Json p;
    p["verdict"] = {{"label", v["relation"]},
                    {"subtype", v.value("subtype", Json(nullptr)).is_string() ? v["subtype"] : Json("")},
                    {"confidence", dec(v.value("confidence", Json(nullptr)))},
                    {"decided_by", v.value("decisive", std::string())},
                    {"summary", v.value("reason", std::string())}};
    Json models = Json::array();
    for (const char* side : {"a", "b"}) {
        const Json& s = doc[side];
        models.push_back({{"role", side[0] == 'a' ? "A" : "B"},
                          {"name", s.value("path", std::string())},
                          {"root_digest", s.value("root_digest", std::string())},
                          {"architecture", s.value("arch", std::string())},
                          {"parameters", dec(s.value("parameters", Json(nullptr)))},
                          {"path", s.value("path", std::string())}});
    }
    p["models"] = models;
    Json sections = Json::array();
    const Json* w = doc.contains("evidence") && doc["evidence"].contains("weights")
                        ? &doc["evidence"]["weights"]
                        : nullptr;
    if (w != nullptr && w->is_object()) {
        const Json depth = w->value("depth", Json::object());
        const Json sim = depth.value("layer_sim", Json::array());
        if (sim.is_array() && !sim.empty() && sim[0].is_array() && !sim[0].empty()) {
            Json values = Json::array(), xl = Json::array(), yl = Json::array();
            for (size_t i = 0; i < sim.size(); ++i) {
                Json row = Json::array();
                for (const Json& x : sim[i]) row.push_back(dec(x));
                values.push_back(row);
                yl.push_back(std::to_string(i));
            }
            for (size_t j = 0; j < sim[0].size(); ++j) xl.push_back(std::to_string(j));
            p["heatmaps"] = Json::array({{{"title", "Layer similarity (weights)"},
                                          {"x_label", "layer of B"}, {"y_label", "layer of A"},
                                          {"x_labels", xl}, {"y_labels", yl}, {"values", values},
                                          {"min", "0"}, {"max", "1"}}});
        }
        Json rows = Json::array();
        const Json layers = w->value("layers", Json::array());
        for (const Json& l : layers) {
            rows.push_back({dec(l.value("layer_a", Json(nullptr))), dec(l.value("layer_b", Json(nullptr))),
                            dec(l.value("similarity", Json(nullptr))),
                            dec(l.value("unit_rho", Json(nullptr))),
                            dec(l.value("log10_p", Json(nullptr)))});
        }
        if (rows.empty()) rows.push_back({"-", "-", "-", "-", "-"});
        sections.push_back({{"title", "Weight evidence per layer"},
                            {"text", p_text(*w)},
                            {"columns", {"layer A", "layer B", "aligned |cos|", "unit rho", "log10 p"}},
                            {"rows", rows}});
        Json id_rows = Json::array();
        const Json identity = w->value("identity", Json::object());
        for (const auto& [k, x] : identity.items()) {
            if (x.is_array()) {  // without_role_a/b: the names, not the JSON
                std::vector<std::string> names;
                for (const Json& e : x) names.push_back(e.value("name", std::string("?")));
                id_rows.push_back({k, names.empty() ? std::string("none") : unroled_summary(names)});
                continue;
            }
            id_rows.push_back({k, dec(x)});
        }
        sections.push_back({{"title", "Tensor identity"}, {"columns", {"quantity", "value"}},
                            {"rows", id_rows}});
    }
    p["sections"] = sections;
    p["comparison"] = doc;
    return canonical_json(p);
}

}  // namespace modelprint

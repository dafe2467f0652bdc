// The weight evidence section (see weights_section.h).
#include "forensics/weights_section.h"

#include <algorithm>
#include <cmath>

#include "fingerprint/base/json.h"
#include "forensics/pipeline.h"

namespace modelprint {
namespace {
constexpr double kLn10 = 2.302585092994046;

Json finite(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

std::string num(double x, const char* f = "{:.4g}") {
    return std::isfinite(x) ? fmt::format(fmt::runtime(f), x) : std::string("-");
}

// The evidence block of the text output (verdict lines are the pipeline's).
std::string evidence_text(const WeightComparison& r) {
    const WeightEvidence& w = r.weights;
    std::string out;
    auto line = [&](const std::string& s) { out += s + "\n"; };
    line("weights:");
    line(fmt::format(
        "identity     {} shared roles: {} bit-identical, {} same values, {} exact "
        "dtype casts, {} stored under other names; only in A {}, only in B {}",
        w.identity.shared_roles, w.identity.equal_bytes, w.identity.equal_values,
        w.identity.cast_equal, w.identity.names_differ, w.identity.only_a, w.identity.only_b));
    if (!w.quant_a.lattice.empty() || !w.quant_b.lattice.empty()) {
        line(fmt::format("quantisation A: {}  B: {}",
                         w.quant_a.lattice.empty() ? "-" : w.quant_a.lattice,
                         w.quant_b.lattice.empty() ? "-" : w.quant_b.lattice));
    }
    if (w.hidden_aligned) {
        line(
            fmt::format("hidden       {}; held-out |corr| of matched embedding columns {:.3f}, "
                        "{:.0f}% at the same index, Procrustes held-out cos {:.3f}",
                        w.vocab_note, w.hidden_cos, 100 * w.hidden_identity, w.procrustes_cos));
    }
    line(
        fmt::format("profiles     attention-std profile correlation {:.3f} (not evidence on its "
                    "own: independent models reach ~0.9); HuRef invariant cos {:.3f}",
                    w.attn_std_corr, w.invariant_cos));
    if (!w.layer_comparable) {
        line(fmt::format("layers       not compared: {}", w.structure_note));
        return out;
    }
    line(
        fmt::format("test         Fisher-combined p = 1e{:.1f} over {} layers; mean aligned "
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
}  // namespace

WeightsSection::WeightsSection(WeightComparison result) : r_(std::move(result)) {}

Vote WeightsSection::vote() const {
    const Verdict& v = r_.verdict;
    Vote out;
    out.relation = v.relation;
    out.strength = v.confidence;
    out.confidence = confidence_level(v.confidence);
    out.subtype = v.subtype;
    out.reason = v.reason;
    out.basis = v.relation != Relation::kIdentical ? Basis::kWeights
                : v.subtype == "bytes"             ? Basis::kBytes
                                                   : Basis::kValues;
    // Not comparable and nothing matched: the weights have nothing to judge from.
    out.can_judge = r_.weights.layer_comparable || v.relation != Relation::kUnknown;
    return out;
}

std::optional<DecisiveStatistic> WeightsSection::decisive() const {
    const WeightEvidence& w = r_.weights;
    DecisiveStatistic d;
    d.text = r_.verdict.decisive;
    if (r_.verdict.relation == Relation::kIdentical) {
        d.statistic = w.identical_bytes ? Statistic::kTensorDigests : Statistic::kTensorValues;
        d.value = static_cast<double>(w.identical_bytes ? w.identity.equal_bytes
                                                        : w.identity.equal_values);
        d.p_value = 0.0;
        d.log10_p = -INFINITY;
        return d;
    }
    if (w.layer_comparable && !w.layers.empty()) {
        d.statistic = Statistic::kPermutationFisher;
        d.log10_p = w.log_p / kLn10;
        d.value = d.log10_p;
        d.p_value = std::exp(w.log_p);
        return d;
    }
    if (w.hidden_aligned) {
        d.statistic = Statistic::kEmbeddingColumnCorr;
        d.value = w.hidden_cos;
        d.log10_p = w.hidden_log_p / kLn10;
        d.p_value = std::exp(w.hidden_log_p);
        return d;
    }
    return std::nullopt;
}

std::vector<StatisticRow> WeightsSection::statistics() const {
    const WeightEvidence& w = r_.weights;
    std::vector<StatisticRow> rows;
    StatisticRow fisher;
    fisher.statistic = Statistic::kPermutationFisher;
    fisher.available = w.layer_comparable && !w.layers.empty();
    fisher.value = w.log_p / kLn10;
    fisher.p_value = std::exp(w.log_p);
    rows.push_back(fisher);
    StatisticRow emb;
    emb.statistic = Statistic::kEmbeddingColumnCorr;
    emb.available = w.hidden_aligned;
    emb.value = w.hidden_cos;
    emb.p_value = std::exp(w.hidden_log_p);
    rows.push_back(emb);
    return rows;
}

std::optional<NullDistribution> WeightsSection::null_distribution() const {
    auto d = decisive();
    if (!d || d->statistic == Statistic::kTensorDigests ||
        d->statistic == Statistic::kTensorValues) {
        return std::nullopt;
    }
    NullDistribution n;
    n.statistic = d->statistic;
    n.observed = d->value;
    // No sampled null: the per-layer p-values are exact under H0 (file comment); the measured
    // independent pairs are named in the description.
    n.description =
        d->statistic == Statistic::kPermutationFisher
            ? "per-layer p-values exact under independence (Spearman rho of two independent "
              "matchings, Zhu et al. 2025); thresholds checked on 63 independent pairs "
              "(docs/lineage.md: their Fisher log10 p stays above -1.67; derived needs < -30)"
            : "held-out embedding-column |corr|: 96 independent pairs stay <= 0.196 "
              "(docs/lineage.md); derived needs >= 0.90";
    return n;
}

std::string WeightsSection::text() const { return evidence_text(r_); }

std::string weights_evidence_json(const WeightComparison& r, int indent) {
    const WeightEvidence& w = r.weights;
    Json layers = Json::array();
    for (const LayerEvidence& l : w.layers) {
        Json roles = Json::object();
        for (const RoleSimilarity& rs : l.roles) {
            roles[rs.role] = {
                {"cosine", rs.cosine}, {"rel_l2", rs.rel_l2}, {"norm_ratio", rs.norm_ratio}};
        }
        layers.push_back({{"layer_a", l.layer_a},
                          {"layer_b", l.layer_b},
                          {"similarity", l.similarity},
                          {"units", l.units},
                          {"unit_rho", l.unit_rho},
                          {"log10_p", finite(l.log_p / kLn10)},
                          {"unit_identity", l.unit_identity},
                          {"head_identity", l.head_identity},
                          {"cka_q", l.cka_q},
                          {"cka_k", l.cka_k},
                          {"roles", roles}});
    }
    const bool tested = w.layer_comparable && !w.layers.empty();
    Json wj;
    wj["p_value"] = tested ? finite(std::exp(w.log_p)) : Json(nullptr);
    wj["log10_p_value"] = tested ? finite(w.log_p / kLn10) : Json(nullptr);
    wj["test"] =
        "Spearman rho between MLP-unit matchings on gate and on up rows per layer "
        "(Zhu et al. 2025), one-sided, Fisher-combined over matched layers";
    wj["layers"] = layers;
    wj["layer_comparable"] = w.layer_comparable;
    wj["structure_note"] = w.structure_note;
    wj["summary"] = {
        {"mean_similarity", w.mean_similarity},     {"min_similarity", w.min_similarity},
        {"mean_unit_rho", w.mean_unit_rho},         {"mean_rel_l2", w.mean_rel_l2},
        {"median_norm_ratio", w.median_norm_ratio}, {"unit_identity", w.unit_identity},
        {"head_identity", w.head_identity},         {"attn_std_profile_corr", w.attn_std_corr},
        {"huref_invariant_cos", w.invariant_cos},   {"awm_mean_cka", w.mean_cka}};
    wj["identity"] = {{"shared_roles", w.identity.shared_roles},
                      {"only_a", w.identity.only_a},
                      {"only_b", w.identity.only_b},
                      {"equal_bytes", w.identity.equal_bytes},
                      {"equal_values", w.identity.equal_values},
                      {"dtype_cast_equal", w.identity.cast_equal},
                      {"names_differ", w.identity.names_differ},
                      {"dtype_a", w.identity.dtype_a},
                      {"dtype_b", w.identity.dtype_b},
                      {"quantised_a", w.quant_a.lattice},
                      {"quantised_b", w.quant_b.lattice}};
    wj["hidden"] = {{"aligned", w.hidden_aligned},
                    {"vocab", w.vocab_note},
                    {"shared_tokens", w.shared_tokens},
                    {"heldout_abs_corr", w.hidden_cos},
                    {"identity_fraction", w.hidden_identity},
                    {"split_half_rho", w.hidden_rho},
                    {"log10_p", finite(w.hidden_log_p / kLn10)},
                    {"procrustes_heldout_cos", w.procrustes_cos},
                    {"embedding_abs_corr", w.embedding_cos}};
    Json match = Json::array();
    for (auto [x, y] : w.layer_match) match.push_back({x, y});
    wj["depth"] = {{"layers_a", w.layers_a},
                   {"layers_b", w.layers_b},
                   {"layer_sim", w.layer_sim},
                   {"match", match},
                   {"diagonal", w.depth_diagonal}};
    wj["notes"] = w.notes;
    return wj.dump(indent);
}

std::string WeightsSection::json() const { return weights_evidence_json(r_); }

void WeightsSection::report(ReportParts& parts) const {
    const WeightEvidence& w = r_.weights;
    if (!w.layer_sim.empty() && !w.layer_sim[0].empty()) {
        ReportHeatmap h;
        h.title = "Layer similarity (weights)";
        h.x_label = "layer of B";
        h.y_label = "layer of A";
        for (size_t i = 0; i < w.layer_sim.size(); ++i) h.y_labels.push_back(std::to_string(i));
        for (size_t j = 0; j < w.layer_sim[0].size(); ++j) h.x_labels.push_back(std::to_string(j));
        h.values = w.layer_sim;
        parts.heatmaps.push_back(std::move(h));
    }
    ReportTable t;
    t.title = "Weight evidence per layer";
    t.text = w.layer_comparable && !w.layers.empty()
                 ? fmt::format(
                       "permutation-matching test: Fisher-combined p = 1e{:.1f} over {} "
                       "layers; mean aligned |cos| {:.3f}",
                       w.log_p / kLn10, w.layers.size(), w.mean_similarity)
                 : "permutation-matching test: not run (" + w.structure_note + ")";
    if (auto n = null_distribution()) t.text += ". Null: " + n->description;
    if (!w.layers.empty())
        t.columns = {"layer A", "layer B", "aligned |cos|", "unit rho", "log10 p"};
    for (const LayerEvidence& l : w.layers) {
        t.rows.push_back({std::to_string(l.layer_a), std::to_string(l.layer_b), num(l.similarity),
                          num(l.unit_rho), num(l.log_p / kLn10, "{:.1f}")});
    }
    parts.tables.push_back(std::move(t));
    const TensorIdentity& id = w.identity;
    ReportTable it;
    it.title = "Tensor identity";
    it.columns = {"quantity", "value"};
    it.rows = {{"shared roles", std::to_string(id.shared_roles)},
               {"bit-identical", std::to_string(id.equal_bytes)},
               {"same values", std::to_string(id.equal_values)},
               {"exact dtype casts", std::to_string(id.cast_equal)},
               {"stored under other names", std::to_string(id.names_differ)},
               {"only in A", std::to_string(id.only_a)},
               {"only in B", std::to_string(id.only_b)},
               {"dtype A / B", id.dtype_a + " / " + id.dtype_b}};
    parts.tables.push_back(std::move(it));
}

bool weights_section_applies(const PairContext& c) {
    return c.pair != nullptr && !c.request->behavior_only;
}

Result<std::unique_ptr<EvidenceSection>> run_weights_section(PairContext& c) {
    MP_ASSIGN_OR_RETURN(WeightComparison r, compare_opened(*c.pair, c.request->weights));
    c.a.model = r.a;
    c.b.model = r.b;
    return std::unique_ptr<EvidenceSection>(std::make_unique<WeightsSection>(std::move(r)));
}

}  // namespace modelprint

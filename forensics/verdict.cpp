// Weight verdict (see verdict.h; thresholds and confidence defined in docs/methods.md).
#include "forensics/verdict.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace modelprint {

namespace {
constexpr double kLn10 = 2.302585092994046;

}  // namespace

std::string derived_subtype(const WeightEvidence& ev, const VerdictThresholds& t) {
    const TensorIdentity& id = ev.identity;
    const double shared = std::max<double>(1.0, double(id.shared_roles));
    if (ev.layers_a == ev.layers_b && double(id.cast_equal) >= 0.95 * shared) return "dtype-cast";
    const bool qa = !ev.quant_a.lattice.empty(), qb = !ev.quant_b.lattice.empty();
    if (qa != qb) return "quantised";
    if (ev.layers_a != ev.layers_b) return "pruned";
    if (ev.unit_identity < 0.5 || ev.head_identity < 0.5 || ev.hidden_identity < 0.5) {
        return "permuted";
    }
    // Each claim needs its own evidence: names that are not their format's own, and measured
    // function-preserving scale factors (a heavy fine-tune also moves norms, but not in
    // compensating pairs).
    const bool renamed = double(id.names_nonstandard) > t.renamed_fraction * shared;
    const bool rescaled = ev.scale_spread > t.rescale_spread &&
                          ev.scale_compensation > t.rescale_compensation;
    if (renamed && rescaled) return "renamed/rescaled";
    if (rescaled) return "rescaled";
    // A merge B = w A + (1 - w) X with an unrelated X: the regression coefficient of one side on
    // the other, cos * |B| / |A|, drops to ~w (0.5 for 50/50) while a fine-tune keeps ~1, and the
    // embeddings are merged too (held-out column |corr| well below 1), which fine-tunes and
    // LoRA leave almost untouched (docs/methods.md "Subtypes").
    const double nr = std::max(1e-12, ev.median_norm_ratio);
    const double beta = std::min(ev.mean_similarity * nr, ev.mean_similarity / nr);
    if (beta < 0.65 && ev.hidden_cos < 0.9) return "merged";
    return renamed ? "renamed" : "fine-tuned";
}

Verdict decide_weights(const WeightEvidence& ev, const VerdictThresholds& t) {
    Verdict v;
    if (ev.identical_bytes) {
        v.relation = Relation::kIdentical;
        v.subtype = "bytes";
        v.confidence = 1.0;
        v.decisive = fmt::format("tensor SHA-256: the multisets of all {} tensor digests are "
                                 "equal ({} roles equal, {} tensors without a role)",
                                 ev.identity.tensors_a, ev.identity.equal_bytes,
                                 ev.identity.unroled_a.size());
        v.reason = "every tensor is bit-for-bit the same (the same multiset of tensor digests)";
        return v;
    }
    if (ev.identical_values) {
        v.relation = Relation::kIdentical;
        v.subtype = "values";
        v.confidence = 1.0;
        v.decisive = fmt::format("f32 values: {} of {} roles equal, and the {} tensors without "
                                 "a role have the same multiset of values",
                                 ev.identity.equal_values, ev.identity.shared_roles,
                                 ev.identity.unroled_a.size());
        v.reason = "the same values stored in another dtype, layout, order or name";
        return v;
    }
    const double hidden_log10 = ev.hidden_log_p / kLn10;
    if (!ev.layer_comparable) {
        if (ev.hidden_aligned && ev.hidden_cos >= t.embedding_derived &&
            hidden_log10 < t.derived_log10_p / 3.0) {
            v.relation = Relation::kDerived;
            // Every shared role an exact dtype cast (e.g. a bf16 copy of a MoE model, whose
            // layers are not compared): the subtype the identity shows, not "fine-tuned".
            const double shared = std::max<double>(1.0, double(ev.identity.shared_roles));
            const bool cast = ev.layers_a == ev.layers_b &&
                              double(ev.identity.cast_equal) >= 0.95 * shared;
            v.subtype = ev.hidden_a != ev.hidden_b ? "pruned" : (cast ? "dtype-cast" : "fine-tuned");
            v.confidence = 1.0 - std::pow(10.0, hidden_log10);
            v.decisive = fmt::format("held-out embedding-column |corr| {:.3f} (p = 1e{:.1f})",
                                     ev.hidden_cos, hidden_log10);
            v.reason = fmt::format("{}, but the embedding columns match one to one", ev.structure_note);
            return v;
        }
        v.relation = Relation::kUnknown;
        v.confidence = 0.0;
        v.decisive = ev.hidden_aligned
                         ? fmt::format("held-out embedding-column |corr| {:.3f}", ev.hidden_cos)
                         : std::string("none");
        v.reason = fmt::format("{}: the weights share no structure to compare layer by layer, and "
                               "the embedding columns show no one-to-one match; behaviour "
                               "evidence is needed",
                               ev.structure_note);
        return v;
    }
    const double log10p = ev.log_p / kLn10;
    const bool p_derived = log10p < t.derived_log10_p;
    const bool s_derived = ev.mean_similarity > t.derived_similarity;
    const bool p_indep = log10p > t.independent_log10_p;
    const bool s_indep = ev.mean_similarity < t.independent_similarity;
    const std::string stat = fmt::format(
        "permutation-matching test over {} layers: Fisher p = 1e{:.1f}; mean aligned |cos| {:.3f}",
        ev.layers.size(), log10p, ev.mean_similarity);
    v.decisive = stat;
    if (p_derived && s_derived) {
        v.relation = Relation::kDerived;
        v.subtype = derived_subtype(ev, t);
        v.confidence = std::min(1.0, 1.0 - std::pow(10.0, log10p));
        v.reason = "MLP units match one to one between the models far beyond chance, and the "
                   "aligned weights are closer than in any independent pair measured";
        return v;
    }
    if (p_indep && s_indep) {
        v.relation = Relation::kIndependent;
        v.confidence = std::clamp(0.5 + 0.5 * (1.0 - ev.mean_similarity / t.independent_similarity),
                                  0.5, 0.99);
        v.reason = "no layer shows more unit agreement than chance, and the aligned similarity is "
                   "in the range of independently trained models";
        return v;
    }
    v.relation = Relation::kUnknown;
    v.confidence = 0.0;
    v.reason = fmt::format("the signals disagree or fall between the thresholds (p {} 1e{:.0f}, "
                           "similarity {} {:.2f})",
                           p_derived ? "<" : (p_indep ? ">" : "between"),
                           p_derived ? t.derived_log10_p : t.independent_log10_p,
                           s_derived ? ">" : (s_indep ? "<" : "between"),
                           s_derived ? t.derived_similarity : t.independent_similarity);
    return v;
}

}  // namespace modelprint

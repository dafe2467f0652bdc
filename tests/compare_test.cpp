// Tests of the pairwise weight analysis (forensics/weights_compare.h), the verdict rules
// (forensics/verdict.h) and the comparison documents (forensics/compare.h): identity and dtype
// casts, quantisation lattices, hidden alignment through the embeddings, the verdict on
// hand-built evidence (every branch, including the cases that must stay `unknown`), and the
// error paths of the document helpers.
#include "forensics/compare.h"
#include "forensics/pipeline.h"

#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::testing::HasSubstr;

constexpr double kLn10 = 2.302585092994046;

std::string lineage(const std::string& name) {
    return (testing::testdata_dir() / "lineage" / name).string();
}

WeightEvidence weights_of(const std::string& a, const std::string& b) {
    auto ma = Model::open(lineage(a));
    auto mb = Model::open(lineage(b));
    EXPECT_TRUE(ma.ok() && mb.ok());
    if (!ma.ok() || !mb.ok()) return {};
    WeightCompareOptions o;
    o.progress = false;
    o.threads = 2;
    auto ev = compare_weights(**ma, **mb, o);
    EXPECT_TRUE(ev.ok()) << ev.status().to_string();
    return ev.ok() ? std::move(*ev) : WeightEvidence{};
}

TEST(WeightsCompare, DtypeCastIsExactCastOfEveryRole) {
    const WeightEvidence ev = weights_of("base", "base_bf16");
    EXPECT_EQ(ev.identity.shared_roles, 39);
    EXPECT_EQ(ev.identity.cast_equal, 39);
    EXPECT_EQ(ev.identity.equal_bytes, 0);
    EXPECT_EQ(ev.identity.dtype_a, "F32");
    EXPECT_EQ(ev.identity.dtype_b, "BF16");
    EXPECT_FALSE(ev.identical_values);
    const Verdict v = decide_weights(ev);
    EXPECT_EQ(relation_name(v.relation), "derived");
    EXPECT_EQ(v.subtype, "dtype-cast");
}

TEST(WeightsCompare, QuantisationLatticesAreDetected) {
    EXPECT_EQ(weights_of("base", "base_int8").quant_b.lattice, "int8-row");
    const WeightEvidence q4 = weights_of("base_q4", "base");
    EXPECT_EQ(q4.quant_a.lattice, "4bit-block32");
    EXPECT_GE(q4.quant_a.lattice_fraction, 0.9);
    EXPECT_EQ(q4.quant_b.lattice, "");  // a trained f32 model sits on no lattice
    EXPECT_LT(q4.quant_b.lattice_fraction, 0.5);
}

TEST(WeightsCompare, HiddenAlignmentUndoesThePermutation) {
    const WeightEvidence ev = weights_of("base", "permuted");
    ASSERT_TRUE(ev.hidden_aligned);
    EXPECT_GT(ev.hidden_cos, 0.99);
    EXPECT_LT(ev.hidden_identity, 0.2);  // hidden dims moved...
    EXPECT_GT(ev.procrustes_cos, 0.99);  // ...and an orthogonal map recovers them
    EXPECT_LT(ev.hidden_log_p / kLn10, -20);
    EXPECT_TRUE(ev.layer_comparable);
    EXPECT_GT(ev.mean_similarity, 0.999);
    EXPECT_LT(ev.head_identity, 1.0);
    // Independent models: no alignment beyond chance.
    const WeightEvidence ind = weights_of("base", "indep_seed");
    EXPECT_LT(ind.hidden_cos, 0.3);
    EXPECT_GT(ind.hidden_log_p / kLn10, -3);
    EXPECT_GT(ind.log_p / kLn10, -3);
    EXPECT_LT(ind.mean_similarity, 0.3);
    // AWM CKA of Wq / Wk on the aligned hidden dims: ~1 for the permuted copy, ~0 for an
    // independent model (measured 1.0 vs 0.013).
    EXPECT_GT(ev.mean_cka, 0.99);
    EXPECT_LT(ind.mean_cka, 0.1);
    ASSERT_FALSE(ev.layers.empty());
    EXPECT_GT(ev.layers[0].cka_q, 0.99);
    EXPECT_GT(ev.layers[0].cka_k, 0.99);
}

TEST(WeightsCompare, DifferentWidthsAreNotComparedLayerByLayer) {
    const WeightEvidence ev = weights_of("base", "indep_width");
    EXPECT_FALSE(ev.layer_comparable);
    EXPECT_EQ(ev.structure_note, "different widths (hidden 64 vs 96)");
    EXPECT_TRUE(ev.layers.empty());
    EXPECT_EQ(ev.hidden_a, 64);
    EXPECT_EQ(ev.hidden_b, 96);
}

// ---- verdict rules on hand-built evidence

WeightEvidence comparable(double log10p, double sim) {
    WeightEvidence ev;
    ev.layer_comparable = true;
    ev.layers_a = ev.layers_b = 4;
    ev.layers.resize(4);
    ev.log_p = log10p * kLn10;
    ev.mean_similarity = sim;
    ev.identity.shared_roles = 39;
    ev.unit_identity = ev.head_identity = ev.hidden_identity = 1.0;
    ev.median_norm_ratio = 1.0;
    ev.hidden_cos = 0.99;
    return ev;
}

TEST(Verdict, IdenticalBytesAndValues) {
    WeightEvidence ev = comparable(-500, 1.0);
    ev.identical_bytes = true;
    EXPECT_EQ(relation_name(decide_weights(ev).relation), "identical");
    EXPECT_EQ(decide_weights(ev).subtype, "bytes");
    ev.identical_bytes = false;
    ev.identical_values = true;
    EXPECT_EQ(decide_weights(ev).subtype, "values");
    EXPECT_EQ(decide_weights(ev).confidence, 1.0);
}

TEST(Verdict, DerivedNeedsBothSignals) {
    const Verdict both = decide_weights(comparable(-100, 0.8));
    EXPECT_EQ(relation_name(both.relation), "derived");
    EXPECT_EQ(both.subtype, "fine-tuned");
    EXPECT_THAT(both.decisive, HasSubstr("Fisher p = 1e-100.0"));
    // A tiny p-value alone, with similarity in neither range: unknown, never derived.
    const Verdict p_only = decide_weights(comparable(-100, 0.35));
    EXPECT_EQ(relation_name(p_only.relation), "unknown");
    EXPECT_THAT(p_only.reason, HasSubstr("similarity between"));
    // High similarity with an unremarkable p-value: unknown.
    const Verdict s_only = decide_weights(comparable(-2, 0.9));
    EXPECT_EQ(relation_name(s_only.relation), "unknown");
    EXPECT_EQ(s_only.confidence, 0.0);
    // Both in the independent range.
    const Verdict ind = decide_weights(comparable(-0.5, 0.15));
    EXPECT_EQ(relation_name(ind.relation), "independent");
    EXPECT_GT(ind.confidence, 0.5);
    EXPECT_LT(ind.confidence, 1.0);
}

TEST(Verdict, Subtypes) {
    WeightEvidence ev = comparable(-200, 0.9);
    ev.identity.cast_equal = 39;
    EXPECT_EQ(decide_weights(ev).subtype, "dtype-cast");
    ev.identity.cast_equal = 0;
    ev.quant_b.lattice = "int8-row";
    EXPECT_EQ(decide_weights(ev).subtype, "quantised");
    ev.quant_b.lattice.clear();
    ev.layers_b = 3;
    EXPECT_EQ(decide_weights(ev).subtype, "pruned");
    ev.layers_b = 4;
    ev.unit_identity = 0.02;
    EXPECT_EQ(decide_weights(ev).subtype, "permuted");
    ev.unit_identity = 1.0;
    ev.identity.names_differ = 39;
    EXPECT_EQ(decide_weights(ev).subtype, "renamed/rescaled");
    ev.identity.names_differ = 0;
    ev.median_norm_ratio = 0.55;  // regression coefficient ~0.5: half of each weight is foreign
    ev.mean_similarity = 0.75;
    ev.hidden_cos = 0.77;
    EXPECT_EQ(decide_weights(ev).subtype, "merged");
    ev.hidden_cos = 0.99;  // embeddings untouched: a fine-tune that shrank the weights
    EXPECT_EQ(decide_weights(ev).subtype, "fine-tuned");
}

TEST(Verdict, NoSharedStructure) {
    WeightEvidence ev;
    ev.structure_note = "different widths (hidden 64 vs 96)";
    ev.hidden_aligned = true;
    ev.hidden_cos = 0.1;
    ev.hidden_log_p = -0.5 * kLn10;
    Verdict v = decide_weights(ev);
    EXPECT_EQ(relation_name(v.relation), "unknown");
    EXPECT_THAT(v.reason, HasSubstr("different widths (hidden 64 vs 96)"));
    EXPECT_THAT(v.reason, HasSubstr("behaviour evidence is needed"));
    // Widths differ but the embedding columns match one to one: a width-pruned derivative.
    ev.hidden_cos = 0.97;
    ev.hidden_log_p = -40 * kLn10;
    ev.hidden_a = 64;
    ev.hidden_b = 48;
    v = decide_weights(ev);
    EXPECT_EQ(relation_name(v.relation), "derived");
    EXPECT_EQ(v.subtype, "pruned");
    // No embedding at all: nothing to align.
    WeightEvidence none;
    none.structure_note = "a model has no token embedding: no shared coordinates to align";
    v = decide_weights(none);
    EXPECT_EQ(relation_name(v.relation), "unknown");
    EXPECT_EQ(v.decisive, "none");
}

// ---- documents

TEST(CompareDocuments, JsonHasTheRequiredKeys) {
    CompareRequest req;
    req.a = lineage("base");
    req.b = lineage("pruned");
    req.weights_only = true;
    req.weights.progress = false;
    auto r = run_comparison(req);
    MP_ASSERT_OK(r);
    auto j = parse_json(comparison_document(*r), "doc");
    MP_ASSERT_OK(j);
    EXPECT_EQ((*j)["verdict"]["relation"], "derived");
    EXPECT_EQ((*j)["verdict"]["subtype"], "pruned");
    EXPECT_EQ((*j)["verdict"]["basis"], "weights");
    EXPECT_EQ((*j)["verdict"]["scope"], "weights");
    EXPECT_EQ((*j)["verdict"]["statistic"], "permutation_fisher_p");
    EXPECT_TRUE((*j)["verdict"]["confidence"].is_number());
    EXPECT_TRUE((*j)["evidence"]["weights"]["p_value"].is_number());
    EXPECT_LT((*j)["evidence"]["weights"]["log10_p_value"].get<double>(), -100);
    EXPECT_EQ((*j)["evidence"]["weights"]["layers"].size(), 3u);
    EXPECT_FALSE((*j)["evidence"].contains("behavior"));  // --weights-only: not run at all
    EXPECT_EQ((*j)["a"]["root_digest"].get<std::string>().size(), 64u);
    EXPECT_EQ((*j)["b"]["root_digest"], r->b.model.root_digest);
    EXPECT_NE(r->a.model.root_digest, r->b.model.root_digest);
    const std::string text = comparison_text_of(*r);
    EXPECT_EQ(text.rfind("verdict      derived / pruned", 0), 0u) << text;
    EXPECT_THAT(text, HasSubstr("layer similarity"));
    // The report predicate built from the sections.
    auto pj = parse_json(comparison_predicate_of(*r), "predicate");
    MP_ASSERT_OK(pj);
    EXPECT_EQ((*pj)["verdict"]["label"], "derived");
    EXPECT_EQ((*pj)["verdict"]["basis"], "weights");
    EXPECT_EQ((*pj)["models"].size(), 2u);
    EXPECT_EQ((*pj)["heatmaps"][0]["values"].size(), 4u);     // rows: A's 4 layers
    EXPECT_EQ((*pj)["heatmaps"][0]["values"][0].size(), 3u);  // columns: B's 3 layers
    EXPECT_EQ((*pj)["comparison"], *j);
}

TEST(CompareDocuments, ErrorPaths) {
    CompareRequest req;
    req.a = lineage("base");
    req.b = lineage("pruned");
    req.weights_only = req.behavior_only = true;
    EXPECT_THAT(run_comparison(req), StatusIs(StatusCode::kInvalidArgument, "exclude each other"));
    req.behavior_only = false;
    req.b = "answers.jsonl";
    EXPECT_THAT(run_comparison(req), StatusIs(StatusCode::kInvalidArgument, "is a transcript"));
    EXPECT_THAT(reused_comparison_document("{not json", {}),
                StatusIs(StatusCode::kCorruptData, "invalid JSON"));
    EXPECT_THAT(reused_comparison_text(R"({"a": 1})", {}, ""),
                StatusIs(StatusCode::kCorruptData, "no verdict object"));
    OpenedPair empty;
    EXPECT_THAT(compare_opened(empty), StatusIs(StatusCode::kInvalidArgument, "is not open"));
    EXPECT_THAT(compare_models(lineage("base"), lineage("no_such_model")),
                StatusIs(StatusCode::kNotFound, "no_such_model"));
}

}  // namespace
}  // namespace modelprint

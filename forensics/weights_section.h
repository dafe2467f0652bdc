// The weight evidence section of the pipeline (forensics/evidence.h): the weight comparison of
// two models (forensics/compare.h) with its verdict (forensics/verdict.h) as a vote, and its
// renderings: evidence.weights in the document (identity, hidden alignment, per-layer table,
// depth match, summary, notes), the text table and heatmap, and the report's layer heatmap,
// per-layer table and identity table.
// Vote: the weight verdict; basis bytes/values for identical, weights otherwise; can_judge is
// false when the layers could not be compared and the embedding columns matched nothing (the
// case where behaviour may decide `independent`, docs/methods.md "Verdict precedence").
// Null: the per-layer permutation-matching p-values are exact under H0 (Spearman's rho of two
// independent matchings; Zhu et al. 2025); the thresholds were checked on 63 independent pairs
// (docs/lineage.md), which the report names.
// Runs when both sides are models and --behavior-only is not given.
#pragma once

#include <memory>
#include <string>

#include "forensics/compare.h"
#include "forensics/evidence.h"

namespace modelprint {

struct PairContext;

class WeightsSection : public EvidenceSection {
public:
    explicit WeightsSection(WeightComparison result);
    const WeightComparison& result() const { return r_; }
    SectionKind kind() const override { return SectionKind::kWeights; }
    Vote vote() const override;
    std::optional<DecisiveStatistic> decisive() const override;
    std::vector<StatisticRow> statistics() const override;
    std::optional<NullDistribution> null_distribution() const override;
    std::string text() const override;
    std::string json() const override;
    void report(ReportParts& parts) const override;

private:
    WeightComparison r_;
};

// evidence.weights of a weight comparison (JSON object text).
std::string weights_evidence_json(const WeightComparison& r, int indent = -1);

// The runner (forensics/pipeline.cpp kRunners): the pair's weights compared (root digests filled
// into the context when computed in the same read).
bool weights_section_applies(const PairContext& context);
Result<std::unique_ptr<EvidenceSection>> run_weights_section(PairContext& context);

}  // namespace modelprint

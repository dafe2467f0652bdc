// The behaviour evidence section of the pipeline (forensics/evidence.h): behaviour of A and B
// on the probe set against a background of independent models (forensics/behavior_run.h,
// behavior_compare.h) as a vote, its decisive statistic with the null it was calibrated on, the
// statistics table and background, and its renderings.
// Vote: distilled | independent | unknown from compare_behavior; basis behavior; can_judge is
// false when no statistic was available or the null was too small (too little background).
// Runs unless --weights-only. With weights to fall back on, a side that cannot be probed (no
// tokenizer, unsupported architecture) makes the section a SkippedSection with the reason; with
// no weights (a transcript side, --behavior-only) that is the comparison's error.
#pragma once

#include <memory>

#include "forensics/behavior_compare.h"
#include "forensics/evidence.h"

namespace modelprint {

struct PairContext;

class BehaviorSection : public EvidenceSection {
public:
    explicit BehaviorSection(BehaviorEvidence evidence);
    const BehaviorEvidence& evidence() const { return e_; }
    SectionKind kind() const override { return SectionKind::kBehavior; }
    Vote vote() const override;
    std::optional<DecisiveStatistic> decisive() const override;
    std::vector<StatisticRow> statistics() const override;
    std::optional<NullDistribution> null_distribution() const override;
    std::string text() const override;
    std::string json() const override;
    void report(ReportParts& parts) const override;

private:
    BehaviorEvidence e_;
};

bool behavior_section_applies(const PairContext& context);
Result<std::unique_ptr<EvidenceSection>> run_behavior_section(PairContext& context);

}  // namespace modelprint

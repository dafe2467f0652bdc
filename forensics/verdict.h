// The weight-evidence verdict: identical, derived (with a subtype), independent, or unknown
// with the reason. Thresholds are constants calibrated on the independent pairs of
// testdata/lineage (and stories260K against them); docs/methods.md and docs/lineage.md give the
// data that set them and the margin to the most extreme independent pair.
// Does not: look at behaviour (the behaviour engineer adds that evidence), or compute anything
// from weights (forensics/weights_compare.h does).
// Invariant: `derived` needs two independent signals to agree (the permutation-matching p-value
// AND the aligned similarity above every independent pair measured); `independent` needs the
// per-layer analysis to have run and both signals inside the independent range; everything
// else is `unknown` with a reason. No independent pair in the calibration set is called derived.
#pragma once

#include <string>
#include <vector>

#include "forensics/evidence_types.h"
#include "forensics/weights_compare.h"

namespace modelprint {

// Calibration (docs/methods.md "Thresholds"). log10 p-values and similarities.
struct VerdictThresholds {
    double derived_log10_p = -30.0;      // Fisher-combined p below 1e-30 ...
    double derived_similarity = 0.40;    // ... and mean aligned |cos| above this
    double independent_log10_p = -6.0;   // independent: p above 1e-6 ...
    double independent_similarity = 0.30;  // ... and similarity below this
    double embedding_derived = 0.90;     // widths/architectures differ: held-out embedding |corr|
};

struct Verdict {
    Relation relation = Relation::kUnknown;  // identical | derived | independent | unknown
    std::string subtype;    // derived: dtype-cast | quantised | fine-tuned | pruned | permuted |
                            // renamed/rescaled | merged; identical: bytes | values
    double confidence = 0;  // 0..1 (docs/methods.md "Confidence")
    std::string decisive;   // the statistic that decided, with its value
    std::string reason;     // one sentence for people
};

Verdict decide_weights(const WeightEvidence& ev, const VerdictThresholds& t = {});

}  // namespace modelprint

// Behaviour evidence for `modelprint compare`, from paths: opens A, B and the background
// (models, or transcripts .jsonl on any side), runs the probe set, compares (behavior_compare.h)
// and merges the evidence into compare's JSON document and text.
// Verdict rule (issue 6, DESIGN "verdict"): weights decide `identical` and `derived` where
// weights exist; behaviour turns `independent` (or `unknown`, or no weights at all: a
// transcript side, --behavior-only) into `distilled` when its decisive statistic is significant
// against the background; otherwise the weight verdict stands, and with no weights the
// behaviour relation (independent/unknown) is the verdict. The confidence of a behaviour
// verdict maps high/medium/low to 0.9/0.7/0.3 (docs/behavior.md "Verdict").
// Background: the store's behaviour fingerprints on the comparison's probe set and every
// --background path, each assumed independent of A, B and the others (the report names them,
// the members dropped with their reasons and the number of null pairs; behavior_paths.h,
// cli/behavior_source.h resolve_background). Without background the null has no pairs and the
// verdict is `unknown` (too little background), never a fixed threshold.
// Not here: the statistics (behavior_stats.h), calibration (calibration.h), storage.
#pragma once

#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/transcript.h"
#include "forensics/behavior_compare.h"

namespace modelprint {

struct BehaviorRunOptions {
    std::string probes = "default";       // probe set name or JSONL path
    DeviceKind device = DeviceKind::kCpu;
    std::vector<std::string> background;  // model or transcript paths
    BehaviorOptions compare;
    BehaviorPrintOptions print;
};

// Opens everything and compares a with b (probe set: comparison_probes; background: the
// --background paths only, no store; behavior_paths.cpp). kInvalidArgument when a path appears
// twice.
Result<BehaviorEvidence> compare_behavior_paths(const std::string& a, const std::string& b,
                                                const BehaviorRunOptions& options);

// The relation after behaviour (file comment); weight_relation "" when weights are unavailable.
std::string combined_relation(const std::string& weight_relation, const BehaviorEvidence& e);
double behavior_confidence(const BehaviorEvidence& e);

// Adds evidence.behavior to a comparison document (JSON text) and applies the verdict rule to
// its verdict (scope becomes "weights+behavior"); appends the behaviour section to `text`.
// kInvalidArgument when the document is not a JSON object with a verdict object.
Status merge_behavior(std::string& document, std::string& text, const BehaviorEvidence& e);

// A comparison document from behaviour alone (schema modelprint.comparison/v1, a/b with their
// path and kind, verdict with scope "behavior", evidence.behavior), and its text.
std::string behavior_only_document(const BehaviorEvidence& e);
std::string behavior_only_text(const BehaviorEvidence& e);

}  // namespace modelprint

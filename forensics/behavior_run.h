// Behaviour evidence for `modelprint compare`, from paths: opens A, B and the background
// (models, or transcripts .jsonl on any side), runs the probe set and compares
// (behavior_compare.h). The pipeline's behaviour section (behavior_section.h) runs it; how its
// vote combines with the others is decide() (evidence.h, docs/methods.md "Verdict precedence").
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

}  // namespace modelprint

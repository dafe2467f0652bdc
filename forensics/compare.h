// `compare A B`, the library half: open both models, hash them (OMS root digests), gather the
// weight evidence, decide, and render the result as a JSON document or as text for people.
// The command (cli/cmd_compare.cpp) only parses flags, calls these, prints/writes and stores.
// JSON document (keys the issue requires marked *):
//   {"schema": "modelprint.comparison/v1",
//    "a"*/"b"*: {"path", "root_digest", "arch", "parameters", "dtype"},
//    "verdict"*: {"relation"*, "subtype"*, "confidence"*, "decisive", "reason", "scope"},
//    "evidence": {"weights": {"p_value"*, "log10_p_value", "layers"* [per matched layer pair:
//       layer_a, layer_b, similarity, unit_rho, log10_p, roles {role: {cosine, rel_l2}}],
//       "identity", "hidden", "depth" {layer_sim, match}, "summary", "notes"}}}
// Does not: sign (forensics/report.h), store (the command does), or run behaviour probes.
#pragma once

#include <string>

#include "fingerprint/base/status.h"
#include "forensics/verdict.h"
#include "forensics/weights_compare.h"

namespace modelprint {

struct ModelSide {
    std::string path;
    std::string root_digest;
    std::string arch;
    uint64_t parameters = 0;
    std::string dtype;
};

struct ComparisonResult {
    ModelSide a, b;
    WeightEvidence weights;
    Verdict verdict;
};

struct CompareOptions {
    WeightCompareOptions weights;
    int threads = 0;
    bool progress = true;
};

Result<ComparisonResult> compare_models(const std::string& path_a, const std::string& path_b,
                                        const CompareOptions& options = {});

// The JSON document above (pretty when indent >= 0).
std::string comparison_json(const ComparisonResult& r, int indent = 2);
// Verdict first, then the evidence table per layer and role and the layer-similarity heatmap.
std::string comparison_text(const ComparisonResult& r);

}  // namespace modelprint

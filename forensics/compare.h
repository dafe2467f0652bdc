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
// Two-step use (the command looks the pair up in the store between the steps):
//   MP_ASSIGN_OR_RETURN(OpenedPair p, open_pair(path_a, path_b, options));   // open + hash
//   ... store->find_comparison(p.a.root_digest, p.b.root_digest, spec) ...
//   MP_ASSIGN_OR_RETURN(ComparisonResult r, compare_opened(p, options));      // read weights
// Reads: with hash_on_open (needed for that lookup) the weights are read twice, once to hash
// and once to compare. Without it open_pair only opens, and compare_opened reads every weight
// file once for both the root digests and the comparison (weights_compare.h); compare_models
// does that.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "fingerprint/base/status.h"
#include "forensics/verdict.h"
#include "forensics/weights_compare.h"

namespace modelprint {

class Model;

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
    // Hash both models in open_pair (root digests before the comparison, e.g. for a store
    // lookup). false: digests come out of compare_opened's single read (compare_models).
    bool hash_on_open = true;
};

// Both models opened and hashed (OMS root digests), nothing compared yet.
struct OpenedPair {
    ModelSide a, b;
    std::unique_ptr<Model> model_a, model_b;
    OpenedPair();
    OpenedPair(OpenedPair&&) noexcept;
    OpenedPair& operator=(OpenedPair&&) noexcept;
    ~OpenedPair();
};
Result<OpenedPair> open_pair(const std::string& path_a, const std::string& path_b,
                             const CompareOptions& options = {});
// The weight evidence and verdict of an opened pair (root digests computed in the same read
// when the pair was opened without hashing).
Result<ComparisonResult> compare_opened(const OpenedPair& pair, const CompareOptions& options = {});
// The same, and the pair's root digests filled in when they were computed here.
Result<ComparisonResult> compare_opened(OpenedPair& pair, const CompareOptions& options = {});
// open_pair + compare_opened.
Result<ComparisonResult> compare_models(const std::string& path_a, const std::string& path_b,
                                        const CompareOptions& options = {});

// The JSON document above (pretty when indent >= 0).
std::string comparison_json(const ComparisonResult& r, int indent = 2);
// Verdict first, then the evidence table per layer and role and the layer-similarity heatmap.
std::string comparison_text(const ComparisonResult& r);

// The report predicate (forensics/report.h conventions: verdict, models, heatmaps, sections, and
// the whole comparison document under "comparison"), as canonical JSON, built from a comparison
// document (comparison_json output, or one read back from the store). kInvalidArgument when the
// document lacks the keys above.
Result<std::string> comparison_predicate(std::string_view comparison_document);

}  // namespace modelprint

// `compare A B`, the weight half: open both models, hash them (OMS root digests), gather the
// weight evidence and the weight verdict (decide_weights). The pipeline (forensics/pipeline.h)
// runs this as its weight section (forensics/weights_section.h renders it).
// Does not: sign (forensics/report.h), store (the command does), run behaviour probes, or render.
// Two-step use (the command looks the pair up in the store between the steps):
//   MP_ASSIGN_OR_RETURN(OpenedPair p, open_pair(path_a, path_b, options));   // open + hash
//   ... store->find_comparison(p.a.root_digest, p.b.root_digest, spec) ...
//   MP_ASSIGN_OR_RETURN(WeightComparison r, compare_opened(p, options));      // read weights
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

struct WeightComparison {
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
Result<WeightComparison> compare_opened(const OpenedPair& pair, const CompareOptions& options = {});
// The same, and the pair's root digests filled in when they were computed here.
Result<WeightComparison> compare_opened(OpenedPair& pair, const CompareOptions& options = {});
// open_pair + compare_opened.
Result<WeightComparison> compare_models(const std::string& path_a, const std::string& path_b,
                                        const CompareOptions& options = {});

}  // namespace modelprint

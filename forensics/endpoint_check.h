// Endpoint equality: is an API endpoint serving the weights of a local model (the claim)?
// Three tests on the same prompts (Gao, Liang & Guestrin, "Model Equality Testing: Which Model
// Is This API Serving?", ICLR 2025, for the first two):
//   MMD: two-sample test on sampled completions, Hamming kernel on the first L bytes
//     (k(x, y) = 1[same prompt] * (1/L) sum_l 1[x_l = y_l], both padded), unbiased MMD^2
//     (Gretton et al., JMLR 2012, eq. 3), p-value by permuting the endpoint/local labels within
//     each prompt (exchangeable under H0);
//   rank: each prompt's first endpoint completion's log-likelihood under the claim ranked among
//     the claim's own samples (randomised ties): u_i ~ U(0, 1) under H0; z = (sum u_i - n/2) /
//     sqrt(n/12), two-sided normal p-value — needs one endpoint sample per prompt;
//   logprob (when the server returns log-probabilities): at the endpoint's own tokens, the mean
//     |log p_endpoint - log p_X| per prompt for X = the claim and X = each re-encoding of it
//     (the --calibrate files: the local engine against itself at other precisions), and
//     c_i(p) = mean |log p_claim - log p_p|. X* = the closest on average. Sign test 1: is
//     e_i(X*) > margin * median_p c_i(p) on more than half the prompts (binomial, one-sided)?
//     -> not the claim at any calibrated precision. Sign test 2 (X* a re-encoding): is
//     e_i(X*) < e_i(claim) on more than half the prompts? -> that precision rather than the claim.
// Verdict (EndpointCheckOptions names every threshold; docs/endpoints.md has the data):
//   logprob calibrated: test 1 p < alpha/2 -> different; test 2 p < alpha ->
//     same-weights-other-precision (X* named); a sample test rejecting at alpha/4 -> different;
//     else same (family-wise false-accusation rate <= alpha by Bonferroni).
//   otherwise: min(p_mmd, p_rank) < alpha/2 (Bonferroni) -> different; else same when at least
//     min_queries_for_same queries were spent, else inconclusive with that number needed.
// Not here: running the engine or the endpoint (endpoint_check_run.cpp / endpoint_probe.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct EndpointCheckOptions {
    double alpha = 0.05;
    int permutations = 1000;              // MMD permutation draws
    int hamming_bytes = 64;               // L of the Hamming kernel
    double precision_margin = 3.0;        // logprob sign test 1: e_i(X*) > margin x median c_i(p)
    int64_t min_queries_for_same = 1000;  // sample tests only: "same" needs this many queries
    uint64_t seed = 0;                    // permutations and randomised ties
};

enum class EndpointVerdict : uint8_t {
    kSame,
    kSameWeightsOtherPrecision,
    kDifferent,
    kInconclusive
};
std::string_view endpoint_verdict_name(EndpointVerdict v);

// Everything the tests need about one prompt.
struct EndpointPromptData {
    std::string id;
    std::vector<std::string> endpoint;  // endpoint completions
    std::vector<std::string> local;     // claim's completions (same sampling)
    // rank test: log-likelihood under the claim of endpoint[0] and of every local sample
    bool has_ll = false;
    double endpoint_ll = 0.0;
    std::vector<double> local_ll;
    // logprob test: mean |delta log p| at endpoint[0]'s tokens vs the claim, and the claim vs
    // each calibration level (parallel to the level names)
    bool has_lp = false;
    int64_t lp_tokens = 0;
    double lp_delta = 0.0;
    std::vector<double> lp_calibration;
    // mean |log p_endpoint - log p_level| for each calibration level (parallel to the names)
    std::vector<double> lp_to_level;
};

struct EndpointTest {
    bool ran = false;
    double statistic = 0.0;
    double p_value = 1.0;
    int64_t n = 0;     // prompts used
    std::string note;  // why it did not run, or what it saw
    // The statistic's null where it was drawn (MMD: one value per label permutation).
    std::vector<double> null_values;
};

struct PrecisionLevel {
    std::string name;             // calibration file (its precision)
    double mean_delta = 0.0;      // claim vs this re-encoding
    double endpoint_delta = 0.0;  // endpoint vs this re-encoding
};

struct EndpointCheckResult {
    EndpointVerdict verdict = EndpointVerdict::kInconclusive;
    std::string reason;
    EndpointTest mmd, rank, logprob;
    // logprob sign test 2 (ran when a re-encoding is nearer than the claim on average):
    // statistic = mean |delta log p| from the endpoint to that re-encoding, p = sign test p.
    EndpointTest precision;
    std::vector<PrecisionLevel> levels;  // logprob calibration, ascending by mean_delta
    std::string nearest_level;           // for same-weights-other-precision
    int64_t prompts = 0;
    int64_t queries = 0;         // endpoint completions requested
    int64_t queries_needed = 0;  // for inconclusive: queries a decisive answer needs
    // Context (for rendering).
    std::string endpoint, model, served_model, claim, system_fingerprint;
    double temperature = 0.0;
    int samples = 0, local_samples = 0, max_tokens = 0;
    EndpointCheckOptions options;
};

// The MMD statistic and permutation p-value (above). kInvalidArgument with fewer than two
// endpoint or local samples in all.
Result<EndpointTest> mmd_hamming_test(const std::vector<EndpointPromptData>& prompts,
                                      int hamming_bytes, int permutations, uint64_t seed);
// The rank test over prompts with has_ll and at least one local sample.
EndpointTest rank_test(const std::vector<EndpointPromptData>& prompts, uint64_t seed);
// The logprob sign test (above); ran only with calibration levels and prompts with has_lp.
// `nearest`: X* when it is a re-encoding ("" for the claim); p_precision: sign test 2.
EndpointTest logprob_test(const std::vector<EndpointPromptData>& prompts,
                          const std::vector<std::string>& level_names, double margin,
                          std::vector<PrecisionLevel>* levels, std::string* nearest,
                          double* p_precision);

// All tests and the verdict. `queries` = endpoint completions spent.
Result<EndpointCheckResult> evaluate_endpoint_check(const std::vector<EndpointPromptData>& prompts,
                                                    const std::vector<std::string>& level_names,
                                                    int64_t queries,
                                                    const EndpointCheckOptions& options);

// JSON object text ({"verdict", "tests": {...}, "queries", ...}) and readable text.
std::string endpoint_check_json(const EndpointCheckResult& r);
std::string endpoint_check_text(const EndpointCheckResult& r);

}  // namespace modelprint

// Weight fingerprint of ONE model: cheap to compute (one pass over the weights), storable, and
// of fixed size where it is meant for an index.
//   - per tensor: canonical role name, stored name, dtype, shape, SHA-256 of the stored bytes,
//     mean / std / L2 norm / max |x| of the values;
//   - per layer: the std of each projection (q, k, v, o, gate, up, down) — the "attention-std
//     profile" argued over in public disputes (reported, never decisive on its own);
//   - HuRef-style invariants (Zeng et al., "HuRef: HUman-REadable Fingerprint for Large Language
//     Models", NeurIPS 2024, sec. 3): for K fixed token ids and 4 layers at depth quantiles,
//     the K x K matrices  X~ Wq^T Wk X~^T (summed over heads, GQA-aware),  X~ Wv^T Wo^T X^T and
//     X~' Wup^T Wdown^T X^T, where X are the tokens' embedding rows and X~ = X scaled to unit RMS
//     times the layer's norm gain. They do not change under permutation of hidden dimensions,
//     MLP units or heads, nor under the rescalings q*a / k/a (per rotary pair), v*c / o/c,
//     up*b / down/b and norm-gain*a / next-linear/a. Not invariant to orthogonal rotations of
//     the residual stream (AWM's point), nor comparable across tokenizers (fixed ids).
// Does not: compare models (forensics/weights_compare.h does), hash files (model/hash.h).
// Invariants: deterministic (double accumulators, fixed order), independent of thread count;
// invariants() has exactly kWeightInvariantDim entries, L2-normalised (zeros where absent).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/status.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

class Model;

inline constexpr int kWeightPrintVersion = 1;
inline constexpr int kInvariantTokens = 8;     // K
inline constexpr int kInvariantLayers = 4;     // depth quantiles 0, 1/3, 2/3, 1
inline constexpr int kInvariantTerms = 3;      // qk, vo, ffn
inline constexpr int kWeightInvariantDim =
    kInvariantLayers * kInvariantTerms * kInvariantTokens * kInvariantTokens;  // 768
// Roles of the per-layer std profile, in this order.
inline constexpr std::array<Role, 7> kProfileRoles = {Role::kAttnQ,   Role::kAttnK,
                                                      Role::kAttnV,   Role::kAttnOut,
                                                      Role::kFfnGate, Role::kFfnUp,
                                                      Role::kFfnDown};

struct TensorSummary {
    std::string canonical;  // "blk.3.attn_q.weight" ("" for tensors without a role)
    std::string name;       // as stored
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;
    std::string sha256;  // of the stored bytes
    double mean = 0, std = 0, l2 = 0, absmax = 0;
};

struct WeightFingerprint {
    int version = kWeightPrintVersion;
    std::string arch;
    int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0;
    std::vector<TensorSummary> tensors;
    // layer_std[l][r]: std of kProfileRoles[r] in layer l (NaN where the role is absent).
    std::vector<std::array<double, kProfileRoles.size()>> layer_std;
    std::vector<float> invariants;  // kWeightInvariantDim, L2-normalised
    std::vector<int32_t> invariant_token_ids;
};

struct WeightPrintOptions {
    bool tensor_digests = true;  // SHA-256 of every tensor's bytes
    int threads = 0;             // 0: default_thread_count()
    // Head size to use when the model's own is a guess (no config.json: heads cannot be read
    // from shapes). 0: use the model's. compare passes the other model's head size.
    int64_t head_dim_hint = 0;
};

Result<WeightFingerprint> compute_weight_fingerprint(const Model& model,
                                                     const WeightPrintOptions& options = {});

// Pieces of compute_weight_fingerprint for readers that walk the weights in their own order
// (forensics/weights_compare.cpp reads every weight file once and computes these while a
// layer's bytes are in memory). compute_weight_fingerprint is made of them: same values, same bits.
// The summary of tensor `index` (statistics of its values; digest: SHA-256 of its bytes).
Result<TensorSummary> summarise_tensor(const Model& model, size_t index, bool digest);
// The layers whose invariants are computed: depth quantiles 0, 1/3, 2/3, 1 of n_layers.
std::array<int, kInvariantLayers> invariant_layers(int64_t n_layers);
struct InvariantTokens {
    std::vector<double> x;         // kInvariantTokens x hidden embedding rows
    std::vector<int32_t> ids;      // their token ids
    int64_t hidden = 0;
    bool head_dim_guessed = false;  // the model's head size is a guess (no config.json)
};
// The token rows X of the invariants (reads the token embedding; kNotFound without one).
Result<InvariantTokens> invariant_tokens(const Model& model);
// One layer's kInvariantTerms x K x K invariant values, each term unit-norm (all zeros where
// the layer lacks the projections or their width differs from the embedding's).
Result<std::vector<double>> layer_invariant_terms(const Model& model, int layer,
                                                  const InvariantTokens& tokens,
                                                  int64_t head_dim_hint);
// The concatenated layer terms scaled to unit L2 as kWeightInvariantDim floats.
std::vector<float> normalised_invariants(const std::vector<double>& inv);

// Cosine of two fingerprints' invariant vectors (0 when either is all zeros).
double invariant_similarity(const WeightFingerprint& a, const WeightFingerprint& b);

// The fixed-size vector `index add` / `search` use for the "weight-stats" kind: the
// invariants (kWeightInvariantDim, unit norm; all zeros when the model has no embedding or no
// comparable layers, which the index refuses). kWeightIndexSpec names its definition.
inline constexpr const char* kWeightIndexSpec = "weight-print-v1-invariants";
std::vector<float> weight_index_vector(const WeightFingerprint& fp);

// JSON text of the fingerprint (keys: version, arch, dims, tensors, layer_std, invariants).
std::string weight_fingerprint_json(const WeightFingerprint& fp);

}  // namespace modelprint

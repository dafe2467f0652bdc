// One layer pair of the weight comparison (forensics/weights_compare.cpp): a layer's canonical
// tensors read and norm-folded (B's mapped into A's hidden basis), its depth descriptors, and the
// full analysis of an aligned pair — MLP units matched on gate and on up rows (the Zhu et al.
// 2025 statistic: Spearman's rho between the two matchings), heads matched on q / k+v rows, per
// role mean |cos| and relative L2 of aligned rows, AWM CKA of Wq and Wk. Method and sources:
// weights_compare.h and docs/methods.md. Internal to forensics/weights_*; not a public API.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/arch.h"
#include "forensics/weights_compare.h"
#include "forensics/weights_matrix.h"

namespace modelprint {

class Model;

namespace weights_detail {

// One layer's projections, norm-folded, B's mapped into A's hidden basis.
struct LayerMats {
    Mat q, k, v, o, gate, up, down;  // nn.Linear layout [out, in]
    bool gated = false;
    std::vector<std::vector<float>> desc;  // depth descriptors (q, k, v, gate/up, up)
};

struct RawLayer {
    std::map<Role, Mat> raw;  // unfolded canonical tensors (identity checks)
};

// The layer's canonical tensors (roles it lacks are left out).
Result<RawLayer> read_layer(const Model& m, int layer);
// Norm gains folded in, B mapped into A's basis (h: null for A), descriptors computed.
LayerMats prepare(const RawLayer& raw, const HiddenMap* h, int64_t gram_dims);
// Mean cosine of the two layers' descriptors (the depth-alignment similarity).
double desc_similarity(const LayerMats& a, const LayerMats& b);
// Full analysis of an aligned pair (B already in A's hidden basis).
Result<LayerEvidence> analyse_layer(const LayerMats& a, const LayerMats& b, int la, int lb,
                                    int64_t hs_a, int64_t hs_b, const WeightCompareOptions& opt);
// Spearman's rho of two matchings over the entries both matched (-1: unmatched); *n: their count.
double spearman_of(const std::vector<int32_t>& x, const std::vector<int32_t>& y, int64_t* n);

}  // namespace weights_detail
}  // namespace modelprint

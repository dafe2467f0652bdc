// Identity over every tensor of a weight comparison (TensorIdentity, weights_compare.h): the
// counts with and without a role, the tensors without a role with their digests and whether the
// other model has their bytes (by name when it has the name, else by digest), and the digest
// multisets `identical` needs. Internal to forensics/weights_*; not a public API.
// Does not: read tensors (weights_compare.cpp computes the digests in its single read).
#pragma once

#include <string>
#include <vector>

#include "forensics/weights_compare.h"

namespace modelprint {

class Model;

namespace weights_detail {

// Per-tensor digests computed by the comparison's read ("" where not computed).
struct TensorDigests {
    bool all = false;             // every tensor digested (the (dtype, shape) multisets agree)
    bool unroled_values = false;  // f32-value digests of the tensors without a role computed
    const std::vector<std::string>* dig_a = nullptr;  // SHA-256 of stored bytes, per tensor
    const std::vector<std::string>* dig_b = nullptr;
    const std::vector<std::string>* val_a = nullptr;  // SHA-256 of f32 values (no role only)
    const std::vector<std::string>* val_b = nullptr;
};

// Fills tensors_*, roled_*, inferred_*, unroled_*, unroled_equal, digests_equal and
// values_equal_unroled of *out.
void identity_over_every_tensor(const Model& a, const Model& b, const TensorDigests& d,
                                TensorIdentity* out);

}  // namespace weights_detail
}  // namespace modelprint

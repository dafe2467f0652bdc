// Rendering of the identity evidence over every tensor (TensorIdentity, weights_compare.h):
// the JSON object `evidence.weights.identity` and the text lines of `compare`. Private to
// forensics/*.cpp: includes the JSON adapter (nlohmann), like cli/model_json.h for cli/.
// Does not: decide anything (verdict.h) or compute digests (weights_compare.cpp).
#pragma once

#include <string>
#include <vector>

#include "fingerprint/base/json.h"
#include "forensics/weights_compare.h"

namespace modelprint {

// {"tensors_a", "tensors_b", "with_role_a", ..., "inferred_roles_a", ..., "digests_equal",
//  "without_role_a": [{"name", "dtype", "shape", "sha256", "in_other"}], "without_role_b": [...],
//  "shared_roles", "only_a", ... (the role-paired counts), "quantised_a", "quantised_b"}.
Json identity_json(const WeightEvidence& w);
// "identity     ..." lines; "without role ..." lines name up to `max_names` tensors per side
// ("12 tensors without a role: a, b, … and 4 more").
std::vector<std::string> identity_text(const WeightEvidence& w, size_t max_names = 8);
// "12 tensors without a role: a, b, … and 4 more" (empty when there are none).
std::string unroled_summary(const std::vector<std::string>& names, size_t max_names = 8);

}  // namespace modelprint

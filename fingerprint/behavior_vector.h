// Behaviour index vector: a fixed-size, tokenizer-independent summary of what a model answered
// to a probe set, for the nearest-neighbour index (db/index.h) beside the weight-statistics
// vector. It needs only text, so a black-box API's transcript gets one too.
// Construction (feature hashing, Weinberger et al. 2009): each answered response is read as
// UTF-8 bytes, lowercased in ASCII, whitespace runs folded to one space; every byte 3-gram is
// hashed (FNV-1a 32-bit) to one of kBehaviorVectorDim buckets with a sign from the hash's top
// bit; each response's vector is scaled to unit L2 norm (so long answers do not dominate) and the
// responses are summed in probe order. The caller L2-normalises the sum; the cosine of two such
// vectors then measures shared character 3-grams of the two models' answers.
// Vectors are comparable only for the same probe set: the spec string carries its digest.
// Not here: the pairwise behaviour statistics (forensics/behavior_*), which are far stronger;
// this vector only ranks candidates for a full comparison.
#pragma once

#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/output_print.h"

namespace modelprint {

inline constexpr int kBehaviorVectorDim = 512;

// "behavior-char3-512/v1:" + probe-set digest.
std::string behavior_vector_spec(const std::string& probe_digest);

// The (unnormalised) vector of the answered responses. kFailedPrecondition when no response
// has a 3-gram (nothing answered, or only answers shorter than three bytes).
Result<std::vector<float>> behavior_index_vector(const OutputPrint& print);

}  // namespace modelprint

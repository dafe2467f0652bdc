// The behaviour index vector (fingerprint/behavior_vector.h) of a model or of a transcript, for
// `modelprint index add --kind behavior` and `modelprint search --kind behavior`.
//   - a transcript (a `.jsonl` path: {"prompt", "response"} per line, a black-box API's answers)
//     is aligned with the probe set and its vector computed from the text;
//   - a model's vector comes from its stored behaviour fingerprint on that probe set (written by
//     `modelprint fingerprint MODEL`); none stored is kFailedPrecondition saying so.
// Either is keyed by the path's OMS root digest (hash_path), as every other store entry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {
class Store;
}

namespace modelprint::cli {

struct BehaviorVectorOf {
    std::string root_digest;
    std::string arch;        // the model's architecture, or "transcript"
    int64_t parameters = 0;  // 0 for a transcript
    std::string path;
    std::string spec;           // behavior_vector_spec(probe digest)
    std::vector<float> vector;  // unnormalised
};

bool is_transcript_path(const std::string& path);

Result<BehaviorVectorOf> behavior_vector_of(const std::string& path, const std::string& probes,
                                            Store& store);

}  // namespace modelprint::cli

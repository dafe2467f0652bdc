// The behaviour index vector (fingerprint/behavior_vector.h) of a model or of a transcript, for
// `modelprint index add --kind behavior` and `modelprint search --kind behavior`.
//   - a transcript (a `.jsonl` path: {"prompt", "response"} per line, a black-box API's answers)
//     is aligned with the probe set and its vector computed from the text;
//   - a model's vector comes from its stored behaviour fingerprint on that probe set (written by
//     `modelprint fingerprint MODEL`); none stored is kFailedPrecondition saying so.
// Either is keyed by the path's OMS root digest (hash_path), as every other store entry.
//
// resolve_background: the background of `modelprint compare` (issue 15 item 5;
// docs/behavior.md "Background"). Members, in order: every --background path, then every model
// with a behaviour fingerprint in the store on the comparison's probe set (one per root digest,
// the oldest print when several engines wrote one), except A and B (by root digest), models the
// store records as identical to, derived from or distilled from A or B (its comparisons'
// verdicts, followed transitively: a relative of a relative is excluded too), and a store model
// already given with --background. A store member is run from its recorded source_path when
// that path still has the recorded root digest (so it can score text); otherwise it takes part
// with its stored print alone (kind "fingerprint": a responder, not a scorer). When the probe
// set is a transcript's own prompts (item 7), stored prints (of another probe set) cannot be
// used as they are: every store model with a behaviour fingerprint is run again from its
// source path, and dropped with that reason when the path is unreadable or changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "forensics/behavior_paths.h"

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

struct BackgroundRequest {
    std::vector<std::string> command_line;  // --background paths
    // Read the store's behaviour fingerprints (false: --no-store-background, or no store).
    bool use_store = true;
    // Root digests of A and B when the caller already has them (compare's weight path hashes
    // both); "" to hash here (files only).
    std::string digest_a, digest_b;
};

// The probe set and the background of one comparison, before anything runs (the store key of
// item 8 needs the members' digests): comparison_probes, then resolve_background.
struct BehaviorInputs {
    ComparisonProbes probes;
    BackgroundPlan plan;
    // Root digests of the members resolved for this run, sorted (a member without a digest
    // contributes its name).
    std::vector<std::string> background_digests() const;
};

// `store` may be null (no store: command-line members only). Store read failures are returned;
// a member that cannot be used is in plan.dropped, a related one in plan.excluded.
Result<BackgroundPlan> resolve_background(Store* store, const ComparisonProbes& probes,
                                          const std::string& a, const std::string& b,
                                          const BackgroundRequest& request);
Result<BehaviorInputs> behavior_inputs(Store* store, const std::string& a, const std::string& b,
                                       const std::string& probes, const BackgroundRequest& request);

}  // namespace modelprint::cli

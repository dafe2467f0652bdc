// Behaviour comparison from paths: which probe set a comparison runs on (a transcript brings its
// own prompts), the background members to open, and opening A, B and the members one at a time
// so that a member that cannot take part is dropped with its reason while the comparison goes on
// with the others (issue 15 items 5-7; docs/behavior.md "Background", "Transcripts").
//   comparison_probes      the requested probe set, unless a transcript side has a prompt that is
//                          not a probe of it: then that transcript's prompts are the probe set
//                          (A's transcript first, then B's), exactly as `--probes T.jsonl` reads
//                          them, so stored fingerprints of `modelprint fingerprint M --probes
//                          T.jsonl` have the same digest;
//   command_line_background  --background paths as members (root digests computed; an unreadable
//                          path is dropped);
//   compare_behavior_paths opens A and B (their failure fails the comparison), then each member
//                          (failure: dropped), compares (behavior_compare.h), and when scoring
//                          fails in a background member's model (token ids beyond its
//                          vocabulary), drops it and compares again with the cached scores.
// The store's members come from cli/behavior_source.h resolve_background (db/ is above us).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/logit_print.h"
#include "forensics/behavior_background.h"
#include "forensics/behavior_compare.h"
#include "forensics/behavior_run.h"

namespace modelprint {

// One background member to open.
struct BackgroundMember {
    std::string name;         // shown in the output (the path, or the store's model name)
    std::string root_digest;  // OMS root digest; "" when it could not be computed
    BackgroundSource source = BackgroundSource::kCommandLine;
    std::string path;  // model or transcript to open; "" when none is readable
    // Store members: the stored print on the comparison's probe set (reused instead of probing
    // again; the only thing a member without a readable path takes part with).
    std::optional<BehaviorPrint> stored;
};

struct BackgroundPlan {
    std::vector<BackgroundMember> members;
    std::vector<DroppedMember> dropped;   // left out at resolution (reason)
    std::vector<DroppedMember> excluded;  // A or B under another path, or related to them
};

struct ComparisonProbes {
    ProbeSet set;
    std::string origin;            // ProbeSetUsed::origin
    bool from_transcript = false;  // the set is a transcript's own prompts
};

Result<ComparisonProbes> comparison_probes(const std::string& a, const std::string& b,
                                           const std::string& requested);

// The OMS root digest of a model or transcript path (files only, no per-tensor digests).
Result<std::string> root_digest_of(const std::string& path);

// --background paths as members, in order; a path whose digest cannot be computed is dropped.
BackgroundPlan command_line_background(const std::vector<std::string>& paths);

// kInvalidArgument when A, B or a member path appears twice. options.background and
// options.probes are not read (the plan and the probes are).
Result<BehaviorEvidence> compare_behavior_paths(const std::string& a, const std::string& b,
                                                const ComparisonProbes& probes,
                                                const BackgroundPlan& plan,
                                                const BehaviorRunOptions& options);

}  // namespace modelprint

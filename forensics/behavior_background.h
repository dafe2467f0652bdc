// The background of a behaviour comparison: who took part, who was left out and why, and the
// probe set actually used. Filled by compare_behavior_paths (behavior_run.h) from the members
// that cli/behavior_source.h resolve_background() assembled (the store's behaviour fingerprints
// on the comparison's probe set, plus --background), and carried in BehaviorEvidence so that
// every renderer and the store key (issue 15 item 8) see the same list.
// Rules (docs/behavior.md "Background"): a member that cannot take part — unreadable, no
// tokenizer, a vocabulary its tokenizer overflows, a context window that cannot hold a probe's
// prompt, a transcript that answers none of the probes — is dropped with its reason and the
// comparison goes on with the others; A and B are never dropped (their failure is the
// comparison's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelprint {

enum class BackgroundSource {
    kCommandLine,  // --background PATH
    kStore,        // a behaviour fingerprint in the store (modelprint fingerprint)
};
std::string_view background_source_name(BackgroundSource s);  // "command-line" | "store"

// One member that took part.
struct BackgroundParticipantInfo {
    std::string name;         // as in BehaviorEvidence::background
    std::string root_digest;  // OMS root digest (64 hex); "" only when it could not be hashed
    BackgroundSource source = BackgroundSource::kCommandLine;
    std::string kind;  // "model", "transcript" or "fingerprint" (stored print only)
};

// One member left out.
struct DroppedMember {
    std::string name;
    std::string root_digest;  // "" when unknown
    BackgroundSource source = BackgroundSource::kCommandLine;
    std::string reason;  // one line: what failed, with the value and the limit
};

// The probe set a comparison ran on.
struct ProbeSetUsed {
    std::string name;    // ProbeSet::name ("" for a set without header)
    std::string digest;  // ProbeSet::digest
    size_t probes = 0;
    std::string origin;  // "probe set" (--probes / default) or "transcript PATH" (item 7)
};

}  // namespace modelprint

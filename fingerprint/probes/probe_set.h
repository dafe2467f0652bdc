// ProbeSet: the prompts a behaviour fingerprint is computed on, read from a JSONL data file.
// Line 1 (optional) is a header {"probe_set": NAME, "version": N, "description": ...}; every
// other non-empty line is a probe {"prompt": TEXT} with optional "id" (default "p<line>"),
// "category" (identity|factual|open|code|arithmetic|reasoning|refusal|rare|other; identity
// probes are the ones whose answers are searched for self-identification claims), "lang" and
// "max_new_tokens" (1..4096, default 32). A transcript line ({"prompt", "response"}) is a valid
// probe line too, so a transcript's prompts can be used as a probe set.
// The digest is SHA-256 over the canonical JSON of the header and of each probe, one per line
// (key order and whitespace of the file do not matter; the content and probe order do): two
// fingerprints are comparable only when their probe-set digests are equal.
// The built-in set (`default_v1.jsonl`, embedded through default_v1.inc, which make_inc.sh generates
// from it and which is checked against it by tests/probes_test.cpp) is named "default".
// Not here: running the probes (logit_print.h), transcripts (transcript.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct Probe {
    std::string id;
    std::string category;  // see file comment
    std::string lang;      // "en", "zh", ... ("" when not given)
    std::string prompt;
    int max_new_tokens = 32;
};

struct ProbeSet {
    std::string name;     // header "probe_set", else ""
    int version = 0;      // header "version", else 0
    std::string description;
    std::vector<Probe> probes;
    std::string digest;   // 64 lowercase hex, see file comment

    // Indices of probes of one category, in order.
    std::vector<size_t> indices_of(std::string_view category) const;
    // Index of the probe with this id, or -1.
    int64_t find(std::string_view id) const;
};

inline constexpr int kMaxProbeNewTokens = 4096;
inline constexpr size_t kMaxProbes = 100000;

// Parses JSONL text; `what` names the source in messages. kCorruptData for a line that is not a
// JSON object, a missing or non-string prompt, duplicate ids, an unknown category, a
// max_new_tokens outside 1..4096 or more than kMaxProbes probes; kInvalidArgument for a set
// with no probes.
Result<ProbeSet> parse_probe_set(std::string_view jsonl, std::string_view what);
// "default" (or "default_v1") gives the built-in set; anything else is read as a file.
Result<ProbeSet> load_probe_set(const std::string& name_or_path);
// The built-in set's JSONL text, exactly as in fingerprint/probes/default_v1.jsonl.
std::string_view default_probe_set_text();
// The digest the parsed content gives (used by parse_probe_set; exposed for tests).
std::string probe_set_digest(const ProbeSet& set);

}  // namespace modelprint

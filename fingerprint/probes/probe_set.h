// ProbeSet: the prompts a behaviour fingerprint is computed on, read from a JSONL data file.
// Line 1 (optional) is a header {"probe_set": NAME, "version": N, "description": ...}; every
// other non-empty line is a probe {"prompt": TEXT} with optional "id" (default "p<line>"),
// "category" (identity|factual|open|code|arithmetic|reasoning|refusal|rare|other; identity
// probes are the ones whose answers are searched for self-identification claims), "lang" and
// "max_new_tokens" (1..4096, default 32), "subset" (a name of letters, digits, '-' and '_'; the
// named subset the probe belongs to, default its category). A transcript line ({"prompt", "response"}) is a valid
// probe line too, so a transcript's prompts can be used as a probe set.
// The digest is SHA-256 over the canonical JSON of the header and of each probe, one per line
// (key order and whitespace of the file do not matter; the content and probe order do): two
// fingerprints are comparable only when their probe-set digests are equal.
// An explicit "subset" is part of the digest (a probe without one hashes exactly as before
// subsets existed, so v1 digests did not change).
// Built-in sets (embedded through *.inc, which make_inc.sh generates from the .jsonl files and
// which tests/probes_test.cpp checks against them): "default" (= "default_v1",
// default_v1.jsonl, 51 probes) and "default-v2" (= "default_v2", default_v2.jsonl, 529 probes
// in the subsets code, narrative, factual, chat, multilingual, arithmetic, identity; written by
// make_default_v2.py). "NAME:S1,S2" selects the probes of subsets S1 and S2 of a built-in set
// (file order; the selection is named "<set name>:S1,S2" with the subsets in file order, so
// "default-v2:chat,code" and "default-v2:code,chat" are the same set with one digest).
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
    std::string subset;    // as given ("" when not given; see subset_name())
    // The subset the probe belongs to: `subset`, else its category.
    const std::string& subset_name() const { return subset.empty() ? category : subset; }
};

struct ProbeSet {
    std::string name;     // header "probe_set", else ""
    int version = 0;      // header "version", else 0
    std::string description;
    std::vector<Probe> probes;
    std::string digest;   // 64 lowercase hex, see file comment

    // Indices of probes of one category, in order.
    std::vector<size_t> indices_of(std::string_view category) const;
    // Subset names in order of first appearance.
    std::vector<std::string> subsets() const;
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
// "default" / "default_v1" and "default-v2" / "default_v2" give the built-in sets, optionally
// with ":S1,S2,..." (subsets); anything else is read as a file. kInvalidArgument for an unknown
// or empty subset name (the message lists the set's subsets).
Result<ProbeSet> load_probe_set(const std::string& name_or_path);
// The probes of `set` whose subset_name() is in the comma-separated `spec`, in file order,
// renamed "<name>:<subsets in file order>" and re-digested. kInvalidArgument as above.
Result<ProbeSet> select_probe_subsets(const ProbeSet& set, std::string_view spec);
// The built-in sets' JSONL texts, exactly as in fingerprint/probes/default_v1.jsonl and
// default_v2.jsonl.
std::string_view default_probe_set_text();
std::string_view default_v2_probe_set_text();
// The digest the parsed content gives (used by parse_probe_set; exposed for tests).
std::string probe_set_digest(const ProbeSet& set);

}  // namespace modelprint

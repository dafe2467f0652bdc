// OutputPrint: what a model (or a transcript) answered to each probe of a probe set, and the
// self-identification claims found in its answers to the identity probes.
// Claims: names of known models and labs, in English and Chinese (table in output_print.cpp),
// matched in the *response* only (probes themselves name models). ASCII names match
// case-insensitively on word boundaries; CJK names match as substrings. Each name maps to an
// entity ("openai-gpt", "qwen", ...), so "ChatGPT" and "OpenAI" are the same claim.
// Not here: computing responses with an engine (logit_print.h), comparing (forensics/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/probes/probe_set.h"
#include "fingerprint/transcript.h"

namespace modelprint {

struct IdentityClaim {
    size_t probe = 0;     // index in the probe set
    std::string name;     // the text matched, as written in the table
    std::string entity;   // canonical entity id
};

struct OutputPrint {
    std::string source;          // model path, or transcript path
    std::string probe_digest;    // ProbeSet::digest the responses belong to
    std::vector<std::string> responses;  // parallel to the probe set
    std::vector<bool> present;           // false where a transcript has no answer
    std::vector<IdentityClaim> claims;

    size_t answered() const;
};

// Entities named in `text` (sorted, unique) with the names that matched.
std::vector<IdentityClaim> find_identity_claims(std::string_view text, size_t probe);
// Claims of the identity-category probes that have responses.
std::vector<IdentityClaim> extract_claims(const ProbeSet& probes,
                                          const std::vector<std::string>& responses,
                                          const std::vector<bool>& present);
// Aligns a transcript with a probe set (by id, else by prompt). kInvalidArgument when no probe
// of the set has an answer in the transcript.
Result<OutputPrint> output_print_from_transcript(const ProbeSet& probes, const Transcript& t);
// Sorted unique entities claimed.
std::vector<std::string> claimed_entities(const OutputPrint& p);

}  // namespace modelprint

// Transcript: a model known only through its answers — a JSONL file of
// {"prompt": TEXT, "response": TEXT} lines (optional "id", matching a probe id) — standing for a
// black-box API. Behaviour evidence that needs only text (output overlap, identity claims, and
// cross-likelihood with the transcript as the reference) works with a transcript on either side.
// Response convention: the text that follows the prompt, so that prompt + response is the text
// a causal model would have produced (a generated continuation, or an API answer).
// Not here: aligning a transcript with a probe set (output_print.h), scoring (behavior_compare).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct TranscriptEntry {
    std::string id;  // "" when the line has none
    std::string prompt;
    std::string response;
};

struct Transcript {
    std::string source;  // path or description
    std::vector<TranscriptEntry> entries;
    std::string digest;  // SHA-256 hex of the canonical JSON lines (id, prompt, response)

    // The response for a probe: by id when the transcript has that id, else by exact prompt
    // text (the first match); nullopt when neither matches.
    std::optional<std::string_view> response_for(std::string_view id,
                                                 std::string_view prompt) const;
};

inline constexpr size_t kMaxTranscriptEntries = 1000000;

// kCorruptData for a line that is not an object, lacks a string prompt or response, or repeats
// an id; kInvalidArgument for no entries.
Result<Transcript> parse_transcript(std::string_view jsonl, std::string_view what);
Result<Transcript> load_transcript(const std::string& path);
// JSONL text of the entries (one canonical JSON object per line, keys id/prompt/response).
std::string transcript_to_jsonl(const Transcript& t);
// True when the path looks like a transcript (ends with .jsonl) rather than a model.
bool is_transcript_path(std::string_view path);

}  // namespace modelprint

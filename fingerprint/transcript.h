// Transcript: a model known only through its answers — a JSONL file of
// {"prompt": TEXT, "response": TEXT} lines (optional "id", matching a probe id) — standing for a
// black-box API. Several answers to one prompt go on its one line as "responses": [TEXT, ...]
// (non-empty; "response" and "responses" exclude each other); the first answer is the one every
// statistic scores (one answer per responder per probe keeps the win tests exchangeable,
// docs/behavior.md "Transcripts"), the others are kept and counted. A prompt may appear on one
// line only. A transcript whose prompts are not all probes of the probe set in use brings its own
// prompts (forensics/behavior_run.h comparison_probes). Behaviour evidence that needs only text (output overlap, identity claims, and
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
    std::string response;                // the first (scored) answer
    std::vector<std::string> alternatives;  // further answers to the same prompt
    size_t line = 0;                     // 1-based line of the file (0 when built in code)
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

// kCorruptData (naming the line) for bad JSON, a line that is not an object, lacks a string
// prompt, has neither a string "response" nor a non-empty array of strings "responses" (or has
// both), repeats an id or repeats a prompt; kInvalidArgument for no usable lines.
Result<Transcript> parse_transcript(std::string_view jsonl, std::string_view what);
Result<Transcript> load_transcript(const std::string& path);
// JSONL text of the entries (one canonical JSON object per line, keys id/prompt/response).
std::string transcript_to_jsonl(const Transcript& t);
// True when every entry answers a probe of the set (by id, else by exact prompt text): the
// transcript is of that probe set and needs no prompts of its own.
bool transcript_within(const Transcript& t, const std::vector<std::string>& probe_ids,
                       const std::vector<std::string>& probe_prompts);
// True when the path looks like a transcript (ends with .jsonl) rather than a model.
bool is_transcript_path(std::string_view path);

}  // namespace modelprint

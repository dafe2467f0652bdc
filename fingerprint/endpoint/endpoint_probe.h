// Probing an endpoint into a transcript: every prompt sampled N times (seeded per prompt and
// sample), written as one JSONL line per prompt — the transcript shape of transcript.h (id,
// prompt, response = the first sample) extended with every sample, its finish reason, seed and
// log-probabilities, the sampling parameters, the endpoint (user-info removed), the requested
// and served model names, the server's system_fingerprint and timestamps.
// Resumable: a line is written with one append once all its samples are in, so an interrupted
// run leaves only whole lines (a torn last line from a killed process is cut off when the file
// is reopened), and a rerun skips the ids already present. API keys never reach this file.
// Not here: HTTP and response shapes (http.h, openai.h); the statistics
// (forensics/endpoint_check.h).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/endpoint/openai.h"

namespace modelprint {

inline constexpr std::string_view kEndpointTranscriptFormat = "modelprint-endpoint-transcript/1";

struct EndpointPrompt {
    std::string id;
    std::string prompt;
};

struct EndpointSample {
    std::string text;
    std::string finish_reason;
    uint64_t seed = 0;
    bool has_logprobs = false;
    std::vector<TokenLogprob> logprobs;
};

struct EndpointRecord {
    std::string id;
    std::string prompt;
    std::vector<EndpointSample> samples;
    std::string served_model;
    std::string system_fingerprint;
    std::string started_at, finished_at;  // ISO 8601 UTC
};

struct EndpointProbeSettings {
    std::string model;  // name sent to the server
    EndpointApi api = EndpointApi::kCompletions;
    ServerDialect dialect = ServerDialect::kUnknown;
    SamplingParams sampling;        // seed: the base seed of sample_seed()
    int samples = 1;                // per prompt
    int concurrency = 1;            // requests in flight
    double rps = 0.0;               // requests per second at most (0: no limit)
    bool require_logprobs = false;  // a server ignoring "logprobs" is an error (else noted)
    bool progress = true;
    std::string endpoint;  // shown URL (no user-info)
};

// The seed of sample k of a prompt: a hash of (base, id, k), the same on every rerun.
uint64_t sample_seed(uint64_t base, std::string_view id, int k);

// One transcript line (JSON object text without the newline).
std::string endpoint_record_line(const EndpointRecord& r, const EndpointProbeSettings& s);

// Lines of a transcript written by endpoint_record_line, with the settings they were made with
// (from the first line). kCorruptData for a malformed line, naming it.
struct EndpointTranscript {
    std::vector<EndpointRecord> records;
    double temperature = 0.0;
    int max_tokens = 0;
    int logprobs = 0;
    std::string model;
};
Result<EndpointTranscript> parse_endpoint_transcript(std::string_view jsonl, std::string_view what);

// Appends whole lines to a transcript file. open() creates it or cuts a torn last line, and
// returns the ids already present (done()). append() writes one line with one write().
class TranscriptAppender {
public:
    static Result<std::unique_ptr<TranscriptAppender>> open(const std::string& path);
    ~TranscriptAppender();
    const std::set<std::string>& done() const { return done_; }
    const std::vector<EndpointRecord>& existing() const { return existing_; }
    Status append(const std::string& line);  // thread-safe
    bool cut_torn_line() const { return cut_; }

private:
    TranscriptAppender() = default;
    std::string path_;
    int fd_ = -1;
    std::set<std::string> done_;
    std::vector<EndpointRecord> existing_;
    bool cut_ = false;
};

// Probes every prompt not already done (appender may be null: nothing written). Records of
// prompts probed now are returned in prompt order. The first error stops the run (lines
// already written stay; a rerun resumes).
Result<std::vector<EndpointRecord>> run_endpoint_probe(const EndpointClient& client,
                                                       const std::vector<EndpointPrompt>& prompts,
                                                       const EndpointProbeSettings& settings,
                                                       TranscriptAppender* appender);

// Checks that the server serves `model` (GET /v1/models): kNotFound naming the models it lists
// when it does not. A server without a model list (404) passes. Also returns the dialect the
// server's "owned_by" names.
Result<ServerDialect> check_served_model(const EndpointClient& client, const std::string& model);

}  // namespace modelprint

// Running `endpoint check`: probe the endpoint (or read its resumable transcript), sample the
// claimed model locally with the same sampling (temperature T, no top-k / top-p / penalties),
// score both under the claim, measure log-probability deltas at the endpoint's tokens against
// the claim and its re-encodings at other precisions, and evaluate (endpoint_check.h).
// Not here: the statistics (endpoint_check.cpp), HTTP (fingerprint/endpoint).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/endpoint/endpoint_probe.h"
#include "forensics/endpoint_check.h"

namespace modelprint {

struct EndpointCheckRequest {
    std::string claim;                   // local model path
    std::vector<std::string> calibrate;  // the claim re-encoded (F16, Q8_0, ...)
    std::vector<EndpointPrompt> prompts;
    EndpointProbeSettings probe;  // endpoint sampling; sampling.seed = base seed
    int local_samples = 10;
    uint64_t local_seed = 1;
    std::string transcript;  // resumable store of endpoint samples ("" = none)
    int threads = 0;         // CPU threads of the local engine
    EndpointCheckOptions options;
    // Set: the local samples are generated through it (`--watermark`: an endpoint that
    // watermarks its answers is compared with local samples under the same key).
    std::function<void(std::span<const int32_t>, std::span<float>)> local_logits_processor;
};

// client may be null when every prompt is already in the transcript.
Result<EndpointCheckResult> run_endpoint_check(const EndpointClient* client,
                                               const EndpointCheckRequest& req);

}  // namespace modelprint

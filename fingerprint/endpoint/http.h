// HTTP for the endpoint client: one adapter over libcurl (http.cpp is the only file that sees
// curl). TLS certificates are verified with the system CAs unless the caller turns it off;
// every request has a connect and a total timeout and a response-size limit; 429 and 5xx are
// retried with exponential backoff that honours Retry-After (seconds); other 4xx are returned.
// Secrets: header values given as `secret_headers` never appear in any message this file
// builds; URLs are shown with their user-info removed (redact_url).
// Not here: the OpenAI request/response shapes (openai.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct HttpOptions {
    double connect_timeout_s = 10.0;
    double timeout_s = 300.0;        // whole request
    int max_retries = 4;             // on 429 / 5xx / connection reset
    double backoff_initial_s = 0.5;  // doubled per retry
    double backoff_max_s = 30.0;     // also the longest Retry-After honoured
    uint64_t max_response_bytes = 32ull << 20;
    bool verify_tls = true;
    std::string ca_file;  // extra CA bundle ("" = system CAs)
};

struct HttpResponse {
    long status = 0;
    std::string body;
    std::string retry_after;  // header value, "" when absent
    int attempts = 1;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpClient {
public:
    static Result<std::unique_ptr<HttpClient>> create(const HttpOptions& options);
    ~HttpClient();
    // One request with retries (above). method "GET" or "POST"; body sent for POST.
    // Errors: kIoError for an unreachable host, a timeout or a connection that keeps
    // failing; kVerificationFailed for a TLS certificate failure; kOutOfRange for a body over
    // max_response_bytes.
    // An HTTP status other than 2xx that is not retried (or still failing after the retries) is
    // returned as a response, not an error: the caller decides what 401/404 mean.
    Result<HttpResponse> request(std::string_view method, const std::string& url,
                                 const std::string& body, const HttpHeaders& headers,
                                 const HttpHeaders& secret_headers) const;
    const HttpOptions& options() const { return options_; }

private:
    explicit HttpClient(const HttpOptions& options) : options_(options) {}
    HttpOptions options_;
};

// The URL with any "user:password@" removed (for messages and transcripts).
std::string redact_url(std::string_view url);
// Retry-After as seconds (delta-seconds form); -1 when absent or not a number.
double parse_retry_after(std::string_view value);

}  // namespace modelprint

// libcurl adapter (see http.h). The only file that includes curl. One easy handle per request
// (requests run on several threads; handles are not shared). curl_global_init runs once.
#include "fingerprint/endpoint/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace modelprint {

namespace {

struct Sink {
    std::string body;
    std::string retry_after;
    uint64_t limit = 0;
    bool overflow = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t bytes = size * n;
    if (s->body.size() + bytes > s->limit) {
        s->overflow = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
    s->body.append(data, bytes);
    return bytes;
}

size_t header_cb(char* data, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t bytes = size * n;
    std::string_view line(data, bytes);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size()) {
        std::string lower(line.substr(0, kName.size()));
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (lower == kName) {
            std::string_view v = line.substr(kName.size());
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
                v.remove_suffix(1);
            }
            s->retry_after = std::string(v);
        }
    }
    return bytes;
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct ListDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

enum class Attempt { kDone, kRetry, kFail };

bool is_tls_error(CURLcode c) {
    return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CONNECT_ERROR ||
           c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_CACERT_BADFILE ||
           c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

bool is_transient(CURLcode c) {
    return c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING ||
           c == CURLE_PARTIAL_FILE;
}

}  // namespace

std::string redact_url(std::string_view url) {
    size_t scheme = url.find("://");
    size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    size_t end = url.find_first_of("/?#", start);
    std::string_view authority =
        url.substr(start, end == std::string_view::npos ? url.npos : end - start);
    size_t at = authority.rfind('@');
    if (at == std::string_view::npos) return std::string(url);
    std::string out(url.substr(0, start));
    out += "***@";
    out += url.substr(start + at + 1);
    return out;
}

double parse_retry_after(std::string_view value) {
    if (value.empty() || value.size() > 12) return -1.0;
    double v = 0.0;
    for (char c : value) {
        if (c < '0' || c > '9') return -1.0;
        v = v * 10.0 + (c - '0');
    }
    return v;
}

HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::create(const HttpOptions& options) {
    if (options.timeout_s <= 0 || options.connect_timeout_s <= 0) {
        return invalid_argument("HTTP timeouts must be positive (connect {} s, total {} s)",
                                options.connect_timeout_s, options.timeout_s);
    }
    if (options.max_retries < 0 || options.max_retries > 100) {
        return invalid_argument("retries {} outside 0..100", options.max_retries);
    }
    global_init();
    return std::unique_ptr<HttpClient>(new HttpClient(options));
}

Result<HttpResponse> HttpClient::request(std::string_view method, const std::string& url,
                                         const std::string& body, const HttpHeaders& headers,
                                         const HttpHeaders& secret_headers) const {
    const std::string shown = redact_url(url);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        return invalid_argument("endpoint URL {} must start with http:// or https://", shown);
    }
    double backoff = options_.backoff_initial_s;
    HttpResponse last;
    std::string last_error;
    for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
        std::unique_ptr<CURL, EasyDeleter> h(curl_easy_init());
        if (!h) return internal_error("curl_easy_init failed");
        std::unique_ptr<curl_slist, ListDeleter> list;
        auto add = [&](const std::string& line) {
            curl_slist* l = curl_slist_append(list.get(), line.c_str());
            if (l != nullptr) {
                (void)list.release();
                list.reset(l);
            }
        };
        for (const auto& [k, v] : headers) add(k + ": " + v);
        for (const auto& [k, v] : secret_headers) add(k + ": " + v);
        Sink sink;
        sink.limit = options_.max_response_bytes;
        char errbuf[CURL_ERROR_SIZE] = {0};
        CURL* c = h.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(options_.connect_timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
        if (!options_.ca_file.empty())
            curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        if (method == "POST") {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        } else if (method != "GET") {
            return internal_error("HTTP method {} not supported", method);
        }
        CURLcode rc = curl_easy_perform(c);
        Attempt next = Attempt::kDone;
        double wait = backoff;
        if (rc != CURLE_OK) {
            if (sink.overflow) {
                return out_of_range("{}: response larger than the limit of {} bytes", shown,
                                    options_.max_response_bytes);
            }
            // errbuf names the host and the condition (never a header value).
            last_error = fmt::format("{} ({})", curl_easy_strerror(rc), errbuf);
            if (is_tls_error(rc)) {
                return verification_failed(
                    "{}: TLS failure: {} (certificates are verified with "
                    "the system CAs; --ca-file adds a bundle)",
                    shown, last_error);
            }
            if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
                rc == CURLE_OPERATION_TIMEDOUT || is_transient(rc)) {
                next = Attempt::kRetry;
            } else {
                return io_error("{}: request failed: {}", shown, last_error);
            }
            if (rc == CURLE_COULDNT_RESOLVE_HOST) next = Attempt::kFail;
        } else {
            long status = 0;
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
            last.status = status;
            last.body = std::move(sink.body);
            last.retry_after = sink.retry_after;
            last.attempts = attempt + 1;
            if (status == 429 || status >= 500) {
                next = Attempt::kRetry;
                double ra = parse_retry_after(last.retry_after);
                if (ra >= 0) {
                    if (ra > options_.backoff_max_s) return last;  // caller reports the wait asked
                    wait = ra;
                }
            }
        }
        if (next == Attempt::kDone) return last;
        if (next == Attempt::kFail || attempt == options_.max_retries) break;
        std::this_thread::sleep_for(
            std::chrono::duration<double>(std::min(wait, options_.backoff_max_s)));
        backoff = std::min(backoff * 2.0, options_.backoff_max_s);
    }
    if (last.status != 0) return last;  // 429/5xx after the retries: the caller names it
    return io_error("{}: endpoint unreachable after {} attempt(s): {}", shown,
                    options_.max_retries + 1, last_error);
}

}  // namespace modelprint

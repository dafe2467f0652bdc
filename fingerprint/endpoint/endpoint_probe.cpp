// Endpoint probing and the resumable transcript writer (see endpoint_probe.h).
#include "fingerprint/endpoint/endpoint_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/progress.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

namespace {

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Json bytes_json(const std::string& s) {
    Json a = Json::array();
    for (unsigned char c : s) a.push_back(static_cast<int>(c));
    return a;
}

Result<std::string> bytes_from(const Json& j, std::string_view what) {
    if (!j.is_array()) return corrupt_data("{}: \"bytes\" is not an array", what);
    std::string out;
    for (const auto& v : j) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 255) {
            return corrupt_data("{}: \"bytes\" holds a value that is not a byte", what);
        }
        out.push_back(static_cast<char>(v.get<int64_t>()));
    }
    return out;
}

class RateLimiter {
public:
    explicit RateLimiter(double rps) : interval_(rps > 0 ? 1.0 / rps : 0.0) {}
    void wait() {
        if (interval_ <= 0) return;
        std::chrono::steady_clock::time_point slot;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto now = std::chrono::steady_clock::now();
            if (next_ < now) next_ = now;
            slot = next_;
            next_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(interval_));
        }
        std::this_thread::sleep_until(slot);
    }

private:
    double interval_;
    std::mutex mu_;
    std::chrono::steady_clock::time_point next_{};
};

}  // namespace

uint64_t sample_seed(uint64_t base, std::string_view id, int k) {
    std::string key = fmt::format("{}\n{}\n{}", base, id, k);
    std::string h = sha256_hex(key);
    // 31 bits: every server takes it (some parse seeds as signed 32-bit integers).
    return std::stoull(h.substr(0, 8), nullptr, 16) & 0x7fffffffull;
}

std::string endpoint_record_line(const EndpointRecord& r, const EndpointProbeSettings& s) {
    Json j;
    j["format"] = std::string(kEndpointTranscriptFormat);
    j["id"] = r.id;
    j["prompt"] = r.prompt;
    j["response"] = r.samples.empty() ? std::string() : r.samples[0].text;
    Json samples = Json::array();
    for (const auto& smp : r.samples) {
        Json o = {{"text", smp.text}, {"finish_reason", smp.finish_reason}, {"seed", smp.seed}};
        if (smp.has_logprobs) {
            Json lps = Json::array();
            for (const auto& t : smp.logprobs) {
                Json e = {
                    {"token", t.token}, {"bytes", bytes_json(t.token)}, {"logprob", t.logprob}};
                if (t.id) e["id"] = *t.id;
                Json top = Json::array();
                for (const auto& c : t.top) {
                    top.push_back({{"token", c.token},
                                   {"bytes", bytes_json(c.token)},
                                   {"logprob", c.logprob}});
                }
                e["top_logprobs"] = std::move(top);
                lps.push_back(std::move(e));
            }
            o["logprobs"] = std::move(lps);
        }
        samples.push_back(std::move(o));
    }
    j["samples"] = std::move(samples);
    j["sampling"] = {{"temperature", s.sampling.temperature},
                     {"top_p", 1.0},
                     {"top_k", 0},
                     {"repetition_penalty", 1.0},
                     {"max_tokens", s.sampling.max_tokens},
                     {"logprobs", s.sampling.logprobs},
                     {"base_seed", s.sampling.seed},
                     {"samples", s.samples}};
    j["endpoint"] = s.endpoint;
    j["api"] = std::string(endpoint_api_name(s.api));
    j["dialect"] = std::string(server_dialect_name(s.dialect));
    j["model"] = s.model;
    j["served_model"] = r.served_model;
    if (!r.system_fingerprint.empty()) j["system_fingerprint"] = r.system_fingerprint;
    j["started_at"] = r.started_at;
    j["finished_at"] = r.finished_at;
    // Token strings may be partial UTF-8 (byte-fallback pieces): replaced in "token", exact in
    // "bytes".
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<EndpointTranscript> parse_endpoint_transcript(std::string_view jsonl,
                                                     std::string_view what) {
    EndpointTranscript t;
    std::set<std::string> ids;
    MP_TRY(for_each_jsonl_object(jsonl, what, [&](const Json& j, size_t line) -> Status {
        std::string where = fmt::format("{} line {}", what, line);
        EndpointRecord r;
        auto str = [&](const char* k) -> Result<std::string> {
            auto it = j.find(k);
            if (it == j.end() || !it->is_string())
                return corrupt_data("{}: needs a string \"{}\"", where, k);
            return it->get<std::string>();
        };
        MP_ASSIGN_OR_RETURN(r.id, str("id"));
        MP_ASSIGN_OR_RETURN(r.prompt, str("prompt"));
        if (!ids.insert(r.id).second) return corrupt_data("{}: duplicate id \"{}\"", where, r.id);
        if (auto it = j.find("served_model"); it != j.end() && it->is_string())
            r.served_model = *it;
        if (auto it = j.find("system_fingerprint"); it != j.end() && it->is_string())
            r.system_fingerprint = *it;
        if (auto it = j.find("started_at"); it != j.end() && it->is_string()) r.started_at = *it;
        if (auto it = j.find("finished_at"); it != j.end() && it->is_string()) r.finished_at = *it;
        auto samples = j.find("samples");
        if (samples == j.end() || !samples->is_array() || samples->empty()) {
            return corrupt_data("{}: needs a non-empty \"samples\" array (an endpoint transcript)",
                                where);
        }
        for (const auto& s : *samples) {
            if (!s.is_object() || !s.contains("text") || !s["text"].is_string()) {
                return corrupt_data("{}: a sample needs a string \"text\"", where);
            }
            EndpointSample smp;
            smp.text = s["text"].get<std::string>();
            if (s.contains("finish_reason") && s["finish_reason"].is_string())
                smp.finish_reason = s["finish_reason"];
            if (s.contains("seed") && s["seed"].is_number_unsigned())
                smp.seed = s["seed"].get<uint64_t>();
            if (auto lp = s.find("logprobs"); lp != s.end() && lp->is_array()) {
                smp.has_logprobs = true;
                for (const auto& e : *lp) {
                    if (!e.is_object() || !e.contains("bytes") || !e.contains("logprob") ||
                        !e["logprob"].is_number()) {
                        return corrupt_data("{}: a logprobs entry needs \"bytes\" and \"logprob\"",
                                            where);
                    }
                    TokenLogprob tl;
                    MP_ASSIGN_OR_RETURN(tl.token, bytes_from(e["bytes"], where));
                    tl.logprob = e["logprob"].get<double>();
                    if (e.contains("id") && e["id"].is_number_integer())
                        tl.id = e["id"].get<int32_t>();
                    smp.logprobs.push_back(std::move(tl));
                }
            }
            r.samples.push_back(std::move(smp));
        }
        if (t.records.empty()) {
            auto sp = j.find("sampling");
            if (sp != j.end() && sp->is_object()) {
                t.temperature = sp->value("temperature", 0.0);
                t.max_tokens = sp->value("max_tokens", 0);
                t.logprobs = sp->value("logprobs", 0);
            }
            if (auto m = j.find("model"); m != j.end() && m->is_string()) t.model = *m;
        }
        t.records.push_back(std::move(r));
        return Status();
    }));
    return t;
}

TranscriptAppender::~TranscriptAppender() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<TranscriptAppender>> TranscriptAppender::open(const std::string& path) {
    auto a = std::unique_ptr<TranscriptAppender>(new TranscriptAppender());
    a->path_ = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_size > 0) {
        MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
        size_t keep = text.rfind('\n');
        keep = keep == std::string::npos ? 0 : keep + 1;
        if (keep < text.size()) {
            // A torn last line (the process was killed inside a write): cut it off.
            if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
                return io_error("{}: cannot cut the torn last line: {}", path,
                                std::strerror(errno));
            }
            a->cut_ = true;
            text.resize(keep);
        }
        if (!text.empty()) {
            MP_ASSIGN_OR_RETURN(EndpointTranscript t, parse_endpoint_transcript(text, path));
            for (auto& r : t.records) a->done_.insert(r.id);
            a->existing_ = std::move(t.records);
        }
    }
    a->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (a->fd_ < 0)
        return io_error("{}: cannot open for appending: {}", path, std::strerror(errno));
    return a;
}

Status TranscriptAppender::append(const std::string& line) {
    std::string buf = line + "\n";
    // O_APPEND + one write(): the line lands whole at the end (or, if the process dies inside
    // the call, as a torn tail that open() cuts).
    ssize_t n = ::write(fd_, buf.data(), buf.size());
    if (n != static_cast<ssize_t>(buf.size())) {
        return io_error("{}: write failed: {}", path_,
                        n < 0 ? std::strerror(errno) : "short write");
    }
    if (::fdatasync(fd_) != 0)
        return io_error("{}: fdatasync failed: {}", path_, std::strerror(errno));
    return Status();
}

Result<ServerDialect> check_served_model(const EndpointClient& client, const std::string& model) {
    auto list = client.models();
    if (!list.ok()) {
        if (list.status().code() == StatusCode::kNotFound) return ServerDialect::kUnknown;
        return list.status();
    }
    if (!list->ids.empty()) {
        bool found = false;
        for (const auto& id : list->ids) found = found || id == model;
        if (!found) {
            std::string names;
            for (size_t i = 0; i < list->ids.size() && i < 10; ++i)
                names += (i ? ", " : "") + list->ids[i];
            return not_found("{}: the server does not serve model \"{}\" (it lists: {})",
                             client.shown_url(), model, names);
        }
    }
    return dialect_from_owner(list->owned_by);
}

Result<std::vector<EndpointRecord>> run_endpoint_probe(const EndpointClient& client,
                                                       const std::vector<EndpointPrompt>& prompts,
                                                       const EndpointProbeSettings& s,
                                                       TranscriptAppender* appender) {
    if (s.samples < 1 || s.samples > 10000)
        return invalid_argument("--samples {} outside 1..10000", s.samples);
    if (s.concurrency < 1 || s.concurrency > 256) {
        return invalid_argument("--concurrency {} outside 1..256", s.concurrency);
    }
    std::vector<size_t> todo;
    for (size_t i = 0; i < prompts.size(); ++i) {
        if (appender == nullptr || !appender->done().count(prompts[i].id)) todo.push_back(i);
    }
    std::vector<EndpointRecord> out(todo.size());
    std::vector<bool> have(todo.size(), false);
    RateLimiter limiter(s.rps);
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mu;
    Status first_error;
    Progress progress("endpoint probe", todo.size(), "prompts");
    if (!s.progress) progress.finish();
    auto worker = [&] {
        while (!stop.load()) {
            size_t k = next.fetch_add(1);
            if (k >= todo.size()) return;
            const EndpointPrompt& p = prompts[todo[k]];
            EndpointRecord r;
            r.id = p.id;
            r.prompt = p.prompt;
            r.started_at = now_utc();
            Status err;
            for (int j = 0; j < s.samples && err.ok() && !stop.load(); ++j) {
                CompletionRequest req;
                req.api = s.api;
                req.model = s.model;
                req.prompt = p.prompt;
                req.sampling = s.sampling;
                req.sampling.seed = sample_seed(s.sampling.seed, p.id, j);
                limiter.wait();
                auto resp = client.complete(req, s.dialect);
                if (!resp.ok()) {
                    err =
                        resp.status().with_context(fmt::format("prompt \"{}\" sample {}", p.id, j));
                    break;
                }
                const CompletionChoice& c = resp->choices[0];
                if (s.sampling.logprobs > 0 && !c.has_logprobs && s.require_logprobs) {
                    err = unsupported(
                        "prompt \"{}\": the server returned no log-probabilities although "
                        "{} were asked (it ignores \"logprobs\"); rerun with --logprobs 0",
                        p.id, s.sampling.logprobs);
                    break;
                }
                if (r.served_model.empty()) r.served_model = resp->model;
                if (r.system_fingerprint.empty()) r.system_fingerprint = resp->system_fingerprint;
                EndpointSample smp;
                smp.text = c.text;
                smp.finish_reason = c.finish_reason;
                smp.seed = req.sampling.seed;
                smp.has_logprobs = c.has_logprobs;
                smp.logprobs = c.logprobs;
                r.samples.push_back(std::move(smp));
            }
            if (err.ok() && static_cast<int>(r.samples.size()) < s.samples) return;  // stopped
            if (err.ok() && appender != nullptr) {
                r.finished_at = now_utc();
                err = appender->append(endpoint_record_line(r, s));
            }
            if (!err.ok()) {
                std::lock_guard<std::mutex> lock(mu);
                if (first_error.ok()) first_error = err;
                stop = true;
                return;
            }
            if (r.finished_at.empty()) r.finished_at = now_utc();
            {
                std::lock_guard<std::mutex> lock(mu);
                out[k] = std::move(r);
                have[k] = true;
            }
            if (s.progress) progress.advance(1);
        }
    };
    std::vector<std::thread> threads;
    int n = std::min<int>(s.concurrency, std::max<size_t>(1, todo.size()));
    for (int i = 0; i < n; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    progress.finish();
    if (!first_error.ok()) return first_error;
    return out;
}

}  // namespace modelprint

// `modelprint endpoint probe URL --model NAME --out T.jsonl [...]` and
// `modelprint endpoint check URL --model NAME --claim MODEL [...]`: probe an OpenAI-compatible
// endpoint into a resumable transcript, or test whether it serves the claimed local weights
// (forensics/endpoint_check.h). `check` is a comparison (forensics/pipeline.h: A the claim,
// B the endpoint, the endpoint evidence section): recorded in the store (global --db, unless
// --no-store; a new record replaces the one of the same question, never reused: an endpoint can
// change what it serves), signed with --sign KEY (cli/report_record.h, as `compare`), rendered by
// `report show/export`. API keys come from --api-key-env VAR or --api-key-file FILE and
// are never printed, written or stored. Exit codes: docs/errors.md (5 unreachable / 429 / 5xx
// after retries, 6 credentials refused, 3 TLS failure, 4 unknown model or malformed response).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/report_record.h"
#include "db/store.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/endpoint/endpoint_probe.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/watermark.h"
#include "forensics/endpoint_run.h"
#include "forensics/endpoint_section.h"
#include "forensics/pipeline.h"

namespace modelprint::cli {

namespace {

struct EndpointArgs {
    std::string url, model, probes = "default", api_key_env, api_key_file, chat = "auto",
                            dialect = "auto", out, claim, transcript, ca_file, watermark;
    std::vector<std::string> calibrate;
    int samples = 1, max_tokens = 32, logprobs = -1, concurrency = 1, retries = 4, limit = 0,
        local_samples = 0, threads = 0, permutations = 1000;
    double temperature = 1.0, rps = 0.0, timeout = 300.0, alpha = 0.05;
    int64_t min_queries = 1000;
    uint64_t seed = 1, local_seed = 1;
    bool insecure = false, json = false, no_store = false;
    std::string sign;  // check: private key of the signed report (--out or stdout)
};

Result<std::string> api_key(const EndpointArgs& a) {
    if (!a.api_key_env.empty() && !a.api_key_file.empty()) {
        return invalid_argument("give at most one of --api-key-env and --api-key-file");
    }
    std::string key;
    if (!a.api_key_env.empty()) {
        const char* v = std::getenv(a.api_key_env.c_str());
        if (v == nullptr || *v == '\0') {
            return invalid_argument("--api-key-env {}: the environment variable is not set",
                                    a.api_key_env);
        }
        key = v;
    } else if (!a.api_key_file.empty()) {
        auto text = read_file(a.api_key_file);
        if (!text.ok())
            return not_found("--api-key-file {}: cannot read the key file", a.api_key_file);
        key = *text;
    }
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
        key.pop_back();
    if (key.find_first_of("\r\n") != std::string::npos) {
        return invalid_argument("the API key holds a line break (one key per file)");
    }
    return key;
}

Result<ServerDialect> parse_dialect(const std::string& s) {
    if (s == "openai") return ServerDialect::kOpenAI;
    if (s == "vllm") return ServerDialect::kVllm;
    if (s == "sglang") return ServerDialect::kSglang;
    if (s == "llamacpp" || s == "llama.cpp") return ServerDialect::kLlamaCpp;
    if (s == "auto") return ServerDialect::kUnknown;
    return invalid_argument("--dialect {}: expected auto, openai, vllm, sglang or llamacpp", s);
}

Result<std::vector<EndpointPrompt>> load_prompts(const EndpointArgs& a) {
    MP_ASSIGN_OR_RETURN(ProbeSet set, load_probe_set(a.probes));
    std::vector<EndpointPrompt> out;
    for (const auto& p : set.probes) {
        if (a.limit > 0 && static_cast<int>(out.size()) >= a.limit) break;
        out.push_back({p.id, p.prompt});
    }
    return out;
}

struct Prepared {
    std::unique_ptr<EndpointClient> client;
    EndpointProbeSettings settings;
};

Result<Prepared> prepare(const EndpointArgs& a, EndpointApi api, int default_logprobs,
                         bool require_logprobs, bool contact) {
    if (a.temperature < 0) return invalid_argument("--temperature {} < 0", a.temperature);
    if (a.max_tokens < 1 || a.max_tokens > 4096)
        return invalid_argument("--max-tokens {} outside 1..4096", a.max_tokens);
    if (a.rps < 0) return invalid_argument("--rps {} < 0", a.rps);
    Prepared p;
    EndpointOptions eo;
    eo.base_url = a.url;
    MP_ASSIGN_OR_RETURN(eo.api_key, api_key(a));
    eo.http.timeout_s = a.timeout;
    eo.http.max_retries = a.retries;
    eo.http.verify_tls = !a.insecure;
    eo.http.ca_file = a.ca_file;
    if (a.insecure)
        std::fprintf(stderr,
                     "modelprint: warning: --insecure: TLS certificates are not verified\n");
    MP_ASSIGN_OR_RETURN(p.client, EndpointClient::create(eo));
    MP_ASSIGN_OR_RETURN(ServerDialect d, parse_dialect(a.dialect));
    if (contact) {
        MP_ASSIGN_OR_RETURN(ServerDialect listed, check_served_model(*p.client, a.model));
        if (d == ServerDialect::kUnknown) d = listed;
    }
    auto& s = p.settings;
    s.model = a.model;
    s.api = api;
    s.dialect = d;
    s.sampling.temperature = a.temperature;
    s.sampling.max_tokens = a.max_tokens;
    s.sampling.logprobs = a.logprobs >= 0 ? a.logprobs : default_logprobs;
    s.sampling.seed = a.seed;
    s.samples = a.samples;
    s.concurrency = a.concurrency;
    s.rps = a.rps;
    s.require_logprobs = require_logprobs;
    s.progress = !global_options().quiet;
    s.endpoint = p.client->shown_url();
    if (s.sampling.logprobs > 20)
        return invalid_argument("--logprobs {} outside 0..20", s.sampling.logprobs);
    return p;
}

Result<EndpointApi> api_for(const std::string& chat) {
    if (chat == "auto") return EndpointApi::kChat;
    if (chat == "none") return EndpointApi::kCompletions;
    return invalid_argument("--chat {}: expected auto or none", chat);
}

Status run_probe(const EndpointArgs& a) {
    if (a.out.empty()) return invalid_argument("--out FILE.jsonl is required");
    MP_ASSIGN_OR_RETURN(EndpointApi api, api_for(a.chat));
    MP_ASSIGN_OR_RETURN(auto prompts, load_prompts(a));
    MP_ASSIGN_OR_RETURN(auto app, TranscriptAppender::open(a.out));
    if (app->cut_torn_line()) {
        std::fprintf(stderr,
                     "modelprint: warning: %s: cut a torn last line left by an interrupted run\n",
                     a.out.c_str());
    }
    size_t todo = 0;
    for (const auto& p : prompts) todo += !app->done().count(p.id);
    MP_ASSIGN_OR_RETURN(Prepared p, prepare(a, api, 0, true, todo > 0));
    MP_ASSIGN_OR_RETURN(auto recs, run_endpoint_probe(*p.client, prompts, p.settings, app.get()));
    std::printf("%s: %zu prompts probed now, %zu already there (%d samples each)\n", a.out.c_str(),
                recs.size(), prompts.size() - todo, a.samples);
    return Status();
}

// The store key of an endpoint question (docs/store.md "Comparison keys"): everything that
// decides what is asked and how it is judged — the claim's root digest, the endpoint (URL and
// model name), the API, the prompts, the sampling and seeds, the calibration files' digests
// and the test options.
Result<std::string> endpoint_store_key(const EndpointCheckRequest& req, const PairContext& c,
                                       const EndpointArgs& a) {
    std::string prompts, calibrate;
    for (const auto& p : req.prompts) prompts += p.id + '\x1f' + p.prompt + '\x1e';
    for (const std::string& path : req.calibrate) {
        MP_ASSIGN_OR_RETURN(auto m, Model::open(path));
        MP_ASSIGN_OR_RETURN(ModelDigest d, hash_model(*m));
        calibrate += d.root_digest + ",";
    }
    const EndpointProbeSettings& s = req.probe;
    const EndpointCheckOptions& o = req.options;
    return sha256_hex(fmt::format(
        "modelprint.endpoint-check;methods={};claim={};endpoint={};api={};dialect={};"
        "prompts={};samples={};local_samples={};temperature={};max_tokens={};logprobs={};"
        "seed={};local_seed={};calibrate=[{}];alpha={};permutations={};hamming={};margin={};"
        "min_queries={};transcript={}",
        kMethodsVersion, c.a.model.root_digest, c.b.model.root_digest,
        s.api == EndpointApi::kChat ? "chat" : "completions", server_dialect_name(s.dialect),
        sha256_hex(prompts), s.samples, req.local_samples, s.sampling.temperature,
        s.sampling.max_tokens, s.sampling.logprobs, s.sampling.seed, req.local_seed, calibrate,
        o.alpha, o.permutations, o.hamming_bytes, o.precision_margin, o.min_queries_for_same,
        a.transcript.empty() ? "-" : "file"));
}

// --json: the endpoint check's own fields (verdict, tests, queries, ...) and the comparison
// document under "comparison".
Result<std::string> check_json(const ComparisonResult& r, const EndpointCheckResult& e) {
    MP_ASSIGN_OR_RETURN(OrderedJson j,
                        parse_json_ordered(endpoint_check_json(e), "endpoint check"));
    MP_ASSIGN_OR_RETURN(OrderedJson doc,
                        parse_json_ordered(comparison_document(r), "comparison document"));
    j["comparison"] = std::move(doc);
    return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
}

Status run_check(const EndpointArgs& a) {
    if (a.claim.empty()) return invalid_argument("--claim MODEL is required");
    EndpointApi api = EndpointApi::kCompletions;
    if (a.chat != "none") {
        if (a.chat != "auto") return invalid_argument("--chat {}: expected auto or none", a.chat);
        // auto: chat when the claim has a chat template (decided after opening it below).
    }
    MP_ASSIGN_OR_RETURN(auto prompts, load_prompts(a));
    EndpointCheckRequest req;
    req.claim = a.claim;
    req.calibrate = a.calibrate;
    req.prompts = prompts;
    req.local_samples = a.local_samples > 0 ? a.local_samples : std::max(2, a.samples);
    req.local_seed = a.local_seed;
    req.transcript = a.transcript;
    req.threads = a.threads;
    req.options.alpha = a.alpha;
    req.options.permutations = a.permutations;
    req.options.min_queries_for_same = a.min_queries;
    req.options.seed = a.seed;
    if (!a.watermark.empty()) {
        // The local samples under the endpoint's watermark key (never printed: fingerprint/
        // watermark.h; the green lists over the claim's vocabulary).
        MP_ASSIGN_OR_RETURN(WatermarkKey key, load_watermark_key(a.watermark));
        MP_ASSIGN_OR_RETURN(auto m, Model::open(a.claim));
        MP_ASSIGN_OR_RETURN(GreenLists g, GreenLists::create(key, m->config().vocab_size));
        auto lists = std::make_shared<const GreenLists>(std::move(g));
        req.local_logits_processor = [lists](std::span<const int32_t> ids,
                                             std::span<float> logits) {
            lists->apply(ids, logits);
        };
    }
    if (a.chat == "auto") {
        auto m = Model::open(a.claim);
        if (!m.ok()) return m.status();
        auto tok = load_model_tokenizer(**m);
        if (tok.ok() && !(*tok)->chat_template_source().empty()) api = EndpointApi::kChat;
    }
    MP_ASSIGN_OR_RETURN(Prepared p, prepare(a, api, 5, false, true));
    req.probe = p.settings;

    // The question as a comparison (forensics/pipeline.h): A the claim, B the endpoint.
    CompareRequest creq;
    creq.a = a.claim;
    creq.b = req.probe.endpoint;
    creq.endpoint_check = &req;
    creq.endpoint_client = p.client.get();
    std::unique_ptr<Store> store;
    if (!a.no_store) {
        auto st = Store::open(resolve_db_path());
        if (st.ok())
            store = std::move(*st);
        else
            std::fprintf(stderr, "modelprint: warning: comparison not stored: %s\n",
                         st.status().message().c_str());
    }
    OpenedPair unused;
    MP_ASSIGN_OR_RETURN(PairContext ctx,
                        open_comparison(creq, &unused, store != nullptr || !a.sign.empty()));
    StoreInfo info;
    if (store) {
        auto key = endpoint_store_key(req, ctx, a);
        if (key.ok()) {
            info.key = *key;
        } else {
            std::fprintf(stderr, "modelprint: warning: comparison not stored: %s\n",
                         key.status().message().c_str());
            store.reset();
        }
    }
    // An endpoint can change what it serves at any time: a check always asks it again (a
    // stored result of the same question is replaced, never reused).
    MP_ASSIGN_OR_RETURN(ComparisonResult r, run_sections(ctx));
    r.store = info;
    const auto* section = dynamic_cast<const EndpointSection*>(r.section(SectionKind::kEndpoint));
    if (section == nullptr)
        return internal_error("endpoint check: the endpoint section did not run");
    if (store) {
        auto id = store_comparison(*store, r, comparison_document(r, -1));
        if (id.ok())
            r.store.id = *id;
        else
            std::fprintf(stderr, "modelprint: warning: comparison not stored: %s\n",
                         id.status().message().c_str());
    }
    if (!a.sign.empty()) {
        MP_TRY(sign_and_store(r, a.out, a.sign, r.store.id, store.get()));
        if (a.out.empty()) return Status();
    } else if (!a.out.empty()) {
        MP_TRY(write_file_atomic(a.out, comparison_document(r) + "\n"));
    }
    std::string out;
    if (a.json) {
        MP_ASSIGN_OR_RETURN(out, check_json(r, section->result()));
        out += "\n";
    } else {
        out = comparison_text_of(r);
    }
    std::fputs(out.c_str(), stdout);
    return Status();
}

void common_options(CLI::App* s, EndpointArgs* a) {
    s->add_option("URL", a->url, "Endpoint base URL (http(s)://host:port[/v1])")->required();
    s->add_option("--model", a->model, "Model name sent to the server")->required();
    s->add_option("--probes", a->probes, "Probe set: default or a JSONL file");
    s->add_option("--limit", a->limit, "Use only the first N probes (0: all)")
        ->check(CLI::NonNegativeNumber);
    s->add_option("--samples", a->samples, "Completions per prompt (default 1)")
        ->check(CLI::PositiveNumber);
    s->add_option("--temperature", a->temperature, "Sampling temperature (default 1)");
    s->add_option("--max-tokens", a->max_tokens, "New tokens per completion (default 32)");
    s->add_option("--logprobs", a->logprobs,
                  "Top log-probabilities per token (probe default 0, check 5)");
    s->add_option("--chat", a->chat,
                  "auto (chat API; check: when the claim has a chat template) or none");
    s->add_option("--dialect", a->dialect,
                  "auto (from /v1/models), openai, vllm, sglang, llamacpp");
    s->add_option("--api-key-env", a->api_key_env, "Environment variable holding the API key");
    s->add_option("--api-key-file", a->api_key_file, "File holding the API key");
    s->add_option("--concurrency", a->concurrency, "Requests in flight (default 1)")
        ->check(CLI::PositiveNumber);
    s->add_option("--rps", a->rps, "Requests per second at most (default: no limit)");
    s->add_option("--timeout", a->timeout, "Seconds per request (default 300)");
    s->add_option("--retries", a->retries, "Retries on 429/5xx/connection errors (default 4)");
    s->add_option("--seed", a->seed, "Base seed of the per-sample seeds (default 1)");
    s->add_flag("--insecure", a->insecure, "Do not verify TLS certificates");
    s->add_option("--ca-file", a->ca_file, "Extra CA bundle for TLS");
}

CommandRegistrar reg(
    {"endpoint", "Probe an OpenAI-compatible endpoint, or check which weights it serves", 75,
     [](CLI::App& sub) -> CommandAction {
         auto a = std::make_shared<EndpointArgs>();
         sub.require_subcommand(1);
         CLI::App* probe =
             sub.add_subcommand("probe", "Write a resumable transcript of the endpoint's answers");
         common_options(probe, a.get());
         probe->add_option("--out", a->out, "Transcript file (.jsonl), appended")->required();
         CLI::App* check =
             sub.add_subcommand("check", "Is the endpoint serving the claimed local model?");
         common_options(check, a.get());
         check->add_option("--claim", a->claim, "The local model it claims to serve")->required();
         check->add_option("--calibrate", a->calibrate,
                           "The claim re-encoded at other precisions (F16, Q8_0, ... GGUF)");
         check->add_option("--local-samples", a->local_samples,
                           "Claim samples per prompt (default: --samples, at least 2)");
         check->add_option("--local-seed", a->local_seed, "Seed of the local samples (default 1)");
         check->add_option("--watermark", a->watermark,
                           "Local samples under this watermark key (an endpoint that watermarks)");
         check->add_option("--transcript", a->transcript,
                           "Keep / resume the endpoint's samples in this file");
         check->add_option("--alpha", a->alpha, "Significance level (default 0.05)");
         check->add_option("--permutations", a->permutations, "MMD permutations (default 1000)");
         check->add_option(
             "--min-queries", a->min_queries,
             "Queries needed to call 'same' without log-probabilities (default 1000)");
         check->add_option("--threads", a->threads, "CPU threads of the local engine");
         check->add_flag("--json", a->json,
                         "Print one JSON object (the check's fields and the comparison document)");
         check->add_option("--out", a->out,
                           "Write the comparison document (with --sign: the signed report) here");
         check->add_option("--sign", a->sign,
                           "Write a signed report (private key PEM) to --out or stdout");
         check->add_flag("--no-store", a->no_store, "Do not record in the database");
         return [a, probe, check]() -> Status {
             if (probe->parsed()) return run_probe(*a);
             if (check->parsed()) return run_check(*a);
             return invalid_argument("endpoint: give probe or check");
         };
     }});

}  // namespace
}  // namespace modelprint::cli

// endpoint check driver (see endpoint_run.h).
#include "forensics/endpoint_run.h"

#include <cmath>
#include <map>
#include <unordered_map>

#include "fingerprint/base/progress.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/engine/cpu_ops.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint {

namespace {

constexpr int kPrefillBatch = 8;

// Text of `tokens` following `prompt` as a server returns it: decode(prompt + tokens) minus
// decode(prompt) (so a leading space that SentencePiece decoding strips at the start of a
// sequence is kept, as llama.cpp's server keeps it).
Result<std::string> continuation_text(const Tokenizer& tok, const std::vector<int32_t>& prompt,
                                      const std::vector<int32_t>& tokens) {
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), tokens.begin(), tokens.end());
    MP_ASSIGN_OR_RETURN(std::string full, tok.decode(all, true));
    MP_ASSIGN_OR_RETURN(std::string head, tok.decode(prompt, true));
    if (full.compare(0, head.size(), head) == 0) return full.substr(head.size());
    return tok.decode(tokens, true);
}

struct LocalModel {
    std::unique_ptr<Model> model;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Tokenizer> tok;
    std::unique_ptr<ProbeRunner> runner;
};

Result<LocalModel> open_local(const std::string& path, std::string_view chat, int threads) {
    LocalModel m;
    MP_ASSIGN_OR_RETURN(m.model, Model::open(path));
    MP_ASSIGN_OR_RETURN(m.tok, load_model_tokenizer(*m.model));
    BackendOptions bo;
    bo.threads = threads;
    MP_ASSIGN_OR_RETURN(m.backend, make_backend(*m.model, DeviceKind::kCpu, bo));
    MP_ASSIGN_OR_RETURN(
        m.runner, ProbeRunner::create(*m.backend, *m.tok, m.model->config().vocab_size, chat));
    return m;
}

// Log-probabilities of ids[t] for t in [first, size) under the backend, per sequence.
Status score_positions(Backend& backend, const std::vector<std::vector<int32_t>>& seqs,
                       const std::vector<size_t>& first, std::vector<std::vector<double>>* out) {
    out->assign(seqs.size(), {});
    return prefill_all_logits(
        backend, seqs.size(), kPrefillBatch,
        [&](size_t i) -> const std::vector<int32_t>& { return seqs[i]; },
        [&](size_t i, const float* logits, int64_t V) {
            auto& o = (*out)[i];
            for (size_t t = std::max<size_t>(first[i], 1); t < seqs[i].size(); ++t) {
                const int32_t id = seqs[i][t];
                o.push_back(id >= 0 && id < V ? log_softmax_at(logits + (t - 1) * V, V, id)
                                              : -1e30);
            }
        });
}

}  // namespace

Result<EndpointCheckResult> run_endpoint_check(const EndpointClient* client,
                                               const EndpointCheckRequest& req) {
    if (req.local_samples < 2) return invalid_argument("--local-samples {} < 2", req.local_samples);
    if (req.prompts.empty()) return invalid_argument("no prompts to check");
    const std::string chat = req.probe.api == EndpointApi::kChat ? "auto" : "none";
    MP_ASSIGN_OR_RETURN(LocalModel claim, open_local(req.claim, chat, req.threads));

    // 1. Endpoint samples: from the transcript, then probed for the prompts it lacks.
    std::map<std::string, EndpointRecord> by_id;
    std::unique_ptr<TranscriptAppender> app;
    if (!req.transcript.empty()) {
        MP_ASSIGN_OR_RETURN(app, TranscriptAppender::open(req.transcript));
        for (const auto& r : app->existing()) by_id[r.id] = r;
    }
    bool missing = false;
    for (const auto& p : req.prompts) missing = missing || !by_id.count(p.id);
    int64_t queries = 0;
    if (missing) {
        if (client == nullptr)
            return invalid_argument("prompts missing from the transcript and no endpoint to probe");
        MP_ASSIGN_OR_RETURN(auto fresh,
                            run_endpoint_probe(*client, req.prompts, req.probe, app.get()));
        for (auto& r : fresh) {
            if (!r.id.empty()) by_id[r.id] = std::move(r);
        }
    }
    EndpointCheckResult meta;
    std::vector<EndpointPromptData> data;
    for (const auto& p : req.prompts) {
        auto it = by_id.find(p.id);
        if (it == by_id.end()) return internal_error("prompt {} has no endpoint record", p.id);
        const EndpointRecord& r = it->second;
        if (r.prompt != p.prompt) {
            return invalid_argument(
                "{}: prompt \"{}\" differs from the probe set's (another probe "
                "set?)",
                req.transcript, p.id);
        }
        if (static_cast<int>(r.samples.size()) < req.probe.samples) {
            return invalid_argument("{}: prompt \"{}\" has {} samples, fewer than --samples {}",
                                    req.transcript, p.id, r.samples.size(), req.probe.samples);
        }
        EndpointPromptData d;
        d.id = p.id;
        for (int k = 0; k < req.probe.samples; ++k) d.endpoint.push_back(r.samples[k].text);
        queries += req.probe.samples;
        if (meta.served_model.empty()) meta.served_model = r.served_model;
        if (meta.system_fingerprint.empty()) meta.system_fingerprint = r.system_fingerprint;
        data.push_back(std::move(d));
    }

    // 2. Local samples with the same sampling.
    std::vector<int32_t> stops;
    if (auto e = claim.tok->eos_id()) stops.push_back(*e);
    for (int64_t e : claim.model->config().eos_token_ids) {
        if (e >= 0 && e <= INT32_MAX) stops.push_back(static_cast<int32_t>(e));
    }
    std::vector<std::vector<int32_t>> prompt_ids(req.prompts.size());
    {
        Progress progress("local samples", req.prompts.size(), "prompts");
        for (size_t i = 0; i < req.prompts.size(); ++i) {
            MP_ASSIGN_OR_RETURN(prompt_ids[i], claim.runner->prompt_ids(req.prompts[i].prompt));
            for (int k = 0; k < req.local_samples; ++k) {
                GenerateRequest g;
                g.prompt = prompt_ids[i];
                g.max_new_tokens = req.probe.sampling.max_tokens;
                g.stop_ids = stops;
                g.temperature = static_cast<float>(req.probe.sampling.temperature);
                g.top_k = 0;
                g.seed = sample_seed(req.local_seed ^ 0x6c6f63616cull, req.prompts[i].id, k);
                g.logits_processor = req.local_logits_processor;
                MP_ASSIGN_OR_RETURN(GenerateResult res, claim.backend->generate(g));
                MP_ASSIGN_OR_RETURN(std::string text,
                                    continuation_text(*claim.tok, g.prompt, res.tokens));
                data[i].local.push_back(std::move(text));
            }
            progress.advance(1);
        }
    }

    // 3. Rank test: log-likelihoods of endpoint[0] and of every local sample under the claim.
    {
        std::vector<std::vector<int32_t>> seqs;
        std::vector<size_t> first;
        std::vector<std::pair<size_t, int>> owner;  // (prompt, -1 endpoint | k local)
        for (size_t i = 0; i < data.size(); ++i) {
            for (int k = -1; k < static_cast<int>(data[i].local.size()); ++k) {
                const std::string& text = k < 0 ? data[i].endpoint[0] : data[i].local[k];
                MP_ASSIGN_OR_RETURN(auto seq, claim.runner->response_sequence(
                                                  data[i].id, req.prompts[i].prompt, text));
                if (seq) {
                    seqs.push_back(std::move(seq->ids));
                    first.push_back(seq->first);
                } else {
                    seqs.push_back(prompt_ids[i]);
                    first.push_back(prompt_ids[i].size());  // nothing scored: ll 0
                }
                owner.push_back({i, k});
            }
        }
        std::vector<std::vector<double>> lps;
        MP_TRY(score_positions(*claim.backend, seqs, first, &lps));
        for (size_t j = 0; j < seqs.size(); ++j) {
            double s = 0;
            for (double v : lps[j]) s += v;
            auto [i, k] = owner[j];
            if (k < 0)
                data[i].endpoint_ll = s;
            else
                data[i].local_ll.push_back(s);
            data[i].has_ll = true;
        }
    }

    // 4. Logprob test at the endpoint's own tokens (first sample of each prompt).
    std::vector<std::string> level_names;
    {
        std::unordered_map<std::string, int32_t> by_bytes;
        for (int32_t id = 0; id < claim.tok->vocab_size(); ++id) {
            if (claim.tok->is_special(id)) continue;
            if (auto b = claim.tok->token_bytes(id)) by_bytes.emplace(*b, id);
        }
        std::vector<std::vector<int32_t>> seqs;
        std::vector<size_t> first, which;
        std::vector<std::vector<double>> server_lp;
        for (size_t i = 0; i < req.prompts.size(); ++i) {
            const EndpointSample& s0 = by_id[req.prompts[i].id].samples[0];
            if (!s0.has_logprobs || s0.logprobs.empty()) continue;
            std::vector<int32_t> ids = prompt_ids[i];
            std::vector<double> slp;
            for (const auto& t : s0.logprobs) {
                std::optional<int32_t> id;
                if (t.id && *t.id < claim.tok->vocab_size() &&
                    claim.tok->token_bytes(*t.id) == t.token)
                    id = t.id;
                if (!id) {
                    auto it = by_bytes.find(t.token);
                    if (it != by_bytes.end()) id = it->second;
                }
                if (!id) break;  // a token the claim's vocabulary lacks: compare up to here
                ids.push_back(*id);
                slp.push_back(t.logprob);
            }
            if (slp.empty()) continue;
            first.push_back(prompt_ids[i].size());
            seqs.push_back(std::move(ids));
            server_lp.push_back(std::move(slp));
            which.push_back(i);
        }
        if (!seqs.empty()) {
            std::vector<std::vector<double>> claim_lp;
            MP_TRY(score_positions(*claim.backend, seqs, first, &claim_lp));
            for (size_t j = 0; j < seqs.size(); ++j) {
                auto& d = data[which[j]];
                double sum = 0;
                for (size_t t = 0; t < server_lp[j].size(); ++t)
                    sum += std::fabs(server_lp[j][t] - claim_lp[j][t]);
                d.has_lp = true;
                d.lp_tokens = static_cast<int64_t>(server_lp[j].size());
                d.lp_delta = sum / static_cast<double>(d.lp_tokens);
            }
            for (const auto& path : req.calibrate) {
                MP_ASSIGN_OR_RETURN(LocalModel cal, open_local(path, chat, req.threads));
                if (cal.model->config().vocab_size != claim.model->config().vocab_size) {
                    return invalid_argument(
                        "--calibrate {}: vocabulary {} differs from the claim's {} "
                        "(not a re-encoding of it)",
                        path, cal.model->config().vocab_size, claim.model->config().vocab_size);
                }
                std::vector<std::vector<double>> cal_lp;
                MP_TRY(score_positions(*cal.backend, seqs, first, &cal_lp));
                for (size_t j = 0; j < seqs.size(); ++j) {
                    double sum = 0, to = 0;
                    for (size_t t = 0; t < server_lp[j].size(); ++t) {
                        sum += std::fabs(cal_lp[j][t] - claim_lp[j][t]);
                        to += std::fabs(server_lp[j][t] - cal_lp[j][t]);
                    }
                    data[which[j]].lp_calibration.push_back(
                        sum / static_cast<double>(server_lp[j].size()));
                    data[which[j]].lp_to_level.push_back(to /
                                                         static_cast<double>(server_lp[j].size()));
                }
                level_names.push_back(path);
            }
        }
    }

    MP_ASSIGN_OR_RETURN(EndpointCheckResult r,
                        evaluate_endpoint_check(data, level_names, queries, req.options));
    r.endpoint = req.probe.endpoint;
    r.model = req.probe.model;
    r.served_model = meta.served_model;
    r.system_fingerprint = meta.system_fingerprint;
    r.claim = req.claim;
    r.temperature = req.probe.sampling.temperature;
    r.samples = req.probe.samples;
    r.local_samples = req.local_samples;
    r.max_tokens = req.probe.sampling.max_tokens;
    if (!r.logprob.ran && req.probe.sampling.logprobs > 0 &&
        r.logprob.note.rfind("no log", 0) == 0) {
        r.logprob.note =
            "the server returned no log-probabilities (it ignores \"logprobs\"); the "
            "sample tests decide";
    }
    return r;
}

}  // namespace modelprint

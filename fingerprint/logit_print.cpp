// ProbeRunner (greedy continuations, response scoring, top-k log-probabilities, hidden means)
// and the binary form of BehaviorPrint. See logit_print.h.
//
// Blob layout v1 (little-endian; str = u32 byte length + bytes):
//   "MPBP" u32 version=1
//   str probe_set, probe_digest, engine, model, tokenizer, chat_format
//   u32 P; P x { u8 present, str response }
//   i32 K, u64 L1, u64 C; u32 NT; NT x str token
//   P x { str prompt_text, u32 T, T x u32 boundary, T*K x u32 token, T*K x f32 logprob,
//         u8 has_hidden, [L1*C x f32 hidden_mean] }
//   end of blob (trailing bytes are an error)
#include "fingerprint/logit_print.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <unordered_map>

#include "fingerprint/base/progress.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint {

namespace {

constexpr uint32_t kBlobVersion = 1;

// log-softmax normaliser of one row of logits (double accumulation, fixed order).
double log_sum_exp(const float* row, int64_t V) {
    float mx = row[0];
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, row[v]);
    double s = 0.0;
    for (int64_t v = 0; v < V; ++v) s += std::exp(static_cast<double>(row[v]) - mx);
    return static_cast<double>(mx) + std::log(s);
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

class Writer {
public:
    void u8(uint8_t v) { out_.push_back(v); }
    void u32(uint32_t v) { raw(&v, 4); }
    void i32(int32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void str(std::string_view s) {
        u32(static_cast<uint32_t>(s.size()));
        raw(s.data(), s.size());
    }
    template <typename T>
    void array(const std::vector<T>& v) {
        raw(v.data(), v.size() * sizeof(T));
    }
    std::vector<uint8_t> take() { return std::move(out_); }

private:
    void raw(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        out_.insert(out_.end(), b, b + n);
    }
    std::vector<uint8_t> out_;
};

class Reader {
public:
    Reader(std::span<const uint8_t> b, std::string_view what) : b_(b), what_(what) {}
    size_t left() const { return b_.size() - pos_; }
    size_t pos() const { return pos_; }
    Status need(size_t n, std::string_view field) const {
        if (n > left()) {
            return corrupt_data("{}: {} needs {} bytes at offset {} but only {} remain", what_,
                                field, n, pos_, left());
        }
        return Status();
    }
    Result<uint8_t> u8(std::string_view field) {
        MP_TRY(need(1, field));
        return b_[pos_++];
    }
    Result<uint32_t> u32(std::string_view field) {
        uint32_t v = 0;
        MP_TRY(copy(&v, 4, field));
        return v;
    }
    Result<int32_t> i32(std::string_view field) {
        int32_t v = 0;
        MP_TRY(copy(&v, 4, field));
        return v;
    }
    Result<uint64_t> u64(std::string_view field) {
        uint64_t v = 0;
        MP_TRY(copy(&v, 8, field));
        return v;
    }
    Result<std::string> str(std::string_view field) {
        MP_ASSIGN_OR_RETURN(uint32_t n, u32(field));
        MP_TRY(need(n, field));
        std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    // n elements of T; n is checked against the bytes left before allocating.
    template <typename T>
    Result<std::vector<T>> array(uint64_t n, std::string_view field) {
        if (n > left() / sizeof(T)) {
            return corrupt_data("{}: {} declares {} elements of {} bytes at offset {} but only {} "
                                "bytes remain", what_, field, n, sizeof(T), pos_, left());
        }
        std::vector<T> v(static_cast<size_t>(n));
        MP_TRY(copy(v.data(), v.size() * sizeof(T), field));
        return v;
    }
    const std::string& what() const { return what_; }

private:
    Status copy(void* dst, size_t n, std::string_view field) {
        MP_TRY(need(n, field));
        if (n > 0) std::memcpy(dst, b_.data() + pos_, n);
        pos_ += n;
        return Status();
    }
    std::span<const uint8_t> b_;
    std::string what_;
    size_t pos_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// ProbeRunner

ProbeRunner::ProbeRunner(Backend& backend, const Tokenizer& tok, int64_t model_vocab)
    : backend_(backend), tok_(tok), model_vocab_(model_vocab) {}
ProbeRunner::~ProbeRunner() = default;

Result<std::unique_ptr<ProbeRunner>> ProbeRunner::create(Backend& backend, const Tokenizer& tok,
                                                         int64_t model_vocab,
                                                         std::string_view chat_template) {
    if (model_vocab <= 0) {
        return invalid_argument("probe runner: model vocabulary size {} must be positive",
                                model_vocab);
    }
    std::string warning;
    MP_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::select(tok, chat_template, &warning));
    std::unique_ptr<ProbeRunner> r(new ProbeRunner(backend, tok, model_vocab));
    r->template_ = std::make_unique<ChatTemplate>(std::move(t));
    return r;
}

std::string_view ProbeRunner::chat_format() const { return chat_format_name(template_->format()); }

int64_t ProbeRunner::context_window() const { return backend_.context_window(); }

Result<std::vector<bool>> ProbeRunner::answerable(const ProbeSet& probes) const {
    const int64_t W = context_window();
    std::vector<bool> out(probes.probes.size(), true);
    if (W <= 0) return out;
    for (size_t i = 0; i < probes.probes.size(); ++i) {
        MP_ASSIGN_OR_RETURN(auto ids, prompt_ids(probes.probes[i].prompt));
        out[i] = static_cast<int64_t>(ids.size()) < W;
    }
    return out;
}

Result<std::vector<int32_t>> ProbeRunner::prompt_ids(std::string_view prompt) const {
    if (template_->format() == ChatFormat::kNone) {
        MP_ASSIGN_OR_RETURN(auto ids, tok_.encode(prompt, /*add_special_tokens=*/true));
        auto bos = tok_.bos_id();
        if (bos && tok_.config_adds_bos() && (ids.empty() || ids.front() != *bos)) {
            ids.insert(ids.begin(), *bos);
        }
        return ids;
    }
    ChatMessage m{"user", std::string(prompt)};
    MP_ASSIGN_OR_RETURN(std::string text, template_->apply({&m, 1}, true));
    return tok_.encode(text, /*add_special_tokens=*/false);
}

Result<std::optional<ResponseSequence>> ProbeRunner::response_sequence(
    std::string_view probe_id, std::string_view prompt, std::string_view response) const {
    MP_ASSIGN_OR_RETURN(auto pids, prompt_ids(prompt));
    std::vector<int32_t> full;
    if (template_->format() == ChatFormat::kNone) {
        MP_ASSIGN_OR_RETURN(full, prompt_ids(std::string(prompt) + std::string(response)));
    } else {
        ChatMessage m{"user", std::string(prompt)};
        MP_ASSIGN_OR_RETURN(std::string text, template_->apply({&m, 1}, true));
        MP_ASSIGN_OR_RETURN(full, tok_.encode(text + std::string(response), false));
    }
    size_t lcp = 0;
    while (lcp < pids.size() && lcp < full.size() && pids[lcp] == full[lcp]) ++lcp;
    const size_t first = std::max<size_t>(lcp, 1);
    const int64_t W = context_window();
    if (W > 0 && static_cast<int64_t>(full.size()) > W) full.resize(static_cast<size_t>(W));
    if (first >= full.size()) return std::optional<ResponseSequence>();
    for (int32_t id : full) {
        if (id < 0 || id >= model_vocab_) {
            return out_of_range("probe {}: token id {} is outside the model's vocabulary of {}",
                                probe_id, id, model_vocab_);
        }
    }
    return std::optional<ResponseSequence>(ResponseSequence{std::move(full), first});
}

Result<std::vector<std::string>> ProbeRunner::generate(
    const ProbeSet& probes, bool progress,
    const std::function<void(std::span<const int32_t>, std::span<float>)>& processor) {
    const size_t P = probes.probes.size();
    const int64_t W = context_window();
    std::vector<GenerateRequest> reqs;  // the answerable probes, in order
    std::vector<size_t> which;          // their probe indices
    for (size_t i = 0; i < P; ++i) {
        const Probe& p = probes.probes[i];
        MP_ASSIGN_OR_RETURN(auto ids, prompt_ids(p.prompt));
        if (ids.empty()) {
            return invalid_argument("probe {}: the prompt encodes to no tokens", p.id);
        }
        if (W > 0 && static_cast<int64_t>(ids.size()) >= W) continue;  // not answerable (file comment)
        GenerateRequest req;
        req.prompt = std::move(ids);
        req.max_new_tokens = p.max_new_tokens;
        if (W > 0) {
            req.max_new_tokens = static_cast<int>(std::min<int64_t>(
                p.max_new_tokens, W - static_cast<int64_t>(req.prompt.size())));
        }
        if (auto eos = tok_.eos_id()) req.stop_ids.push_back(*eos);
        req.logits_processor = processor;
        reqs.push_back(std::move(req));
        which.push_back(i);
    }
    std::vector<std::string> out(P);  // unanswerable probes keep an empty response
    std::unique_ptr<Progress> bar;
    if (progress) bar = std::make_unique<Progress>("probing (greedy)", P, "probes");
    if (bar) bar->advance(P - reqs.size());
    // kGenerateBatch probes at a time; each probe's continuation is bitwise what it gets alone
    // (Backend::generate_batch), so a fingerprint does not depend on the batching.
    const size_t R = reqs.size();
    for (size_t j0 = 0; j0 < R; j0 += kGenerateBatch) {
        const size_t j1 = std::min(R, j0 + static_cast<size_t>(kGenerateBatch));
        const std::vector<GenerateRequest> chunk(reqs.begin() + static_cast<std::ptrdiff_t>(j0),
                                                 reqs.begin() + static_cast<std::ptrdiff_t>(j1));
        auto gens = backend_.generate_batch(chunk);
        if (!gens.ok()) {
            return gens.status().with_context(fmt::format(
                "probes {}..{}", probes.probes[which[j0]].id, probes.probes[which[j1 - 1]].id));
        }
        for (size_t j = j0; j < j1; ++j) {
            const GenerateResult& gen = (*gens)[j - j0];
            const std::vector<int32_t>& ids = reqs[j].prompt;
            std::vector<int32_t> toks = gen.tokens;
            if (gen.stopped && !toks.empty()) toks.pop_back();  // the stop token is not text
            std::vector<int32_t> full = ids;
            full.insert(full.end(), toks.begin(), toks.end());
            MP_ASSIGN_OR_RETURN(std::string full_text, tok_.decode(full, true));
            MP_ASSIGN_OR_RETURN(std::string pre_text, tok_.decode(ids, true));
            if (starts_with(full_text, pre_text)) {
                out[which[j]] = full_text.substr(pre_text.size());
            } else {
                MP_ASSIGN_OR_RETURN(out[which[j]], tok_.decode(toks, true));
            }
        }
        if (bar) bar->advance(j1 - j0);
    }
    return out;
}

Result<std::vector<ResponseScore>> ProbeRunner::score(const ProbeSet& probes,
                                                      const std::vector<std::string>& responses,
                                                      const std::vector<bool>& present,
                                                      int max_tokens, int batch) {
    const size_t P = probes.probes.size();
    if (responses.size() != P || present.size() != P) {
        return invalid_argument("score: {} responses and {} flags for {} probes", responses.size(),
                                present.size(), P);
    }
    if (max_tokens < 1 || batch < 1) {
        return invalid_argument("score: max_tokens {} and batch {} must be at least 1", max_tokens,
                                batch);
    }
    std::vector<ResponseScore> scores(P);
    struct Job {
        size_t probe;
        std::vector<int32_t> ids;
        size_t first;  // first scored position (token index)
    };
    std::vector<Job> jobs;
    for (size_t i = 0; i < P; ++i) {
        if (!present[i] || responses[i].empty()) continue;
        const Probe& p = probes.probes[i];
        MP_ASSIGN_OR_RETURN(auto seq, response_sequence(p.id, p.prompt, responses[i]));
        if (!seq) continue;
        seq->ids.resize(std::min(seq->ids.size(), seq->first + static_cast<size_t>(max_tokens)));
        jobs.push_back({i, std::move(seq->ids), seq->first});
    }
    MP_TRY(prefill_all_logits(
        backend_, jobs.size(), batch,
        [&](size_t j) -> const std::vector<int32_t>& { return jobs[j].ids; },
        [&](size_t j, const float* logits, int64_t V) {
            const Job& job = jobs[j];
            ResponseScore s;
            for (size_t t = job.first; t < job.ids.size(); ++t) {
                const float* row = logits + (t - 1) * V;
                s.sum_logprob += static_cast<double>(row[job.ids[t]]) - log_sum_exp(row, V);
                ++s.tokens;
            }
            scores[job.probe] = s;
        }));
    return scores;
}

Result<LogitPrint> ProbeRunner::logit_print(const ProbeSet& probes, int top_k, int batch,
                                            bool progress) {
    if (top_k < 1 || top_k > 1024 || batch < 1) {
        return invalid_argument("logit print: top_k {} must be in 1..1024 and batch {} >= 1",
                                top_k, batch);
    }
    const size_t P = probes.probes.size();
    LogitPrint lp;
    lp.probes.resize(P);
    std::unordered_map<int32_t, uint32_t> table;
    std::vector<std::vector<int32_t>> all_ids(P);
    for (size_t i = 0; i < P; ++i) {
        MP_ASSIGN_OR_RETURN(all_ids[i], prompt_ids(probes.probes[i].prompt));
        if (all_ids[i].empty()) {
            return invalid_argument("probe {}: the prompt encodes to no tokens",
                                    probes.probes[i].id);
        }
        const int64_t W = context_window();
        if (W > 0 && static_cast<int64_t>(all_ids[i].size()) > W) {
            all_ids[i].resize(static_cast<size_t>(W));  // the first W positions (file comment)
        }
    }
    std::unique_ptr<Progress> bar;
    if (progress) bar = std::make_unique<Progress>("probing (logits)", P, "probes");
    for (size_t i0 = 0; i0 < P; i0 += static_cast<size_t>(batch)) {
        const size_t i1 = std::min(P, i0 + static_cast<size_t>(batch));
        PrefillRequest req;
        req.logits = LogitsMode::kAll;
        req.hidden = HiddenCapture::kMeanPooled;
        for (size_t i = i0; i < i1; ++i) req.sequences.push_back(all_ids[i]);
        MP_ASSIGN_OR_RETURN(PrefillResult res, backend_.prefill(req));
        const int64_t V = res.vocab_size;
        const int K = static_cast<int>(std::min<int64_t>(top_k, V));
        lp.top_k = K;
        lp.hidden_size = res.hidden_size;
        for (size_t i = i0; i < i1; ++i) {
            const SequenceOutput& o = res.outputs[i - i0];
            const auto& ids = all_ids[i];
            ProbeTrace& tr = lp.probes[i];
            const int64_t T = static_cast<int64_t>(ids.size());
            MP_CHECK(o.length == T && static_cast<int64_t>(o.logits.size()) == T * V);
            MP_ASSIGN_OR_RETURN(tr.prompt_text, tok_.decode(ids, true));
            tr.boundary.resize(static_cast<size_t>(T));
            tr.topk_token.resize(static_cast<size_t>(T * K));
            tr.topk_logprob.resize(static_cast<size_t>(T * K));
            std::vector<int32_t> order(static_cast<size_t>(V));
            for (int64_t t = 0; t < T; ++t) {
                MP_ASSIGN_OR_RETURN(std::string pre,
                                    tok_.decode(std::span<const int32_t>(ids.data(), t + 1), true));
                tr.boundary[t] = starts_with(tr.prompt_text, pre)
                                     ? static_cast<uint32_t>(pre.size())
                                     : kNoBoundary;
                const float* row = o.logits.data() + t * V;
                const double lse = log_sum_exp(row, V);
                std::iota(order.begin(), order.end(), 0);
                std::partial_sort(order.begin(), order.begin() + K, order.end(),
                                  [row](int32_t a, int32_t b) {
                                      return row[a] > row[b] || (row[a] == row[b] && a < b);
                                  });
                for (int k = 0; k < K; ++k) {
                    const int32_t id = order[k];
                    auto [it, fresh] = table.emplace(id, static_cast<uint32_t>(lp.tokens.size()));
                    if (fresh) {
                        auto b = tok_.token_bytes(id);
                        // An id the tokenizer lacks (padded embedding rows) meets nothing.
                        lp.tokens.push_back(b ? *b : fmt::format("\xff<model id {}>", id));
                    }
                    tr.topk_token[t * K + k] = it->second;
                    tr.topk_logprob[t * K + k] = static_cast<float>(row[id] - lse);
                }
            }
            lp.layers = static_cast<int64_t>(o.hidden.size());
            tr.hidden_mean.clear();
            for (const auto& h : o.hidden) {
                MP_CHECK(static_cast<int64_t>(h.size()) == res.hidden_size);
                tr.hidden_mean.insert(tr.hidden_mean.end(), h.begin(), h.end());
            }
            if (bar) bar->advance(1);
        }
    }
    return lp;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Tokenizer>> load_model_tokenizer(const Model& model) {
    if (model.gguf() != nullptr) {
        auto t = Tokenizer::from_gguf(*model.gguf(), model.path());
        if (t.ok()) return t;
    }
    auto t = Tokenizer::from_file(model.root_dir());
    if (!t.ok()) {
        return t.status().with_context(
            fmt::format("model {} needs a tokenizer for behaviour probes", model.path()));
    }
    return t;
}

Result<BehaviorPrint> compute_behavior_print(const Model& model, Backend& backend,
                                             const Tokenizer& tok, const ProbeSet& probes,
                                             const BehaviorPrintOptions& options) {
    MP_ASSIGN_OR_RETURN(auto runner, ProbeRunner::create(backend, tok, model.config().vocab_size,
                                                         options.chat_template));
    BehaviorPrint bp;
    bp.probe_set = probes.name;
    bp.probe_digest = probes.digest;
    bp.engine = backend.name();
    bp.model = model.path();
    bp.tokenizer = tok.describe();
    bp.chat_format = std::string(runner->chat_format());
    MP_ASSIGN_OR_RETURN(bp.outputs.responses, runner->generate(probes, options.progress,
                                                                options.logits_processor));
    bp.outputs.source = model.path();
    bp.outputs.probe_digest = probes.digest;
    MP_ASSIGN_OR_RETURN(bp.outputs.present, runner->answerable(probes));
    bp.outputs.claims = extract_claims(probes, bp.outputs.responses, bp.outputs.present);
    MP_ASSIGN_OR_RETURN(bp.logits,
                        runner->logit_print(probes, options.top_k, options.batch, options.progress));
    return bp;
}

std::vector<uint8_t> serialize_behavior_print(const BehaviorPrint& p) {
    Writer w;
    w.u8('M'); w.u8('P'); w.u8('B'); w.u8('P');
    w.u32(kBlobVersion);
    for (const std::string* s : {&p.probe_set, &p.probe_digest, &p.engine, &p.model, &p.tokenizer,
                                 &p.chat_format}) {
        w.str(*s);
    }
    const size_t P = p.outputs.responses.size();
    w.u32(static_cast<uint32_t>(P));
    for (size_t i = 0; i < P; ++i) {
        w.u8(i < p.outputs.present.size() && p.outputs.present[i] ? 1 : 0);
        w.str(p.outputs.responses[i]);
    }
    const LogitPrint& lp = p.logits;
    w.i32(lp.top_k);
    w.u64(static_cast<uint64_t>(lp.layers));
    w.u64(static_cast<uint64_t>(lp.hidden_size));
    w.u32(static_cast<uint32_t>(lp.tokens.size()));
    for (const auto& t : lp.tokens) w.str(t);
    for (size_t i = 0; i < P; ++i) {
        const ProbeTrace empty;
        const ProbeTrace& tr = i < lp.probes.size() ? lp.probes[i] : empty;
        w.str(tr.prompt_text);
        w.u32(static_cast<uint32_t>(tr.boundary.size()));
        w.array(tr.boundary);
        w.array(tr.topk_token);
        w.array(tr.topk_logprob);
        w.u8(tr.hidden_mean.empty() ? 0 : 1);
        w.array(tr.hidden_mean);
    }
    return w.take();
}

Result<BehaviorPrint> parse_behavior_print(std::span<const uint8_t> blob, const ProbeSet& probes,
                                           std::string_view what) {
    Reader r(blob, what);
    MP_TRY(r.need(8, "magic and version"));
    if (std::memcmp(blob.data(), "MPBP", 4) != 0) {
        return corrupt_data("{}: not a behaviour fingerprint (magic is not \"MPBP\")", what);
    }
    for (int i = 0; i < 4; ++i) {
        MP_TRY(r.u8("magic"));
    }
    MP_ASSIGN_OR_RETURN(uint32_t version, r.u32("version"));
    if (version != kBlobVersion) {
        return unsupported("{}: behaviour fingerprint version {} (this build reads {})", what,
                           version, kBlobVersion);
    }
    BehaviorPrint p;
    for (std::string* s : {&p.probe_set, &p.probe_digest, &p.engine, &p.model, &p.tokenizer,
                           &p.chat_format}) {
        MP_ASSIGN_OR_RETURN(*s, r.str("header string"));
    }
    if (p.probe_digest != probes.digest) {
        return invalid_argument("{}: fingerprint was computed on probe set {} but probe set {} ({}) "
                                "was given", what, p.probe_digest, probes.digest, probes.name);
    }
    MP_ASSIGN_OR_RETURN(uint32_t P, r.u32("probe count"));
    if (P != probes.probes.size()) {
        return corrupt_data("{}: {} probes stored but the probe set has {}", what, P,
                            probes.probes.size());
    }
    p.outputs.source = p.model;
    p.outputs.probe_digest = p.probe_digest;
    p.outputs.responses.resize(P);
    p.outputs.present.resize(P);
    for (uint32_t i = 0; i < P; ++i) {
        MP_ASSIGN_OR_RETURN(uint8_t present, r.u8("present flag"));
        if (present > 1) return corrupt_data("{}: probe {} present flag {} is not 0/1", what, i, present);
        p.outputs.present[i] = present == 1;
        MP_ASSIGN_OR_RETURN(p.outputs.responses[i], r.str("response"));
    }
    LogitPrint& lp = p.logits;
    MP_ASSIGN_OR_RETURN(lp.top_k, r.i32("top_k"));
    MP_ASSIGN_OR_RETURN(uint64_t layers, r.u64("layer count"));
    MP_ASSIGN_OR_RETURN(uint64_t hidden, r.u64("hidden size"));
    if (lp.top_k < 0 || lp.top_k > 1024 || layers > 100000 || hidden > (1u << 24)) {
        return corrupt_data("{}: top_k {} (max 1024), layers {} (max 100000) or hidden size {} "
                            "(max 2^24) out of range", what, lp.top_k, layers, hidden);
    }
    lp.layers = static_cast<int64_t>(layers);
    lp.hidden_size = static_cast<int64_t>(hidden);
    MP_ASSIGN_OR_RETURN(uint32_t NT, r.u32("token table size"));
    if (NT > r.left() / 4) {
        return corrupt_data("{}: token table of {} entries cannot fit in {} bytes", what, NT, r.left());
    }
    lp.tokens.resize(NT);
    for (uint32_t t = 0; t < NT; ++t) {
        MP_ASSIGN_OR_RETURN(lp.tokens[t], r.str("token"));
    }
    lp.probes.resize(P);
    const uint64_t K = static_cast<uint64_t>(lp.top_k);
    for (uint32_t i = 0; i < P; ++i) {
        ProbeTrace& tr = lp.probes[i];
        MP_ASSIGN_OR_RETURN(tr.prompt_text, r.str("prompt text"));
        MP_ASSIGN_OR_RETURN(uint32_t T, r.u32("position count"));
        MP_ASSIGN_OR_RETURN(tr.boundary, r.array<uint32_t>(T, "boundaries"));
        MP_ASSIGN_OR_RETURN(tr.topk_token, r.array<uint32_t>(uint64_t{T} * K, "top-k tokens"));
        MP_ASSIGN_OR_RETURN(tr.topk_logprob, r.array<float>(uint64_t{T} * K, "top-k log-probs"));
        for (uint32_t idx : tr.topk_token) {
            if (idx >= NT) {
                return corrupt_data("{}: probe {} refers to token {} but the table has {}", what,
                                    i, idx, NT);
            }
        }
        for (float v : tr.topk_logprob) {
            if (!(v <= 0.0f) || !std::isfinite(v)) {
                return corrupt_data("{}: probe {} has log-probability {} (must be finite and <= 0)",
                                    what, i, v);
            }
        }
        MP_ASSIGN_OR_RETURN(uint8_t has_hidden, r.u8("hidden flag"));
        if (has_hidden > 1) return corrupt_data("{}: probe {} hidden flag {} is not 0/1", what, i, has_hidden);
        if (has_hidden == 1) {
            MP_ASSIGN_OR_RETURN(tr.hidden_mean, r.array<float>(layers * hidden, "hidden means"));
        }
    }
    if (r.left() != 0) {
        return corrupt_data("{}: {} trailing bytes after the fingerprint", what, r.left());
    }
    p.outputs.claims = extract_claims(probes, p.outputs.responses, p.outputs.present);
    return p;
}

}  // namespace modelprint

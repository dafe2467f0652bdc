// The benchmark audit through the engine: multiple-choice log-likelihood scoring, generative
// exact match, the claim test and the contamination signals (conventions in audit.h).
#include "forensics/audit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>

#include "fingerprint/base/json.h"
#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint {
namespace {

constexpr int64_t kDefaultShardTokens = 2048;
constexpr uint64_t kPermutationSeedSalt = 0x5EED0F0ADE5ULL;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

Status check_options(const AuditOptions& o, const Benchmark& bench) {
    if (o.fewshot < 0) return invalid_argument("--fewshot {} is negative", o.fewshot);
    if (o.max_new_tokens < 1)
        return invalid_argument("--max-new-tokens {} must be at least 1", o.max_new_tokens);
    if (o.limit < 0) return invalid_argument("--limit {} is negative", o.limit);
    if (o.claim && !(*o.claim >= 0.0 && *o.claim <= 1.0)) {
        return invalid_argument("--claim {} is not in [0, 1] (give a fraction: 0.9, not 90)",
                                *o.claim);
    }
    if (!(o.alpha > 0.0 && o.alpha < 1.0))
        return invalid_argument("--alpha {} is not in (0, 1)", o.alpha);
    if (!(o.mink_ratio > 0.0 && o.mink_ratio <= 1.0)) {
        return invalid_argument("--mink-ratio {} is not in (0, 1]", o.mink_ratio);
    }
    if (o.contamination && o.permutations < 1) {
        return invalid_argument("--permutations {} must be at least 1", o.permutations);
    }
    if (o.threads < 0) return invalid_argument("--threads {} is negative", o.threads);
    if (o.max_shard_items < 1)
        return invalid_argument("max shard items {} must be at least 1", o.max_shard_items);
    if (o.batch_logit_bytes < 1)
        return invalid_argument("batch logit bytes {} must be positive", o.batch_logit_bytes);
    const size_t n = o.limit > 0
                         ? std::min<size_t>(bench.items.size(), static_cast<size_t>(o.limit))
                         : bench.items.size();
    if (o.fewshot > 0 && n < static_cast<size_t>(o.fewshot) + 1) {
        return invalid_argument("--fewshot {} needs at least {} items; {} are audited", o.fewshot,
                                o.fewshot + 1, n);
    }
    return Status();
}

// Encodes a context: through the chat template (one user message + generation prompt, no
// special tokens added again) or with the tokenizer's post-processor.
struct Encoder {
    const Tokenizer& tok;
    const ChatTemplate* chat;
    bool chatting() const { return chat != nullptr && chat->format() != ChatFormat::kNone; }
    Result<std::string> context_text(const std::string& text) const {
        if (!chatting()) return text;
        const ChatMessage msg{"user", text};
        return chat->apply(std::span(&msg, 1), true);
    }
    Result<std::vector<int32_t>> encode(const std::string& s) const {
        return tok.encode(s, !chatting());
    }
};

// Left-truncates to the context window as lm-eval does, keeping at least the scored tokens.
Status fit_window(std::vector<int32_t>* seq, size_t* from, int64_t window,
                  const std::string& what) {
    if (window <= 0 || static_cast<int64_t>(seq->size()) <= window) return Status();
    const size_t drop = seq->size() - static_cast<size_t>(window);
    if (drop >= *from) {
        return out_of_range(
            "{}: the scored continuation ({} tokens) does not fit the context window of {} tokens",
            what, seq->size() - *from, window);
    }
    seq->erase(seq->begin(), seq->begin() + static_cast<std::ptrdiff_t>(drop));
    *from -= drop;
    return Status();
}

Status score_multiple_choice(Backend& backend, const Encoder& enc, const Benchmark& bench,
                             const std::vector<size_t>& mc, const AuditOptions& o, size_t n,
                             std::vector<ItemResult>* results) {
    std::vector<std::vector<int32_t>> seqs;
    std::vector<size_t> from;
    for (size_t i : mc) {
        const BenchItem& it = bench.items[i];
        MP_ASSIGN_OR_RETURN(auto shots, fewshot_indices(n, i, o.fewshot, o.seed));
        MP_ASSIGN_OR_RETURN(std::string context,
                            enc.context_text(fewshot_context(bench.items, shots, it)));
        for (const std::string& choice : it.choices) {
            std::string cont = enc.chatting() ? choice : " " + choice;
            std::string ctx = context;
            const size_t keep = ctx.find_last_not_of(" \t\r\n");
            const size_t trail = keep == std::string::npos ? ctx.size() : ctx.size() - keep - 1;
            if (trail > 0) {  // lm-eval _encode_pair: trailing whitespace moves to the continuation
                cont = ctx.substr(ctx.size() - trail) + cont;
                ctx.resize(ctx.size() - trail);
            }
            MP_ASSIGN_OR_RETURN(auto whole, enc.encode(ctx + cont));
            MP_ASSIGN_OR_RETURN(auto ctx_ids, enc.encode(ctx));
            if (whole.size() <= ctx_ids.size()) {
                return internal_error(
                    "item {}: choice \"{}\" encodes to no tokens after the context", it.id, choice);
            }
            std::vector<int32_t> seq = ctx_ids;
            seq.insert(seq.end(), whole.begin() + static_cast<std::ptrdiff_t>(ctx_ids.size()),
                       whole.end());
            size_t f = ctx_ids.size();
            if (f == 0) return invalid_argument("item {}: the context encodes to no tokens", it.id);
            MP_TRY(fit_window(&seq, &f, o.context_window, "item " + it.id));
            seqs.push_back(std::move(seq));
            from.push_back(f);
        }
    }
    MP_ASSIGN_OR_RETURN(auto lps,
                        token_logprobs(backend, seqs, from, o.batch_logit_bytes, o.threads));
    size_t s = 0;
    for (size_t i : mc) {
        const BenchItem& it = bench.items[i];
        ItemResult& r = (*results)[i];
        r.gold = it.gold;
        double best = -INFINITY, best_norm = -INFINITY;
        for (size_t c = 0; c < it.choices.size(); ++c, ++s) {
            double ll = 0.0;
            for (double v : lps[s]) ll += v;
            r.loglik.push_back(ll);
            r.n_tokens.push_back(static_cast<int64_t>(lps[s].size()));
            const double norm =
                ll / static_cast<double>(std::max<size_t>(1, utf8_length(it.choices[c])));
            if (ll > best) best = ll, r.pred_acc = static_cast<int>(c);
            if (norm > best_norm) best_norm = norm, r.pred_acc_norm = static_cast<int>(c);
        }
        r.correct_acc = r.pred_acc == it.gold;
        r.correct_acc_norm = r.pred_acc_norm == it.gold;
        r.correct = o.metric == McMetric::kAccNorm ? r.correct_acc_norm : r.correct_acc;
    }
    return Status();
}

Status score_generative(Backend& backend, const Encoder& enc, const Benchmark& bench,
                        const std::vector<size_t>& gen, const AuditOptions& o, size_t n,
                        std::vector<ItemResult>* results) {
    std::vector<GenerateRequest> reqs;
    reqs.reserve(gen.size());
    for (size_t i : gen) {
        const BenchItem& it = bench.items[i];
        MP_ASSIGN_OR_RETURN(auto shots, fewshot_indices(n, i, o.fewshot, o.seed));
        MP_ASSIGN_OR_RETURN(std::string context,
                            enc.context_text(fewshot_context(bench.items, shots, it)));
        GenerateRequest req;
        MP_ASSIGN_OR_RETURN(req.prompt, enc.encode(context));
        req.max_new_tokens = o.max_new_tokens;
        req.stop_ids = o.stop_ids;
        if (o.context_window > 0) {
            const int64_t room = o.context_window - o.max_new_tokens;
            if (room < 1) {
                return out_of_range(
                    "--max-new-tokens {} leaves no room for a prompt in the context window of {} "
                    "tokens",
                    o.max_new_tokens, o.context_window);
            }
            if (static_cast<int64_t>(req.prompt.size()) > room) {
                req.prompt.erase(req.prompt.begin(), req.prompt.end() - room);
            }
        }
        reqs.push_back(std::move(req));
    }
    // Batched: each item's generation is bitwise what it gets alone (Backend::generate_batch).
    MP_ASSIGN_OR_RETURN(std::vector<GenerateResult> gens, generate_all(backend, reqs, kGenerateBatch));
    for (size_t j = 0; j < gen.size(); ++j) {
        const BenchItem& it = bench.items[gen[j]];
        ItemResult& r = (*results)[gen[j]];
        MP_ASSIGN_OR_RETURN(r.generated, enc.tok.decode(gens[j].tokens, true));
        r.graded = grade_generation(it, r.generated);
        r.correct = r.graded.correct;
    }
    return Status();
}

Result<MinKResult> min_k_signal(Backend& backend, const Tokenizer& tok, const Benchmark& bench,
                                const std::vector<size_t>& mc, const AuditOptions& o) {
    MinKResult m;
    m.ratio = o.mink_ratio;
    std::vector<std::vector<int32_t>> seqs;
    for (size_t i : mc) {
        for (bool reversed : {false, true}) {
            MP_ASSIGN_OR_RETURN(auto ids,
                                tok.encode(render_item_text(bench.items[i], reversed), true));
            size_t from = 1;
            MP_TRY(fit_window(&ids, &from, o.context_window, "item " + bench.items[i].id));
            if (ids.size() < 2)
                return invalid_argument("item {}: rendered text has fewer than 2 tokens",
                                        bench.items[i].id);
            seqs.push_back(std::move(ids));
        }
    }
    const std::vector<size_t> from(seqs.size(), 1);
    MP_ASSIGN_OR_RETURN(auto lps,
                        token_logprobs(backend, seqs, from, o.batch_logit_bytes, o.threads));
    for (size_t p = 0; p < mc.size(); ++p) {
        MP_ASSIGN_OR_RETURN(double a, min_k_percent(lps[2 * p], o.mink_ratio));
        MP_ASSIGN_OR_RETURN(double b, min_k_percent(lps[2 * p + 1], o.mink_ratio));
        m.item_scores.push_back(a);
        m.control_scores.push_back(b);
        m.mean_item += a;
        m.mean_control += b;
        if (a > b)
            ++m.wins;
        else if (a < b)
            ++m.losses;
        else
            ++m.ties;
    }
    m.pairs = static_cast<int64_t>(mc.size());
    if (m.pairs > 0) {
        m.mean_item /= static_cast<double>(m.pairs);
        m.mean_control /= static_cast<double>(m.pairs);
    }
    m.mean_difference = m.mean_item - m.mean_control;
    MP_ASSIGN_OR_RETURN(m.log_p_value, sign_test_log_p(m.wins, m.losses));
    m.p_value = std::exp(m.log_p_value);
    return m;
}

// Shards of m consecutive items of `order`, "\n\n"-joined and encoded.
Result<std::vector<std::vector<int32_t>>> shard_ids(const Tokenizer& tok,
                                                    const std::vector<std::string>& texts,
                                                    const std::vector<size_t>& order, size_t m) {
    std::vector<std::vector<int32_t>> out;
    for (size_t b = 0; b < order.size(); b += m) {
        std::string s;
        for (size_t k = b; k < std::min(order.size(), b + m); ++k) {
            if (k > b) s += "\n\n";
            s += texts[order[k]];
        }
        MP_ASSIGN_OR_RETURN(auto ids, tok.encode(s, true));
        out.push_back(std::move(ids));
    }
    return out;
}

// A random order that keeps shard membership: items [b, b + m) are shuffled among themselves
// (Fisher-Yates per shard, one SplitMix64 stream per permutation), as Oren et al.'s sharded test.
std::vector<size_t> within_shard_order(size_t n, size_t m, uint64_t seed) {
    std::vector<size_t> ord(n);
    for (size_t i = 0; i < n; ++i) ord[i] = i;
    SplitMix64 rng(seed);
    for (size_t b = 0; b < n; b += m) {
        const size_t len = std::min(m, n - b);
        for (size_t i = len; i > 1; --i) {
            const auto j = static_cast<size_t>(rng.uniform(i));
            std::swap(ord[b + i - 1], ord[b + j]);
        }
    }
    return ord;
}

Result<ExchangeabilityResult> exchangeability_signal(Backend& backend, const Tokenizer& tok,
                                                     const Benchmark& bench, size_t n,
                                                     const AuditOptions& o) {
    ExchangeabilityResult x;
    x.items = static_cast<int64_t>(n);
    x.permutations = o.permutations;
    std::vector<std::string> texts;
    for (size_t i = 0; i < n; ++i) texts.push_back(render_item_text(bench.items[i]));
    const int64_t budget = o.context_window > 0 ? o.context_window : kDefaultShardTokens;
    std::vector<size_t> canonical(n);
    for (size_t i = 0; i < n; ++i) canonical[i] = i;
    // Largest m whose shards fit the budget in the canonical order and in every permutation.
    size_t m = std::min<size_t>(static_cast<size_t>(o.max_shard_items), n);
    std::vector<std::vector<std::vector<int32_t>>> shards;
    for (;; --m) {
        shards.clear();
        bool fits = true;
        for (int p = -1; p < o.permutations && fits; ++p) {
            std::vector<size_t> ord = canonical;
            if (p >= 0)
                ord = within_shard_order(
                    n, m, o.seed ^ (kPermutationSeedSalt + static_cast<uint64_t>(p)));
            MP_ASSIGN_OR_RETURN(auto sh, shard_ids(tok, texts, ord, m));
            for (const auto& s : sh)
                fits = fits && static_cast<int64_t>(s.size()) <= budget && s.size() >= 2;
            shards.push_back(std::move(sh));
        }
        if (fits) break;
        if (m == 1) {
            return out_of_range(
                "shuffled-order test: an item of {} does not fit the context window of {} tokens",
                bench.name, budget);
        }
    }
    x.shard_items = static_cast<int64_t>(m);
    x.shards = static_cast<int64_t>(shards[0].size());
    // All orders in one batched pass (token_logprobs splits it by the logits budget).
    std::vector<std::vector<int32_t>> all;
    for (auto& sh : shards) {
        for (auto& s : sh) all.push_back(std::move(s));
    }
    const std::vector<size_t> from(all.size(), 1);
    MP_ASSIGN_OR_RETURN(auto lps,
                        token_logprobs(backend, all, from, o.batch_logit_bytes, o.threads));
    const size_t per_order = static_cast<size_t>(x.shards);
    for (size_t k = 0; k < shards.size(); ++k) {
        double total = 0.0;
        for (size_t s = k * per_order; s < (k + 1) * per_order; ++s) {
            for (double v : lps[s]) total += v;
        }
        if (k == 0)
            x.canonical_loglik = total;
        else
            x.permuted_loglik.push_back(total);
    }
    double sum = 0.0, sq = 0.0;
    for (double v : x.permuted_loglik) sum += v;
    x.mean_permuted = sum / static_cast<double>(x.permuted_loglik.size());
    for (double v : x.permuted_loglik) sq += (v - x.mean_permuted) * (v - x.mean_permuted);
    x.sd_permuted = x.permuted_loglik.size() > 1
                        ? std::sqrt(sq / static_cast<double>(x.permuted_loglik.size() - 1))
                        : 0.0;
    x.z = x.sd_permuted > 0.0 ? (x.canonical_loglik - x.mean_permuted) / x.sd_permuted : 0.0;
    for (double v : x.permuted_loglik) x.permuted_at_least += v >= x.canonical_loglik ? 1 : 0;
    x.p_value = permutation_p_value(x.canonical_loglik, x.permuted_loglik);
    return x;
}

}  // namespace

Result<std::vector<std::vector<double>>> token_logprobs(
    Backend& backend, const std::vector<std::vector<int32_t>>& seqs,
    const std::vector<size_t>& from, int64_t batch_logit_bytes, int threads) {
    if (from.size() != seqs.size())
        return internal_error("token_logprobs: {} sequences, {} starts", seqs.size(), from.size());
    std::vector<std::vector<double>> out(seqs.size());
    int64_t vocab = 0;
    size_t i = 0;
    while (i < seqs.size()) {
        PrefillRequest req;
        req.logits = LogitsMode::kAll;
        size_t j = i;
        int64_t tokens = 0;
        while (j < seqs.size()) {
            const auto t = static_cast<int64_t>(seqs[j].size());
            if (j > i && (vocab == 0 || (tokens + t) * vocab * 4 > batch_logit_bytes)) break;
            if (from[j] < 1 || from[j] > seqs[j].size()) {
                return internal_error("token_logprobs: start {} outside sequence {} of length {}",
                                      from[j], j, seqs[j].size());
            }
            req.sequences.push_back(seqs[j]);
            tokens += t;
            ++j;
        }
        MP_ASSIGN_OR_RETURN(PrefillResult res, backend.prefill(req));
        vocab = res.vocab_size;
        const auto V = static_cast<size_t>(vocab);
        if (res.outputs.size() != j - i) {
            return internal_error("token_logprobs: engine returned {} outputs for {} sequences",
                                  res.outputs.size(), j - i);
        }
        for (size_t k = i; k < j; ++k) {
            if (res.outputs[k - i].logits.size() < seqs[k].size() * V) {
                return internal_error(
                    "token_logprobs: {} logits for sequence {} of {} tokens x {} vocabulary",
                    res.outputs[k - i].logits.size(), k, seqs[k].size(), V);
            }
            for (size_t t = from[k]; t < seqs[k].size(); ++t) {
                if (seqs[k][t] < 0 || static_cast<size_t>(seqs[k][t]) >= V) {
                    return out_of_range("token id {} is outside the model's vocabulary of {}",
                                        seqs[k][t], V);
                }
            }
        }
        // Log-softmax at the scored positions, one sequence per task (each result is computed
        // by one thread in a fixed order, so the numbers do not depend on the thread count).
        parallel_for(
            j - i,
            [&](size_t q) {
                const size_t k = i + q;
                const SequenceOutput& so = res.outputs[q];
                const std::vector<int32_t>& ids = seqs[k];
                out[k].reserve(ids.size() - from[k]);
                for (size_t t = from[k]; t < ids.size(); ++t) {
                    const float* row =
                        so.logits.data() + (t - 1) * V;  // (T, V): position t-1 predicts t
                    float mxf = row[0];
                    for (size_t v = 1; v < V; ++v) mxf = std::max(mxf, row[v]);
                    const double mx = mxf;
                    double z = 0.0;
                    for (size_t v = 0; v < V; ++v) z += std::exp(static_cast<double>(row[v]) - mx);
                    out[k].push_back(static_cast<double>(row[static_cast<size_t>(ids[t])]) - mx -
                                     std::log(z));
                }
            },
            threads);
        i = j;
    }
    return out;
}

Result<AuditResult> run_audit(Backend& backend, const Tokenizer& tok, const ChatTemplate* chat,
                              const Benchmark& bench, const AuditOptions& options) {
    MP_TRY(check_options(options, bench));
    AuditResult r;
    r.options = options;
    r.device = backend.name();
    const Encoder enc{tok, chat};
    r.chat_template = enc.chatting() ? std::string(chat_format_name(chat->format())) : "none";
    const size_t n = options.limit > 0
                         ? std::min<size_t>(bench.items.size(), static_cast<size_t>(options.limit))
                         : bench.items.size();
    r.items.resize(n);
    std::vector<size_t> mc, gen;
    for (size_t i = 0; i < n; ++i) {
        r.items[i].index = i;
        r.items[i].id = bench.items[i].id;
        r.items[i].kind = bench.items[i].kind;
        (bench.items[i].kind == ItemKind::kMultipleChoice ? mc : gen).push_back(i);
    }
    auto t0 = std::chrono::steady_clock::now();
    if (!mc.empty()) MP_TRY(score_multiple_choice(backend, enc, bench, mc, options, n, &r.items));
    if (!gen.empty()) MP_TRY(score_generative(backend, enc, bench, gen, options, n, &r.items));
    r.seconds_scoring = seconds_since(t0);
    r.n = static_cast<int64_t>(n);
    r.n_mc = static_cast<int64_t>(mc.size());
    r.n_gen = static_cast<int64_t>(gen.size());
    for (const ItemResult& it : r.items) {
        r.correct += it.correct ? 1 : 0;
        r.correct_acc += it.correct_acc ? 1 : 0;
        r.correct_acc_norm += it.correct_acc_norm ? 1 : 0;
        r.correct_gen += it.kind == ItemKind::kGenerative && it.correct ? 1 : 0;
    }
    r.accuracy = static_cast<double>(r.correct) / static_cast<double>(r.n);
    MP_ASSIGN_OR_RETURN(r.ci, wilson_interval(r.correct, r.n));
    if (options.claim) {
        MP_ASSIGN_OR_RETURN(ClaimTest t, test_claim(r.correct, r.n, *options.claim, options.alpha));
        r.claim = t;
    }
    if (options.contamination) {
        t0 = std::chrono::steady_clock::now();
        if (!mc.empty()) {
            MP_ASSIGN_OR_RETURN(MinKResult m, min_k_signal(backend, tok, bench, mc, options));
            r.min_k = std::move(m);
        }
        if (n >= 2) {
            MP_ASSIGN_OR_RETURN(ExchangeabilityResult x,
                                exchangeability_signal(backend, tok, bench, n, options));
            r.exchangeability = std::move(x);
        }
        r.seconds_contamination = seconds_since(t0);
    }
    return r;
}

std::string audit_verdict(const AuditResult& r) {
    if (!r.claim) return "measured";
    return r.claim->consistent ? "consistent" : "not-reproducible";
}

namespace {

OrderedJson item_json(const ItemResult& it) {
    OrderedJson j;
    j["index"] = it.index;
    j["id"] = it.id;
    j["kind"] = it.kind == ItemKind::kMultipleChoice ? "multiple_choice" : "generative";
    j["correct"] = it.correct;
    if (it.kind == ItemKind::kMultipleChoice) {
        j["gold"] = it.gold;
        j["pred_acc"] = it.pred_acc;
        j["pred_acc_norm"] = it.pred_acc_norm;
        j["loglik"] = it.loglik;
        j["n_tokens"] = it.n_tokens;
    } else {
        j["generated"] = it.generated;
        j["predicted"] = it.graded.predicted;
        j["gold"] = it.graded.gold;
        j["extraction"] = it.graded.numeric ? "last-number" : "first-line-text";
    }
    return j;
}

}  // namespace

std::string item_detail_json(const ItemResult& it) {
    return item_json(it).dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string audit_result_json(const AuditResult& r, const Benchmark& bench, bool with_items) {
    const AuditOptions& o = r.options;
    OrderedJson j;
    j["accuracy"] = r.accuracy;
    j["ci_low"] = r.ci.low;
    j["ci_high"] = r.ci.high;
    j["ci_method"] = "wilson-95";
    j["n"] = r.n;
    j["correct"] = r.correct;
    if (r.claim) {
        j["claim"] = r.claim->claim;
        j["p_value"] = r.claim->p_value;
        j["log10_p_value"] = r.claim->log10_p_value;
        j["alpha"] = r.claim->alpha;
        j["test"] = "one-sided exact binomial, H0: true accuracy >= claim";
    }
    j["verdict"] = audit_verdict(r);
    j["multiple_choice"] = {
        {"n", r.n_mc},
        {"acc", r.n_mc ? static_cast<double>(r.correct_acc) / static_cast<double>(r.n_mc) : 0.0},
        {"acc_norm",
         r.n_mc ? static_cast<double>(r.correct_acc_norm) / static_cast<double>(r.n_mc) : 0.0}};
    j["generative"] = {
        {"n", r.n_gen},
        {"exact_match",
         r.n_gen ? static_cast<double>(r.correct_gen) / static_cast<double>(r.n_gen) : 0.0}};
    j["bench"] = {{"name", bench.name},
                  {"path", bench.path},
                  {"sha256", bench.sha256},
                  {"items_in_file", bench.items.size()}};
    j["conventions"] = {{"harness", "lm-evaluation-harness v0.4 conventions"},
                        {"fewshot", o.fewshot},
                        {"seed", o.seed},
                        {"chat_template", r.chat_template},
                        {"mc_metric", o.metric == McMetric::kAccNorm ? "acc_norm" : "acc"},
                        {"target_delimiter", " "},
                        {"fewshot_delimiter", "\n\n"},
                        {"max_new_tokens", o.max_new_tokens},
                        {"limit", o.limit},
                        {"answer_extraction",
                         "cut at \"\\n\\n\"/\"Question:\"; numeric gold (#### or a "
                         "number): last number, commas removed; else first line, "
                         "trimmed, final '.' dropped, lower-case"}};
    j["device"] = r.device;
    j["seconds"] = r.seconds_scoring;
    j["items_per_second"] =
        r.seconds_scoring > 0 ? static_cast<double>(r.n) / r.seconds_scoring : 0.0;
    if (o.contamination) {
        OrderedJson c;
        if (r.min_k) {
            const MinKResult& m = *r.min_k;
            c["min_k"] = {{"ratio", m.ratio},
                          {"pairs", m.pairs},
                          {"wins", m.wins},
                          {"losses", m.losses},
                          {"ties", m.ties},
                          {"mean_item", m.mean_item},
                          {"mean_control", m.mean_control},
                          {"mean_difference", m.mean_difference},
                          {"p_value", m.p_value},
                          {"log10_p_value", m.log_p_value / std::log(10.0)},
                          {"flagged", m.p_value < o.alpha},
                          {"control_rule", "the same item with its choices in reverse order"},
                          {"test", "exact one-sided sign test: item Min-K% > control Min-K%"}};
        }
        if (r.exchangeability) {
            const ExchangeabilityResult& x = *r.exchangeability;
            c["exchangeability"] = {{"items", x.items},
                                    {"shards", x.shards},
                                    {"shard_items", x.shard_items},
                                    {"permutations", x.permutations},
                                    {"canonical_loglik", x.canonical_loglik},
                                    {"mean_permuted_loglik", x.mean_permuted},
                                    {"sd_permuted_loglik", x.sd_permuted},
                                    {"z", x.z},
                                    {"permuted_at_least_canonical", x.permuted_at_least},
                                    {"p_value", x.p_value},
                                    {"flagged", x.p_value < o.alpha},
                                    {"test",
                                     "Monte Carlo permutation test of the file order, items "
                                     "shuffled within shards (Oren et al. 2024)"}};
        }
        c["alpha"] = o.alpha;
        c["seconds"] = r.seconds_contamination;
        c["can_show"] =
            "that the model prefers the benchmark's exact text (Min-K%) or its file order "
            "(exchangeability) over equivalent variants: evidence that the file itself was "
            "in the training data";
        c["cannot_show"] =
            "absence of contamination (paraphrased or re-ordered leaks, or leaks too rare "
            "to be memorised, leave no signal), nor whether a high score is due to the leak";
        j["contamination"] = std::move(c);
    }
    if (with_items) {
        OrderedJson items = OrderedJson::array();
        for (const ItemResult& it : r.items) items.push_back(item_json(it));
        j["items"] = std::move(items);
    }
    return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace modelprint

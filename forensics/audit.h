// The benchmark audit: re-run a benchmark on a model through the engine under documented
// conventions (lm-evaluation-harness), put a Wilson 95% interval on the accuracy, test a
// claimed accuracy with a one-sided exact binomial test, and measure two contamination signals.
//
// Scoring (conventions of lm-eval v0.4 HFLM; item text rules in audit_bench.h):
//  - Multiple choice: for each choice the log-likelihood of continuation = " " + choice (no
//    leading space under a chat template) given the context (few-shot prefix + prompt); trailing
//    whitespace of the context moves to the continuation; tokens are split as lm-eval does:
//    whole = encode(context + continuation), ctx = encode(context), continuation tokens =
//    whole[len(ctx):]. acc: argmax of the summed log-likelihoods (first index on ties);
//    acc_norm: argmax of log-likelihood / number of characters (code points) of the choice.
//  - Generative: greedy decoding from the context, at most max_new_tokens, ending at an EOS id;
//    graded by grade_generation (answer extraction in audit_bench.h).
//  - encode() applies the tokenizer's post-processor (BOS where the model's tokenizer adds it,
//    as transformers' tokenizer(text) does). With a chat template the whole context is one user
//    message followed by the generation prompt, encoded without adding special tokens again.
//  - Headline accuracy: correct items / n, where an MC item counts by acc (or acc_norm with
//    metric kAccNorm) and a generative item by exact match.
// Contamination signals (docs/audit.md says what they can and cannot show):
//  - Min-K% (Shi et al., ICLR 2024): for every MC item, Min-K% of render_item_text(item) against
//    its matched control (choices reversed); exact one-sided sign test of "items score higher
//    than their controls" (ties dropped).
//  - Shuffled-order exchangeability (Oren et al., "Proving Test Set Contamination in Black Box
//    Language Models", ICLR 2024): the benchmark's rendered items, in file order, are cut into
//    shards of m consecutive items ("\n\n"-joined, m as large as the context allows, at most
//    max_shard_items); the statistic is the summed log-likelihood of all shards. It is compared
//    with the same statistic for `permutations` seeded random orders that shuffle the items
//    within each shard (shard membership kept, as in Oren et al.'s sharded test, so only the
//    order varies); p = (1 + #{permuted >= canonical}) / (1 + permutations), exact under the
//    null that the model's likelihood does not depend on the order of exchangeable items.
// Not here: the database and report (cli/cmd_audit.cpp), statistics (audit_stats.h).
// Determinism: the same model, engine, benchmark and options give the same numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "forensics/audit_bench.h"
#include "forensics/audit_stats.h"

namespace modelprint {

class Backend;
class Tokenizer;
class ChatTemplate;

enum class McMetric : uint8_t { kAcc, kAccNorm };

struct AuditOptions {
    int fewshot = 0;
    uint64_t seed = 1234;  // few-shot sample and permutations (lm-eval's default seed)
    McMetric metric = McMetric::kAcc;
    int max_new_tokens = 32;
    int64_t limit = 0;  // first N items only (0: all)
    std::optional<double> claim;
    double alpha = 0.05;
    bool contamination = false;
    double mink_ratio = 0.2;
    int permutations = 99;
    int max_shard_items = 16;
    int64_t context_window = 0;     // tokens; 0: unknown (shards limited to 2048 tokens)
    std::vector<int32_t> stop_ids;  // EOS ids ending a generation
    int64_t batch_logit_bytes = int64_t{256} << 20;  // logits memory per engine call
    int threads = 0;                                 // host threads of the log-softmax (0: default)
};

struct ItemResult {
    size_t index = 0;
    std::string id;
    ItemKind kind = ItemKind::kMultipleChoice;
    bool correct = false;  // by the headline metric
    // MC
    std::vector<double> loglik;     // per choice, nats
    std::vector<int64_t> n_tokens;  // continuation tokens per choice
    int pred_acc = -1, pred_acc_norm = -1, gold = -1;
    bool correct_acc = false, correct_acc_norm = false;
    // generative
    std::string generated;
    Graded graded;
};

struct MinKResult {
    double ratio = 0.2;
    int64_t pairs = 0, wins = 0, losses = 0, ties = 0;
    double mean_item = 0.0, mean_control = 0.0, mean_difference = 0.0;
    double log_p_value = 0.0, p_value = 1.0;
    std::vector<double> item_scores, control_scores;  // per MC item, file order
};

struct ExchangeabilityResult {
    int64_t items = 0, shards = 0, shard_items = 0, permutations = 0;
    double canonical_loglik = 0.0;
    std::vector<double> permuted_loglik;
    double mean_permuted = 0.0, sd_permuted = 0.0, z = 0.0;
    int64_t permuted_at_least = 0;
    double p_value = 1.0;
};

struct AuditResult {
    std::string chat_template = "none";
    AuditOptions options;
    std::string device;
    int64_t n = 0, correct = 0;
    double accuracy = 0.0;
    Interval ci;
    int64_t n_mc = 0, correct_acc = 0, correct_acc_norm = 0;
    int64_t n_gen = 0, correct_gen = 0;
    std::optional<ClaimTest> claim;
    std::vector<ItemResult> items;
    std::optional<MinKResult> min_k;
    std::optional<ExchangeabilityResult> exchangeability;
    double seconds_scoring = 0.0, seconds_contamination = 0.0;
};

// Runs the audit. `chat` may be null (no template). kInvalidArgument for bad options (checked
// first, before any engine work), engine and tokenizer errors as they come.
Result<AuditResult> run_audit(Backend& backend, const Tokenizer& tok, const ChatTemplate* chat,
                              const Benchmark& bench, const AuditOptions& options);

// Token log-probabilities log p(ids[t] | ids[<t]) for t = from .. T-1 of each sequence (from >= 1),
// batched so one engine call holds at most options.batch_logit_bytes of logits; the log-softmax
// runs on `threads` threads (0: default_thread_count()), with results independent of the count.
Result<std::vector<std::vector<double>>> token_logprobs(
    Backend& backend, const std::vector<std::vector<int32_t>>& seqs,
    const std::vector<size_t>& from, int64_t batch_logit_bytes, int threads = 0);

// JSON text of the result (keys in docs/audit.md): accuracy, ci_low, ci_high, n, conventions,
// claim/p_value/verdict with a claim, contamination signals; per-item results when with_items.
std::string audit_result_json(const AuditResult& r, const Benchmark& bench, bool with_items);
// JSON of one item's details (stored per item in the database).
std::string item_detail_json(const ItemResult& it);
// "consistent" | "not-reproducible" | "measured" (no claim).
std::string audit_verdict(const AuditResult& r);

}  // namespace modelprint

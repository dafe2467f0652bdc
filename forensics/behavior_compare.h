// Pairwise behaviour evidence between two participants — models (runnable, with a behaviour
// fingerprint) or transcripts (text only) — judged against a background of independent ones.
//
// Signals (behavior_stats.h for the formulas):
//   cross-likelihood  xl(c <- r): does candidate c find reference r's answers more likely than
//                     the background responders' answers to the same prompts (responders other
//                     than c and r)? Per probe i answered by r and all m responders, c's mean
//                     per-token log-likelihood of each answer; r "wins" probe i when its answer
//                     is more likely under c than every responder's. Under H0 (r exchangeable
//                     with the responders from c's point of view) wins ~ Binomial(n, 1/(m+1)):
//                       z = (W/n - p) / sqrt(p (1 - p) / n),  p = 1/(m+1)
//                     (the decisive statistic; its exact binomial tail is `binom_p`). Per-probe
//                     wins, not the mean over probes, because a mean is dominated by responders
//                     of another domain (docs/behavior.md, "Why wins"). Also reported: the
//                     mean-based z = (S[c][r] - mean_k S[c][k]) / sd_k S[c][k] with
//                     S[c][r] = mean over probes of the per-token log-likelihood, and the exact
//                     per-probe rank-sum p-value (calibration.h). Needs c runnable; r may be a
//                     transcript. The pair statistic is the larger z of the available directions.
//   scorer-side       the raw win rate cannot tell "c imitates r" from "r's answers are easy for
//                     every model of the domain" (a hub answerer: docs/behavior.md, "Hub
//                     answerers"). Second test, the transpose of the first: per probe, for c and
//                     every background responder x that can score, count the answers of the
//                     responders (x's own answer left out for x) that x finds more likely than
//                     r's; c wins the probe when its count is strictly below every x's. Under H0
//                     (c exchangeable with the background scorers in how it ranks r's answer)
//                     wins ~ Binomial(n, 1/(k+1)), k scorers; x ranks against one answer fewer
//                     than c, which can only lower c's win probability (conservative).
//                     scorer_z is its binomial z. Ranks, not centred log-likelihoods: centring
//                     on the mean over responders of two domains measures the scorer's
//                     out-of-domain penalty, not its preference.
//   idiosyncrasy      (BehaviorOptions::idiosyncrasy; reported, never decisive) the scorer-side
//                     comparison on the uncertain half of r's answers only (behavior_idio.h);
//                     distillation_idio_z = min over directions of min(z, scorer_z, idio z).
//   distillation_z    the decisive statistic: per direction min(z, scorer_z) (large only when
//                     both tests are: intersection-union), pair value = the MIN over the
//                     available directions (both when both sides can score: a student imitates
//                     its teacher, so the teacher also finds the student's answers its own; one
//                     with a transcript).
//   logit             JS divergence, top-k overlap, rank correlation (both fingerprints needed);
//   representation    unbiased linear CKA per layer pair, best-match mean (both fingerprints);
//   output overlap    exact match, character trigram Dice, LCS similarity (text, always);
//   identity          entities each side claims in its identity answers.
// Calibration: every statistic of the pair is compared with the same statistic over null pairs
// (calibration.h). Null pairs default to every pair within background ∪ {a, b} except (a, b):
// that is, background participants are taken to be unrelated to each other and to a and b;
// callers with ground truth (the lineage manifest) pass the pairs explicitly, and may give each
// null pair its own responders (the models known to be independent of it), so that a null pair
// of two models sharing a domain no other background model shares is not judged against
// responders of other domains only (docs/behavior.md, "Nulls").
// Same-domain controls (issue 16; docs/behavior.md "Same-domain controls"): the background
// members whose answers look like A's domain: c is a control of A when the raw cross-likelihood
// z between A and c (the larger of A <- c and c <- A, each against the tested pair's
// responders less c) is at least BehaviorOptions::domain_control_z, i.e. A and c find each
// other's answers more likely than the background's beyond chance at the one-sided level
// alpha. The raw z is the statistic that cannot tell imitation from a shared domain (hubs,
// same data), which is what a domain measure should see. Controls are named in the evidence,
// closest first.
// Decision (behaviour alone): the decisive statistic is distillation_z when a direction has
// both tests, else output LCS. It "passes" when its calibrated Student-t p-value is below alpha
// (default 0.01, docs/behavior.md) AND it exceeds every null value. `unknown` when the null has
// fewer than kMinNullPairs pairs; `independent` when it does not pass; when it passes:
// `distilled` only if the background holds at least one same-domain control of A and the
// decisive statistic of (A, B) exceeds that of (c, B) for every control c (B is closer to A
// than to A's domain neighbours); else `similar-behavior` ("closer to A than the background;
// distillation and shared training data both produce this; ...": not an accusation). Behaviour cannot tell derived from
// distilled: callers with weight evidence keep `identical`/`derived` from the weights and use
// `distilled` only where weights say independent or are unavailable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "forensics/behavior_background.h"
#include "forensics/behavior_idio.h"
#include "forensics/behavior_stats.h"
#include "forensics/calibration.h"
#include "forensics/evidence_types.h"

namespace modelprint {

class Model;
class Tokenizer;

struct BehaviorParticipant {
    std::string name;
    std::string kind;  // "model", "transcript" or "fingerprint" (stored, text + logits only)
    OutputPrint outputs;
    std::optional<BehaviorPrint> print;
    // Runnable models only (can score text: the candidate side of cross-likelihood).
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<ProbeRunner> runner;

    BehaviorParticipant();
    ~BehaviorParticipant();
    bool can_score() const { return runner != nullptr; }
};

// A .jsonl path is a transcript; anything else is opened as a model, run on `device`, and its
// behaviour fingerprint computed (or taken from `cached` when given and of the same probe set).
// With `whole_probe_set` (background members), a model whose context window cannot hold every
// probe's prompt and one answer token is kFailedPrecondition naming the probe, before anything
// runs: such a member would remove those probes from every statistic. A and B are truncated
// instead (logit_print.h "Truncation"; their unanswerable probes are missing).
Result<std::unique_ptr<BehaviorParticipant>> open_participant(
    const std::string& path, const ProbeSet& probes, DeviceKind device,
    const BehaviorPrintOptions& options = {}, const BehaviorPrint* cached = nullptr,
    bool whole_probe_set = false);
std::unique_ptr<BehaviorParticipant> participant_from_print(std::string name, BehaviorPrint print);

struct BehaviorOptions {
    // Background participants (indices into the panel); empty: every participant but a and b,
    // unless background_given (then empty means no background).
    std::vector<size_t> background;
    bool background_given = false;
    // Null pairs (unordered); empty: the default of the file comment.
    std::vector<std::pair<size_t, size_t>> null_pairs;
    // Responders of each null pair's cross-likelihood (parallel to null_pairs, or empty): callers
    // that know which models are independent of a null pair judge it against those, exactly as
    // the tested pair is judged against its background. Default: background ∪ {a, b}.
    std::vector<std::vector<size_t>> null_responders;
    double alpha = 0.01;
    // Also run the idiosyncrasy test (behavior_idio.h) and report idiosyncrasy_z and
    // distillation_idio_z. Reported only, never decisive: on the distillation family it did not
    // separate shared data from distillation (docs/behavior.md, "Open"). Costs one more scoring
    // pass per (scorer, responder), so off by default.
    bool idiosyncrasy = false;
    int max_score_tokens = 256;
    int batch = 8;
    // Same-domain control threshold (file comment): the one-sided standard-normal quantile at
    // alpha = 0.01, z_{0.99} = 2.326 (fixed with alpha, not fitted; docs/behavior.md).
    double domain_control_z = 2.326;
};

// A background member close to A in domain (file comment).
struct DomainControl {
    std::string name;
    double domain_z = 0.0;       // raw cross-likelihood z between A and the member (larger way)
    bool has_pair_stat = false;  // decisive statistic of (member, B) computed
    double pair_stat = 0.0;      // decisive statistic of (member, B): B's closeness to it
};

struct DirectionalXl {
    bool available = false;
    std::string candidate, reference;  // names
    double loglik = 0.0;       // S[c][r]
    double background_mean = 0.0, background_sd = 0.0;
    size_t responders = 0;     // background responders (m)
    double mean_z = 0.0;       // (S[c][r] - background_mean) / background_sd
    int64_t probes = 0;        // probes answered by r and every responder (n)
    int64_t wins = 0;          // probes where r's answer beats every responder's (W)
    double z = 0.0;            // win-rate z (file comment)
    double binom_p = 1.0;      // P(Binomial(n, 1/(m+1)) >= W)
    double rank_p = 1.0;       // exact rank-sum p (exchangeability)
    // Scorer-side test (file comment): is c, among c and the responders that can score, the one
    // under which r's answer is beaten by the fewest other answers?
    bool scorer_available = false;
    size_t scorers = 0;        // background scorers (k)
    int64_t scorer_probes = 0;
    int64_t scorer_wins = 0;
    double scorer_z = 0.0;     // binomial z of scorer_wins, p = 1/(k+1)
    double scorer_binom_p = 1.0;
    // min(z, scorer_z): large only when both tests are (the decisive per-direction statistic).
    double joint_z() const { return z < scorer_z ? z : scorer_z; }
    bool joint_available() const { return available && scorer_available; }
    // Idiosyncrasy test (behavior_idio.h): c against the same background scorers, on the
    // uncertain half of r's answers (BehaviorOptions::idiosyncrasy only).
    IdiosyncrasyResult idio;
    // min(z, scorer_z, idio.z): the three-test intersection-union statistic.
    double joint3_z() const { return joint_z() < idio.z ? joint_z() : idio.z; }
    bool joint3_available() const { return joint_available() && idio.available; }
};

// Similarity of two participants' fingerprints and texts (cached by the panel; ordered pair).
struct PairSimilarity {
    std::optional<LogitSimilarity> logits;
    std::optional<CkaMatrix> cka;
    OutputSimilarity outputs;
};

struct BehaviorStat {
    Statistic stat = Statistic::kNone;  // kCrossLikelihoodZ, kLogitJs, ...
    bool available = false;
    Tail tail = Tail::kGreater;
    Calibrated cal;
    std::vector<double> null_values;  // the null it was calibrated on (one value per null pair)
};

struct BehaviorEvidence {
    std::string a, b;
    std::string kind_a, kind_b;  // participant kinds ("model", "transcript", "fingerprint")
    std::string probe_set, probe_digest;
    DirectionalXl xl_b_given_a;  // b scores a's responses
    DirectionalXl xl_a_given_b;  // a scores b's responses
    LogitSimilarity logits;
    bool has_logits = false;
    std::optional<CkaMatrix> cka;
    OutputSimilarity outputs;
    std::vector<std::string> claims_a, claims_b, claims_shared;
    std::vector<BehaviorStat> stats;  // calibrated statistics
    std::vector<std::string> background;  // names
    // Filled by compare_behavior_paths (behavior_background.h); empty from compare_behavior
    // alone. background_members is parallel to background when filled.
    std::vector<BackgroundParticipantInfo> background_members;
    std::vector<DroppedMember> dropped;   // could not take part (reason)
    std::vector<DroppedMember> excluded;  // store members related to A or B (reason)
    ProbeSetUsed probes_used;
    size_t null_pairs = 0;
    Statistic decisive = Statistic::kNone;  // the deciding statistic
    // Background members closest to A in domain (file comment), closest first; computed for
    // every pair whose decisive statistic is distillation_z.
    std::vector<DomainControl> domain_controls;
    bool domain_controls_checked = false;
    double domain_control_z = 0.0;  // the threshold they were selected with
    int64_t decisive_probes = 0;  // probes the decisive statistic was computed on (min over
                                  // the directions it used)
    Relation relation = Relation::kUnknown;  // distilled | similar-behavior | independent | unknown
    Confidence confidence = Confidence::kLow;
    std::string reason;
    double p_value = 1.0;     // decisive statistic's calibrated p (Student-t predictive)

    const BehaviorStat* stat(Statistic s) const;
};

class BehaviorPanel {
public:
    explicit BehaviorPanel(const ProbeSet& probes);
    ~BehaviorPanel();
    const ProbeSet& probes() const { return probes_; }
    size_t add(std::unique_ptr<BehaviorParticipant> p);
    size_t size() const { return parts_.size(); }
    BehaviorParticipant& at(size_t i) { return *parts_.at(i); }
    // Per-probe scores of responder r's responses under candidate c (cached).
    Result<const std::vector<ResponseScore>*> scores(size_t c, size_t r, const BehaviorOptions& o);
    // The candidate of the last scoring call that failed (a participant that cannot score the
    // others' text, e.g. token ids beyond its vocabulary); compare_behavior_paths drops it when
    // it is a background member and compares again (cached scores are kept).
    std::optional<size_t> last_failed_scorer() const { return last_failed_; }
    void clear_failed_scorer() { last_failed_.reset(); }
    // Per-byte scores of responder r's responses under candidate c (cached; behavior_idio.h).
    Result<const std::vector<ByteScores>*> byte_scores(size_t c, size_t r,
                                                       const BehaviorOptions& o);
    // S[c][r]: mean over probes with a scored response of the mean token log-likelihood.
    Result<std::optional<double>> loglik(size_t c, size_t r, const BehaviorOptions& o);
    // xl(c <- r) against `responders` (c and r are skipped if present).
    Result<DirectionalXl> cross_likelihood(size_t c, size_t r, const std::vector<size_t>& responders,
                                           const BehaviorOptions& o);
    // Logit, CKA and output similarity of a and b (cached).
    const PairSimilarity& similarity(size_t a, size_t b);

private:
    const ProbeSet& probes_;
    std::vector<std::unique_ptr<BehaviorParticipant>> parts_;
    std::map<std::pair<size_t, size_t>, std::vector<ResponseScore>> cache_;
    std::map<std::pair<size_t, size_t>, std::vector<ByteScores>> byte_cache_;
    std::map<std::pair<size_t, size_t>, PairSimilarity> sim_cache_;
    std::optional<size_t> last_failed_;
};

Result<BehaviorEvidence> compare_behavior(BehaviorPanel& panel, size_t a, size_t b,
                                          const BehaviorOptions& options = {});

// The evidence as a JSON object (text), the shape of `evidence.behavior` in compare's output.
std::string behavior_evidence_json(const BehaviorEvidence& e);
// A human-readable summary (verdict line first, then one line per statistic).
std::string behavior_evidence_text(const BehaviorEvidence& e);

}  // namespace modelprint

// Behaviour evidence between two participants and its calibration (see behavior_compare.h).
#include "forensics/behavior_compare.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"

namespace modelprint {

BehaviorParticipant::BehaviorParticipant() = default;
BehaviorParticipant::~BehaviorParticipant() {
    // The runner refers to the backend and tokenizer, the backend to the model: free in order.
    runner.reset();
    backend.reset();
    tokenizer.reset();
    model.reset();
}

const BehaviorStat* BehaviorEvidence::stat(Statistic n) const {
    for (const auto& s : stats) {
        if (s.stat == n) return &s;
    }
    return nullptr;
}

Result<std::unique_ptr<BehaviorParticipant>> open_participant(const std::string& path,
                                                              const ProbeSet& probes,
                                                              DeviceKind device,
                                                              const BehaviorPrintOptions& options,
                                                              const BehaviorPrint* cached,
                                                              bool whole_probe_set) {
    auto p = std::make_unique<BehaviorParticipant>();
    p->name = path;
    if (is_transcript_path(path)) {
        p->kind = "transcript";
        MP_ASSIGN_OR_RETURN(Transcript t, load_transcript(path));
        MP_ASSIGN_OR_RETURN(p->outputs, output_print_from_transcript(probes, t));
        return p;
    }
    p->kind = "model";
    MP_ASSIGN_OR_RETURN(p->model, Model::open(path));
    MP_ASSIGN_OR_RETURN(p->tokenizer, load_model_tokenizer(*p->model));
    MP_ASSIGN_OR_RETURN(p->backend, make_backend(*p->model, device));
    MP_ASSIGN_OR_RETURN(p->runner,
                        ProbeRunner::create(*p->backend, *p->tokenizer,
                                            p->model->config().vocab_size, options.chat_template));
    if (whole_probe_set) {
        MP_ASSIGN_OR_RETURN(std::vector<bool> fits, p->runner->answerable(probes));
        for (size_t i = 0; i < fits.size(); ++i) {
            if (fits[i]) continue;
            MP_ASSIGN_OR_RETURN(auto ids, p->runner->prompt_ids(probes.probes[i].prompt));
            return failed_precondition(
                "context too short: {}'s context window of {} tokens cannot hold probe {}'s "
                "prompt ({} tokens) and one answer token",
                path, p->runner->context_window(), probes.probes[i].id, ids.size());
        }
    }
    if (cached != nullptr && cached->probe_digest == probes.digest) {
        p->print = *cached;
    } else {
        MP_ASSIGN_OR_RETURN(BehaviorPrint bp, compute_behavior_print(*p->model, *p->backend,
                                                                     *p->tokenizer, probes, options));
        p->print = std::move(bp);
    }
    p->outputs = p->print->outputs;
    return p;
}

std::unique_ptr<BehaviorParticipant> participant_from_print(std::string name, BehaviorPrint print) {
    auto p = std::make_unique<BehaviorParticipant>();
    p->name = std::move(name);
    p->kind = "fingerprint";
    p->outputs = print.outputs;
    p->print = std::move(print);
    return p;
}

std::string_view background_source_name(BackgroundSource s) {
    return s == BackgroundSource::kStore ? "store" : "command-line";
}

// ---------------------------------------------------------------------------------------------
// Panel

BehaviorPanel::BehaviorPanel(const ProbeSet& probes) : probes_(probes) {}
BehaviorPanel::~BehaviorPanel() = default;

size_t BehaviorPanel::add(std::unique_ptr<BehaviorParticipant> p) {
    parts_.push_back(std::move(p));
    return parts_.size() - 1;
}

Result<const std::vector<ResponseScore>*> BehaviorPanel::scores(size_t c, size_t r,
                                                                const BehaviorOptions& o) {
    if (c >= parts_.size() || r >= parts_.size()) {
        return invalid_argument("panel: participant {} or {} out of range (size {})", c, r,
                                parts_.size());
    }
    auto key = std::make_pair(c, r);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
        BehaviorParticipant& cand = *parts_[c];
        if (!cand.can_score()) {
            return failed_precondition("{} is a {} and cannot score text", cand.name, cand.kind);
        }
        const OutputPrint& out = parts_[r]->outputs;
        auto s = cand.runner->score(probes_, out.responses, out.present, o.max_score_tokens,
                                    o.batch);
        if (!s.ok()) {
            last_failed_ = c;
            return s.status().with_context(
                fmt::format("scoring {}'s responses with {}", parts_[r]->name, cand.name));
        }
        it = cache_.emplace(key, std::move(s).value()).first;
    }
    return &it->second;
}

Result<const std::vector<ByteScores>*> BehaviorPanel::byte_scores(size_t c, size_t r,
                                                                 const BehaviorOptions& o) {
    if (c >= parts_.size() || r >= parts_.size()) {
        return invalid_argument("panel: participant {} or {} out of range (size {})", c, r,
                                parts_.size());
    }
    auto key = std::make_pair(c, r);
    auto it = byte_cache_.find(key);
    if (it == byte_cache_.end()) {
        BehaviorParticipant& cand = *parts_[c];
        if (!cand.can_score()) {
            return failed_precondition("{} is a {} and cannot score text", cand.name, cand.kind);
        }
        const OutputPrint& out = parts_[r]->outputs;
        auto s = score_response_bytes(*cand.runner, probes_, out.responses, out.present,
                                      o.max_score_tokens, o.batch);
        if (!s.ok()) {
            last_failed_ = c;
            return s.status().with_context(
                fmt::format("scoring {}'s responses byte by byte with {}", parts_[r]->name,
                            cand.name));
        }
        it = byte_cache_.emplace(key, std::move(s).value()).first;
    }
    return &it->second;
}

Result<std::optional<double>> BehaviorPanel::loglik(size_t c, size_t r, const BehaviorOptions& o) {
    MP_ASSIGN_OR_RETURN(const std::vector<ResponseScore>* s, scores(c, r, o));
    double sum = 0.0;
    int64_t n = 0;
    for (const auto& x : *s) {
        if (x.tokens > 0) {
            sum += x.mean();
            ++n;
        }
    }
    if (n == 0) return std::optional<double>();
    return std::optional<double>(sum / static_cast<double>(n));
}

Result<DirectionalXl> BehaviorPanel::cross_likelihood(size_t c, size_t r,
                                                      const std::vector<size_t>& responders,
                                                      const BehaviorOptions& o) {
    DirectionalXl d;
    d.candidate = parts_.at(c)->name;
    d.reference = parts_.at(r)->name;
    if (!parts_[c]->can_score()) return d;
    MP_ASSIGN_OR_RETURN(std::optional<double> s_r, loglik(c, r, o));
    if (!s_r) return d;
    std::vector<double> bg;
    std::vector<const std::vector<ResponseScore>*> bg_scores;
    for (size_t k : responders) {
        if (k == c || k == r) continue;
        MP_ASSIGN_OR_RETURN(std::optional<double> s_k, loglik(c, k, o));
        if (!s_k) continue;
        bg.push_back(*s_k);
        MP_ASSIGN_OR_RETURN(const std::vector<ResponseScore>* ps, scores(c, k, o));
        bg_scores.push_back(ps);
    }
    d.loglik = *s_r;
    d.responders = bg.size();
    if (bg.size() < 2) return d;  // no spread to judge against
    double mean = 0.0;
    for (double v : bg) mean += v;
    mean /= static_cast<double>(bg.size());
    double ss = 0.0;
    for (double v : bg) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / static_cast<double>(bg.size() - 1));
    d.background_mean = mean;
    d.background_sd = sd;
    d.mean_z = sd > 0 ? (*s_r - mean) / sd : 0.0;
    // Per-probe wins and ranks of r among r and the responders (probes all of them answered).
    MP_ASSIGN_OR_RETURN(const std::vector<ResponseScore>* sr, scores(c, r, o));
    std::vector<int> ranks;
    int64_t wins = 0;
    for (size_t i = 0; i < sr->size(); ++i) {
        if ((*sr)[i].tokens == 0) continue;
        bool all = true;
        int rank = 0;
        for (const auto* ps : bg_scores) {
            if ((*ps)[i].tokens == 0) {
                all = false;
                break;
            }
            rank += (*ps)[i].mean() < (*sr)[i].mean() ? 1 : 0;
        }
        if (!all) continue;
        ranks.push_back(rank);
        if (rank == static_cast<int>(bg_scores.size())) ++wins;
    }
    const int64_t n = static_cast<int64_t>(ranks.size());
    if (n == 0) return d;
    const double p = 1.0 / static_cast<double>(bg_scores.size() + 1);
    d.probes = n;
    d.wins = wins;
    d.z = (static_cast<double>(wins) / static_cast<double>(n) - p) /
          std::sqrt(p * (1 - p) / static_cast<double>(n));
    d.binom_p = binomial_sf(wins, n, p);
    d.rank_p = rank_sum_p(ranks, static_cast<int>(bg_scores.size()));
    d.available = true;

    // Scorer-side test (header comment): c against the responders that can score.
    std::vector<size_t> rk;  // responders in the order of bg_scores
    for (size_t k : responders) {
        if (k == c || k == r) continue;
        MP_ASSIGN_OR_RETURN(std::optional<double> s_k, loglik(c, k, o));
        if (s_k) rk.push_back(k);
    }
    struct Scorer {
        const std::vector<ResponseScore>* ref;                // x's scores of r's answers
        std::vector<const std::vector<ResponseScore>*> others;  // x's scores of R \ {x}
    };
    std::vector<Scorer> xs;
    for (size_t x : rk) {
        if (!parts_[x]->can_score()) continue;
        Scorer sc;
        MP_ASSIGN_OR_RETURN(sc.ref, scores(x, r, o));
        for (size_t k : rk) {
            if (k == x) continue;
            MP_ASSIGN_OR_RETURN(const std::vector<ResponseScore>* ps, scores(x, k, o));
            sc.others.push_back(ps);
        }
        xs.push_back(std::move(sc));
    }
    d.scorers = xs.size();
    if (xs.size() < 2) return d;
    // Answers that beat r's answer under a scorer on probe i; -1 when a score is missing.
    auto beaten_by = [i_max = sr->size()](const std::vector<ResponseScore>& ref,
                                          const std::vector<const std::vector<ResponseScore>*>& others,
                                          size_t i) -> int {
        if (i >= i_max || ref[i].tokens == 0) return -1;
        int n = 0;
        for (const auto* ps : others) {
            if ((*ps)[i].tokens == 0) return -1;
            n += (*ps)[i].mean() > ref[i].mean() ? 1 : 0;
        }
        return n;
    };
    int64_t sn = 0, sw = 0;
    for (size_t i = 0; i < sr->size(); ++i) {
        const int mine = beaten_by(*sr, bg_scores, i);
        if (mine < 0) continue;
        bool all = true, win = true;
        for (const Scorer& sc : xs) {
            const int theirs = beaten_by(*sc.ref, sc.others, i);
            if (theirs < 0) {
                all = false;
                break;
            }
            win = win && mine < theirs;
        }
        if (!all) continue;
        ++sn;
        sw += win ? 1 : 0;
    }
    if (sn == 0) return d;
    const double q = 1.0 / static_cast<double>(xs.size() + 1);
    d.scorer_probes = sn;
    d.scorer_wins = sw;
    d.scorer_z = (static_cast<double>(sw) / static_cast<double>(sn) - q) /
                 std::sqrt(q * (1 - q) / static_cast<double>(sn));
    d.scorer_binom_p = binomial_sf(sw, sn, q);
    d.scorer_available = true;

    // Idiosyncrasy test (behavior_idio.h): c and the same background scorers on r's text.
    if (!o.idiosyncrasy) return d;
    MP_ASSIGN_OR_RETURN(const std::vector<ByteScores>* cb, byte_scores(c, r, o));
    std::vector<const std::vector<ByteScores>*> xb;
    for (size_t x : rk) {
        if (!parts_[x]->can_score()) continue;
        MP_ASSIGN_OR_RETURN(const std::vector<ByteScores>* b, byte_scores(x, r, o));
        xb.push_back(b);
    }
    MP_ASSIGN_OR_RETURN(d.idio, idiosyncrasy_test(*cb, xb));
    return d;
}

const PairSimilarity& BehaviorPanel::similarity(size_t a, size_t b) {
    auto key = std::make_pair(a, b);
    auto it = sim_cache_.find(key);
    if (it != sim_cache_.end()) return it->second;
    PairSimilarity r;
    BehaviorParticipant& pa = *parts_.at(a);
    BehaviorParticipant& pb = *parts_.at(b);
    if (pa.print && pb.print) {
        r.logits = logit_similarity(pa.print->logits, pb.print->logits);
        if (r.logits->positions == 0) r.logits.reset();
        auto c = cka_matrix(pa.print->logits, pb.print->logits);
        if (c.ok()) r.cka = std::move(c).value();
    }
    r.outputs = output_similarity(pa.outputs, pb.outputs);
    return sim_cache_.emplace(key, std::move(r)).first->second;
}

// ---------------------------------------------------------------------------------------------
// Pair statistics

namespace {

struct PairRaw {
    DirectionalXl ba, ab;  // b <- a, a <- b
    std::optional<LogitSimilarity> logits;
    std::optional<CkaMatrix> cka;
    OutputSimilarity outputs;
};

Result<PairRaw> pair_raw(BehaviorPanel& panel, size_t a, size_t b, const std::vector<size_t>& universe,
                         const BehaviorOptions& o) {
    PairRaw r;
    MP_ASSIGN_OR_RETURN(r.ba, panel.cross_likelihood(b, a, universe, o));
    MP_ASSIGN_OR_RETURN(r.ab, panel.cross_likelihood(a, b, universe, o));
    const PairSimilarity& sim = panel.similarity(a, b);
    r.logits = sim.logits;
    r.cka = sim.cka;
    r.outputs = sim.outputs;
    return r;
}

// The pair's cross-likelihood statistic given which directions the tested pair has.
std::optional<double> xl_stat(const PairRaw& r, bool use_ba, bool use_ab) {
    std::optional<double> v;
    if (use_ba && r.ba.available) v = r.ba.z;
    if (use_ab && r.ab.available) v = v ? std::max(*v, r.ab.z) : r.ab.z;
    return v;
}

// The scorer-side z: the larger over the available directions (reported, like xl_stat).
std::optional<double> scorer_stat(const PairRaw& r) {
    std::optional<double> v;
    for (const DirectionalXl* d : {&r.ba, &r.ab}) {
        if (d->scorer_available) v = v ? std::max(*v, d->scorer_z) : d->scorer_z;
    }
    return v;
}

// distillation_z (header comment): min over the directions that have both tests.
std::optional<double> joint_stat(const PairRaw& r) {
    std::optional<double> v;
    for (const DirectionalXl* d : {&r.ba, &r.ab}) {
        if (d->joint_available()) v = v ? std::min(*v, d->joint_z()) : d->joint_z();
    }
    return v;
}

// The idiosyncrasy z: the larger over the available directions (reported, like scorer_stat).
std::optional<double> idio_stat(const PairRaw& r) {
    std::optional<double> v;
    for (const DirectionalXl* d : {&r.ba, &r.ab}) {
        if (d->idio.available) v = v ? std::max(*v, d->idio.z) : d->idio.z;
    }
    return v;
}

// distillation_idio_z: min over the directions that have all three tests.
std::optional<double> joint3_stat(const PairRaw& r) {
    std::optional<double> v;
    for (const DirectionalXl* d : {&r.ba, &r.ab}) {
        if (d->joint3_available()) v = v ? std::min(*v, d->joint3_z()) : d->joint3_z();
    }
    return v;
}

// Same-domain controls of a among the background (behavior_compare.h, "Same-domain controls"),
// closest first, each with the decisive statistic of (control, b) computed with the directions
// the tested pair uses (the null-pair convention of compare_behavior).
Result<std::vector<DomainControl>> domain_controls(BehaviorPanel& panel, size_t a, size_t b,
                                                   const std::vector<size_t>& bg,
                                                   const std::vector<size_t>& universe,
                                                   bool use_ba, bool use_ab,
                                                   const BehaviorOptions& o) {
    std::vector<DomainControl> out;
    for (size_t c : bg) {
        std::optional<double> z;
        MP_ASSIGN_OR_RETURN(DirectionalXl ac, panel.cross_likelihood(a, c, bg, o));
        MP_ASSIGN_OR_RETURN(DirectionalXl ca, panel.cross_likelihood(c, a, bg, o));
        for (const DirectionalXl* d : {&ac, &ca}) {
            if (d->available) z = z ? std::max(*z, d->z) : d->z;
        }
        if (!z || *z < o.domain_control_z) continue;
        DomainControl dc;
        dc.name = panel.at(c).name;
        dc.domain_z = *z;
        MP_ASSIGN_OR_RETURN(PairRaw r, pair_raw(panel, c, b, universe, o));
        if (use_ba && use_ab) {
            if (r.ba.joint_available() && r.ab.joint_available()) {
                dc.pair_stat = std::min(r.ba.joint_z(), r.ab.joint_z());
                dc.has_pair_stat = true;
            }
        } else if (use_ba && r.ba.joint_available()) {
            dc.pair_stat = r.ba.joint_z();
            dc.has_pair_stat = true;
        } else if (use_ab && r.ab.joint_available()) {
            dc.pair_stat = r.ab.joint_z();
            dc.has_pair_stat = true;
        }
        out.push_back(std::move(dc));
    }
    std::stable_sort(out.begin(), out.end(), [](const DomainControl& x, const DomainControl& y) {
        return x.domain_z > y.domain_z;
    });
    return out;
}

}  // namespace

Result<BehaviorEvidence> compare_behavior(BehaviorPanel& panel, size_t a, size_t b,
                                          const BehaviorOptions& options) {
    if (a >= panel.size() || b >= panel.size() || a == b) {
        return invalid_argument("compare_behavior: participants {} and {} (panel of {})", a, b,
                                panel.size());
    }
    BehaviorEvidence e;
    e.a = panel.at(a).name;
    e.b = panel.at(b).name;
    e.kind_a = panel.at(a).kind;
    e.kind_b = panel.at(b).kind;
    e.probe_set = panel.probes().name;
    e.probe_digest = panel.probes().digest;
    std::vector<size_t> bg = options.background;
    if (bg.empty() && !options.background_given) {
        for (size_t i = 0; i < panel.size(); ++i) {
            if (i != a && i != b) bg.push_back(i);
        }
    }
    for (size_t i : bg) {
        if (i >= panel.size() || i == a || i == b) {
            return invalid_argument("compare_behavior: background participant {} is a or b or out "
                                    "of range", i);
        }
        e.background.push_back(panel.at(i).name);
    }
    std::vector<size_t> universe = bg;
    universe.push_back(a);
    universe.push_back(b);
    std::vector<std::pair<size_t, size_t>> nulls = options.null_pairs;
    if (nulls.empty()) {
        for (size_t i = 0; i < universe.size(); ++i) {
            for (size_t j = i + 1; j < universe.size(); ++j) {
                const size_t x = universe[i], y = universe[j];
                if ((x == a && y == b) || (x == b && y == a)) continue;
                nulls.emplace_back(x, y);
            }
        }
    }
    e.null_pairs = nulls.size();

    MP_ASSIGN_OR_RETURN(PairRaw raw, pair_raw(panel, a, b, universe, options));
    e.xl_b_given_a = raw.ba;
    e.xl_a_given_b = raw.ab;
    e.has_logits = raw.logits.has_value();
    if (raw.logits) e.logits = *raw.logits;
    e.cka = raw.cka;
    e.outputs = raw.outputs;
    {
        const auto ca = claimed_entities(panel.at(a).outputs);
        const auto cb = claimed_entities(panel.at(b).outputs);
        e.claims_a = ca;
        e.claims_b = cb;
        std::set_intersection(ca.begin(), ca.end(), cb.begin(), cb.end(),
                              std::back_inserter(e.claims_shared));
    }

    // Null values of every statistic, each null pair with its own responders: the universe less
    // the pair (so every pair is judged against as many responders as the tested pair).
    const bool use_ba = raw.ba.available, use_ab = raw.ab.available;
    const bool use_joint_ba = raw.ba.joint_available(), use_joint_ab = raw.ab.joint_available();
    const bool use_j3_ba = raw.ba.joint3_available(), use_j3_ab = raw.ab.joint3_available();
    std::map<Statistic, std::vector<double>> null_vals;
    if (!options.null_responders.empty() && options.null_responders.size() != nulls.size()) {
        return invalid_argument("compare_behavior: {} null responder lists for {} null pairs",
                                options.null_responders.size(), nulls.size());
    }
    for (size_t n = 0; n < nulls.size(); ++n) {
        const auto [x, y] = nulls[n];
        if (x >= panel.size() || y >= panel.size() || x == y) {
            return invalid_argument("compare_behavior: null pair ({}, {}) is invalid", x, y);
        }
        std::vector<size_t> resp =
            options.null_responders.empty() ? universe : options.null_responders[n];
        for (size_t k : resp) {
            if (k >= panel.size()) {
                return invalid_argument("compare_behavior: null responder {} out of range "
                                        "(panel of {})", k, panel.size());
            }
        }
        for (size_t k : {x, y}) {
            if (std::find(resp.begin(), resp.end(), k) == resp.end()) resp.push_back(k);
        }
        MP_ASSIGN_OR_RETURN(PairRaw nr, pair_raw(panel, x, y, resp, options));
        // Directions mirror the tested pair's: with one direction only (a transcript on one
        // side), the null takes the available direction of each null pair, not the maximum.
        if (use_ba && use_ab) {
            if (auto v = xl_stat(nr, true, true)) null_vals[Statistic::kCrossLikelihoodZ].push_back(*v);
        } else if (use_ba || use_ab) {
            if (nr.ba.available) null_vals[Statistic::kCrossLikelihoodZ].push_back(nr.ba.z);
            if (nr.ab.available) null_vals[Statistic::kCrossLikelihoodZ].push_back(nr.ab.z);
        }
        if (auto v = scorer_stat(nr)) null_vals[Statistic::kCrossLikelihoodScorerZ].push_back(*v);
        // distillation_z: with both directions tested, the null pair's min over both (and only
        // null pairs that have both); with one (a transcript side), each direction a value.
        if (use_joint_ba && use_joint_ab) {
            if (nr.ba.joint_available() && nr.ab.joint_available()) {
                null_vals[Statistic::kDistillationZ].push_back(*joint_stat(nr));
            }
        } else if (use_joint_ba || use_joint_ab) {
            for (const DirectionalXl* d : {&nr.ba, &nr.ab}) {
                if (d->joint_available()) null_vals[Statistic::kDistillationZ].push_back(d->joint_z());
            }
        }
        if (auto v = idio_stat(nr)) null_vals[Statistic::kIdiosyncrasyZ].push_back(*v);
        if (use_j3_ba && use_j3_ab) {
            if (nr.ba.joint3_available() && nr.ab.joint3_available()) {
                null_vals[Statistic::kDistillationIdioZ].push_back(*joint3_stat(nr));
            }
        } else if (use_j3_ba || use_j3_ab) {
            for (const DirectionalXl* d : {&nr.ba, &nr.ab}) {
                if (d->joint3_available()) null_vals[Statistic::kDistillationIdioZ].push_back(d->joint3_z());
            }
        }
        if (nr.logits) {
            null_vals[Statistic::kLogitJs].push_back(nr.logits->js);
            null_vals[Statistic::kLogitTopkOverlap].push_back(nr.logits->overlap);
            null_vals[Statistic::kLogitSpearman].push_back(nr.logits->spearman);
        }
        if (nr.cka) null_vals[Statistic::kCkaBestMatch].push_back(nr.cka->best_match_mean);
        if (nr.outputs.probes > 0) {
            null_vals[Statistic::kOutputExact].push_back(nr.outputs.exact);
            null_vals[Statistic::kOutputNgram].push_back(nr.outputs.ngram);
            null_vals[Statistic::kOutputLcs].push_back(nr.outputs.lcs);
        }
    }
    auto add = [&](Statistic name, std::optional<double> v, Tail tail) {
        BehaviorStat s;
        s.stat = name;
        s.tail = tail;
        s.available = v.has_value();
        if (v) {
            s.null_values = null_vals[name];
            s.cal = calibrate(*v, s.null_values, tail);
        }
        e.stats.push_back(std::move(s));
    };
    add(Statistic::kDistillationZ, joint_stat(raw), Tail::kGreater);
    add(Statistic::kCrossLikelihoodZ, xl_stat(raw, true, true), Tail::kGreater);
    add(Statistic::kCrossLikelihoodScorerZ, scorer_stat(raw), Tail::kGreater);
    if (options.idiosyncrasy) {  // reported only (BehaviorOptions::idiosyncrasy)
        add(Statistic::kIdiosyncrasyZ, idio_stat(raw), Tail::kGreater);
        add(Statistic::kDistillationIdioZ, joint3_stat(raw), Tail::kGreater);
    }
    add(Statistic::kLogitJs, raw.logits ? std::optional(raw.logits->js) : std::nullopt, Tail::kLess);
    add(Statistic::kLogitTopkOverlap, raw.logits ? std::optional(raw.logits->overlap) : std::nullopt,
        Tail::kGreater);
    add(Statistic::kLogitSpearman, raw.logits ? std::optional(raw.logits->spearman) : std::nullopt,
        Tail::kGreater);
    add(Statistic::kCkaBestMatch, raw.cka ? std::optional(raw.cka->best_match_mean) : std::nullopt,
        Tail::kGreater);
    const bool has_out = raw.outputs.probes > 0;
    add(Statistic::kOutputExact, has_out ? std::optional(raw.outputs.exact) : std::nullopt, Tail::kGreater);
    add(Statistic::kOutputNgram, has_out ? std::optional(raw.outputs.ngram) : std::nullopt, Tail::kGreater);
    add(Statistic::kOutputLcs, has_out ? std::optional(raw.outputs.lcs) : std::nullopt, Tail::kGreater);

    // Decision.
    const BehaviorStat* dec = e.stat(Statistic::kDistillationZ);
    if (!dec->available) dec = e.stat(Statistic::kOutputLcs);
    if (!dec->available) {
        e.relation = Relation::kUnknown;
        e.confidence = Confidence::kLow;
        e.reason = "no behaviour statistic is available for this pair (no shared answered probes "
                   "and neither side can score text)";
        return e;
    }
    e.decisive = dec->stat;
    e.p_value = dec->cal.p_t;
    if (!dec->cal.sufficient) {
        e.relation = Relation::kUnknown;
        e.confidence = Confidence::kLow;
        e.reason = fmt::format("too little background: {} independent pairs gave a null for {} "
                               "(at least {} needed); add background models",
                               dec->cal.n_null, statistic_name(dec->stat), kMinNullPairs);
        return e;
    }
    // Probes the decisive statistic rests on.
    if (dec->stat == Statistic::kDistillationZ) {
        int64_t n = -1;
        for (const DirectionalXl* d : {&raw.ba, &raw.ab}) {
            if (!d->joint_available()) continue;
            const int64_t m = std::min(d->probes, d->scorer_probes);
            n = n < 0 ? m : std::min(n, m);
        }
        e.decisive_probes = std::max<int64_t>(n, 0);
    } else {
        e.decisive_probes = raw.outputs.probes;
    }
    const bool passes = dec->cal.p_t < options.alpha && dec->cal.exceeds_null;
    if (passes && dec->stat == Statistic::kDistillationZ) {
        // Same-domain controls of A (header comment): the raw z between A and each background
        // member, against the background less the member (B is not a responder here: a
        // student's answers would beat every member's under its teacher).
        MP_ASSIGN_OR_RETURN(e.domain_controls,
                            domain_controls(panel, a, b, bg, universe, use_joint_ba, use_joint_ab,
                                            options));
        e.domain_controls_checked = true;
        e.domain_control_z = options.domain_control_z;
    }
    const DomainControl* closer = nullptr;  // a control B is at least as close to as to A
    for (const DomainControl& c : e.domain_controls) {
        // Conservative: a control B's closeness to cannot be measured counts as one B is as
        // close to (false accusations are the worst error).
        if (!c.has_pair_stat || c.pair_stat >= dec->cal.value) {
            closer = &c;
            break;
        }
    }
    auto control_names = [&]() {
        std::string s;
        for (size_t i = 0; i < e.domain_controls.size() && i < 5; ++i) {
            s += fmt::format("{}{} (z {:.2f})", i ? ", " : "", e.domain_controls[i].name,
                             e.domain_controls[i].domain_z);
        }
        if (e.domain_controls.size() > 5) s += fmt::format(" and {} more", e.domain_controls.size() - 5);
        return s;
    };
    if (passes && e.domain_controls_checked && (e.domain_controls.empty() || closer != nullptr)) {
        e.relation = Relation::kSimilarBehavior;
        e.confidence = Confidence::kLow;
        e.reason = fmt::format(
            "{} = {:.3f} exceeds all {} independent pairs (calibrated p = {:.3g} < {}): closer to "
            "A than the background; distillation and shared training data both produce this; "
            "{}. Not an accusation of distillation",
            statistic_name(dec->stat), dec->cal.value, dec->cal.n_null, dec->cal.p_t,
            options.alpha,
            e.domain_controls.empty()
                ? std::string("no background member is close to A in domain (same-domain "
                              "control: raw cross-likelihood z >= ") +
                      fmt::format("{:.3f}", options.domain_control_z) +
                      "); add models trained on A's kind of data to the background to tell them "
                      "apart"
                : fmt::format("B is no closer to A than to the same-domain control {} ({}); "
                              "add models trained on A's kind of data to the background to "
                              "tell them apart",
                              closer->name,
                              closer->has_pair_stat
                                  ? fmt::format("{} = {:.3f}", statistic_name(dec->stat),
                                                closer->pair_stat)
                                  : std::string("its statistic with B could not be computed")));
    } else if (passes) {
        e.relation = Relation::kDistilled;
        e.confidence = dec->cal.n_null >= 20 && dec->cal.p_t < options.alpha / 10 ? Confidence::kHigh
                                                                              : Confidence::kMedium;
        e.reason = fmt::format("{} = {:.3f} exceeds all {} independent pairs (null mean {:.3f}, "
                               "sd {:.3f}); calibrated p = {:.3g} < {}",
                               statistic_name(dec->stat), dec->cal.value, dec->cal.n_null, dec->cal.null_mean,
                               dec->cal.null_sd, dec->cal.p_t, options.alpha);
        if (e.domain_controls_checked) {
            e.reason += fmt::format("; and exceeds B's value against each of A's {} same-domain "
                                    "controls: {}",
                                    e.domain_controls.size(), control_names());
        }
    } else {
        e.relation = Relation::kIndependent;
        e.confidence = dec->cal.n_null >= 20 ? Confidence::kHigh : Confidence::kMedium;
        e.reason = fmt::format("{} = {:.3f} is within the null of {} independent pairs (mean "
                               "{:.3f}, max {:.3f}); calibrated p = {:.3g}",
                               statistic_name(dec->stat), dec->cal.value, dec->cal.n_null, dec->cal.null_mean,
                               dec->cal.null_max, dec->cal.p_t);
    }
    return e;
}

// ---------------------------------------------------------------------------------------------
// Rendering

namespace {

Json finite_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json xl_json(const DirectionalXl& d) {
    Json j = {{"available", d.available}, {"candidate", d.candidate}, {"reference", d.reference}};
    if (d.available) {
        j["loglik_per_token"] = finite_or_null(d.loglik);
        j["background_mean"] = finite_or_null(d.background_mean);
        j["background_sd"] = finite_or_null(d.background_sd);
        j["background_responders"] = d.responders;
        j["mean_z"] = finite_or_null(d.mean_z);
        j["probes"] = d.probes;
        j["wins"] = d.wins;
        j["z"] = finite_or_null(d.z);
        j["binomial_p"] = finite_or_null(d.binom_p);
        j["rank_p"] = finite_or_null(d.rank_p);
    }
    if (d.scorer_available) {
        j["scorer"] = {{"scorers", d.scorers}, {"probes", d.scorer_probes},
                       {"wins", d.scorer_wins}, {"z", finite_or_null(d.scorer_z)},
                       {"binomial_p", finite_or_null(d.scorer_binom_p)}};
        if (d.available) j["joint_z"] = finite_or_null(d.joint_z());
    }
    if (d.idio.available) {
        j["idiosyncrasy"] = {{"scorers", d.idio.scorers}, {"probes", d.idio.probes},
                             {"wins", d.idio.wins}, {"z", finite_or_null(d.idio.z)},
                             {"binomial_p", finite_or_null(d.idio.binom_p)}};
    }
    return j;
}

}  // namespace

std::string behavior_evidence_json(const BehaviorEvidence& e) {
    Json j;
    j["a"] = {{"name", e.a}, {"kind", e.kind_a}};
    j["b"] = {{"name", e.b}, {"kind", e.kind_b}};
    j["probe_set"] = {{"name", e.probe_set}, {"digest", e.probe_digest}};
    if (!e.probes_used.digest.empty()) {
        j["probe_set"]["probes"] = e.probes_used.probes;
        j["probe_set"]["origin"] = e.probes_used.origin;
    }
    j["relation"] = std::string(relation_name(e.relation));
    j["confidence"] = std::string(confidence_name(e.confidence));
    j["reason"] = e.reason;
    j["decisive"] = e.decisive == Statistic::kNone ? std::string() : std::string(statistic_name(e.decisive));
    j["p_value"] = finite_or_null(e.p_value);
    j["background"] = {{"participants", e.background}, {"null_pairs", e.null_pairs}};
    {
        Json members = Json::array();
        for (const auto& m : e.background_members) {
            members.push_back({{"name", m.name}, {"root_digest", m.root_digest},
                               {"source", background_source_name(m.source)}, {"kind", m.kind}});
        }
        auto left_out = [](const std::vector<DroppedMember>& v) {
            Json a = Json::array();
            for (const auto& d : v) {
                a.push_back({{"name", d.name}, {"reason", d.reason},
                             {"root_digest", d.root_digest},
                             {"source", background_source_name(d.source)}});
            }
            return a;
        };
        j["background"]["members"] = members;
        j["background"]["dropped"] = left_out(e.dropped);
        j["background"]["excluded"] = left_out(e.excluded);
    }
    j["cross_likelihood"] = {{"b_given_a", xl_json(e.xl_b_given_a)},
                             {"a_given_b", xl_json(e.xl_a_given_b)}};
    if (e.has_logits) {
        j["logits"] = {{"positions", e.logits.positions}, {"probes", e.logits.probes},
                       {"js", e.logits.js}, {"topk_overlap", e.logits.overlap},
                       {"spearman", e.logits.spearman}};
    }
    if (e.cka) {
        Json rows = Json::array();
        for (int64_t i = 0; i < e.cka->layers_a; ++i) {
            Json row = Json::array();
            for (int64_t k = 0; k < e.cka->layers_b; ++k) {
                row.push_back(finite_or_null(e.cka->cka[i * e.cka->layers_b + k]));
            }
            rows.push_back(row);
        }
        j["cka"] = {{"probes", e.cka->probes}, {"best_match_mean", e.cka->best_match_mean},
                    {"layers", rows}};
    }
    j["outputs"] = {{"probes", e.outputs.probes}, {"exact", e.outputs.exact},
                    {"char_ngram", e.outputs.ngram}, {"lcs", e.outputs.lcs}};
    j["identity"] = {{"a_claims", e.claims_a}, {"b_claims", e.claims_b},
                     {"shared", e.claims_shared}};
    Json stats = Json::object();
    for (const auto& s : e.stats) {
        const std::string name(statistic_name(s.stat));
        if (!s.available) {
            stats[name] = {{"available", false}};
            continue;
        }
        Json nulls = Json::array();
        for (double v : s.null_values) nulls.push_back(finite_or_null(v));
        stats[name] = {{"available", true},
                         {"null_values", nulls},
                         {"value", finite_or_null(s.cal.value)},
                         {"tail", s.tail == Tail::kGreater ? "greater" : "less"},
                         {"n_null", s.cal.n_null},
                         {"null_mean", finite_or_null(s.cal.null_mean)},
                         {"null_sd", finite_or_null(s.cal.null_sd)},
                         {"percentile", s.cal.percentile},
                         {"p_empirical", s.cal.p_empirical},
                         {"p_value", finite_or_null(s.cal.p_t)},
                         {"sufficient_background", s.cal.sufficient}};
    }
    j["statistics"] = stats;
    j["decisive_probes"] = e.decisive_probes;
    if (e.domain_controls_checked) {
        Json dc = Json::array();
        for (const DomainControl& c : e.domain_controls) {
            Json x = {{"name", c.name}, {"domain_z", c.domain_z}};
            x["pair_stat"] = c.has_pair_stat ? Json(c.pair_stat) : Json(nullptr);
            dc.push_back(std::move(x));
        }
        j["domain_controls"] = {{"threshold_z", e.domain_control_z}, {"members", dc}};
    }
    return j.dump();
}

std::string behavior_evidence_text(const BehaviorEvidence& e) {
    std::string out = fmt::format("behaviour: {} ({} confidence) — {}\n", relation_name(e.relation),
                                  confidence_name(e.confidence),
                                  e.reason);
    size_t from_store = 0;
    for (const auto& m : e.background_members) from_store += m.source == BackgroundSource::kStore;
    std::string names;
    for (const auto& n : e.background) names += (names.empty() ? "" : ", ") + n;
    out += fmt::format("  background: {} participants{}, {} null pairs{}{}\n", e.background.size(),
                       e.background_members.empty()
                           ? std::string()
                           : fmt::format(" ({} from the store, {} from --background)", from_store,
                                         e.background.size() - from_store),
                       e.null_pairs, names.empty() ? "" : ": ", names);
    for (const auto& d : e.dropped) out += fmt::format("  dropped: {} — {}\n", d.name, d.reason);
    for (const auto& d : e.excluded) out += fmt::format("  excluded: {} — {}\n", d.name, d.reason);
    if (!e.probes_used.digest.empty()) {
        out += fmt::format("  probe set: {} ({} probes, digest {}; {})\n",
                           e.probes_used.name.empty() ? "(unnamed)" : e.probes_used.name,
                           e.probes_used.probes, e.probes_used.digest.substr(0, 12),
                           e.probes_used.origin);
    }
    if (e.decisive != Statistic::kNone) {
        out += fmt::format("  decisive statistic {} on {} probes\n", statistic_name(e.decisive),
                           e.decisive_probes);
    }
    if (e.domain_controls_checked) {
        std::string names;
        for (const DomainControl& c : e.domain_controls) {
            names += fmt::format("{}{} (domain z {:.2f}, {} with B {})", names.empty() ? "" : "; ",
                                 c.name, c.domain_z, statistic_name(e.decisive),
                                 c.has_pair_stat ? fmt::format("{:.2f}", c.pair_stat) : "n/a");
        }
        out += fmt::format("  same-domain controls of A in the background: {}\n",
                           names.empty() ? "none" : names);
    }
    for (const DirectionalXl* d : {&e.xl_b_given_a, &e.xl_a_given_b}) {
        if (!d->available) continue;
        out += fmt::format("  cross-likelihood {} <- {}: {:.4f} nats/token vs background {:.4f} "
                           "± {:.4f} ({} responders); most likely answer on {} of {} probes: "
                           "z = {:.2f}, binomial p = {:.3g}\n",
                           d->candidate, d->reference, d->loglik, d->background_mean,
                           d->background_sd, d->responders, d->wins, d->probes, d->z, d->binom_p);
        if (d->scorer_available) {
            out += fmt::format("    scorer side: {} ranks {}'s answer highest of {} scorers on {} of "
                               "{} probes: z = {:.2f}, binomial p = {:.3g}\n",
                               d->candidate, d->reference, d->scorers + 1, d->scorer_wins,
                               d->scorer_probes, d->scorer_z, d->scorer_binom_p);
        }
        if (d->idio.available) {
            out += fmt::format("    idiosyncrasy: {} scores {}'s answer best of {} scorers on its "
                               "uncertain half on {} of {} probes: z = {:.2f}, binomial p = {:.3g}\n",
                               d->candidate, d->reference, d->idio.scorers + 1, d->idio.wins,
                               d->idio.probes, d->idio.z, d->idio.binom_p);
        }
    }
    // Only statistics that were computed and calibrated get a row; the rest one line each kind
    // (no blocks of n/a or p = 1 for data a pair does not have).
    std::string missing, uncalibrated;
    std::string rows;
    for (const auto& s : e.stats) {
        const std::string name(statistic_name(s.stat));
        if (!s.available) {
            missing += (missing.empty() ? "" : ", ") + name;
        } else if (s.cal.n_null == 0) {
            uncalibrated += (uncalibrated.empty() ? "" : ", ") + name;
        } else {
            rows += fmt::format("  {:<26} {:>10.4f} {:>8} {:>10.4f} {:>10.3g} {:>8.2f}\n", name,
                                s.cal.value, s.cal.n_null, s.cal.null_mean, s.cal.p_t,
                                s.cal.percentile);
        }
    }
    if (!rows.empty()) {
        out += fmt::format("  {:<26} {:>10} {:>8} {:>10} {:>10} {:>8}\n", "statistic", "value",
                           "n_null", "null mean", "p", "pctile");
        out += rows;
    }
    if (!uncalibrated.empty()) {
        out += "  no null pairs (no background) for: " + uncalibrated + "\n";
    }
    if (!missing.empty()) out += "  not available for this pair: " + missing + "\n";
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s.empty() ? std::string("none") : s;
    };
    out += fmt::format("  identity claims: a: {}; b: {}; shared: {}\n", join(e.claims_a),
                       join(e.claims_b), join(e.claims_shared));
    return out;
}

}  // namespace modelprint

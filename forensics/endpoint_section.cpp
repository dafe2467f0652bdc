// The endpoint evidence section (see endpoint_section.h).
#include "forensics/endpoint_section.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "fingerprint/base/json.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "forensics/endpoint_run.h"
#include "forensics/pipeline.h"

namespace modelprint {
namespace {

std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.4g}", x) : "-"; }

double log10_of(double p) { return p > 0 ? std::log10(p) : -INFINITY; }

// The sample test with the smaller p (MMD or rank), null when neither ran.
const EndpointTest* best_sample_test(const EndpointCheckResult& r, Statistic* which) {
    const EndpointTest* best = nullptr;
    if (r.mmd.ran) best = &r.mmd, *which = Statistic::kEndpointMmd;
    if (r.rank.ran && (best == nullptr || r.rank.p_value < best->p_value)) {
        best = &r.rank;
        *which = Statistic::kEndpointRank;
    }
    return best;
}

std::string test_label(Statistic s) {
    switch (s) {
        case Statistic::kEndpointMmd:
            return "MMD (Hamming kernel, permutation p)";
        case Statistic::kEndpointRank:
            return "rank test (one endpoint sample per prompt)";
        case Statistic::kEndpointLogprob:
            return "log-probability sign test (beyond calibrated precision noise)";
        case Statistic::kEndpointPrecision:
            return "precision sign test (closer to a re-encoding than to the claim)";
        default:
            return std::string(statistic_name(s));
    }
}

std::string null_of(Statistic s, const EndpointCheckResult& r) {
    switch (s) {
        case Statistic::kEndpointMmd:
            return fmt::format("{} permutations of the endpoint/local labels within each prompt",
                               r.options.permutations);
        case Statistic::kEndpointRank:
            return fmt::format(
                "ranks uniform under H0 (each endpoint completion among {} claim "
                "samples); two-sided normal z",
                r.local_samples);
        case Statistic::kEndpointLogprob:
            return fmt::format(
                "Bin(n, 1/2) sign test against {} x the median precision step of {} "
                "re-encodings of the claim (local engine against itself)",
                r.options.precision_margin, r.levels.size());
        case Statistic::kEndpointPrecision:
            return "Bin(n, 1/2) sign test: closer to the nearest re-encoding than to the claim";
        default:
            return "-";
    }
}

}  // namespace

EndpointSection::EndpointSection(EndpointCheckResult result) : r_(std::move(result)) {}

Vote EndpointSection::vote() const {
    Vote v;
    v.basis = Basis::kEndpoint;
    v.can_judge = r_.verdict != EndpointVerdict::kInconclusive;
    // Calibrated log-probabilities see the weights' distribution at every token: high; the
    // sample tests alone see only what the budget of queries could show: medium.
    const Confidence firm = r_.logprob.ran ? Confidence::kHigh : Confidence::kMedium;
    switch (r_.verdict) {
        case EndpointVerdict::kSame:
            v.relation = Relation::kServesClaimed;
            v.subtype = "same";
            v.confidence = firm;
            break;
        case EndpointVerdict::kSameWeightsOtherPrecision:
            v.relation = Relation::kServesClaimed;
            v.subtype = "other-precision";
            v.confidence = firm;
            break;
        case EndpointVerdict::kDifferent:
            v.relation = Relation::kNotClaimed;
            v.confidence = firm;
            break;
        case EndpointVerdict::kInconclusive:
            v.relation = Relation::kUnknown;
            v.confidence = Confidence::kNone;
            break;
    }
    v.strength = confidence_value(v.confidence);
    v.reason = fmt::format("endpoint {}: {}", endpoint_verdict_name(r_.verdict), r_.reason);
    if (!r_.nearest_level.empty()) v.reason += fmt::format(" (nearest: {})", r_.nearest_level);
    if (r_.verdict == EndpointVerdict::kInconclusive) {
        v.reason += fmt::format("; {} queries spent, about {} needed for a decisive answer",
                                r_.queries, r_.queries_needed);
    }
    return v;
}

std::optional<DecisiveStatistic> EndpointSection::decisive() const {
    const double a = r_.options.alpha;
    Statistic s = Statistic::kNone;
    const EndpointTest* t = nullptr;
    switch (r_.verdict) {
        case EndpointVerdict::kSameWeightsOtherPrecision:
            s = Statistic::kEndpointPrecision;
            t = &r_.precision;
            break;
        case EndpointVerdict::kDifferent:
            if (r_.logprob.ran && r_.logprob.p_value < a / 2) {
                s = Statistic::kEndpointLogprob;
                t = &r_.logprob;
            } else {
                t = best_sample_test(r_, &s);
            }
            break;
        case EndpointVerdict::kSame:
            if (r_.logprob.ran) {
                s = Statistic::kEndpointLogprob;
                t = &r_.logprob;
            } else {
                t = best_sample_test(r_, &s);
            }
            break;
        case EndpointVerdict::kInconclusive:
            t = best_sample_test(r_, &s);
            break;
    }
    if (t == nullptr || !t->ran) return std::nullopt;
    DecisiveStatistic d;
    d.statistic = s;
    d.value = t->statistic;
    d.p_value = t->p_value;
    d.log10_p = log10_of(t->p_value);
    d.text =
        fmt::format("endpoint.{} = {:.4g} (p = {:.3g}, {} prompts, {} queries; null: {})",
                    statistic_name(s), t->statistic, t->p_value, t->n, r_.queries, null_of(s, r_));
    return d;
}

std::vector<StatisticRow> EndpointSection::statistics() const {
    std::vector<StatisticRow> rows;
    auto add = [&](Statistic s, const EndpointTest& t) {
        StatisticRow row;
        row.statistic = s;
        row.available = t.ran;
        row.value = t.statistic;
        row.p_value = t.ran ? t.p_value : 1.0;
        if (!t.null_values.empty()) {
            double m = 0, q = 0, below = 0;
            for (double x : t.null_values) m += x, below += x < t.statistic;
            m /= static_cast<double>(t.null_values.size());
            for (double x : t.null_values) q += (x - m) * (x - m);
            row.n_null = t.null_values.size();
            row.null_mean = m;
            row.null_sd = t.null_values.size() > 1
                              ? std::sqrt(q / static_cast<double>(t.null_values.size() - 1))
                              : 0.0;
            row.percentile = below / static_cast<double>(t.null_values.size());
        } else if (s == Statistic::kEndpointRank) {
            row.null_mean = 0.0;  // standard normal under H0
            row.null_sd = 1.0;
        }
        rows.push_back(row);
    };
    add(Statistic::kEndpointMmd, r_.mmd);
    add(Statistic::kEndpointRank, r_.rank);
    add(Statistic::kEndpointLogprob, r_.logprob);
    add(Statistic::kEndpointPrecision, r_.precision);
    return rows;
}

std::optional<NullDistribution> EndpointSection::null_distribution() const {
    if (!r_.mmd.ran || r_.mmd.null_values.empty()) return std::nullopt;
    NullDistribution n;
    n.statistic = Statistic::kEndpointMmd;
    n.observed = r_.mmd.statistic;
    n.values = r_.mmd.null_values;
    n.description = null_of(Statistic::kEndpointMmd, r_);
    return n;
}

std::string EndpointSection::text() const { return "endpoint:\n" + endpoint_check_text(r_); }

std::string EndpointSection::json() const { return endpoint_check_json(r_); }

void EndpointSection::report(ReportParts& parts) const {
    ReportTable t;
    t.title = "Endpoint evidence";
    t.text = fmt::format(
        "endpoint {} (model \"{}\", served as \"{}\"{}), claim {}: {} — {}. {} queries on {} "
        "prompts ({} samples each, {} local; temperature {}, max {} tokens){}",
        r_.endpoint, r_.model, r_.served_model,
        r_.system_fingerprint.empty() ? "" : ", system_fingerprint " + r_.system_fingerprint,
        r_.claim, endpoint_verdict_name(r_.verdict), r_.reason, r_.queries, r_.prompts, r_.samples,
        r_.local_samples, r_.temperature, r_.max_tokens,
        r_.verdict == EndpointVerdict::kInconclusive
            ? fmt::format("; about {} queries needed for a decisive answer", r_.queries_needed)
            : std::string());
    t.columns = {"test", "ran", "statistic", "p-value", "prompts", "null / calibration", "note"};
    const std::pair<Statistic, const EndpointTest*> tests[] = {
        {Statistic::kEndpointMmd, &r_.mmd},
        {Statistic::kEndpointRank, &r_.rank},
        {Statistic::kEndpointLogprob, &r_.logprob},
        {Statistic::kEndpointPrecision, &r_.precision}};
    for (const auto& [s, x] : tests) {
        t.rows.push_back({test_label(s), x->ran ? "yes" : "no", x->ran ? num(x->statistic) : "-",
                          x->ran ? num(x->p_value) : "-", std::to_string(x->n),
                          x->ran ? null_of(s, r_) : "-", x->note});
    }
    parts.tables.push_back(std::move(t));
    if (!r_.levels.empty()) {
        ReportTable c;
        c.title = "Endpoint: log-probability calibration";
        c.text =
            "mean |delta log p| per token at the endpoint's tokens: the claim against each "
            "re-encoding of itself (the engine/precision noise), and the endpoint against each";
        c.columns = {"re-encoding", "|claim - it|", "|endpoint - it|"};
        for (const auto& l : r_.levels) {
            c.rows.push_back({l.name, num(l.mean_delta), num(l.endpoint_delta)});
        }
        parts.tables.push_back(std::move(c));
    }
    if (auto n = null_distribution()) {
        ReportDistribution d;
        d.title = "Endpoint: MMD against its permutation null";
        d.statistic = std::string(statistic_name(n->statistic));
        d.observed = n->observed;
        d.background = n->values;
        d.p_value = r_.mmd.p_value;
        d.note = n->description;
        parts.distributions.push_back(std::move(d));
    }
}

std::string endpoint_side_digest(std::string_view url, std::string_view model) {
    return sha256_hex(fmt::format("modelprint.endpoint/1;url={};model={}", url, model));
}

Result<PairContext> open_endpoint_comparison(const CompareRequest& req, bool hash) {
    if (req.endpoint_check == nullptr) {
        return invalid_argument("open_endpoint_comparison: no endpoint question");
    }
    const EndpointCheckRequest& q = *req.endpoint_check;
    PairContext c;
    c.request = &req;
    c.a.path = q.claim;
    c.a.kind = "model";
    c.a.model.path = q.claim;
    {
        auto m = Model::open(q.claim);
        if (!m.ok()) return m.status().with_context(fmt::format("opening {}", q.claim));
        c.a.model.arch = std::string(arch_name((*m)->config().arch));
        c.a.model.parameters = (*m)->parameter_count();
        // The claim's dominant storage dtype over its matrices (as the weights section reports
        // it for model pairs), so that the text and JSON say what precision was claimed.
        std::map<DType, uint64_t> by_dtype;
        for (const auto& t : (*m)->tensors())
            if (t.shape.size() >= 2) by_dtype[t.dtype] += t.numel();
        uint64_t most = 0;
        for (const auto& [dt, n] : by_dtype)
            if (n > most) {
                most = n;
                c.a.model.dtype = std::string(dtype_name(dt));
            }
        if (hash) {
            MP_ASSIGN_OR_RETURN(ModelDigest d, hash_model(**m));
            c.a.model.root_digest = d.root_digest;
        }
    }
    c.b.path = q.probe.endpoint;
    c.b.kind = "endpoint";
    c.b.endpoint_model = q.probe.model;
    c.b.model.path = q.probe.endpoint;
    c.b.model.arch = "endpoint";
    c.b.model.root_digest = endpoint_side_digest(q.probe.endpoint, q.probe.model);
    return c;
}

bool endpoint_section_applies(const PairContext& c) { return c.request->endpoint_check != nullptr; }

Result<std::unique_ptr<EvidenceSection>> run_endpoint_section(PairContext& c) {
    // The endpoint is the question: its errors (unreachable, refused, malformed) are the
    // comparison's errors, never a skipped section.
    MP_ASSIGN_OR_RETURN(EndpointCheckResult r,
                        run_endpoint_check(c.request->endpoint_client, *c.request->endpoint_check));
    return std::unique_ptr<EvidenceSection>(std::make_unique<EndpointSection>(std::move(r)));
}

}  // namespace modelprint

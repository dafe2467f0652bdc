// The behaviour evidence section (see behavior_section.h).
#include "forensics/behavior_section.h"

#include <cmath>

#include "forensics/behavior_paths.h"
#include "forensics/behavior_run.h"
#include "forensics/pipeline.h"

namespace modelprint {
namespace {
std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.4g}", x) : "-"; }
}  // namespace

BehaviorSection::BehaviorSection(BehaviorEvidence evidence) : e_(std::move(evidence)) {}

Vote BehaviorSection::vote() const {
    Vote v;
    v.relation = e_.relation;
    v.confidence = e_.relation == Relation::kUnknown ? Confidence::kNone : e_.confidence;
    v.strength = confidence_value(v.confidence);
    v.basis = Basis::kBehavior;
    const BehaviorStat* d = e_.decisive == Statistic::kNone ? nullptr : e_.stat(e_.decisive);
    v.can_judge = d != nullptr && d->available && d->cal.sufficient;
    v.reason = fmt::format("behaviour: {}; background {} participants, {} independent pairs",
                           e_.reason, e_.background.size(), e_.null_pairs);
    return v;
}

std::optional<DecisiveStatistic> BehaviorSection::decisive() const {
    const BehaviorStat* s = e_.decisive == Statistic::kNone ? nullptr : e_.stat(e_.decisive);
    if (s == nullptr || !s->available) return std::nullopt;
    DecisiveStatistic d;
    d.statistic = s->stat;
    d.value = s->cal.value;
    d.p_value = s->cal.p_t;
    d.log10_p = s->cal.p_t > 0 ? std::log10(s->cal.p_t) : -INFINITY;
    d.text = fmt::format(
        "behavior.{} = {:.3f} (calibrated p = {:.3g} against {} independent "
        "pairs)",
        statistic_name(s->stat), s->cal.value, s->cal.p_t, s->cal.n_null);
    return d;
}

std::vector<StatisticRow> BehaviorSection::statistics() const {
    std::vector<StatisticRow> rows;
    for (const BehaviorStat& s : e_.stats) {
        StatisticRow r;
        r.statistic = s.stat;
        r.available = s.available;
        r.value = s.cal.value;
        r.n_null = s.cal.n_null;
        r.null_mean = s.cal.null_mean;
        r.null_sd = s.cal.null_sd;
        r.p_value = s.cal.p_t;
        r.percentile = s.cal.percentile;
        rows.push_back(r);
    }
    return rows;
}

std::optional<NullDistribution> BehaviorSection::null_distribution() const {
    const BehaviorStat* s = e_.decisive == Statistic::kNone ? nullptr : e_.stat(e_.decisive);
    if (s == nullptr || !s->available) return std::nullopt;
    NullDistribution n;
    n.statistic = s->stat;
    n.observed = s->cal.value;
    n.values = s->null_values;
    n.description = fmt::format(
        "{} independent pairs within the background ∪ {{A, B}} "
        "(A, B excluded); background: {} participants",
        s->null_values.size(), e_.background.size());
    return n;
}

std::string BehaviorSection::text() const {
    // Nothing to judge from (no statistic, too little background): one line, not a table of
    // statistics without a null.
    // The members left out are part of why: one line each.
    if (!vote().can_judge) {
        std::string out =
            fmt::format("behavior: {} — {} (background: {} participants, {} null pairs)\n",
                        relation_name(e_.relation), e_.reason, e_.background.size(), e_.null_pairs);
        for (const auto& d : e_.dropped)
            out += fmt::format("  dropped: {} — {}\n", d.name, d.reason);
        return out;
    }
    return behavior_evidence_text(e_);
}
std::string BehaviorSection::json() const { return behavior_evidence_json(e_); }

void BehaviorSection::report(ReportParts& parts) const {
    ReportTable t;
    t.title = "Behaviour evidence";
    t.text = fmt::format("{} ({} confidence): {}", relation_name(e_.relation),
                         confidence_name(e_.confidence), e_.reason);
    t.columns = {"statistic", "value", "null pairs", "null mean ± sd", "percentile", "p-value"};
    std::string missing;
    for (const BehaviorStat& s : e_.stats) {
        if (!s.available || s.cal.n_null == 0) {
            missing += (missing.empty() ? "" : ", ") + std::string(statistic_name(s.stat));
            continue;
        }
        t.rows.push_back({std::string(statistic_name(s.stat)), num(s.cal.value),
                          std::to_string(s.cal.n_null),
                          num(s.cal.null_mean) + " ± " + num(s.cal.null_sd), num(s.cal.percentile),
                          num(s.cal.p_t)});
    }
    if (!missing.empty()) t.text += "; not available or no null: " + missing;
    parts.tables.push_back(std::move(t));
    ReportTable bg;
    bg.title = "Behaviour background";
    bg.text = fmt::format("probe set {} ({}); {} null pairs", e_.probe_set,
                          e_.probe_digest.substr(0, 16), e_.null_pairs);
    bg.columns = {"participant"};
    for (const std::string& b : e_.background) bg.rows.push_back({b});
    parts.tables.push_back(std::move(bg));
    if (auto n = null_distribution()) {
        ReportDistribution d;
        d.title = fmt::format("Behaviour: {} against its null", statistic_name(n->statistic));
        d.statistic = std::string(statistic_name(n->statistic));
        d.observed = n->observed;
        d.background = n->values;
        d.p_value = e_.p_value;
        d.note = n->description;
        parts.distributions.push_back(std::move(d));
    }
}

bool behavior_section_applies(const PairContext& c) {
    return !c.request->weights_only && c.request->endpoint_check == nullptr;
}

Result<std::unique_ptr<EvidenceSection>> run_behavior_section(PairContext& c) {
    const CompareRequest& r = *c.request;
    auto e = r.behavior_inputs ? compare_behavior_paths(r.a, r.b, r.behavior_inputs->probes,
                                                        r.behavior_inputs->plan, r.behavior)
                               : compare_behavior_paths(r.a, r.b, r.behavior);
    if (!e.ok()) {
        // Flag errors, and no weights to fall back on: the comparison fails.
        if (e.status().code() == StatusCode::kInvalidArgument || c.pair == nullptr ||
            c.request->behavior_only) {
            return e.status();
        }
        return std::unique_ptr<EvidenceSection>(std::make_unique<SkippedSection>(
            SectionKind::kBehavior, "no behaviour evidence: " + e.status().message()));
    }
    return std::unique_ptr<EvidenceSection>(std::make_unique<BehaviorSection>(std::move(*e)));
}

}  // namespace modelprint

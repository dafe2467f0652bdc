// Evidence sections: the skipped section, the precedence table and decide(), and the report
// parts of a section (see evidence.h; the table is docs/methods.md "Verdict precedence").
#include "forensics/evidence.h"

#include <cmath>

#include "fingerprint/base/json.h"
#include "forensics/report.h"

namespace modelprint {
namespace {

// Highest precedence first. A row fires when its section voted its relation and the weight
// condition holds; the first row that fires decides.
const std::vector<PrecedenceRow> kPrecedence = {
    {SectionKind::kWeights, Relation::kIdentical, WeightsCondition::kAny,
     "weights say identical (every tensor digest, or every value, agrees): identical, whatever "
     "else says"},
    {SectionKind::kWeights, Relation::kDerived, WeightsCondition::kAny,
     "weights say derived: derived (behaviour cannot tell a derivative from a distilled model)"},
    {SectionKind::kWatermark, Relation::kDistilled, WeightsCondition::kNotLineage,
     "a keyed watermark of A is detected in B and weights do not say identical/derived: "
     "distilled, basis watermark"},
    {SectionKind::kBehavior, Relation::kDistilled, WeightsCondition::kNotLineage,
     "behaviour says distilled (imitation of A beyond the background) and weights say "
     "independent, unknown or are unavailable: distilled, basis behavior"},
    {SectionKind::kBehavior, Relation::kSimilarBehavior, WeightsCondition::kNotLineage,
     "behaviour says similar-behavior (closer than the background, nothing specific to A) and "
     "weights do not say identical/derived: similar-behavior"},
    {SectionKind::kWeights, Relation::kIndependent, WeightsCondition::kAny,
     "weights say independent and nothing above fired: independent, basis weights"},
    {SectionKind::kBehavior, Relation::kIndependent, WeightsCondition::kCannotJudge,
     "behaviour says independent and the weights cannot be compared (absent, or different "
     "structure with no embedding match): independent, basis behavior"},
    {SectionKind::kEndpoint, Relation::kNotClaimed, WeightsCondition::kAny,
     "the endpoint's samples or log-probabilities are not the claimed model's at any calibrated "
     "precision (family-wise level alpha): not-claimed, basis endpoint"},
    {SectionKind::kEndpoint, Relation::kServesClaimed, WeightsCondition::kAny,
     "no endpoint test rejects the claimed weights (log-probabilities within the calibrated "
     "noise, or the sample tests after the measured query budget): serves-claimed (subtype same "
     "or other-precision), basis endpoint"},
};

const EvidenceSection* find(const std::vector<const EvidenceSection*>& s, SectionKind k) {
    for (const EvidenceSection* x : s) {
        if (x != nullptr && x->kind() == k) return x;
    }
    return nullptr;
}

bool condition_holds(WeightsCondition c, const EvidenceSection* weights) {
    if (c == WeightsCondition::kAny) return true;
    if (weights == nullptr || !weights->ran()) return true;
    const Vote v = weights->vote();
    if (c == WeightsCondition::kNotLineage) {
        return v.relation != Relation::kIdentical && v.relation != Relation::kDerived;
    }
    return !v.can_judge;
}

bool can_assert(SectionKind k, Relation r) {
    for (const PrecedenceRow& row : kPrecedence) {
        if (row.section == k && row.asserts == r) return true;
    }
    return false;
}

std::string decimal(double x) {
    if (!std::isfinite(x)) return "-";
    return fmt::format("{:.6g}", x);
}

}  // namespace

const std::vector<PrecedenceRow>& precedence_table() { return kPrecedence; }

CombinedVerdict decide(const std::vector<const EvidenceSection*>& sections) {
    CombinedVerdict v;
    const EvidenceSection* weights = find(sections, SectionKind::kWeights);
    for (size_t i = 0; i < kPrecedence.size() && v.rule < 0; ++i) {
        const PrecedenceRow& row = kPrecedence[i];
        const EvidenceSection* s = find(sections, row.section);
        if (s == nullptr || !s->ran()) continue;
        const Vote vote = s->vote();
        if (vote.relation != row.asserts || !condition_holds(row.when, weights)) continue;
        v.relation = vote.relation;
        v.subtype = vote.subtype;
        v.confidence = vote.confidence;
        v.strength = vote.strength;
        v.basis = vote.basis;
        v.decided_by = row.section;
        v.decisive = s->decisive();
        v.reason = vote.reason;
        v.rule = static_cast<int>(i);
    }
    // Notes: every other section's vote that disagrees, and votes no row lets a section assert.
    std::string why_unknown;
    for (const EvidenceSection* s : sections) {
        if (s == nullptr) continue;
        const Vote vote = s->vote();
        if (!s->ran()) {
            v.notes.push_back(fmt::format("{}: not run ({})", s->name(), vote.reason));
            continue;
        }
        if (v.decided_by && *v.decided_by == s->kind()) continue;
        why_unknown += fmt::format("{}{}: {} ({})", why_unknown.empty() ? "" : "; ", s->name(),
                                   relation_name(vote.relation), vote.reason);
        if (vote.relation == Relation::kUnknown || vote.relation == v.relation) continue;
        if (!can_assert(s->kind(), vote.relation)) {
            v.notes.push_back(
                fmt::format("{} says {}, which the precedence table does not let "
                            "it assert; ignored",
                            s->name(), relation_name(vote.relation)));
        } else {
            v.notes.push_back(fmt::format("{} says {}; outranked by the rule \"{}\"", s->name(),
                                          relation_name(vote.relation),
                                          v.rule >= 0 ? kPrecedence[v.rule].rule : "none fired"));
        }
    }
    if (v.rule < 0) {
        v.relation = Relation::kUnknown;
        v.confidence = Confidence::kNone;
        v.strength = 0.0;
        v.basis = Basis::kNone;
        size_t ran = 0;
        for (const EvidenceSection* s : sections) {
            if (s == nullptr || !s->ran()) continue;
            if (ran++ == 0) {
                v.reason = s->vote().reason;  // one section: its own reason
                v.decisive = s->decisive();
            }
        }
        if (ran == 0) v.reason = "no evidence section ran";
        if (ran > 1) v.reason = "no precedence rule fired: " + why_unknown;
    }
    return v;
}

// ---- skipped section

SkippedSection::SkippedSection(SectionKind kind, std::string reason)
    : kind_(kind), reason_(std::move(reason)) {}

Vote SkippedSection::vote() const {
    Vote v;
    v.reason = reason_;
    return v;
}

std::string SkippedSection::text() const {
    return fmt::format("{}: not run — {}\n", name(), reason_);
}

std::string SkippedSection::json() const {
    return Json{{"ran", false}, {"reason", reason_}}.dump();
}

void SkippedSection::report(ReportParts& parts) const {
    ReportTable t;
    t.title = fmt::format("Evidence: {} (not run)", name());
    t.text = reason_;
    parts.tables.push_back(std::move(t));
}

// ---- report parts

std::string report_parts_json(const ReportParts& parts) {
    Json sections = Json::array(), heatmaps = Json::array(), dists = Json::array();
    for (const ReportTable& t : parts.tables) {
        sections.push_back(
            {{"title", t.title}, {"text", t.text}, {"columns", t.columns}, {"rows", t.rows}});
    }
    for (const ReportHeatmap& h : parts.heatmaps) {
        Json values = Json::array();
        for (const auto& row : h.values) {
            Json r = Json::array();
            for (double x : row) r.push_back(decimal(x));
            values.push_back(r);
        }
        heatmaps.push_back({{"title", h.title},
                            {"x_label", h.x_label},
                            {"y_label", h.y_label},
                            {"x_labels", h.x_labels},
                            {"y_labels", h.y_labels},
                            {"values", values},
                            {"min", decimal(h.min)},
                            {"max", decimal(h.max)}});
    }
    for (const ReportDistribution& d : parts.distributions) {
        Json bg = Json::array();
        for (double x : d.background) bg.push_back(decimal(x));
        dists.push_back({{"title", d.title},
                         {"statistic", d.statistic},
                         {"observed", decimal(d.observed)},
                         {"background", bg},
                         {"p_value", decimal(d.p_value)},
                         {"note", d.note}});
    }
    Json j = Json::object();
    if (!sections.empty()) j["sections"] = sections;
    if (!heatmaps.empty()) j["heatmaps"] = heatmaps;
    if (!dists.empty()) j["distributions"] = dists;
    return j.dump();
}

namespace {
// A statement whose predicate is this section's report parts (for the section renderers).
std::string section_statement(const EvidenceSection& s) {
    ReportParts parts;
    s.report(parts);
    auto p = parse_json(report_parts_json(parts), "report parts");
    Json st = {{"_type", "https://in-toto.io/Statement/v1"},
               {"predicateType", std::string(kComparisonPredicateType)},
               {"subject", Json::array()},
               {"predicate", p.ok() ? *p : Json::object()}};
    return st.dump();
}
}  // namespace

std::string EvidenceSection::markdown() const {
    auto r = render_report_markdown(section_statement(*this));
    return r.ok() ? *r : std::string();
}

std::string EvidenceSection::html() const {
    auto r = render_report_html(section_statement(*this));
    return r.ok() ? *r : std::string();
}

}  // namespace modelprint

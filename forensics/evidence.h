// The evidence pipeline's parts: one EvidenceSection per kind of evidence (its vote, decisive
// statistic and p-value, statistics table, the null distribution it was calibrated on, and its
// renderings), the precedence table that turns the sections' votes into one verdict (decide()),
// and the skipped section that says in one line why a kind of evidence did not run.
//
// Adding a kind of evidence (docs/architecture.md "The evidence pipeline; how to add a section"):
//   1. a SectionKind value and its name (evidence_types.h);
//   2. one file forensics/<kind>_section.{h,cpp} with a class implementing EvidenceSection and
//      a runner `Result<std::unique_ptr<EvidenceSection>> run_<kind>_section(PairContext&)`;
//   3. one row in the runner table (forensics/pipeline.cpp kRunners) and the rows of the
//      precedence table it may assert (kPrecedence in forensics/evidence.cpp, mirrored in
//      docs/methods.md "Verdict precedence").
// No section reads or patches another's JSON: every section renders itself, the document and
// the report are assembled from the sections.
// Invariants: a section's vote is one of the relations the precedence table lets it assert
// (others are ignored by decide() with a note); a section that did not run votes kUnknown with
// can_judge = false and its reason.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forensics/evidence_types.h"

namespace modelprint {

// A section's vote: the relation it asserts and how firmly.
struct Vote {
    Relation relation = Relation::kUnknown;
    Confidence confidence = Confidence::kNone;
    double strength = 0.0;       // 0..1 (the number printed beside the verdict)
    std::string subtype;         // identical: bytes | values; derived: dtype-cast, fine-tuned, ...
    Basis basis = Basis::kNone;  // what the vote rests on (kBytes, kWeights, kBehavior, ...)
    // false when the section had nothing it could judge from (did not run; weights of different
    // widths with no embedding match; too little background). decide() lets behaviour assert
    // `independent` only when the weight section cannot judge.
    bool can_judge = false;
    std::string reason;  // one sentence for people
};

// The statistic that carries a section's vote.
struct DecisiveStatistic {
    Statistic statistic = Statistic::kNone;
    double value = 0.0;
    double p_value = 1.0;  // calibrated / exact p (may underflow to 0: see log10_p)
    double log10_p = 0.0;  // log10 of p, finite even where p underflows
    std::string text;      // "permutation-matching test over 8 layers: Fisher p = 1e-45.2 ..."
};

// The null a statistic was calibrated on (values of the statistic over independent pairs).
struct NullDistribution {
    Statistic statistic = Statistic::kNone;
    double observed = 0.0;
    std::vector<double> values;
    std::string description;  // "27 pairs within background ∪ {A, B}, excluding (A, B)"
};

// One row of a section's statistics table.
struct StatisticRow {
    Statistic statistic = Statistic::kNone;
    bool available = false;
    double value = 0.0;
    size_t n_null = 0;
    double null_mean = 0.0, null_sd = 0.0;
    double p_value = 1.0;
    double percentile = 0.0;
};

// Report building blocks (forensics/report.h predicate conventions: "sections", "heatmaps",
// "distributions"); the report renderers draw them (tables, inline SVG heatmaps, histograms of
// each null with the observed value).
struct ReportTable {
    std::string title, text;
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
};
struct ReportHeatmap {
    std::string title, x_label, y_label;
    std::vector<std::string> x_labels, y_labels;
    std::vector<std::vector<double>> values;  // rows = y
    double min = 0.0, max = 1.0;
};
struct ReportDistribution {
    std::string title, statistic, note;
    double observed = 0.0;
    std::vector<double> background;
    double p_value = 1.0;
};
struct ReportParts {
    std::vector<ReportTable> tables;
    std::vector<ReportHeatmap> heatmaps;
    std::vector<ReportDistribution> distributions;
};

// The parts as predicate members (JSON object text with "sections", "heatmaps",
// "distributions" in the forensics/report.h conventions; decimals as strings).
std::string report_parts_json(const ReportParts& parts);

class EvidenceSection {
public:
    virtual ~EvidenceSection() = default;
    virtual SectionKind kind() const = 0;
    std::string_view name() const { return section_kind_name(kind()); }
    // false: the section did not run (reason in vote().reason); renders as one line.
    virtual bool ran() const { return true; }
    virtual Vote vote() const = 0;
    virtual std::optional<DecisiveStatistic> decisive() const = 0;
    virtual std::vector<StatisticRow> statistics() const = 0;
    virtual std::optional<NullDistribution> null_distribution() const = 0;
    // Renderings. text(): the section's block of compare's text output. json(): the JSON object
    // (text) that is `evidence.<name>` in the comparison document. report(): the tables,
    // heatmaps and distributions it adds to the signed report's predicate.
    virtual std::string text() const = 0;
    virtual std::string json() const = 0;
    virtual void report(ReportParts& parts) const = 0;
    // Markdown / HTML of this section alone (report() through the report renderers).
    std::string markdown() const;
    std::string html() const;
};

// A kind of evidence that did not run, and why (one line in text, {"ran": false, "reason"} in
// JSON, one line in the report).
class SkippedSection : public EvidenceSection {
public:
    SkippedSection(SectionKind kind, std::string reason);
    SectionKind kind() const override { return kind_; }
    bool ran() const override { return false; }
    Vote vote() const override;
    std::optional<DecisiveStatistic> decisive() const override { return std::nullopt; }
    std::vector<StatisticRow> statistics() const override { return {}; }
    std::optional<NullDistribution> null_distribution() const override { return std::nullopt; }
    std::string text() const override;
    std::string json() const override;
    void report(ReportParts& parts) const override;

private:
    SectionKind kind_;
    std::string reason_;
};

// The combined verdict.
struct CombinedVerdict {
    Relation relation = Relation::kUnknown;
    std::string subtype;
    Confidence confidence = Confidence::kNone;
    double strength = 0.0;
    Basis basis = Basis::kNone;
    std::optional<SectionKind> decided_by;  // the section whose vote became the verdict
    std::optional<DecisiveStatistic> decisive;
    std::string reason;
    std::vector<std::string> notes;  // disagreements between sections, ignored votes
    int rule = -1;                   // index of the precedence row that fired (-1: none)
};

// When a precedence row may fire, in terms of the weight section's vote.
enum class WeightsCondition : uint8_t {
    kAny,          // whatever the weights say
    kNotLineage,   // weights absent, or not identical/derived
    kCannotJudge,  // weights absent, or their vote has can_judge = false
};

struct PrecedenceRow {
    SectionKind section;
    Relation asserts;
    WeightsCondition when;
    const char* rule;  // the row as people read it (docs/methods.md)
};

// The table decide() applies, highest precedence first (evidence.cpp; docs/methods.md).
const std::vector<PrecedenceRow>& precedence_table();

// The first row whose section voted its relation, with its condition met, decides; no row:
// `unknown` with the reasons the sections gave. Sections may be null (ignored).
CombinedVerdict decide(const std::vector<const EvidenceSection*>& sections);

}  // namespace modelprint

// The keyed watermark evidence section of the pipeline (forensics/evidence.h; issue 20):
// `compare TEACHER SUSPECT --watermark-key KEY.json`. A is the teacher whose outputs were
// watermarked (its tokenizer is the key's vocabulary); B is the suspect:
//   - a model: the open-model radioactivity test (forensics/watermark_model.h: the suspect's
//     next-token probabilities minus the teacher's on the suspect's own key-independent samples,
//     per-context green sums against their exact mean and variance over random green lists,
//     weighted Stouffer), with the generation-mode binomial test and the plain and
//     equal-weight variants reported beside it;
//   - a transcript: text detection over its responses (forensics/watermark.h: green count of the
//     de-duplicated scored tokens, exact binomial p against Bin(n, g/V)), pooled over responses.
// Vote: `distilled` (basis watermark, confidence high) when the decisive test is conclusive and
// p < alpha; otherwise `unknown` — "not detected" is no accusation and no proof of independence
// (can_judge true), too little data is inconclusive (can_judge false, with the number of scored
// tokens or contexts needed). The precedence row (evidence.cpp) lets it decide only when the
// weights do not say identical/derived.
// The null: the p-values are exact (binomial) or use the exact null mean and variance (normal
// tail); the section also evaluates the same collected data under `null_keys` random keys the
// suspect cannot know, and reports their z-values (the null distribution of the report), the KS
// test of their p-values against uniform, their minimum and how many fall below alpha.
// Secrets: the section never holds the key — only its commitment (SHA-256 of the canonical key
// JSON) reaches its text, JSON, report and the store key.
// Not here: the tests themselves (watermark.h, watermark_model.h), the key file (the command).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forensics/evidence.h"
#include "forensics/watermark_model.h"

namespace modelprint {

struct PairContext;

struct WatermarkSectionOptions {
    RadioactivityOptions radioactivity;  // alpha, dedup: radioactivity.text
    int samples = 256;                   // suspect samples of the default prompts (docs/watermark.md)
    int null_keys = 100;                 // random keys for the calibration check (0: none)
    uint64_t null_seed = 0;
};

// What the section found (no key inside: only its commitment).
struct WatermarkEvidence {
    enum class Mode : uint8_t { kOpenModel, kText };
    Mode mode = Mode::kOpenModel;
    std::string key_commitment;  // sha256 hex of the canonical key
    double alpha = 1e-3;
    double gamma = 0.25;           // g / V: a token's null probability of being green
    std::string teacher, suspect;  // paths
    // model suspect
    RadioactivityResult radioactivity;
    int64_t min_contexts = 16;
    // transcript suspect
    TextDetection text;
    // the decisive test
    Statistic statistic = Statistic::kNone;
    double z = 0.0, log_p = 0.0, p_value = 1.0;
    bool conclusive = false;
    int64_t tokens_needed = 0;  // text: more scored tokens needed when inconclusive
    // the same decisive test under random keys
    std::vector<double> null_z;
    double null_ks_d = 0.0, null_ks_p = 1.0, null_min_p = 1.0;
    int64_t null_below_alpha = 0;
};

class WatermarkSection : public EvidenceSection {
public:
    explicit WatermarkSection(WatermarkEvidence evidence);
    const WatermarkEvidence& evidence() const { return e_; }
    SectionKind kind() const override { return SectionKind::kWatermark; }
    Vote vote() const override;
    std::optional<DecisiveStatistic> decisive() const override;
    std::vector<StatisticRow> statistics() const override;
    std::optional<NullDistribution> null_distribution() const override;
    std::string text() const override;
    std::string json() const override;
    void report(ReportParts& parts) const override;

    bool detected() const { return e_.conclusive && e_.p_value < e_.alpha; }

private:
    WatermarkEvidence e_;
};

// Runs when the request carries a watermark key.
bool watermark_section_applies(const PairContext& context);
// A that is not a model: SkippedSection (the key's vocabulary is the teacher's). A key whose
// vocabulary does not fit the teacher: kInvalidArgument. A suspect the test cannot read (too
// few shared token strings, no tokenizer): SkippedSection with the reason.
Result<std::unique_ptr<EvidenceSection>> run_watermark_section(PairContext& context);

}  // namespace modelprint

// The vocabulary of a verdict as enums with name tables: relations, confidence levels, the
// basis a verdict rests on, the kinds of evidence section, and the names of the statistics that
// sections report. Names are what the JSON document, the text output and the signed report
// carry; parse_* turn a name back (kInvalidArgument naming the value and the accepted names).
// Adding a value: the enum and its row of the name table below (tests/evidence_test.cpp checks
// that every value has a distinct name that parses back).
// Not here: how a verdict is decided (forensics/evidence.h decide()).
#pragma once

#include <cstdint>
#include <string_view>

#include "fingerprint/base/status.h"

namespace modelprint {

// What B is to A (DESIGN.md "verdict").
enum class Relation : uint8_t {
    kIdentical,        // every tensor's digest (or value) agrees
    kDerived,          // B's weights descend from A's (subtype says how)
    kDistilled,        // B was trained on A's outputs (evidence specific to A)
    kSimilarBehavior,  // closer than the background, nothing specific to A (issue 16)
    kIndependent,      // no lineage signal where one would show
    kUnknown,          // the evidence does not decide
    // endpoint questions (B an API endpoint, A the claimed local model; forensics/
    // endpoint_section.h): samples and log-probabilities cannot show weights, so an endpoint is
    // never called identical/derived.
    kServesClaimed,  // the endpoint serves A's weights (subtype same | other-precision)
    kNotClaimed,     // the endpoint does not serve A's weights at any calibrated precision
};
inline constexpr int kRelationCount = 8;

// How firmly a section (or the verdict) holds its relation.
enum class Confidence : uint8_t { kNone, kLow, kMedium, kHigh };
inline constexpr int kConfidenceCount = 4;

// What the verdict rests on: the section that decided and, for weights, which kind of weight
// evidence. `distilled` rests on kBehavior or kWatermark.
enum class Basis : uint8_t { kNone, kBytes, kValues, kWeights, kBehavior, kWatermark, kEndpoint };
inline constexpr int kBasisCount = 7;

// The kinds of evidence section (one EvidenceSection implementation each; evidence.h).
enum class SectionKind : uint8_t { kWeights, kBehavior, kEndpoint, kWatermark };
inline constexpr int kSectionKindCount = 4;

// Statistic names (decisive statistics and statistics-table rows of every section).
enum class Statistic : uint8_t {
    kNone,
    // weights
    kTensorDigests,        // identity: tensor SHA-256 multiset
    kTensorValues,         // identity: f32 values in another dtype/layout/name
    kPermutationFisher,    // Fisher-combined permutation-matching p over layers
    kEmbeddingColumnCorr,  // held-out embedding-column |corr| (widths differ)
    // behaviour (forensics/behavior_compare.h)
    kDistillationZ,
    kCrossLikelihoodZ,
    kCrossLikelihoodScorerZ,
    kIdiosyncrasyZ,
    kDistillationIdioZ,
    kLogitJs,
    kLogitTopkOverlap,
    kLogitSpearman,
    kCkaBestMatch,
    kOutputExact,
    kOutputNgram,
    kOutputLcs,
    // keyed watermark (forensics/watermark_section.h)
    kWatermarkOpenModelZ,       // open-model radioactivity, p_s - p_t, sqrt(n)-weighted
    kWatermarkOpenModelEqualZ,  // the same with equal context weights
    kWatermarkOpenModelPlainZ,  // open-model without the teacher reference
    kWatermarkGenerationZ,      // generation mode: green count of the suspect's samples
    kWatermarkTextZ,            // text: green count of a transcript's responses
    // endpoint equality (forensics/endpoint_check.h)
    kEndpointMmd,        // MMD^2, Hamming kernel, permutation p
    kEndpointRank,       // rank z of endpoint completions among the claim's samples
    kEndpointLogprob,    // logprob sign test 1: beyond the calibrated precision noise
    kEndpointPrecision,  // logprob sign test 2: closer to a re-encoding than to the claim
};
inline constexpr int kStatisticCount = 26;

std::string_view relation_name(Relation r);         // "identical", ..., "similar-behavior"
std::string_view confidence_name(Confidence c);     // "none" | "low" | "medium" | "high"
std::string_view basis_name(Basis b);               // "none", "bytes", "values", "weights", ...
std::string_view section_kind_name(SectionKind k);  // "weights" | "behavior" | ...
std::string_view statistic_name(Statistic s);       // "distillation_z", "permutation_fisher_p", ...

Result<Relation> parse_relation(std::string_view name);
Result<Confidence> parse_confidence(std::string_view name);
Result<Basis> parse_basis(std::string_view name);
Result<SectionKind> parse_section_kind(std::string_view name);
Result<Statistic> parse_statistic(std::string_view name);

// The 0..1 number printed beside a level, and the level of a 0..1 number (docs/methods.md
// "Confidence": >= 0.9 high, >= 0.7 medium, > 0 low, 0 none; a level maps to 0.9 / 0.7 / 0.3 / 0).
double confidence_value(Confidence c);
Confidence confidence_level(double value);

}  // namespace modelprint

// Name tables of the verdict vocabulary (see evidence_types.h).
#include "forensics/evidence_types.h"

#include <array>
#include <string>

namespace modelprint {
namespace {

constexpr std::array<std::string_view, kRelationCount> kRelationNames = {
    "identical", "derived",     "distilled",     "similar-behavior",
    "independent", "unknown", "serves-claimed", "not-claimed"};
constexpr std::array<std::string_view, kConfidenceCount> kConfidenceNames = {"none", "low",
                                                                             "medium", "high"};
constexpr std::array<std::string_view, kBasisCount> kBasisNames = {
    "none", "bytes", "values", "weights", "behavior", "watermark", "endpoint"};
constexpr std::array<std::string_view, kSectionKindCount> kSectionNames = {"weights", "behavior",
                                                                           "endpoint", "watermark"};
constexpr std::array<std::string_view, kStatisticCount> kStatisticNames = {
    "none",
    "tensor_digests",
    "tensor_values",
    "permutation_fisher_p",
    "embedding_column_corr",
    "distillation_z",
    "cross_likelihood_z",
    "cross_likelihood_scorer_z",
    "idiosyncrasy_z",
    "distillation_idio_z",
    "logit_js",
    "logit_topk_overlap",
    "logit_spearman",
    "cka_best_match",
    "output_exact",
    "output_ngram",
    "output_lcs",
    "watermark_open_model_z",
    "watermark_open_model_equal_z",
    "watermark_open_model_plain_z",
    "watermark_generation_z",
    "watermark_text_z",
    "endpoint_mmd_hamming",
    "endpoint_rank_z",
    "endpoint_logprob_sign",
    "endpoint_precision_sign",
};

template <typename E, size_t N>
Result<E> parse_in(const std::array<std::string_view, N>& names, std::string_view name,
                   const char* what) {
    std::string all;
    for (size_t i = 0; i < N; ++i) {
        if (names[i] == name) return static_cast<E>(i);
        all += (i ? ", " : "") + std::string(names[i]);
    }
    return invalid_argument("'{}' is not a {} (one of: {})", name, what, all);
}

template <size_t N>
std::string_view name_in(const std::array<std::string_view, N>& names, size_t i) {
    return i < N ? names[i] : std::string_view("?");
}

}  // namespace

std::string_view relation_name(Relation r) { return name_in(kRelationNames, size_t(r)); }
std::string_view confidence_name(Confidence c) { return name_in(kConfidenceNames, size_t(c)); }
std::string_view basis_name(Basis b) { return name_in(kBasisNames, size_t(b)); }
std::string_view section_kind_name(SectionKind k) { return name_in(kSectionNames, size_t(k)); }
std::string_view statistic_name(Statistic s) { return name_in(kStatisticNames, size_t(s)); }

Result<Relation> parse_relation(std::string_view n) {
    return parse_in<Relation>(kRelationNames, n, "relation");
}
Result<Confidence> parse_confidence(std::string_view n) {
    return parse_in<Confidence>(kConfidenceNames, n, "confidence level");
}
Result<Basis> parse_basis(std::string_view n) { return parse_in<Basis>(kBasisNames, n, "basis"); }
Result<SectionKind> parse_section_kind(std::string_view n) {
    return parse_in<SectionKind>(kSectionNames, n, "evidence section");
}
Result<Statistic> parse_statistic(std::string_view n) {
    return parse_in<Statistic>(kStatisticNames, n, "statistic");
}

double confidence_value(Confidence c) {
    switch (c) {
        case Confidence::kHigh:
            return 0.9;
        case Confidence::kMedium:
            return 0.7;
        case Confidence::kLow:
            return 0.3;
        case Confidence::kNone:
            return 0.0;
    }
    return 0.0;
}

Confidence confidence_level(double v) {
    if (v >= 0.9) return Confidence::kHigh;
    if (v >= 0.7) return Confidence::kMedium;
    if (v > 0.0) return Confidence::kLow;
    return Confidence::kNone;
}

}  // namespace modelprint

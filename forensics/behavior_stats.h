// Pairwise behaviour statistics, each a plain function of two fingerprints' parts:
//   - next-token distributions over shared tokens: Jensen-Shannon divergence (base 2, in [0,1];
//     Lin 1991), top-k overlap |A_k ∩ B_k| / k, Spearman rank correlation (average ranks for ties);
//     tokens meet on their raw bytes, as Tokenizer::token_bytes / map_vocabularies define them;
//     positions meet where both tokenizations cut the same prompt text at the same byte;
//   - linear CKA between per-probe mean hidden states of a layer of A and a layer of B, with the
//     unbiased HSIC estimator (Song et al. 2012, JMLR 13, eq. 5; used for CKA by Nguyen, Raghu &
//     Kornblith 2021, "Do Wide and Deep Networks Learn the Same Things?", and by AWM), so that the
//     score of unrelated representations is centred near 0 even with few probes and wide layers;
//     works across widths (Kornblith et al. 2019, ICML, eq. 4);
//   - output overlap of two texts: exact match (after trimming ASCII whitespace), Dice overlap of
//     character (code point) trigram multisets, and LCS similarity 2*LCS/(|a|+|b|) over code
//     points (texts longer than kMaxLcsChars code points are cut there).
// Nothing here is a verdict: every number is judged against independent pairs (calibration.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/logit_print.h"

namespace modelprint {

inline constexpr size_t kMaxLcsChars = 2000;

// One next-token distribution as a top-k list: token byte strings and their log-probabilities.
struct TopkList {
    std::vector<std::string_view> tokens;
    std::vector<float> logprobs;  // descending
};

struct TopkAgreement {
    double js = 0.0;        // Jensen-Shannon divergence, bits
    double overlap = 0.0;   // |A ∩ B| / min(|A|, |B|)
    double spearman = 0.0;  // over the union, missing tokens tied below the list
};
// Tokens outside a list share that list's remaining mass, each at most its smallest listed
// probability; the rest goes to one "other" bucket (documented in docs/behavior.md).
TopkAgreement compare_topk(const TopkList& a, const TopkList& b);

double js_divergence(std::span<const double> p, std::span<const double> q);
double spearman(std::span<const double> x, std::span<const double> y);

struct LogitSimilarity {
    int64_t positions = 0;  // aligned positions compared
    int64_t probes = 0;     // probes contributing at least one position
    double js = 0.0, overlap = 0.0, spearman = 0.0;  // means over positions
};
// Over every probe whose decoded prompt text is equal in both prints.
LogitSimilarity logit_similarity(const LogitPrint& a, const LogitPrint& b);

// X (n, p), Y (n, q) row-major. Unbiased linear CKA; NaN when n < 4 or a side has no variance.
double linear_cka_unbiased(std::span<const float> X, std::span<const float> Y, int64_t n,
                           int64_t p, int64_t q);

struct CkaMatrix {
    int64_t layers_a = 0, layers_b = 0, probes = 0;
    std::vector<double> cka;  // (layers_a, layers_b)
    // Mean over A's layers 1..L of the best CKA with any layer of B (embeddings excluded).
    double best_match_mean = 0.0;
};
// kInvalidArgument when either print lacks hidden means or fewer than 4 probes have them.
Result<CkaMatrix> cka_matrix(const LogitPrint& a, const LogitPrint& b);

struct TextOverlap {
    double exact = 0.0, ngram = 0.0, lcs = 0.0;
};
TextOverlap text_overlap(std::string_view a, std::string_view b);

struct OutputSimilarity {
    int64_t probes = 0;  // probes answered by both
    double exact = 0.0, ngram = 0.0, lcs = 0.0;  // means over those probes
};
OutputSimilarity output_similarity(const OutputPrint& a, const OutputPrint& b);

}  // namespace modelprint

// Watermark detection in text: count the green tokens of token sequences under a key
// (fingerprint/watermark.h) and test the count against the null "this text does not know the
// key", per response and pooled over responses.
//
// Scored tokens: every token with context_width tokens before it (selfhash: context_width - 1,
// its window ends with the token itself; the context of the first
// tokens of a response is the tail of its prompt when one is given). Repeated n-grams — the
// (context, token) windows transformers' WatermarkDetector hashes, context_width + 1 tokens for
// lefthash and context_width for selfhash — are scored once by default (its
// ignore_repeated_ngrams=True), within a response and, for the pooled test, across responses:
// repeated text is not independent evidence (Kirchenbauer et al. 2023, sec. 7; Sander et al.
// 2024 de-duplicate the same way).
// Statistics: z = (green - ratio * scored) / sqrt(scored * ratio * (1 - ratio)) with the key's
// greenlist_ratio, exactly transformers' WatermarkDetector._compute_z_score (so the z-scores
// are equal with dedup off); p = the exact binomial upper tail P(X >= green), X ~ Bin(scored,
// g / V) — the probability a fixed token is green under a random key (stats.h).
// Not here: models (watermark_model.h), the CLI.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/watermark.h"

namespace modelprint {

class Tokenizer;
struct Transcript;

enum class WatermarkVerdict : uint8_t { kWatermarked, kNotDetected, kInconclusive };
std::string_view watermark_verdict_name(WatermarkVerdict v);  // "watermarked", ...

// Every threshold of watermark detection (docs/watermark.md gives the data behind them).
struct WatermarkOptions {
    // p below alpha: `watermarked` (text) / `distilled` evidence (models).
    double alpha = 1e-3;
    bool dedup = true;  // score repeated n-grams once
    // A text is `inconclusive` below the scored count at which a text with the green fraction
    // the key produces on a flat next-token distribution (gamma e^bias / (1 - gamma +
    // gamma e^bias)) would reach p < alpha; the result says how many more tokens that needs.
    // At least this many scored tokens in any case:
    int64_t min_scored = 8;
};

struct GreenCount {
    int64_t tokens = 0;  // tokens read
    int64_t scored = 0;  // tokens scored (after de-duplication)
    int64_t green = 0;
};

struct WatermarkTest {
    GreenCount count;
    double green_fraction = 0.0;  // green / scored (0 when nothing scored)
    double z = 0.0;
    double log_p = 0.0;  // natural log of the binomial p-value
    double p_value = 1.0;
    WatermarkVerdict verdict = WatermarkVerdict::kInconclusive;
    int64_t tokens_needed = 0;  // more scored tokens needed when inconclusive
};

// Green counting with de-duplication across calls (for the pooled count).
class GreenCounter {
public:
    GreenCounter(const GreenLists& lists, bool dedup) : lists_(&lists), dedup_(dedup) {}
    // Scores ids[start..] (each with the context_width ids before it, selfhash
    // context_width - 1; start is raised to that): the count of this sequence alone (de-duplicated
    // within it) is returned, and the pooled count (de-duplicated across every call) is updated.
    // kOutOfRange for an id outside the key's vocabulary.
    Result<GreenCount> add(std::span<const int32_t> ids, size_t start = 0);
    const GreenCount& pooled() const { return pooled_; }

private:
    const GreenLists* lists_;
    bool dedup_;
    std::set<std::vector<int32_t>> seen_;
    GreenCount pooled_;
};

// Scored tokens needed for a conclusive test under `o` (see WatermarkOptions::min_scored).
int64_t watermark_tokens_needed(const GreenLists& lists, const WatermarkOptions& o);
WatermarkTest watermark_test(const GreenLists& lists, const GreenCount& c,
                             const WatermarkOptions& o);

// One response of a transcript as token ids: its prompt (or BOS) then the response; scoring
// starts at `start` (the first response token).
struct ScoredSequence {
    std::string id;  // the entry's id ("#k" appended for the k-th answer of a line with several)
    std::vector<int32_t> ids;
    size_t start = 0;
};
struct TextDetection {
    std::vector<std::pair<std::string, WatermarkTest>> responses;
    WatermarkTest pooled;  // de-duplicated across responses
};
// Every answer of every line of the transcript, tokenized with `tok` (the key's tokenizer).
Result<std::vector<ScoredSequence>> transcript_sequences(const Transcript& t, const Tokenizer& tok);
// Per-sequence and pooled tests (kOutOfRange for an id outside the key's vocabulary).
Result<TextDetection> detect_sequences(const GreenLists& lists,
                                       const std::vector<ScoredSequence>& sequences,
                                       const WatermarkOptions& o);
// `n` keys like `key` (scheme, width, ratio, bias, vocabulary) with fresh hashing keys from a
// generator seeded with `seed`, never `key`'s own: keys the data cannot know, for checking a
// test's calibration (`watermark detect --null-keys`, the compare section). Reproducible.
std::vector<WatermarkKey> null_watermark_keys(const WatermarkKey& key, int n, uint64_t seed);

}  // namespace modelprint

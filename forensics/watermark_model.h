// Watermark radioactivity of a model (Sander et al. 2024, "Watermarking Makes Language Models
// Radioactive"): was the suspect trained on text watermarked with this key?
//
// (a) generation mode: the suspect samples continuations of the prompts (no watermark); the
//     text is re-tokenized with the teacher's (the key's) tokenizer and green-counted with
//     de-duplication (watermark.h): exact binomial p-value.
// (b) open-model mode: the suspect's next-token distribution after every prefix of that text
//     (its own, unwatermarked, so the contexts do not depend on the key), grouped by the green
//     list's seed. For a group h with summed distribution X_h (over the teacher's ids; cross-
//     tokenizer suspects put their mass on the teacher ids whose bytes they share, renormalised
//     over the shared ids) the statistic is S_h = sum of X_h over the green list. When the
//     teacher model is at hand X_h is the suspect's minus the teacher's distribution on the same
//     prefixes — the watermark is the only thing a student learns from watermarked samples that
//     the teacher itself does not have, and subtracting the teacher removes most of the
//     key-independent variation of S_h (the reason a plain green-mass test is weak on a small
//     student). A reported variant sums log(p_suspect / p_teacher) instead (a watermark shifts
//     every green id's log-probability alike); on the fixtures the noise of rare ids' log-ratios
//     outweighs that (docs/watermark.md), so the probability difference decides.
//     Under the null (the suspect's weights do not depend on the key), S_h's mean and
//     variance over random keys are exact: lefthash green lists are uniform g-subsets of V ids
//     (mean pi sum X, variance pi (1-pi) [sum X^2 - ((sum X)^2 - sum X^2) / (V - 1)], pi = g/V,
//     Cochran 1977 thm 2.2 for sampling without replacement), selfhash green decisions are
//     independent per candidate (variance pi (1-pi) sum X^2); groups have distinct seeds,
//     hence independent lists. The standardized groups z_h are combined by weighted Stouffer,
//     Z = sum w_h z_h / sqrt(sum w_h^2) with w_h = sqrt(n_h), n_h the positions of the context
//     (Lipták 1958; Whitlock 2005): a context seen n_h times in the watermarked training data
//     carries a learned shift whose z grows like sqrt(n_h) against the student's finite-sample
//     noise, and n_h is counted on the suspect's own key-independent text, so Z is N(0, 1)
//     under the null. Equal weights (the first design) are reported as `open_model_equal`;
//     the measured comparison of both is in docs/watermark.md. The p-value is the normal upper
//     tail (calibration over random keys is measured in docs/watermark.md).
// Not here: the key and green lists (fingerprint/watermark.h), text counting (watermark.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/watermark.h"
#include "forensics/watermark.h"

namespace modelprint {

class Backend;
class Tokenizer;

// How the per-context z's of the open-model test are combined (see the file comment).
enum class ContextWeights : uint8_t { kSqrtPositions, kEqual };

struct RadioactivityOptions {
    WatermarkOptions text;
    ContextWeights weights = ContextWeights::kSqrtPositions;
    int max_new_tokens = 128;  // per prompt, suspect generation
    float temperature = 1.0f;  // suspect sampling (seeded: seed + prompt index)
    uint64_t seed = 0;
    // Cross-tokenizer suspects must share at least this fraction of the teacher's token
    // strings (docs/watermark.md: the byte-level student of the fixtures shares 0.5).
    double min_shared_fraction = 0.25;
    int64_t min_contexts = 16;      // fewer seed groups: the open-model test is inconclusive
    int64_t max_candidates = 1024;  // ids kept per position (top of suspect and of teacher)
    int batch = 8;                  // prefill batch
};

struct GreenMassTest {
    bool reference = false;   // the teacher's distribution was subtracted
    bool log_ratio = false;   // X = summed log(p_suspect / p_teacher) instead of p differences
    ContextWeights weights = ContextWeights::kSqrtPositions;
    int64_t positions = 0;    // prefixes scored
    int64_t contexts = 0;     // seed groups
    double green_mass = 0.0;  // mean over groups of the suspect's green mass
    double expected = 0.0;    // its null expectation (pi)
    double z = 0.0, log_p = 0.0, p_value = 1.0;
    bool conclusive = false;  // contexts >= min_contexts
};

struct RadioactivityResult {
    WatermarkTest generation;           // mode (a)
    GreenMassTest open_model;           // mode (b), decisive: p_s - p_t with a teacher, else plain
    GreenMassTest open_model_logratio;  // mode (b) with log(p_s / p_t) (teacher given; reported)
    GreenMassTest open_model_plain;     // mode (b) without reference
    GreenMassTest open_model_equal;     // the decisive statistic with equal context weights
    bool cross_tokenizer = false;
    int64_t shared_tokens = 0;  // teacher ids with a suspect token of the same bytes
    int64_t teacher_vocab = 0;
    int64_t responses = 0;
};

struct RadioactivityInput {
    Backend* suspect = nullptr;
    const Tokenizer* suspect_tokenizer = nullptr;
    const Tokenizer* teacher_tokenizer = nullptr;  // the key's vocabulary
    Backend* teacher = nullptr;                    // optional reference (teacher_tokenizer's)
    std::vector<std::string> prompts;              // "" is allowed (BOS only)
};

// What the tests need from the models, which does not depend on the key: the suspect's
// samples in the teacher's tokenisation and the summed distributions per context (lefthash:
// the last token, whose seed is the green list's; selfhash: the context_width - 1 tokens before
// the candidate). Collected once, evaluated under any key of the same scheme and width (the
// calibration over random keys of docs/watermark.md).
struct RadioactivityData {
    struct Sample {
        std::vector<int32_t> ids;  // teacher ids
        size_t start = 0;          // first scored position
    };
    struct Context {
        std::vector<int32_t> window;  // lefthash: the context_width tokens before; selfhash: cw - 1
        int64_t n = 0;
        // by teacher id, summed over the context's positions: p_suspect; p_suspect - p_teacher;
        // log(p_suspect / p_teacher)
        std::vector<std::pair<int32_t, double>> plain, ref, logratio;
    };
    SeedingScheme scheme = SeedingScheme::kLeftHash;
    int context_width = 1;
    int64_t vocab = 0;
    bool cross_tokenizer = false, reference = false;
    int64_t shared_tokens = 0, positions = 0;
    std::vector<Sample> samples;
    std::vector<Context> contexts;
};

// The default prompts: `samples` starts cycling through four BOS-only starts and four story
// openings (the fixtures' domain; docs/watermark.md).
std::vector<std::string> default_radioactivity_prompts(int samples);

// kInvalidArgument for no prompts or missing parts; kFailedPrecondition when the suspect shares
// too few token strings with the teacher (the message gives the counts). `lists` gives the
// vocabulary, scheme and width (its hashing key is not used).
Result<RadioactivityData> collect_radioactivity(const GreenLists& lists,
                                                const RadioactivityInput& in,
                                                const RadioactivityOptions& o);
// kInvalidArgument when the key's scheme, width or vocabulary differ from the data's.
Result<RadioactivityResult> evaluate_radioactivity(const GreenLists& lists,
                                                   const RadioactivityData& data,
                                                   const RadioactivityOptions& o);
// collect + evaluate.
Result<RadioactivityResult> watermark_radioactivity(const GreenLists& lists,
                                                    const RadioactivityInput& in,
                                                    const RadioactivityOptions& o);

}  // namespace modelprint

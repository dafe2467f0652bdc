// Benchmark files of the audit, in lm-evaluation-harness conventions, and the text rules that
// turn an item into prompts, few-shot examples, a rendered text (for contamination tests) and
// a graded generation.
//
// File: JSONL, one JSON object per non-blank line (UTF-8; "\r\n" accepted).
//   multiple choice: {"query" | "question" | "prompt": str, "choices": [str, ...] (>= 2),
//                     "gold" | "answer": int index (or one capital letter "A".."Z")}
//   generative:      {"question" | "prompt": str, "answer": str | number}
//   optional "id": str | int (default "#<0-based item index>"); ids must be unique.
//   Other keys are ignored (lm-eval documents carry many).
// Prompt (the scoring context, lm-eval's doc_to_text): "query" verbatim when present (cloze
//   tasks such as HellaSwag/LAMBADA), else "Question: <question>\nAnswer:".
// Target (lm-eval's doc_to_target, used by few-shot examples): the gold choice, or the raw
//   answer string (for GSM8K the whole worked answer "... #### 72"); joined to the prompt with
//   the target delimiter " " and examples joined with the few-shot delimiter "\n\n".
// Answer extraction (generative items; documented in docs/audit.md):
//   1. the generation is cut at the first "\n\n" or "Question:" (lm-eval's `until`);
//   2. numeric mode — when the gold answer holds "####" (GSM8K: gold = text after the last
//      "####") or the gold answer is itself a number — the prediction is the LAST number in the
//      cut generation (regex -?[0-9][0-9,]*(\.[0-9]+)?), commas removed, a trailing ".0…"
//      dropped; gold normalised the same way; equal strings match;
//   3. text mode otherwise: the first line of the cut generation, trimmed, a final "." removed,
//      ASCII lower-cased, must equal the gold normalised the same way.
// Rendered text (the item as a document, for Min-K% and the shuffled-order test):
//   MC:  <query | "Question: " + question>\nA. <c0>\nB. <c1>...\nAnswer: <L>. <gold choice>
//   gen: Question: <question>\nAnswer: <answer>
// Matched control of an MC item: the same rendering with the choices in reverse order (the gold
//   letter follows its choice): the same tokens and the same facts, so a model that never saw
//   the benchmark has no reason to prefer either; a model that memorised the canonical item
//   does. Generative items have no control.
// Not here: scoring with an engine (audit.h), statistics (audit_stats.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

enum class ItemKind : uint8_t { kMultipleChoice, kGenerative };

struct BenchItem {
    std::string id;
    ItemKind kind = ItemKind::kMultipleChoice;
    bool has_query = false;            // prompt is `text` verbatim
    std::string text;                  // query, or question/prompt
    std::vector<std::string> choices;  // MC
    int gold = -1;                     // MC
    std::string answer;                // generative (raw)
};

struct Benchmark {
    std::string path;
    std::string name;    // file name without directory and .jsonl
    std::string sha256;  // of the file's bytes
    std::vector<BenchItem> items;
    int64_t n_multiple_choice = 0;
    int64_t n_generative = 0;
};

// Parses the JSONL text; `what` names it in errors ("bench.jsonl line 3: ..."). kCorruptData for
// malformed lines and broken item rules, naming the line, the key and the value.
Result<Benchmark> parse_benchmark(std::string_view text, std::string_view what);
// Reads and parses a file (kNotFound / kIoError from reading).
Result<Benchmark> load_benchmark(const std::string& path);

std::string item_prompt(const BenchItem& item);
std::string item_target(const BenchItem& item);
// The k few-shot examples of item `index` among n items: the first k of the fixed sample
// seeded_permutation(n, seed)[0..k] that are not the item itself. kInvalidArgument when
// n < k + 1.
Result<std::vector<size_t>> fewshot_indices(size_t n, size_t index, int k, uint64_t seed);
// Few-shot prefix + prompt: target-joined examples, "\n\n"-separated, then the item's prompt.
std::string fewshot_context(const std::vector<BenchItem>& items, const std::vector<size_t>& shots,
                            const BenchItem& item);

// `reversed_choices`: the matched control (see file comment). Generative items ignore it.
std::string render_item_text(const BenchItem& item, bool reversed_choices = false);

// Answer extraction (file comment).
std::string cut_generation(std::string_view generated);
std::optional<std::string> last_number(std::string_view text);
struct Graded {
    bool numeric = false;
    std::string predicted;  // extracted prediction ("" when none found)
    std::string gold;       // normalised gold
    bool correct = false;
};
Graded grade_generation(const BenchItem& item, std::string_view generated);

}  // namespace modelprint

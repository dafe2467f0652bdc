// Watermark keys and green lists: the Kirchenbauer et al. (2023) "A Watermark for Large Language
// Models" scheme exactly as Hugging Face transformers implements it (WatermarkingConfig,
// WatermarkLogitsProcessor and WatermarkDetector in transformers/generation/), so that text
// watermarked by transformers (or a server built on it) is detected here and the other way round.
//
// The construction (read from transformers 5.x logits_process.py; re-derived, not copied):
//   - green list size g = floor(V * greenlist_ratio) for the model's vocabulary size V;
//   - a "random permutation" is torch's CPU randperm: ids 0..n-1, then for i = 0..n-2 swap
//     position i with i + (u32 % (n - i)), u32 drawn from the 32-bit Mersenne Twister seeded with
//     the low 32 bits of the seed (torch.Generator.manual_seed); green = the first g entries;
//   - lefthash: seed = (hashing_key * last token) mod (2^64 - 1) — only the last of the
//     context_width tokens enters the seed (as in transformers), context_width sets where scoring
//     starts and what counts as a repeated n-gram;
//   - selfhash: a fixed table T = randperm(1,000,003) seeded with hashing_key; for the window w
//     (the last context_width tokens ending with the candidate token t),
//     seed = min_j int64(hashing_key * (T[w_j] + 1) * (T[t] + 1)) with int64 wrap-around, taken
//     mod (2^64 - 1) as Python does for negative numbers; t is green when t is in that list.
//     At generation only the 40 best candidates are tried (transformers' rejection sampling).
// Keys are secrets: this file never logs them; callers print only the commitment
// (SHA-256 hex of the canonical key JSON).
// Not here: detection statistics and radioactivity (forensics/watermark*.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

enum class SeedingScheme : uint8_t { kLeftHash, kSelfHash };
std::string_view seeding_scheme_name(SeedingScheme s);  // "lefthash", "selfhash"

// Field names are transformers' WatermarkingConfig's (plus the optional vocab_size binding).
struct WatermarkKey {
    double greenlist_ratio = 0.25;    // (0, 1) exclusive
    double bias = 2.0;                // added to green logits at generation; finite
    uint64_t hashing_key = 15485863;  // [0, 2^63): transformers multiplies it in int64
    SeedingScheme seeding_scheme = SeedingScheme::kLeftHash;
    int context_width = 1;   // [1, kMaxContextWidth]
    int64_t vocab_size = 0;  // the vocabulary the key is bound to (0: unbound)
};
inline constexpr int kMaxContextWidth = 64;
inline constexpr int kSelfHashCandidates = 40;  // transformers' rejection-sampling width
inline constexpr int64_t kSelfHashTableSize = 1000003;

// kCorruptData for JSON that is not an object of the known fields with the right types and
// ranges (unknown fields are rejected too: a typo must not silently fall back to a default).
Result<WatermarkKey> parse_watermark_key(std::string_view json, std::string_view what);
Result<WatermarkKey> load_watermark_key(const std::string& path);
// Canonical JSON (sorted keys, no whitespace) of every field; vocab_size only when bound.
std::string watermark_key_json(const WatermarkKey& key);
// SHA-256 hex of watermark_key_json(key): the commitment that reports carry.
std::string watermark_key_commitment(const WatermarkKey& key);
// A fresh key: hashing_key from the OS random source (63 bits), the other fields from `base`.
Result<WatermarkKey> generate_watermark_key(const WatermarkKey& base);
// Writes the key with file mode 0600, refusing to overwrite an existing file unless `force`.
Status write_watermark_key(const std::string& path, const WatermarkKey& key, bool force);

// torch.randperm(n, generator) on the CPU for a generator seeded with `seed`, truncated to the
// first `keep` entries (the rest of the shuffle does not move them). n in [1, 2^31).
std::vector<int32_t> torch_randperm_prefix(uint64_t seed, int64_t n, int64_t keep);

// Green lists of one key over a vocabulary of V ids. Thread-safe (const methods).
class GreenLists {
public:
    // kInvalidArgument when V < 2 or V disagrees with a bound key, or g = floor(V * ratio) is 0
    // or V.
    static Result<GreenLists> create(const WatermarkKey& key, int64_t vocab_size);

    const WatermarkKey& key() const { return key_; }
    int64_t vocab_size() const { return vocab_; }
    int64_t green_size() const { return green_; }
    // g / V: the probability that a fixed token is green under a random key.
    double gamma() const { return static_cast<double>(green_) / static_cast<double>(vocab_); }
    // Tokens of context a scored token needs before it: context_width.
    int context_width() const { return key_.context_width; }

    // The generator seed for a window (lefthash: the context, whose last token seeds;
    // selfhash: the window ending with the candidate). `window` must be non-empty.
    uint64_t seed(std::span<const int32_t> window) const;
    // The green ids for a seed, in permutation order (g of them).
    std::vector<int32_t> green_ids_for_seed(uint64_t seed) const;
    // lefthash: the green list after `context` (uses its last token).
    std::vector<int32_t> green_ids(std::span<const int32_t> context) const;
    // Whether `token` is green after `context` (the context_width tokens before it; selfhash
    // uses the last context_width - 1 of them and the token itself).
    bool is_green(std::span<const int32_t> context, int32_t token) const;

    // The watermark at generation, as transformers' WatermarkLogitsProcessor.__call__ for one
    // sequence: adds `bias` to the green logits after `ids` (nothing when ids has fewer than
    // context_width tokens). logits has V entries.
    void apply(std::span<const int32_t> ids, std::span<float> logits) const;

private:
    GreenLists() = default;
    WatermarkKey key_;
    int64_t vocab_ = 0, green_ = 0;
    std::shared_ptr<const std::vector<int32_t>> table_;  // selfhash fixed table
};

}  // namespace modelprint

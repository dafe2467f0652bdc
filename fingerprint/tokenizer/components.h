// The text-processing steps of a Hugging Face `tokenizers` pipeline that modelprint supports:
// normalizers (NFC, Prepend, Replace, Strip), pre-tokenizers (Split, ByteLevel, Digits,
// Metaspace) and decoders (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace). Each is a
// tagged struct run by a plain function; "Sequence" is a vector of steps. Semantics follow the
// Rust sources of huggingface/tokenizers (tokenizers/src/{normalizers,pre_tokenizers,decoders}),
// cited per step in components.cpp. Internal header; parsing from JSON is in tokenizer_json.cpp.
// Not here: BPE (bpe.h), added tokens (added_vocab.h), post-processing (tokenizer.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/tokenizer/regex.h"

namespace modelprint::tok {

struct NormalizerStep {
    enum class Kind { kNfc, kPrepend, kReplace, kStrip };
    Kind kind = Kind::kNfc;
    std::string text;     // Prepend: the prefix; Replace: the literal pattern (when no regex)
    std::string content;  // Replace: the replacement
    std::shared_ptr<const Regex> regex;  // Replace {"Regex": ...}
    bool strip_left = false, strip_right = false;
};
Result<std::string> normalize(const std::vector<NormalizerStep>& steps, std::string text);

// The GPT-2 split pattern of the ByteLevel pre-tokenizer (pre_tokenizers/byte_level.rs).
inline constexpr std::string_view kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Rust's char::is_numeric (Nd, Nl, No), used by the Digits pre-tokenizer.
inline constexpr std::string_view kNumericPattern = R"(\p{N})";

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class PrependScheme { kAlways, kFirst, kNever };

struct PreTokenizerStep {
    enum class Kind { kSplit, kByteLevel, kDigits, kMetaspace };
    Kind kind = Kind::kSplit;
    // Split: its pattern; ByteLevel: kGpt2SplitPattern when use_regex (else null); Digits:
    // kNumericPattern; Metaspace: the escaped replacement character.
    std::shared_ptr<const Regex> regex;
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
    bool add_prefix_space = false;   // ByteLevel
    bool individual_digits = false;  // Digits
    std::string replacement;         // Metaspace (one character)
    PrependScheme prepend_scheme = PrependScheme::kAlways;
    bool split = true;  // Metaspace
};

// A piece of pre-tokenized text; `at_start` is true when it begins at offset 0 of the original
// input (Metaspace's prepend_scheme "first" looks at that).
struct PreToken {
    std::string text;
    bool at_start = false;
};
Status pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::vector<PreToken>& pieces);

// Split `text` at matches of `re` the way NormalizedString::split does.
Result<std::vector<std::pair<size_t, size_t>>> split_ranges(const Regex& re, std::string_view text,
                                                            SplitBehavior behavior, bool invert);

struct DecoderStep {
    enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace };
    Kind kind = Kind::kFuse;
    std::string pattern, content;  // Replace (literal); Strip: content is one character
    size_t start = 0, stop = 0;    // Strip
    std::string replacement;       // Metaspace
    bool prepend = true;           // Metaspace: prepend_scheme != never
};
// Runs the chain over the tokens' strings and joins the result (decoders' decode_chain, then
// Decoder::decode's concatenation). Invalid UTF-8 from byte tokens becomes U+FFFD.
std::string decode_chain(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens);

// True when `c` (a code point) is White_Space as Rust's char::is_whitespace defines it.
bool is_unicode_whitespace(uint32_t c);

}  // namespace modelprint::tok

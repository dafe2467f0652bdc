// Regex: a compiled PCRE2 pattern (8-bit, UTF + UCP, JIT when available) used by the Split /
// ByteLevel pre-tokenizers and the Replace normalizer. Internal header of fingerprint/tokenizer/;
// pcre2.h stays in regex.cpp. Patterns are the ones written in tokenizer.json (Oniguruma syntax
// in Hugging Face `tokenizers`; the constructs those files use — \p{L}, \p{N}, (?i:...),
// (?!...) lookaheads, {1,3} — mean the same in PCRE2).
// Invariant: subjects are valid UTF-8 (callers sanitise input first), so matching skips
// PCRE2's UTF check. Thread-safe: find_all may be called concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint::tok {

class Regex {
public:
    // kInvalidArgument naming `what`, the pattern and PCRE2's message when it does not compile.
    static Result<std::shared_ptr<const Regex>> compile(std::string_view pattern,
                                                        std::string_view what);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Non-overlapping, non-empty matches as [begin, end) byte offsets, left to right.
    Result<std::vector<std::pair<size_t, size_t>>> find_all(std::string_view subject) const;
    const std::string& pattern() const { return pattern_; }

private:
    Regex() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::string pattern_;
};

// A literal pattern escaped for use in a regex (Split/Replace with {"String": ...}).
std::string regex_escape(std::string_view literal);

}  // namespace modelprint::tok

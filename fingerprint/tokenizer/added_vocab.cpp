// Added-token matching (see added_vocab.h): a byte trie walked from every position where some
// token can start; the longest token at the leftmost position wins (LeftmostLongest).
#include "fingerprint/tokenizer/added_vocab.h"

#include <algorithm>

#include "fingerprint/tokenizer/components.h"
#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

namespace {
bool is_word_byte(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}
// Start of the run of whitespace that ends at `end` (added_vocabulary.rs space_leftmost_at_end).
size_t whitespace_run_start(std::string_view s, size_t end) {
    size_t b = end;
    while (b > 0) {
        size_t start = b - 1;
        while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
        size_t i = start;
        if (!is_unicode_whitespace(next_code_point(s, i))) break;
        b = start;
    }
    return b;
}
// End of the run of whitespace that starts at `begin` (space_rightmost_at_start).
size_t whitespace_run_end(std::string_view s, size_t begin) {
    size_t e = begin;
    while (e < s.size()) {
        size_t i = e;
        if (!is_unicode_whitespace(next_code_point(s, i))) break;
        e = i;
    }
    return e;
}
}  // namespace

int32_t TokenMatcher::child(int32_t node, uint8_t b) const {
    for (const auto& [c, n] : nodes_[node].children) {
        if (c == b) return n;
    }
    return -1;
}

void TokenMatcher::build(const std::vector<AddedToken>& tokens,
                         const std::vector<std::string>& patterns) {
    nodes_.assign(1, Node{});
    tokens_ = tokens;
    first_byte_.fill(false);
    for (size_t t = 0; t < tokens.size(); ++t) {
        const std::string& p = patterns[t];
        if (p.empty()) continue;
        first_byte_[static_cast<uint8_t>(p[0])] = true;
        int32_t node = 0;
        for (char c : p) {
            const auto b = static_cast<uint8_t>(c);
            int32_t next = child(node, b);
            if (next < 0) {
                next = static_cast<int32_t>(nodes_.size());
                nodes_.push_back(Node{});
                nodes_[node].children.emplace_back(b, next);
            }
            node = next;
        }
        // Two added tokens with the same pattern: the first one listed keeps it.
        if (nodes_[node].token < 0) nodes_[node].token = static_cast<int32_t>(t);
    }
}

std::vector<TextSegment> TokenMatcher::split(std::string_view text) const {
    std::vector<TextSegment> out;
    size_t start_offset = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        if (!first_byte_[static_cast<uint8_t>(text[pos])]) {
            ++pos;
            continue;
        }
        // Longest token starting at pos.
        int32_t node = 0, best = -1;
        size_t best_end = 0;
        for (size_t i = pos; i < text.size(); ++i) {
            node = child(node, static_cast<uint8_t>(text[i]));
            if (node < 0) break;
            if (nodes_[node].token >= 0) {
                best = nodes_[node].token;
                best_end = i + 1;
            }
        }
        if (best < 0) {
            ++pos;
            continue;
        }
        const AddedToken& tok = tokens_[best];
        size_t b = pos, e = best_end;
        if (tok.single_word) {
            const bool start_ok = b == 0 || !is_word_byte(static_cast<uint8_t>(text[b - 1]));
            const bool stop_ok = e == text.size() || !is_word_byte(static_cast<uint8_t>(text[e]));
            if (!start_ok || !stop_ok) {
                pos = e;  // the reference's match iterator resumes after the skipped match
                continue;
            }
        }
        if (tok.lstrip) b = std::max(whitespace_run_start(text, b), start_offset);
        if (tok.rstrip) e = whitespace_run_end(text, e);
        if (b > start_offset) out.push_back(TextSegment{start_offset, b, -1});
        out.push_back(TextSegment{b, e, tok.id});
        start_offset = e;
        pos = e;
    }
    if (start_offset < text.size()) out.push_back(TextSegment{start_offset, text.size(), -1});
    return out;
}

}  // namespace modelprint::tok

// Normalizers, pre-tokenizers and decoders (see components.h). Each step mirrors the Rust
// implementation in huggingface/tokenizers 0.2x:
//   normalizers/{unicode.rs (NFC), prepend.rs, replace.rs, strip.rs}
//   pre_tokenizers/{split.rs, byte_level.rs, digits.rs, metaspace.rs}
//   tokenizer/normalizer.rs (NormalizedString::split, SplitDelimiterBehavior), pattern.rs
//   decoders/{byte_level.rs, byte_fallback.rs, fuse.rs, strip.rs, metaspace.rs},
//   normalizers/replace.rs
// Empty pieces are dropped after every split (PreTokenizedString::split does the same).
#include "fingerprint/tokenizer/components.h"

#include <algorithm>
#include <cctype>

#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

bool is_unicode_whitespace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

namespace {

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view with) {
    if (pattern.empty()) return std::string(text);
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (true) {
        const size_t hit = text.find(pattern, pos);
        if (hit == std::string_view::npos) break;
        out.append(text.substr(pos, hit - pos));
        out.append(with);
        pos = hit + pattern.size();
    }
    out.append(text.substr(pos));
    return out;
}

std::string strip_whitespace(std::string_view s, bool left, bool right) {
    size_t b = 0, e = s.size();
    if (left) {
        while (b < e) {
            size_t i = b;
            if (!is_unicode_whitespace(next_code_point(s, i))) break;
            b = i;
        }
    }
    if (right) {
        while (e > b) {
            size_t start = e - 1;
            while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
            size_t i = start;
            if (!is_unicode_whitespace(next_code_point(s, i))) break;
            e = start;
        }
    }
    return std::string(s.substr(b, e - b));
}

// Applies a split to every piece, keeping the at_start flag for pieces at offset 0.
Status split_pieces(std::vector<PreToken>& pieces, const Regex& re, SplitBehavior behavior,
                    bool invert) {
    std::vector<PreToken> out;
    out.reserve(pieces.size() * 2);
    for (auto& p : pieces) {
        MP_ASSIGN_OR_RETURN(auto ranges, split_ranges(re, p.text, behavior, invert));
        for (const auto& [b, e] : ranges) {
            out.push_back(PreToken{p.text.substr(b, e - b), p.at_start && b == 0});
        }
    }
    pieces = std::move(out);
    return Status::ok_status();
}

}  // namespace

Result<std::string> normalize(const std::vector<NormalizerStep>& steps, std::string text) {
    for (const auto& st : steps) {
        switch (st.kind) {
            case NormalizerStep::Kind::kNfc:
                text = nfc(text);
                break;
            case NormalizerStep::Kind::kPrepend:
                if (!text.empty()) text = st.text + text;
                break;
            case NormalizerStep::Kind::kReplace:
                if (st.regex) {
                    MP_ASSIGN_OR_RETURN(auto ms, st.regex->find_all(text));
                    std::string out;
                    size_t pos = 0;
                    for (const auto& [b, e] : ms) {
                        out.append(text, pos, b - pos);
                        out.append(st.content);
                        pos = e;
                    }
                    out.append(text, pos, std::string::npos);
                    text = std::move(out);
                } else {
                    text = replace_all(text, st.text, st.content);
                }
                break;
            case NormalizerStep::Kind::kStrip:
                text = strip_whitespace(text, st.strip_left, st.strip_right);
                break;
        }
    }
    return text;
}

Result<std::vector<std::pair<size_t, size_t>>> split_ranges(const Regex& re, std::string_view text,
                                                            SplitBehavior behavior, bool invert) {
    struct Piece {
        size_t b, e;
        bool is_match;
    };
    std::vector<Piece> splits;
    if (text.empty()) return std::vector<std::pair<size_t, size_t>>{};
    MP_ASSIGN_OR_RETURN(auto matches, re.find_all(text));
    size_t prev = 0;
    for (const auto& [b, e] : matches) {
        if (prev != b) splits.push_back({prev, b, false});
        splits.push_back({b, e, true});
        prev = e;
    }
    if (prev != text.size()) splits.push_back({prev, text.size(), false});
    if (invert) {
        for (auto& s : splits) s.is_match = !s.is_match;
    }
    // (begin, end, removed)
    std::vector<Piece> out;
    out.reserve(splits.size());
    switch (behavior) {
        case SplitBehavior::kIsolated:
            for (const auto& s : splits) out.push_back({s.b, s.e, false});
            break;
        case SplitBehavior::kRemoved:
            for (const auto& s : splits) out.push_back({s.b, s.e, s.is_match});
            break;
        case SplitBehavior::kMergedWithPrevious: {
            bool previous_match = false;
            for (const auto& s : splits) {
                if (s.is_match && !previous_match && !out.empty()) {
                    out.back().e = s.e;
                } else {
                    out.push_back({s.b, s.e, false});
                }
                previous_match = s.is_match;
            }
            break;
        }
        case SplitBehavior::kMergedWithNext: {
            bool previous_match = false;
            for (auto it = splits.rbegin(); it != splits.rend(); ++it) {
                if (it->is_match && !previous_match && !out.empty()) {
                    out.back().b = it->b;
                } else {
                    out.push_back({it->b, it->e, false});
                }
                previous_match = it->is_match;
            }
            std::reverse(out.begin(), out.end());
            break;
        }
        case SplitBehavior::kContiguous: {
            bool previous_match = false;
            for (const auto& s : splits) {
                if (s.is_match == previous_match && !out.empty()) {
                    out.back().e = s.e;
                } else {
                    out.push_back({s.b, s.e, false});
                }
                previous_match = s.is_match;
            }
            break;
        }
    }
    std::vector<std::pair<size_t, size_t>> ranges;
    ranges.reserve(out.size());
    for (const auto& p : out) {
        if (!p.is_match && p.e > p.b) ranges.emplace_back(p.b, p.e);
    }
    return ranges;
}

Status pre_tokenize(const std::vector<PreTokenizerStep>& steps, std::vector<PreToken>& pieces) {
    for (const auto& st : steps) {
        switch (st.kind) {
            case PreTokenizerStep::Kind::kSplit:
                MP_TRY(split_pieces(pieces, *st.regex, st.behavior, st.invert));
                break;
            case PreTokenizerStep::Kind::kByteLevel: {
                if (st.add_prefix_space) {
                    for (auto& p : pieces) {
                        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
                    }
                }
                if (st.regex)
                    MP_TRY(split_pieces(pieces, *st.regex, SplitBehavior::kIsolated, false));
                std::string mapped;
                for (auto& p : pieces) {
                    byte_level_encode(p.text, mapped);
                    p.text.swap(mapped);
                }
                break;
            }
            case PreTokenizerStep::Kind::kDigits:
                MP_TRY(split_pieces(
                    pieces, *st.regex,
                    st.individual_digits ? SplitBehavior::kIsolated : SplitBehavior::kContiguous,
                    false));
                break;
            case PreTokenizerStep::Kind::kMetaspace: {
                for (auto& p : pieces) {
                    p.text = replace_all(p.text, " ", st.replacement);
                    const bool starts =
                        p.text.compare(0, st.replacement.size(), st.replacement) == 0;
                    if (!starts && (st.prepend_scheme == PrependScheme::kAlways ||
                                    (st.prepend_scheme == PrependScheme::kFirst && p.at_start))) {
                        p.text.insert(0, st.replacement);
                    }
                }
                if (st.split) {
                    MP_TRY(split_pieces(pieces, *st.regex, SplitBehavior::kMergedWithNext, false));
                }
                break;
            }
        }
    }
    std::erase_if(pieces, [](const PreToken& p) { return p.text.empty(); });
    return Status::ok_status();
}

std::string decode_chain(const std::vector<DecoderStep>& steps, std::vector<std::string> tokens) {
    for (const auto& st : steps) {
        switch (st.kind) {
            case DecoderStep::Kind::kByteLevel: {
                std::string bytes, raw;
                for (const auto& t : tokens) {
                    if (byte_level_decode(t, raw)) {
                        bytes += raw;
                    } else {
                        bytes += t;  // a token outside the alphabet contributes its own bytes
                    }
                }
                tokens.assign(1, sanitize_utf8(bytes));
                break;
            }
            case DecoderStep::Kind::kReplace:
                for (auto& t : tokens) t = replace_all(t, st.pattern, st.content);
                break;
            case DecoderStep::Kind::kByteFallback: {
                std::vector<std::string> out;
                std::string pending;
                const auto flush = [&] {
                    if (pending.empty()) return;
                    if (is_valid_utf8(pending)) {
                        out.push_back(pending);
                    } else {
                        for (size_t i = 0; i < pending.size(); ++i)
                            out.emplace_back("\xEF\xBF\xBD");
                    }
                    pending.clear();
                };
                for (auto& t : tokens) {
                    int byte = -1;
                    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
                        std::isxdigit(static_cast<unsigned char>(t[3])) &&
                        std::isxdigit(static_cast<unsigned char>(t[4]))) {
                        byte = std::stoi(t.substr(3, 2), nullptr, 16);
                    }
                    if (byte >= 0) {
                        pending.push_back(static_cast<char>(byte));
                    } else {
                        flush();
                        out.push_back(std::move(t));
                    }
                }
                flush();
                tokens = std::move(out);
                break;
            }
            case DecoderStep::Kind::kFuse: {
                std::string all;
                for (const auto& t : tokens) all += t;
                tokens.assign(1, std::move(all));
                break;
            }
            case DecoderStep::Kind::kStrip:
                for (auto& t : tokens) {
                    // Strip up to `start` leading and `stop` trailing copies of `content`
                    // (one character), counted in characters.
                    const std::string& c = st.content;
                    size_t b = 0, e = t.size();
                    for (size_t k = 0;
                         k < st.start && b + c.size() <= e && t.compare(b, c.size(), c) == 0; ++k) {
                        b += c.size();
                    }
                    for (size_t k = 0; k < st.stop && e >= b + c.size() &&
                                       t.compare(e - c.size(), c.size(), c) == 0;
                         ++k) {
                        e -= c.size();
                    }
                    t = t.substr(b, e - b);
                }
                break;
            case DecoderStep::Kind::kMetaspace:
                for (size_t i = 0; i < tokens.size(); ++i) {
                    tokens[i] =
                        replace_all(tokens[i], st.replacement, (i == 0 && st.prepend) ? "" : " ");
                }
                break;
        }
    }
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
}

}  // namespace modelprint::tok

// AddedVocabulary: the added tokens of a tokenizer (special tokens such as <|im_start|> and
// non-special ones such as <think>), found in text before pre-tokenization so that they are
// never split. Matching follows huggingface/tokenizers tokenizer/added_vocabulary.rs: leftmost-
// longest (aho-corasick MatchKind::LeftmostLongest), honouring single_word, lstrip and rstrip.
// Two sets: tokens with normalized=false match the raw text; tokens with normalized=true match
// the text after normalization (their contents are normalized by the caller).
// Limitation: single_word uses ASCII word characters [A-Za-z0-9_] plus every non-ASCII code point
// counted as a word character (the reference uses Unicode alphanumerics); none of the supported
// families sets single_word.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace modelprint::tok {

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = false;
    bool normalized = false;
    bool lstrip = false, rstrip = false, single_word = false;
};

// A piece of text: either plain text [begin, end) or an added token (id >= 0) that covers it.
struct TextSegment {
    size_t begin = 0, end = 0;
    int32_t id = -1;
};

class TokenMatcher {
public:
    // `patterns[i]` is matched and reported as tokens[i].id with tokens[i]'s flags.
    void build(const std::vector<AddedToken>& tokens, const std::vector<std::string>& patterns);
    bool empty() const { return nodes_.size() <= 1; }
    // Splits `text` into segments; empty text segments are omitted.
    std::vector<TextSegment> split(std::string_view text) const;

private:
    struct Node {
        std::vector<std::pair<uint8_t, int32_t>> children;
        int32_t token = -1;  // index into tokens_
    };
    int32_t child(int32_t node, uint8_t b) const;
    std::vector<Node> nodes_;
    std::vector<AddedToken> tokens_;
    std::array<bool, 256> first_byte_{};
};

}  // namespace modelprint::tok

// TokenizerData: everything a loaded tokenizer is made of (internal header of
// fingerprint/tokenizer/, shared by the tokenizer.json and GGUF loaders and tokenizer.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fingerprint/tokenizer/added_vocab.h"
#include "fingerprint/tokenizer/bpe.h"
#include "fingerprint/tokenizer/components.h"
#include "fingerprint/tokenizer/spm_model.h"

namespace modelprint::tok {

struct TokenizerData {
    std::string source;  // for messages ("qwen3/tokenizer.json")
    std::vector<NormalizerStep> normalizers;
    std::vector<PreTokenizerStep> pre_tokenizers;
    bool has_decoder = false;
    std::vector<DecoderStep> decoders;
    std::unique_ptr<BpeModel> model;
    // A SentencePiece tokenizer.model: when set, `model`, the normalizers, pre-tokenizers,
    // decoders and added tokens are unused and encode/decode follow the sentencepiece library.
    std::unique_ptr<SpmModel> spm;

    std::vector<AddedToken> added;                    // in file order
    std::unordered_map<int32_t, size_t> added_by_id;  // id -> index in `added`
    VocabMap added_by_content;
    TokenMatcher raw_matcher;         // normalized == false
    TokenMatcher normalized_matcher;  // normalized == true (patterns normalized)

    // Post-processor for a single sequence: ids around the text's ids.
    std::vector<int32_t> prefix_ids, suffix_ids;

    bool byte_level = false;   // model tokens are written in the GPT-2 byte alphabet
    std::string space_symbol;  // "▁" when the model writes spaces that way (SentencePiece)
    std::optional<int32_t> bos, eos;
    bool config_add_bos = false;
    std::string chat_template;

    // Builds the matchers from `added` (normalizing the contents of normalized tokens).
    Status finish_added_tokens();
};

}  // namespace modelprint::tok

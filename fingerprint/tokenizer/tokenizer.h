// Tokenizer: text <-> token ids, byte-exact with Hugging Face `tokenizers` for the BPE families
// modelprint supports — byte-level BPE (GPT-2, Llama-3, Qwen2/2.5/3, DeepSeek-V3/R1) and
// SentencePiece-style BPE with byte fallback (Llama-2, Mistral, stories260K) — loaded from
// tokenizer.json (+ tokenizer_config.json) or from a GGUF file's tokenizer.ggml.* vocabulary —
// and SentencePiece `tokenizer.model` files (UNIGRAM and BPE, byte-exact with the
// `sentencepiece` library; used when a repository ships no tokenizer.json: Gemma, Llama-2,
// Mistral v0.1). SentencePiece, like its library, does not recognise control pieces ("<s>")
// written in the text.
// Also: the vocabulary mapping between two tokenizers (tokens meeting on their raw bytes) and
// chat formatting (chat_template.h).
//
// Invalid UTF-8 input: encode() first replaces every maximal ill-formed subpart with U+FFFD, the
// same as Python's bytes.decode("utf-8", errors="replace") before calling the reference.
// Not supported in tokenizer.json (clear kUnsupported errors naming the component):
// WordPiece/Unigram/WordLevel models, BPE dropout and subword prefixes/suffixes, normalizers
// other than NFC, Prepend, Replace, Strip, pre-tokenizers other than Split, ByteLevel, Digits,
// Metaspace, decoders other than ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, and
// pair post-processing.
// Thread-safe: all const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct GgufFile;
namespace tok {
struct TokenizerData;
}

class Tokenizer {
public:
    // `path`: a tokenizer.json file, a SentencePiece .model file, a directory holding one (a
    // model directory; tokenizer.json is preferred to tokenizer.model), or a .gguf file
    // (vocabulary from its metadata). tokenizer_config.json beside tokenizer.json is read
    // when present (bos/eos names, add_bos_token, chat_template); chat_template.jinja or
    // chat_template.json beside it, when present, give the chat template instead
    // (read_chat_template_file in chat_template.h).
    static Result<std::unique_ptr<Tokenizer>> from_file(const std::string& path);
    // From the texts of tokenizer.json and (optional, may be empty) tokenizer_config.json.
    static Result<std::unique_ptr<Tokenizer>> from_json(std::string_view tokenizer_json,
                                                        std::string_view config_json,
                                                        std::string_view what);
    // From the bytes of a SentencePiece tokenizer.model and (optional) tokenizer_config.json.
    // Errors: kCorruptData for malformed protobuf or an invalid model, kUnsupported for
    // options not implemented (model types WORD/CHAR, treat_whitespace_as_suffix, a
    // denormalizer), each naming the file and the field.
    static Result<std::unique_ptr<Tokenizer>> from_sentencepiece(std::string_view model_bytes,
                                                                 std::string_view config_json,
                                                                 std::string_view what);
    // From tokenizer.ggml.* metadata (model "llama" = SentencePiece BPE, "gpt2" = byte-level BPE).
    static Result<std::unique_ptr<Tokenizer>> from_gguf(const GgufFile& gguf,
                                                        std::string_view what = "GGUF");
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Token ids of `text`; add_special_tokens applies the post-processor (e.g. BOS), exactly as
    // tokenizers' Tokenizer.encode(text, add_special_tokens=...). Special tokens written in the
    // text are always recognised.
    Result<std::vector<int32_t>> encode(std::string_view text,
                                        bool add_special_tokens = true) const;
    // Text of `ids` (Tokenizer.decode); kOutOfRange names an id the vocabulary lacks.
    Result<std::string> decode(std::span<const int32_t> ids, bool skip_special = false) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    // The token's string as the vocabulary writes it ("Ġthe", "▁the", "<|im_end|>"); empty
    // when the id is not in the vocabulary.
    std::string id_to_token(int32_t id) const;
    // The raw bytes the token stands for (" the" for both "Ġthe" and "▁the", one byte for
    // "<0x0A>"); an added/special token stands for its content. nullopt for unknown ids.
    std::optional<std::string> token_bytes(int32_t id) const;
    // One more than the largest id (model vocabulary and added tokens).
    int64_t vocab_size() const;
    bool is_special(int32_t id) const;
    std::optional<int32_t> bos_id() const;
    std::optional<int32_t> eos_id() const;
    // tokenizer_config.json's add_bos_token (or GGUF's tokenizer.ggml.add_bos_token); informs
    // callers that a model expects BOS even where the tokenizer.json post-processor adds none.
    bool config_adds_bos() const;
    // The chat template text (chat_template.jinja / .json, tokenizer_config.json or GGUF
    // tokenizer.chat_template; "" if none).
    const std::string& chat_template_source() const;
    // "byte-level BPE" or "SentencePiece BPE" and the source it was loaded from.
    std::string describe() const;

private:
    explicit Tokenizer(std::unique_ptr<tok::TokenizerData> data);
    std::unique_ptr<tok::TokenizerData> d_;
};

// Ids of `a` and `b` whose tokens stand for the same bytes (Tokenizer::token_bytes), sorted by
// a's id. Special/added tokens meet only when their contents are equal; a token whose bytes are
// shared by several ids of one side maps from the lowest of them.
struct VocabMapping {
    std::vector<std::pair<int32_t, int32_t>> pairs;
    int64_t vocab_a = 0, vocab_b = 0;
};
VocabMapping map_vocabularies(const Tokenizer& a, const Tokenizer& b);

}  // namespace modelprint

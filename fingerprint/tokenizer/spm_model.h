// SentencePiece models (the `tokenizer.model` that Llama-2, Mistral v0.1 and Gemma repositories
// ship): the ModelProto read from its protobuf bytes (spm_proto.cpp) and an encoder/decoder that
// reproduces the `sentencepiece` library byte for byte (spm_model.cpp): the normalizer
// (precompiled charsmap, dummy prefix, extra-whitespace removal, "▁" escaping, user-defined
// pieces kept as written), the UNIGRAM model (Viterbi over piece scores) and the BPE model
// (score-ordered merges of adjacent symbols), unknown-run merging or byte fallback to <0xXX>
// pieces, and decoding. Reference: google/sentencepiece src/{normalizer,unigram_model,
// bpe_model,model_interface,sentencepiece_processor}.cc (read, not copied).
// Refused with kUnsupported naming the option: model types WORD and CHAR,
// treat_whitespace_as_suffix, a denormalizer charsmap. Everything else a file can hold that is
// not valid (pieces, bytes, charsmap) is kCorruptData.
// Thread-safe: the model is immutable after build(); encode/decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint::tok {

// ModelProto.SentencePiece.Type (sentencepiece_model.proto).
enum class SpmPieceType : uint8_t {
    kNormal = 1,
    kUnknown = 2,
    kControl = 3,
    kUserDefined = 4,
    kUnused = 5,
    kByte = 6
};
// TrainerSpec.ModelType.
enum class SpmModelType : uint8_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct SpmPiece {
    std::string piece;
    float score = 0.0f;
    SpmPieceType type = SpmPieceType::kNormal;
};

// The fields of ModelProto that change how text is encoded or decoded (defaults as in
// sentencepiece_model.proto). Training-only fields are skipped.
struct SpmModelProto {
    std::vector<SpmPiece> pieces;
    SpmModelType model_type = SpmModelType::kUnigram;
    bool byte_fallback = false;
    bool treat_whitespace_as_suffix = false;
    std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
    std::string unk_surface = " \xE2\x81\x87 ";  // " ⁇ "
    // NormalizerSpec
    std::string normalizer_name;
    std::string precompiled_charsmap;
    bool add_dummy_prefix = true;
    bool remove_extra_whitespaces = true;
    bool escape_whitespaces = true;
    bool denormalizer_has_charsmap = false;
};

// Limits on what a file may claim (Gemma 3 has 262,144 pieces; the largest known model files
// are a few MB).
inline constexpr size_t kSpmMaxFileBytes = size_t{256} << 20;
inline constexpr size_t kSpmMaxPieces = size_t{1} << 22;
inline constexpr size_t kSpmMaxPieceBytes = size_t{1} << 16;
struct SpmLimits {
    size_t max_file_bytes = kSpmMaxFileBytes;
    size_t max_pieces = kSpmMaxPieces;
    size_t max_piece_bytes = kSpmMaxPieceBytes;
};

// Parses the serialized ModelProto. Errors (kCorruptData) name the file (`what`), the field and
// the byte offset: malformed wire format, wrong wire types, unknown enum values, non-finite
// scores, empty or invalid-UTF-8 pieces, limits above.
Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes, std::string_view what,
                                            const SpmLimits& limits = {});

class SpmModel {
public:
    // Validates (as ModelInterface::InitializePieces does: one UNKNOWN piece, no duplicate
    // pieces, byte pieces only with byte_fallback and then all 256 of them, a well-formed
    // charsmap) and builds the lookup structures.
    static Result<std::unique_ptr<SpmModel>> build(SpmModelProto proto, std::string_view what);
    ~SpmModel();

    // Ids of `text` (valid UTF-8), as SentencePieceProcessor::Encode without BOS/EOS.
    // kCorruptData only for a charsmap entry pointing outside its string blob.
    Result<std::vector<int32_t>> encode(std::string_view text) const;
    // Text of `ids` as SentencePieceProcessor::Decode (control pieces vanish, unknown pieces
    // become unk_surface, byte pieces are joined and invalid UTF-8 becomes U+FFFD per byte, the
    // leading "▁" is dropped). kOutOfRange names an id outside 0..size()-1.
    Result<std::string> decode(std::span<const int32_t> ids) const;

    int64_t size() const { return static_cast<int64_t>(proto_.pieces.size()); }
    const SpmPiece& piece(int32_t id) const { return proto_.pieces[static_cast<size_t>(id)]; }
    bool valid_id(int32_t id) const { return id >= 0 && id < size(); }
    // The id of a piece string as the model looks it up (reserved pieces first); nullopt when
    // absent (the library would answer unk).
    std::optional<int32_t> piece_to_id(std::string_view piece) const;
    // The byte a BYTE piece stands for; nullopt for other ids.
    std::optional<uint8_t> byte_of(int32_t id) const;
    std::optional<int32_t> bos_id() const { return control_id(proto_.bos_piece); }
    std::optional<int32_t> eos_id() const { return control_id(proto_.eos_piece); }
    int32_t unk_id() const { return unk_id_; }
    const SpmModelProto& proto() const { return proto_; }
    std::string describe() const;

    struct Trie;
    class Normalizer;

private:
    SpmModel() = default;
    std::optional<int32_t> control_id(const std::string& piece) const;
    int32_t lookup(std::string_view piece) const;  // PieceToId: unk when absent
    void encode_unigram(std::string_view normalized,
                        std::vector<std::pair<std::string_view, int32_t>>& out) const;
    void encode_bpe(std::string_view normalized,
                    std::vector<std::pair<std::string_view, int32_t>>& out) const;

    SpmModelProto proto_;
    std::string what_;
    struct StrHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using Map = std::unordered_map<std::string, int32_t, StrHash, std::equal_to<>>;
    Map normal_;    // NORMAL, USER_DEFINED, UNUSED
    Map reserved_;  // CONTROL, UNKNOWN, BYTE
    int32_t unk_id_ = -1;
    int32_t byte_ids_[256] = {};
    float min_score_ = 0.0f;             // lowest NORMAL score (the unknown node scores min - 10)
    std::unique_ptr<Trie> pieces_trie_;  // normal_ (unigram lattice)
    std::unique_ptr<Trie> user_defined_trie_;  // USER_DEFINED pieces (prefix matcher)
    std::unique_ptr<Normalizer> normalizer_;
};

}  // namespace modelprint::tok

// parse_spm_model_proto: the serialized SentencePiece ModelProto (sentencepiece_model.proto,
// proto2) read with the hardened wire reader. Field numbers: ModelProto {pieces = 1,
// trainer_spec = 2, normalizer_spec = 3, denormalizer_spec = 5}; SentencePiece {piece = 1,
// score = 2 (float), type = 3 (enum)}; TrainerSpec {model_type = 3, treat_whitespace_as_suffix
// = 24, byte_fallback = 35, unk_surface = 44, unk_piece = 45, bos_piece = 46, eos_piece = 47,
// pad_piece = 48}; NormalizerSpec {name = 1, precompiled_charsmap = 2, add_dummy_prefix = 3,
// remove_extra_whitespaces = 4, escape_whitespaces = 5}. Other fields (training options, the
// self-test data) are skipped unparsed. As in protobuf, a repeated scalar field keeps its last
// value. The schema is fixed at two levels of nesting, so the depth is bounded by construction.
#include <bit>
#include <cmath>

#include "fingerprint/tokenizer/protobuf_wire.h"
#include "fingerprint/tokenizer/spm_model.h"
#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {
namespace {

using pb::Field;
using pb::Reader;
using pb::WireType;

Status expect(const Reader& r, const Field& f, std::string_view name, WireType t) {
    if (f.type != t) return r.wrong_type(f, name, t);
    return Status::ok_status();
}

Status read_string(const Reader& r, const Field& f, std::string_view name, std::string& out,
                   bool utf8 = true) {
    MP_TRY(expect(r, f, name, WireType::kLen));
    if (utf8 && !is_valid_utf8(f.bytes)) {
        return corrupt_data("{}: {} at byte {} is not valid UTF-8", r.what(), name, f.offset);
    }
    out.assign(f.bytes);
    return Status::ok_status();
}

Status read_bool(const Reader& r, const Field& f, std::string_view name, bool& out) {
    MP_TRY(expect(r, f, name, WireType::kVarint));
    out = f.value != 0;
    return Status::ok_status();
}

Status parse_piece(std::string_view bytes, std::string what, size_t base, size_t max_bytes,
                   SpmPiece& p) {
    Reader r(bytes, std::move(what), base);
    Field f;
    bool has_piece = false;
    for (;;) {
        MP_ASSIGN_OR_RETURN(const bool more, r.next(f));
        if (!more) break;
        switch (f.number) {
            case 1:
                MP_TRY(read_string(r, f, "piece", p.piece));
                has_piece = true;
                break;
            case 2: {
                MP_TRY(expect(r, f, "score", WireType::kFixed32));
                p.score = std::bit_cast<float>(static_cast<uint32_t>(f.value));
                if (!std::isfinite(p.score)) {
                    return corrupt_data("{}: score at byte {} is not finite", r.what(), f.offset);
                }
                break;
            }
            case 3: {
                MP_TRY(expect(r, f, "type", WireType::kVarint));
                if (f.value < 1 || f.value > 6) {
                    return corrupt_data(
                        "{}: type {} at byte {} is not a SentencePiece type "
                        "(1..6: NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, "
                        "BYTE)",
                        r.what(), f.value, f.offset);
                }
                p.type = static_cast<SpmPieceType>(f.value);
                break;
            }
            default:
                break;
        }
    }
    if (!has_piece || p.piece.empty()) return corrupt_data("{}: empty piece", r.what());
    if (p.piece.size() > max_bytes) {
        return corrupt_data("{}: piece of {} bytes exceeds the limit of {}", r.what(),
                            p.piece.size(), max_bytes);
    }
    return Status::ok_status();
}

Status parse_trainer(std::string_view bytes, std::string what, size_t base, SpmModelProto& m) {
    Reader r(bytes, std::move(what), base);
    Field f;
    for (;;) {
        MP_ASSIGN_OR_RETURN(const bool more, r.next(f));
        if (!more) break;
        switch (f.number) {
            case 3: {
                MP_TRY(expect(r, f, "model_type", WireType::kVarint));
                if (f.value < 1 || f.value > 4) {
                    return corrupt_data(
                        "{}: model_type {} at byte {} is not one of UNIGRAM(1), "
                        "BPE(2), WORD(3), CHAR(4)",
                        r.what(), f.value, f.offset);
                }
                m.model_type = static_cast<SpmModelType>(f.value);
                break;
            }
            case 24:
                MP_TRY(read_bool(r, f, "treat_whitespace_as_suffix", m.treat_whitespace_as_suffix));
                break;
            case 35:
                MP_TRY(read_bool(r, f, "byte_fallback", m.byte_fallback));
                break;
            case 44:
                MP_TRY(read_string(r, f, "unk_surface", m.unk_surface));
                break;
            case 45:
                MP_TRY(read_string(r, f, "unk_piece", m.unk_piece));
                break;
            case 46:
                MP_TRY(read_string(r, f, "bos_piece", m.bos_piece));
                break;
            case 47:
                MP_TRY(read_string(r, f, "eos_piece", m.eos_piece));
                break;
            case 48:
                MP_TRY(read_string(r, f, "pad_piece", m.pad_piece));
                break;
            default:
                break;
        }
    }
    return Status::ok_status();
}

Status parse_normalizer(std::string_view bytes, std::string what, size_t base, SpmModelProto& m,
                        bool denormalizer) {
    Reader r(bytes, std::move(what), base);
    Field f;
    for (;;) {
        MP_ASSIGN_OR_RETURN(const bool more, r.next(f));
        if (!more) break;
        if (denormalizer) {
            if (f.number == 2) {
                MP_TRY(expect(r, f, "precompiled_charsmap", WireType::kLen));
                m.denormalizer_has_charsmap = !f.bytes.empty();
            }
            continue;
        }
        switch (f.number) {
            case 1:
                MP_TRY(read_string(r, f, "name", m.normalizer_name));
                break;
            case 2:
                MP_TRY(read_string(r, f, "precompiled_charsmap", m.precompiled_charsmap, false));
                break;
            case 3:
                MP_TRY(read_bool(r, f, "add_dummy_prefix", m.add_dummy_prefix));
                break;
            case 4:
                MP_TRY(read_bool(r, f, "remove_extra_whitespaces", m.remove_extra_whitespaces));
                break;
            case 5:
                MP_TRY(read_bool(r, f, "escape_whitespaces", m.escape_whitespaces));
                break;
            default:
                break;
        }
    }
    return Status::ok_status();
}

}  // namespace

Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes, std::string_view what,
                                            const SpmLimits& limits) {
    if (bytes.size() > limits.max_file_bytes) {
        return corrupt_data("{}: {} bytes exceeds the limit of {} bytes for a SentencePiece model",
                            what, bytes.size(), limits.max_file_bytes);
    }
    SpmModelProto m;
    Reader r(bytes, fmt::format("{}: ModelProto", what));
    Field f;
    for (;;) {
        MP_ASSIGN_OR_RETURN(const bool more, r.next(f));
        if (!more) break;
        switch (f.number) {
            case 1: {
                MP_TRY(expect(r, f, "pieces", WireType::kLen));
                if (m.pieces.size() >= limits.max_pieces) {
                    return corrupt_data("{}: more than {} pieces", r.what(), limits.max_pieces);
                }
                SpmPiece p;
                MP_TRY(parse_piece(f.bytes,
                                   fmt::format("{}: ModelProto.pieces[{}]", what, m.pieces.size()),
                                   r.payload_base(f), limits.max_piece_bytes, p));
                m.pieces.push_back(std::move(p));
                break;
            }
            case 2:
                MP_TRY(expect(r, f, "trainer_spec", WireType::kLen));
                MP_TRY(parse_trainer(f.bytes, fmt::format("{}: ModelProto.trainer_spec", what),
                                     r.payload_base(f), m));
                break;
            case 3:
            case 5:
                MP_TRY(expect(r, f, f.number == 3 ? "normalizer_spec" : "denormalizer_spec",
                              WireType::kLen));
                MP_TRY(parse_normalizer(
                    f.bytes,
                    fmt::format("{}: ModelProto.{}", what,
                                f.number == 3 ? "normalizer_spec" : "denormalizer_spec"),
                    r.payload_base(f), m, f.number == 5));
                break;
            default:
                break;
        }
    }
    if (m.pieces.empty()) return corrupt_data("{}: ModelProto has no pieces", what);
    return m;
}

}  // namespace modelprint::tok

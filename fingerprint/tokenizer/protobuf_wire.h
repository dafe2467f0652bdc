// A reader of the Protocol Buffers wire format (protobuf.dev/programming-guides/encoding) for
// untrusted bytes: it walks one message's fields in order and hands out varints, fixed 32/64-bit
// values and length-delimited payloads as views into the input. It is what the SentencePiece
// loader (spm_proto.cpp) needs and nothing more: no descriptors, no reflection, no writing.
// Hardened: every read is bounds-checked; a varint longer than 10 bytes or overflowing 64 bits,
// field number 0 or above 2^29-1, wire types 3/4 (groups: deprecated, never used by the formats
// read here) and 6/7, and a length running past the end are kCorruptData errors naming the
// message, the field and the byte offset. Nesting depth is bounded by the caller, which parses a
// fixed schema (a nested message is read by a new Reader over the payload; unknown fields are
// skipped without being parsed), so no input can make the reader recurse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fingerprint/base/status.h"

namespace modelprint::pb {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };
std::string_view wire_type_name(WireType t);

struct Field {
    uint32_t number = 0;
    WireType type = WireType::kVarint;
    uint64_t value = 0;      // kVarint, kFixed64, kFixed32 (zero-extended)
    std::string_view bytes;  // kLen: the payload
    size_t offset = 0;       // offset of the tag, from the start of the outermost input
};

class Reader {
public:
    // `what` names the message in errors ("tokenizer.model: ModelProto.pieces[3]"); `base` is
    // the offset of `data` inside the outermost input (for messages only).
    Reader(std::string_view data, std::string what, size_t base = 0)
        : data_(data), what_(std::move(what)), base_(base) {}

    // Reads the next field into `f`; false at the end of the message.
    Result<bool> next(Field& f);
    // An error for a field whose wire type is not the one the schema gives it.
    Status wrong_type(const Field& f, std::string_view field_name, WireType expected) const;
    const std::string& what() const { return what_; }
    // Offset of `f.bytes` inside the outermost input (for a nested Reader).
    size_t payload_base(const Field& f) const {
        return base_ + static_cast<size_t>(f.bytes.data() - data_.data());
    }

private:
    Result<uint64_t> varint(const char* name);
    std::string_view data_;
    std::string what_;
    size_t base_ = 0;
    size_t pos_ = 0;
};

}  // namespace modelprint::pb

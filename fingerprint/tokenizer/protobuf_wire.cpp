// Protocol Buffers wire-format reader (see protobuf_wire.h). Encoding rules from
// protobuf.dev/programming-guides/encoding: a tag is the varint (field_number << 3 | wire_type);
// varints are little-endian base-128 groups of at most 10 bytes; fixed32/fixed64 are little
// endian; a length-delimited field is a varint length followed by that many bytes.
#include "fingerprint/tokenizer/protobuf_wire.h"

#include <cstring>

namespace modelprint::pb {

std::string_view wire_type_name(WireType t) {
    switch (t) {
        case WireType::kVarint:
            return "varint";
        case WireType::kFixed64:
            return "fixed64";
        case WireType::kLen:
            return "length-delimited";
        case WireType::kFixed32:
            return "fixed32";
    }
    return "?";
}

Result<uint64_t> Reader::varint(const char* name) {
    const size_t start = pos_;
    uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
        if (pos_ >= data_.size()) {
            return corrupt_data("{}: truncated {} at byte {} (input ends inside the varint)", what_,
                                name, base_ + start);
        }
        const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
        if (i == 9 && b > 1) {
            return corrupt_data("{}: {} at byte {} overflows 64 bits", what_, name, base_ + start);
        }
        v |= uint64_t{b & 0x7Fu} << (7 * i);
        if ((b & 0x80) == 0) return v;
    }
    return corrupt_data("{}: {} at byte {} is longer than 10 bytes", what_, name, base_ + start);
}

Result<bool> Reader::next(Field& f) {
    if (pos_ >= data_.size()) return false;
    f = Field{};
    f.offset = base_ + pos_;
    MP_ASSIGN_OR_RETURN(const uint64_t tag, varint("tag"));
    const uint64_t number = tag >> 3;
    const uint32_t wt = static_cast<uint32_t>(tag & 7);
    if (number == 0 || number > (uint64_t{1} << 29) - 1) {
        return corrupt_data("{}: field number {} at byte {} is outside 1..536870911", what_, number,
                            f.offset);
    }
    f.number = static_cast<uint32_t>(number);
    switch (wt) {
        case 0: {
            f.type = WireType::kVarint;
            MP_ASSIGN_OR_RETURN(f.value, varint("varint value"));
            return true;
        }
        case 1:
        case 5: {
            const size_t n = wt == 1 ? 8 : 4;
            if (data_.size() - pos_ < n) {
                return corrupt_data("{}: field {} at byte {}: truncated fixed{} value", what_,
                                    number, f.offset, n * 8);
            }
            uint64_t v = 0;
            for (size_t i = 0; i < n; ++i) {
                v |= uint64_t{static_cast<uint8_t>(data_[pos_ + i])} << (8 * i);
            }
            pos_ += n;
            f.type = wt == 1 ? WireType::kFixed64 : WireType::kFixed32;
            f.value = v;
            return true;
        }
        case 2: {
            MP_ASSIGN_OR_RETURN(const uint64_t len, varint("length"));
            if (len > data_.size() - pos_) {
                return corrupt_data(
                    "{}: field {} at byte {}: length {} runs past the end of the message "
                    "({} bytes left)",
                    what_, number, f.offset, len, data_.size() - pos_);
            }
            f.type = WireType::kLen;
            f.bytes = data_.substr(pos_, static_cast<size_t>(len));
            pos_ += static_cast<size_t>(len);
            return true;
        }
        case 3:
        case 4:
            return corrupt_data("{}: field {} at byte {}: wire type {} (group) is not allowed",
                                what_, number, f.offset, wt);
        default:
            return corrupt_data("{}: field {} at byte {}: invalid wire type {}", what_, number,
                                f.offset, wt);
    }
}

Status Reader::wrong_type(const Field& f, std::string_view field_name, WireType expected) const {
    return corrupt_data("{}: field {} ({}) at byte {} has wire type {}, expected {}", what_,
                        f.number, field_name, f.offset, wire_type_name(f.type),
                        wire_type_name(expected));
}

}  // namespace modelprint::pb

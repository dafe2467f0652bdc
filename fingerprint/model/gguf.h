// GGUF v2/v3 parser (format: ggml docs/gguf.md; gguf-py gguf/gguf_reader.py).
// Layout: magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count | kv pairs | tensor infos
// | padding to general.alignment (default 32) | data. Every count, length and offset is checked
// against the file size before use (no allocation driven by an unchecked count). Tensor dims are
// stored innermost first; TensorInfo.shape is reversed to PyTorch order. v1 is rejected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fingerprint/model/tensor.h"

namespace modelprint {

enum class GgufValueType : uint32_t {
    kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
    kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// One metadata value. Scalars are widened (unsigned -> u64, signed -> i64, floats -> f64) but
// the stored type is kept. Arrays hold scalars or strings (nested arrays are kept too).
struct GgufValue {
    GgufValueType type = GgufValueType::kU8;
    GgufValueType elem_type = GgufValueType::kU8;  // for arrays
    std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
    std::vector<GgufValue> array;

    bool is_array() const { return type == GgufValueType::kArray; }
    bool is_string() const { return type == GgufValueType::kString; }
    // Typed accessors; kInvalidArgument naming `key` when the stored type does not fit.
    Result<int64_t> as_int(std::string_view key) const;
    Result<double> as_float(std::string_view key) const;
    Result<std::string> as_string(std::string_view key) const;
    Result<bool> as_bool(std::string_view key) const;
};

struct GgufFile {
    uint32_t version = 0;
    uint64_t alignment = 32;
    uint64_t data_start = 0;  // absolute offset of the data section
    std::map<std::string, GgufValue> metadata;
    std::vector<TensorInfo> tensors;  // absolute offsets; file_index left 0

    const GgufValue* find(std::string_view key) const;
    Result<int64_t> get_int(std::string_view key) const;        // kNotFound when absent
    Result<double> get_float(std::string_view key) const;
    Result<std::string> get_string(std::string_view key) const;
    // Arrays (kNotFound when absent; kInvalidArgument when not an array of the right kind).
    // Tokenizer arrays (tokenizer.ggml.tokens / .merges: strings; .scores: f32;
    // .token_type: i32) are the main users.
    Result<std::vector<std::string>> get_string_array(std::string_view key) const;
    Result<std::vector<int64_t>> get_int_array(std::string_view key) const;
    Result<std::vector<double>> get_float_array(std::string_view key) const;
};

// Errors are kCorruptData (rule broken: bad magic, truncated, count too large for the file,
// offset out of range, misaligned offset, overlapping tensors, duplicate names/keys) or
// kUnsupported (version 1 or > 3, unknown tensor type), naming the file and the item.
Result<GgufFile> parse_gguf(std::span<const uint8_t> file, std::string_view file_name);

}  // namespace modelprint

// safetensors parser (format: huggingface/safetensors README and safetensors/src/tensor.rs).
// Bytes: N (u64 LE) | N bytes of UTF-8 JSON header | data buffer. parse_safetensors() validates
// everything the reference reader validates plus duplicate names, NUL bytes in names and a
// string-only __metadata__, and returns tensors with absolute offsets into the file. It never
// reads outside `file`. It does not touch tensor data (zero-copy; views come from the caller's map).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/model/tensor.h"

namespace modelprint {

inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;  // the reference reader's limit

struct SafetensorsHeader {
    uint64_t header_size = 0;   // N
    uint64_t data_start = 0;    // 8 + N
    std::map<std::string, std::string> metadata;
    std::vector<TensorInfo> tensors;  // in data-offset order; file_index left 0
};

// `file_name` is used in messages only. Errors are kCorruptData (rule broken) or kUnsupported
// (sub-byte dtype), naming the file, the tensor and the rule.
Result<SafetensorsHeader> parse_safetensors(std::span<const uint8_t> file, std::string_view file_name);

}  // namespace modelprint

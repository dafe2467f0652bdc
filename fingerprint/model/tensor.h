// TensorInfo: where one stored tensor lives (file, byte range), its dtype and its shape.
// Shapes are in PyTorch / Hugging Face order (outermost first) for every format; GGUF's
// innermost-first dims are reversed on load. Offsets are absolute within the file and already
// checked against the file size (parsers guarantee offset + nbytes <= file size).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/dtype.h"

namespace modelprint {

struct TensorInfo {
    std::string name;            // as stored in the file
    DType dtype = DType::kF32;
    std::vector<int64_t> shape;  // PyTorch order; empty = 0-rank scalar
    uint64_t offset = 0;         // absolute byte offset in its file
    uint64_t nbytes = 0;
    uint32_t file_index = 0;     // index into the owning container's file list

    uint64_t numel() const {
        uint64_t n = 1;
        for (int64_t d : shape) n *= static_cast<uint64_t>(d);
        return n;
    }
};

// Checked element count of a shape (kCorruptData on negative dims or overflow).
Result<uint64_t> checked_numel(const std::vector<int64_t>& shape, std::string_view what);

}  // namespace modelprint

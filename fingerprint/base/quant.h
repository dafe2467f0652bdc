// Dequantisation of GGUF block-quantised tensors to f32, one block type per function.
// Block layouts and formulas follow ggml's ggml-common.h (structs block_q4_0 ... block_q6_K) and
// ggml-quants.c (dequantize_row_*). Each function converts n_blocks whole blocks.
#pragma once

#include <cstdint>

#include "fingerprint/base/dtype.h"

namespace modelprint {

// Dequantise n_blocks blocks of type t from src into dst (n_blocks * block_size floats).
// t must be a quantised DType; kUnsupported for block types without a dequantiser.
Status dequantize_blocks(DType t, const uint8_t* src, uint64_t n_blocks, float* dst);

}  // namespace modelprint

// DType: every element type modelprint reads — the safetensors dtypes and GGUF's block-quantised
// types — with sizes and conversion to f32/f64 for analysis.
// Sizes: plain types have block_size 1; GGUF quantised types pack block_size elements into
// block_bytes bytes (ggml-common.h). Sub-byte safetensors types (F4, F6_*) are recognised by
// name and rejected as unsupported. Conversion never reads past n elements' bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "fingerprint/base/status.h"

namespace modelprint {

enum class DType : uint8_t {
    kBool, kU8, kI8, kI16, kU16, kI32, kU32, kI64, kU64,
    kF16, kBF16, kF32, kF64, kC64,
    kF8_E4M3, kF8_E5M2, kF8_E8M0, kF8_E4M3FNUZ, kF8_E5M2FNUZ,
    // GGUF block-quantised types (ggml type ids in gguf_type_id()).
    kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0, kQ8_1, kQ2_K, kQ3_K, kQ4_K, kQ5_K, kQ6_K, kQ8_K,
};

struct DTypeInfo {
    DType dtype;
    std::string_view name;  // safetensors spelling where one exists ("F32"), else ggml's ("Q4_K")
    uint32_t block_size;    // elements per block (1 for plain types)
    uint32_t block_bytes;   // bytes per block
    bool is_float;          // convertible to f32 (floats and quantised floats)
    bool is_quantized;      // GGUF block type
};

const DTypeInfo& dtype_info(DType t);
std::string_view dtype_name(DType t);

// Parse a safetensors dtype string. Unknown strings -> kCorruptData naming the string;
// known-but-unsupported sub-byte types (F4, F6_E2M3, F6_E3M2) -> kUnsupported.
Result<DType> dtype_from_safetensors(std::string_view s);

// GGUF ggml_type id <-> DType. Unknown or unsupported ids give kUnsupported/kCorruptData.
Result<DType> dtype_from_gguf(uint32_t ggml_type);
std::optional<uint32_t> gguf_type_id(DType t);

// Bytes needed for n elements; fails on overflow or when n is not a whole number of blocks.
Result<uint64_t> dtype_nbytes(DType t, uint64_t n_elements);

// Convert n elements stored as `t` in `src` to f32 (dst.size() >= n). src must hold exactly
// dtype_nbytes(t, n) bytes or more. Integer types convert by value; C64 is rejected.
Status convert_to_f32(DType t, std::span<const uint8_t> src, uint64_t n, float* dst);
Status convert_to_f64(DType t, std::span<const uint8_t> src, uint64_t n, double* dst);

// Scalar conversions (exact; IEEE semantics incl. subnormals, inf, nan).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);       // round to nearest even
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);      // round to nearest even
float f8_e4m3_to_f32(uint8_t v);    // OCP FN: no inf, 0x7f/0xff are nan
float f8_e5m2_to_f32(uint8_t v);
float f8_e8m0_to_f32(uint8_t v);    // 2^(v-127), 0xff nan
float f8_e4m3fnuz_to_f32(uint8_t v);  // bias 8, 0x80 nan, no -0
float f8_e5m2fnuz_to_f32(uint8_t v);  // bias 16, 0x80 nan, no -0

// Checked arithmetic used by every parser: false on overflow.
bool checked_mul_u64(uint64_t a, uint64_t b, uint64_t* out);
bool checked_add_u64(uint64_t a, uint64_t b, uint64_t* out);

}  // namespace modelprint

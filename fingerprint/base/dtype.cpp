// DType table, parsing and conversions to f32/f64.
// Float formats: IEEE 754 binary16/bfloat16; FP8 per the OCP 8-bit floating point spec (E4M3 "FN":
// no infinities, S.1111.111 is NaN; E5M2 IEEE-like); FNUZ variants per the GraphCore/AMD
// definitions used by PyTorch (float8_e4m3fnuz/e5m2fnuz: bias 8/16, 0x80 is the only NaN, no -0);
// E8M0 is the MX scale type (2^(e-127), 0xFF NaN).
#include "fingerprint/base/dtype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "fingerprint/base/quant.h"

namespace modelprint {
namespace {

constexpr std::array<DTypeInfo, 31> kTable = {{
    {DType::kBool, "BOOL", 1, 1, false, false},
    {DType::kU8, "U8", 1, 1, false, false},
    {DType::kI8, "I8", 1, 1, false, false},
    {DType::kI16, "I16", 1, 2, false, false},
    {DType::kU16, "U16", 1, 2, false, false},
    {DType::kI32, "I32", 1, 4, false, false},
    {DType::kU32, "U32", 1, 4, false, false},
    {DType::kI64, "I64", 1, 8, false, false},
    {DType::kU64, "U64", 1, 8, false, false},
    {DType::kF16, "F16", 1, 2, true, false},
    {DType::kBF16, "BF16", 1, 2, true, false},
    {DType::kF32, "F32", 1, 4, true, false},
    {DType::kF64, "F64", 1, 8, true, false},
    {DType::kC64, "C64", 1, 8, false, false},
    {DType::kF8_E4M3, "F8_E4M3", 1, 1, true, false},
    {DType::kF8_E5M2, "F8_E5M2", 1, 1, true, false},
    {DType::kF8_E8M0, "F8_E8M0", 1, 1, true, false},
    {DType::kF8_E4M3FNUZ, "F8_E4M3FNUZ", 1, 1, true, false},
    {DType::kF8_E5M2FNUZ, "F8_E5M2FNUZ", 1, 1, true, false},
    {DType::kQ4_0, "Q4_0", 32, 18, true, true},
    {DType::kQ4_1, "Q4_1", 32, 20, true, true},
    {DType::kQ5_0, "Q5_0", 32, 22, true, true},
    {DType::kQ5_1, "Q5_1", 32, 24, true, true},
    {DType::kQ8_0, "Q8_0", 32, 34, true, true},
    {DType::kQ8_1, "Q8_1", 32, 36, true, true},
    {DType::kQ2_K, "Q2_K", 256, 84, true, true},
    {DType::kQ3_K, "Q3_K", 256, 110, true, true},
    {DType::kQ4_K, "Q4_K", 256, 144, true, true},
    {DType::kQ5_K, "Q5_K", 256, 176, true, true},
    {DType::kQ6_K, "Q6_K", 256, 210, true, true},
    {DType::kQ8_K, "Q8_K", 256, 292, true, true},
}};

struct GgufId {
    uint32_t id;
    DType dtype;
};
// ggml_type enum values (ggml.h).
constexpr std::array<GgufId, 20> kGguf = {{
    {0, DType::kF32}, {1, DType::kF16}, {2, DType::kQ4_0}, {3, DType::kQ4_1},
    {6, DType::kQ5_0}, {7, DType::kQ5_1}, {8, DType::kQ8_0}, {9, DType::kQ8_1},
    {10, DType::kQ2_K}, {11, DType::kQ3_K}, {12, DType::kQ4_K}, {13, DType::kQ5_K},
    {14, DType::kQ6_K}, {15, DType::kQ8_K}, {24, DType::kI8}, {25, DType::kI16},
    {26, DType::kI32}, {27, DType::kI64}, {28, DType::kF64}, {30, DType::kBF16},
}};

float bits_to_f32(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}
uint32_t f32_to_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// Generic small-float decoder: ebits exponent bits, mbits mantissa bits, bias.
// nan_all_ones_mant: (exp all ones && mant all ones) is NaN and no infinities (E4M3 FN).
float decode_small(uint8_t v, int ebits, int mbits, int bias, bool ieee_special, bool fn) {
    const int sign = (v >> (ebits + mbits)) & 1;
    const int exp = (v >> mbits) & ((1 << ebits) - 1);
    const int mant = v & ((1 << mbits) - 1);
    const int exp_max = (1 << ebits) - 1;
    float out;
    if (ieee_special && exp == exp_max) {
        out = mant == 0 ? std::numeric_limits<float>::infinity()
                        : std::numeric_limits<float>::quiet_NaN();
    } else if (fn && exp == exp_max && mant == (1 << mbits) - 1) {
        out = std::numeric_limits<float>::quiet_NaN();
    } else if (exp == 0) {
        out = std::ldexp(static_cast<float>(mant), 1 - bias - mbits);
    } else {
        out = std::ldexp(static_cast<float>(mant + (1 << mbits)), exp - bias - mbits);
    }
    return sign ? -out : out;
}

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <typename Out>
Status convert_impl(DType t, std::span<const uint8_t> src, uint64_t n, Out* dst) {
    MP_ASSIGN_OR_RETURN(uint64_t need, dtype_nbytes(t, n));
    if (src.size() < need) {
        return corrupt_data("{} elements of {} need {} bytes, only {} available", n, dtype_name(t),
                            need, src.size());
    }
    const uint8_t* p = src.data();
    switch (t) {
        case DType::kF32:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<float>(p + 4 * i));
            return Status();
        case DType::kF64:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<double>(p + 8 * i));
            return Status();
        case DType::kF16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load<uint16_t>(p + 2 * i));
            return Status();
        case DType::kBF16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load<uint16_t>(p + 2 * i));
            return Status();
        case DType::kF8_E4M3:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f8_e4m3_to_f32(p[i]);
            return Status();
        case DType::kF8_E5M2:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f8_e5m2_to_f32(p[i]);
            return Status();
        case DType::kF8_E8M0:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f8_e8m0_to_f32(p[i]);
            return Status();
        case DType::kF8_E4M3FNUZ:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f8_e4m3fnuz_to_f32(p[i]);
            return Status();
        case DType::kF8_E5M2FNUZ:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f8_e5m2fnuz_to_f32(p[i]);
            return Status();
        case DType::kBool:
        case DType::kU8:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(p[i]);
            return Status();
        case DType::kI8:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(static_cast<int8_t>(p[i]));
            return Status();
        case DType::kI16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<int16_t>(p + 2 * i));
            return Status();
        case DType::kU16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<uint16_t>(p + 2 * i));
            return Status();
        case DType::kI32:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<int32_t>(p + 4 * i));
            return Status();
        case DType::kU32:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<uint32_t>(p + 4 * i));
            return Status();
        case DType::kI64:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<int64_t>(p + 8 * i));
            return Status();
        case DType::kU64:
            for (uint64_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(load<uint64_t>(p + 8 * i));
            return Status();
        case DType::kC64:
            return unsupported("dtype C64 (complex) cannot be converted to a real value");
        default:
            break;
    }
    // Quantised: dequantise block by block through an f32 staging buffer.
    const DTypeInfo& info = dtype_info(t);
    const uint64_t n_blocks = n / info.block_size;
    if constexpr (std::is_same_v<Out, float>) {
        return dequantize_blocks(t, p, n_blocks, dst);
    } else {
        std::array<float, 256> tmp;
        for (uint64_t b = 0; b < n_blocks; ++b) {
            MP_TRY(dequantize_blocks(t, p + b * info.block_bytes, 1, tmp.data()));
            for (uint32_t i = 0; i < info.block_size; ++i) {
                dst[b * info.block_size + i] = tmp[i];
            }
        }
        return Status();
    }
}

}  // namespace

const DTypeInfo& dtype_info(DType t) { return kTable[static_cast<size_t>(t)]; }
std::string_view dtype_name(DType t) { return dtype_info(t).name; }

Result<DType> dtype_from_safetensors(std::string_view s) {
    for (const auto& e : kTable) {
        if (!e.is_quantized && e.name == s) return e.dtype;
    }
    if (s == "F4" || s == "F6_E2M3" || s == "F6_E3M2") {
        return unsupported("unsupported dtype {} (sub-byte float types are not handled)", s);
    }
    return corrupt_data("unknown dtype \"{}\"", s);
}

Result<DType> dtype_from_gguf(uint32_t id) {
    for (const auto& e : kGguf) {
        if (e.id == id) return e.dtype;
    }
    return unsupported("unsupported GGUF tensor type {}", id);
}

std::optional<uint32_t> gguf_type_id(DType t) {
    for (const auto& e : kGguf) {
        if (e.dtype == t) return e.id;
    }
    return std::nullopt;
}

Result<uint64_t> dtype_nbytes(DType t, uint64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (n % info.block_size != 0) {
        return corrupt_data("{} elements is not a whole number of {}-element {} blocks", n,
                            info.block_size, info.name);
    }
    uint64_t out;
    if (!checked_mul_u64(n / info.block_size, info.block_bytes, &out)) {
        return corrupt_data("size of {} elements of {} overflows 64 bits", n, info.name);
    }
    return out;
}

Status convert_to_f32(DType t, std::span<const uint8_t> src, uint64_t n, float* dst) {
    return convert_impl<float>(t, src, n, dst);
}
Status convert_to_f64(DType t, std::span<const uint8_t> src, uint64_t n, double* dst) {
    return convert_impl<double>(t, src, n, dst);
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    if (exp == 0) {
        const float v = std::ldexp(static_cast<float>(mant), -24);
        return sign ? -v : v;
    }
    if (exp == 31) return bits_to_f32(sign | 0x7f800000u | (mant << 13));
    return bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
    const uint32_t x = f32_to_bits(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {  // inf or nan
        return static_cast<uint16_t>(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    }
    if (ax >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to inf
    if (ax < 0x38800000u) {  // subnormal or zero in half
        const float a = bits_to_f32(ax);
        const float scaled = a * 16777216.0f;  // 2^24: units of the smallest subnormal
        const uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));  // RNE (default mode)
        return static_cast<uint16_t>(sign | m);
    }
    const uint32_t mant = ax & 0x7fffffu;
    uint32_t exp = (ax >> 23) - 112;
    uint32_t h = (exp << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
}

float bf16_to_f32(uint16_t h) { return bits_to_f32(static_cast<uint32_t>(h) << 16); }

uint16_t f32_to_bf16(float f) {
    uint32_t x = f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
    const uint32_t lsb = (x >> 16) & 1;
    x += 0x7fffu + lsb;
    return static_cast<uint16_t>(x >> 16);
}

float f8_e4m3_to_f32(uint8_t v) { return decode_small(v, 4, 3, 7, false, true); }
float f8_e5m2_to_f32(uint8_t v) { return decode_small(v, 5, 2, 15, true, false); }
float f8_e8m0_to_f32(uint8_t v) {
    if (v == 0xff) return std::numeric_limits<float>::quiet_NaN();
    return std::ldexp(1.0f, static_cast<int>(v) - 127);
}
float f8_e4m3fnuz_to_f32(uint8_t v) {
    if (v == 0x80) return std::numeric_limits<float>::quiet_NaN();
    return decode_small(v, 4, 3, 8, false, false);
}
float f8_e5m2fnuz_to_f32(uint8_t v) {
    if (v == 0x80) return std::numeric_limits<float>::quiet_NaN();
    return decode_small(v, 5, 2, 16, false, false);
}

bool checked_mul_u64(uint64_t a, uint64_t b, uint64_t* out) {
    return !__builtin_mul_overflow(a, b, out);
}
bool checked_add_u64(uint64_t a, uint64_t b, uint64_t* out) {
    return !__builtin_add_overflow(a, b, out);
}

}  // namespace modelprint

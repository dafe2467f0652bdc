// Dequantisation of GGUF block-quantised tensors to f32.
// Sources: ggml `ggml-common.h` (block_q4_0 ... block_q8_K: field order and sizes) and
// `ggml-quants.c` (dequantize_row_q4_0 ... dequantize_row_q8_K: the formulas). Every function
// reads exactly n_blocks * block_bytes bytes and writes n_blocks * block_size floats; all fields
// are read with memcpy (no alignment assumed) and little-endian order.
// Numerics: each value is computed as ggml's reference does — scale products in f32, left to
// right — and floating-point contraction (FMA) is switched off in this file so the results are
// bit-identical to the unfused reference (gguf-py's numpy `dequantize_blocks`), whatever -mfma
// says. Not here: quantisation (modelprint only reads), Q8_1 (ggml itself has no dequantiser for
// it: it is an activation-only type), and the IQ*/TQ* families (kUnsupported).
#include "fingerprint/base/quant.h"

#include <cstring>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace modelprint {
namespace {

constexpr int kQK = 32;    // QK4_0 == QK4_1 == QK5_0 == QK5_1 == QK8_0
constexpr int kQKK = 256;  // QK_K: super-block size of the K-quants

inline float half_at(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
}

// block_q4_0 {half d; u8 qs[16]}: y[j] = (lo4(qs[j]) - 8) * d, y[j+16] = (hi4(qs[j]) - 8) * d.
void dq_q4_0(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const uint8_t* qs = b + 2;
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
        y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
}

// block_q4_1 {half d; half m; u8 qs[16]}: y = q * d + m.
void dq_q4_1(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const float m = half_at(b + 2);
    const uint8_t* qs = b + 4;
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
        y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
    }
}

// block_q5_0 {half d; u8 qh[4]; u8 qs[16]}: 5-bit q = lo4 | (bit j of qh) << 4, y = (q - 16) * d.
void dq_q5_0(const uint8_t* b, float* y) {
    const float d = half_at(b);
    uint32_t qh;
    std::memcpy(&qh, b + 2, 4);
    const uint8_t* qs = b + 6;
    for (int j = 0; j < kQK / 2; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        y[j] = static_cast<float>(((qs[j] & 0x0F) | h0) - 16) * d;
        y[j + kQK / 2] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
    }
}

// block_q5_1 {half d; half m; u8 qh[4]; u8 qs[16]}: y = q * d + m.
void dq_q5_1(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const float m = half_at(b + 2);
    uint32_t qh;
    std::memcpy(&qh, b + 4, 4);
    const uint8_t* qs = b + 8;
    for (int j = 0; j < kQK / 2; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        y[j] = static_cast<float>((qs[j] & 0x0F) | h0) * d + m;
        y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
    }
}

// block_q8_0 {half d; i8 qs[32]}: y = qs * d.
void dq_q8_0(const uint8_t* b, float* y) {
    const float d = half_at(b);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b[2 + j])) * d;
}

// block_q2_K {u8 scales[16]; u8 qs[64]; half d; half dmin}: 16 sub-blocks of 16, 4-bit scale
// and 4-bit min per sub-block; y = d*sc * q - dmin*m.
void dq_q2_k(const uint8_t* b, float* y) {
    const uint8_t* scales = b;
    const uint8_t* q = b + 16;
    const float d = half_at(b + 80);
    const float dmin = half_at(b + 82);
    int is = 0;
    for (int n = 0; n < kQKK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half = 0; half < 2; ++half) {
                const uint8_t sc = scales[is++];
                const float dl = d * static_cast<float>(sc & 0x0F);
                const float ml = dmin * static_cast<float>(sc >> 4);
                for (int l = 0; l < 16; ++l) {
                    *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
            shift += 2;
        }
        q += 32;
    }
}

// block_q3_K {u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d}: 16 signed 6-bit scales
// (stored minus 32) packed as 4 low bits in bytes 0..7 and 2 high bits in bytes 8..11;
// q = lo2 - (hmask bit clear ? 4 : 0); y = d * (sc - 32) * q.
void dq_q3_k(const uint8_t* b, float* y) {
    const uint8_t* hm = b;
    const uint8_t* q = b + 32;
    const uint8_t* packed = b + 96;
    const float d_all = half_at(b + 108);
    int8_t sc[16];
    for (int i = 0; i < 16; ++i) {
        const int lo = (i < 8) ? (packed[i] & 0x0F) : (packed[i - 8] >> 4);
        const int hi = (packed[8 + (i % 4)] >> (2 * (i / 4))) & 0x03;
        sc[i] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < kQKK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half = 0; half < 2; ++half) {
                const float dl = d_all * static_cast<float>(sc[is++]);
                for (int l = 0; l < 16; ++l) {
                    const int i = l + 16 * half;
                    const int v = ((q[i] >> shift) & 3) - ((hm[i] & m) ? 0 : 4);
                    *y++ = dl * static_cast<float>(v);
                }
            }
            shift += 2;
            m = static_cast<uint8_t>(m << 1);
        }
        q += 32;
    }
}

// get_scale_min_k4 (ggml-quants.c): 8 pairs of 6-bit (scale, min) packed in 12 bytes.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// block_q4_K {half d; half dmin; u8 scales[12]; u8 qs[128]}: 8 sub-blocks of 32;
// y = d*sc * q - dmin*m.
void dq_q4_k(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const float dmin = half_at(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    int is = 0;
    for (int j = 0; j < kQKK; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = dmin * static_cast<float>(m);
        scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = dmin * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// block_q5_K {half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}: as Q4_K with a fifth
// bit from qh (bit 2k / 2k+1 for the k-th 64-element group).
void dq_q5_k(const uint8_t* b, float* y) {
    const float d = half_at(b);
    const float dmin = half_at(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qh = b + 16;
    const uint8_t* ql = b + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQKK; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = dmin * static_cast<float>(m);
        scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = dmin * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) {
            *y++ = d1 * static_cast<float>((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
        }
        for (int l = 0; l < 32; ++l) {
            *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
        ql += 32;
        is += 2;
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

// block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d}: 6-bit q - 32, 16 sub-blocks of 16;
// y = d * sc * q.
void dq_q6_k(const uint8_t* b, float* y) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = half_at(b + 208);
    for (int n = 0; n < kQKK; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
            y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
            y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
            y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

// block_q8_K {float d; i8 qs[256]; i16 bsums[16]}: y = d * qs (bsums are only for dot products).
void dq_q8_k(const uint8_t* b, float* y) {
    float d;
    std::memcpy(&d, b, 4);
    for (int j = 0; j < kQKK; ++j) y[j] = d * static_cast<float>(static_cast<int8_t>(b[4 + j]));
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_fn(DType t) {
    switch (t) {
        case DType::kQ4_0:
            return dq_q4_0;
        case DType::kQ4_1:
            return dq_q4_1;
        case DType::kQ5_0:
            return dq_q5_0;
        case DType::kQ5_1:
            return dq_q5_1;
        case DType::kQ8_0:
            return dq_q8_0;
        case DType::kQ2_K:
            return dq_q2_k;
        case DType::kQ3_K:
            return dq_q3_k;
        case DType::kQ4_K:
            return dq_q4_k;
        case DType::kQ5_K:
            return dq_q5_k;
        case DType::kQ6_K:
            return dq_q6_k;
        case DType::kQ8_K:
            return dq_q8_k;
        default:
            return nullptr;
    }
}

}  // namespace

Status dequantize_blocks(DType t, const uint8_t* src, uint64_t n_blocks, float* dst) {
    const DTypeInfo& info = dtype_info(t);
    if (!info.is_quantized) {
        return invalid_argument("dequantize_blocks: {} is not a block-quantised type", info.name);
    }
    const BlockFn fn = block_fn(t);
    if (fn == nullptr) {
        return unsupported("dequantisation of {} is not supported (ggml defines none for it)",
                           info.name);
    }
    if (n_blocks == 0) return Status();
    if (src == nullptr || dst == nullptr) {
        return invalid_argument("dequantize_blocks: null buffer for {} blocks of {}", n_blocks,
                                info.name);
    }
    for (uint64_t i = 0; i < n_blocks; ++i) {
        fn(src + i * info.block_bytes, dst + i * info.block_size);
    }
    return Status();
}

}  // namespace modelprint

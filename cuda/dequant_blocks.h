// GGUF block decoders shared by the CUDA dequantisation kernels (cuda_dequant.cu) and a host
// test (tests/cuda_kernels_host_test.cpp) that checks them bit for bit against
// fingerprint/base/quant.cpp on the committed gguf-py fixtures, so the device code paths are
// verified on machines without a GPU.
// Formulas: ggml ggml-common.h (block layouts) and ggml-quants.c (dequantize_row_q4_0 ... _q6_K),
// the same as quant.cpp. Products and sums use round-to-nearest intrinsics on the device
// (__fmul_rn/__fadd_rn are never fused into FMA), so device results equal the unfused host
// reference. Plain C++ when not compiled by nvcc (MP_HD expands to nothing): no CUDA header is
// needed to include this file.
// Each decoder reads one whole block at b (no alignment assumed) and emits element j of the
// block through emit(j, value), j in [0, block size).
#pragma once

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#include <cuda_fp16.h>
#define MP_HD __host__ __device__ __forceinline__
#else
#include "fingerprint/base/dtype.h"
#define MP_HD inline
#endif

namespace modelprint::dq {

constexpr int kQK = 32;    // elements per block of Q4_0/Q4_1/Q5_0/Q5_1/Q8_0
constexpr int kQKK = 256;  // elements per super-block of the K-quants

MP_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
MP_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}
MP_HD float half_bits_to_f32(uint16_t h) {
#ifdef __CUDACC__
    return __half2float(__ushort_as_half(h));
#else
    return ::modelprint::f16_to_f32(h);
#endif
}
MP_HD float half_at(const uint8_t* p) {
    return half_bits_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}
MP_HD uint32_t u32_at(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// block_q4_0 {half d; u8 qs[16]}: y[j] = (lo4 - 8) * d, y[j+16] = (hi4 - 8) * d.
template <typename Emit>
MP_HD void q4_0(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    for (int j = 0; j < kQK / 2; ++j) {
        emit(j, mul_rn(static_cast<float>((b[2 + j] & 0x0F) - 8), d));
        emit(j + kQK / 2, mul_rn(static_cast<float>((b[2 + j] >> 4) - 8), d));
    }
}

// block_q4_1 {half d; half m; u8 qs[16]}: y = q * d + m.
template <typename Emit>
MP_HD void q4_1(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    const float m = half_at(b + 2);
    for (int j = 0; j < kQK / 2; ++j) {
        emit(j, add_rn(mul_rn(static_cast<float>(b[4 + j] & 0x0F), d), m));
        emit(j + kQK / 2, add_rn(mul_rn(static_cast<float>(b[4 + j] >> 4), d), m));
    }
}

// block_q5_0 {half d; u8 qh[4]; u8 qs[16]}: q = lo4 | (bit j of qh) << 4, y = (q - 16) * d.
template <typename Emit>
MP_HD void q5_0(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    const uint32_t qh = u32_at(b + 2);
    const uint8_t* qs = b + 6;
    for (int j = 0; j < kQK / 2; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        emit(j, mul_rn(static_cast<float>(((qs[j] & 0x0F) | h0) - 16), d));
        emit(j + kQK / 2, mul_rn(static_cast<float>(((qs[j] >> 4) | h1) - 16), d));
    }
}

// block_q5_1 {half d; half m; u8 qh[4]; u8 qs[16]}: y = q * d + m.
template <typename Emit>
MP_HD void q5_1(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    const float m = half_at(b + 2);
    const uint32_t qh = u32_at(b + 4);
    const uint8_t* qs = b + 8;
    for (int j = 0; j < kQK / 2; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        emit(j, add_rn(mul_rn(static_cast<float>((qs[j] & 0x0F) | h0), d), m));
        emit(j + kQK / 2, add_rn(mul_rn(static_cast<float>((qs[j] >> 4) | h1), d), m));
    }
}

// block_q8_0 {half d; i8 qs[32]}: y = qs * d.
template <typename Emit>
MP_HD void q8_0(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    for (int j = 0; j < kQK; ++j) emit(j, mul_rn(static_cast<float>(static_cast<int8_t>(b[2 + j])), d));
}

// get_scale_min_k4 (ggml-quants.c): 8 pairs of 6-bit (scale, min) packed in 12 bytes.
MP_HD void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// block_q4_K {half d; half dmin; u8 scales[12]; u8 qs[128]}: y = d*sc * q - dmin*m.
template <typename Emit>
MP_HD void q4_k(const uint8_t* b, Emit emit) {
    const float d = half_at(b);
    const float dmin = half_at(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    int is = 0, y = 0;
    for (int j = 0; j < kQKK; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, &sc, &m);
        const float d1 = mul_rn(d, static_cast<float>(sc));
        const float m1 = mul_rn(dmin, static_cast<float>(m));
        scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = mul_rn(d, static_cast<float>(sc));
        const float m2 = mul_rn(dmin, static_cast<float>(m));
        for (int l = 0; l < 32; ++l) emit(y++, add_rn(mul_rn(d1, static_cast<float>(q[l] & 0x0F)), -m1));
        for (int l = 0; l < 32; ++l) emit(y++, add_rn(mul_rn(d2, static_cast<float>(q[l] >> 4)), -m2));
        q += 32;
        is += 2;
    }
}

// block_q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; half d}: 6-bit q - 32, 16 signed 8-bit
// scales; y = d * sc * q.
template <typename Emit>
MP_HD void q6_k(const uint8_t* b, Emit emit) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const uint8_t* sc = b + 192;
    const float d = half_at(b + 208);
    int base = 0;
    for (int n = 0; n < kQKK; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = static_cast<int>((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = static_cast<int>((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = static_cast<int>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = static_cast<int>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            emit(base + l, mul_rn(mul_rn(d, static_cast<float>(static_cast<int8_t>(sc[is]))), static_cast<float>(q1)));
            emit(base + l + 32, mul_rn(mul_rn(d, static_cast<float>(static_cast<int8_t>(sc[is + 2]))), static_cast<float>(q2)));
            emit(base + l + 64, mul_rn(mul_rn(d, static_cast<float>(static_cast<int8_t>(sc[is + 4]))), static_cast<float>(q3)));
            emit(base + l + 96, mul_rn(mul_rn(d, static_cast<float>(static_cast<int8_t>(sc[is + 6]))), static_cast<float>(q4)));
        }
        base += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

// Destination row of stored row r of a GGUF Llama Q/K projection: undoes llama.cpp's
// interleaved-RoPE permutation (convert_hf_to_gguf.py LlamaModel.permute), as
// Model::canonical_f32 does: stored row h*hs + 2i + j goes to h*hs + j*(hs/2) + i.
MP_HD int64_t unpermute_qk_row(int64_t r, int64_t hs) {
    const int64_t h = r / hs, rem = r % hs;
    return h * hs + (rem % 2) * (hs / 2) + rem / 2;
}

}  // namespace modelprint::dq

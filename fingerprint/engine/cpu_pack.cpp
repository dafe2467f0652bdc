// Packing weights into panels in their stored dtype, and dequantising a panel's k-slice to f32
// (see cpu_gemm.h for the product and cpu_pack.h for the geometry).
// Group layouts (32 rows j = 0..31 of one panel; "k" is the position inside the group; halves
// are the stored f16 bits; every field row-lane-major so one load gives 32 (or 8) lanes):
//   F32 / BF16 / F16 (qb 1): the 32 stored elements of one k, 4 or 2 bytes each.
//   Q8_0 (qb 32): d[32] half | qs[32 k][32 j] int8                              1088 B
//   Q4_0 (qb 32): d[32] | nib[32 k][16]                                           576 B
//   Q4_1 (qb 32): d[32] | m[32] | nib[32 k][16]                                   640 B
//   Q5_0 (qb 32): d[32] | qh[32 k] u32 (bit j) | nib[32 k][16]                    704 B
//   Q5_1 (qb 32): d[32] | m[32] | qh[32 k] | nib[32 k][16]                        768 B
//   Q4_K (qb 256): d[32] | dmin[32] | sc[8 sub][32] u8 | mn[8 sub][32] u8 | nib[256 k][16] 4736 B
//   Q5_K (qb 256): as Q4_K, then qh[256 k] u32 before nib                        5760 B
//   Q6_K (qb 256): d[32] | sc[16 sub][32] i8 | nib[256 k][16] | qh2[256 k][2] u32 6720 B
// nib[k][b]: low nibble = row b, high nibble = row b + 16 (the low 4 bits of the quant).
// qh: the 5th bit of row j in bit j. qh2: 2 high bits of row j (j < 16: first word, else second)
// at bits 2*(j % 16). Sub-blocks: 32 k (Q4_K, Q5_K) or 16 k (Q6_K); the K-quants' 6-bit scales
// and mins (get_scale_min_k4) are stored unpacked, one byte each.
// Numerics: each value is the formula of quant.cpp (ggml's dequantize_row_*), in the same
// operation order, with IEEE single-precision vector operations (no FMA contraction: this file
// is compiled with fp-contract off, as quant.cpp is), so it is bit-identical to convert_to_f32.
// Halves convert with F16C plus a fix-up of signalling NaNs to f16_to_f32's bits.
#include "fingerprint/engine/cpu_pack.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "fingerprint/base/thread_pool.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace modelprint {

namespace pack {

FormatLayout layout(PackFormat f) {
    switch (f) {
        case PackFormat::kF32:
            return {1, 128};
        case PackFormat::kBF16:
            return {1, 64};
        case PackFormat::kF16:
            return {1, 64};
        case PackFormat::kQ8_0:
            return {32, 1088};
        case PackFormat::kQ4_0:
            return {32, 576};
        case PackFormat::kQ4_1:
            return {32, 640};
        case PackFormat::kQ5_0:
            return {32, 704};
        case PackFormat::kQ5_1:
            return {32, 768};
        case PackFormat::kQ4_K:
            return {256, 4736};
        case PackFormat::kQ5_K:
            return {256, 5760};
        case PackFormat::kQ6_K:
            return {256, 6720};
    }
    return {1, 128};
}

namespace {

// ---- vector helpers (AVX2 + F16C, the build's baseline)

// 8 halves -> f32, bit-identical to f16_to_f32 (F16C quiets signalling NaNs; f16_to_f32 keeps
// the payload as is).
inline __m256 half8(const uint8_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m256 f = _mm256_cvtph_ps(h);
    const __m256i h32 = _mm256_cvtepu16_epi32(h);
    const __m256i mant = _mm256_and_si256(h32, _mm256_set1_epi32(0x3ff));
    const __m256i expo = _mm256_and_si256(h32, _mm256_set1_epi32(0x7c00));
    const __m256i nan = _mm256_andnot_si256(_mm256_cmpeq_epi32(mant, _mm256_setzero_si256()),
                                            _mm256_cmpeq_epi32(expo, _mm256_set1_epi32(0x7c00)));
    if (!_mm256_testz_si256(nan, nan)) {
        const __m256i sign =
            _mm256_slli_epi32(_mm256_and_si256(h32, _mm256_set1_epi32(0x8000)), 16);
        const __m256i bits = _mm256_or_si256(_mm256_or_si256(sign, _mm256_set1_epi32(0x7f800000)),
                                             _mm256_slli_epi32(mant, 13));
        f = _mm256_blendv_ps(f, _mm256_castsi256_ps(bits), _mm256_castsi256_ps(nan));
    }
    return f;
}

inline __m256 bf16x8(const uint8_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

inline __m256i u8x8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
inline __m256i i8x8(const uint8_t* p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// The 32 low-4-bit quants of one k (16 bytes): q[i] = rows 8i .. 8i+7.
inline void nib32(const uint8_t* p, __m256i q[4]) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i m = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(b, m);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), m);
    q[0] = _mm256_cvtepu8_epi32(lo);
    q[1] = _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8));
    q[2] = _mm256_cvtepu8_epi32(hi);
    q[3] = _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8));
}

// q[i] |= (bit (8i + lane) of word) << 4.
inline void add_bit5(const uint8_t* p, __m256i q[4]) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    const __m256i wv = _mm256_set1_epi32(static_cast<int>(w));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int i = 0; i < 4; ++i) {
        const __m256i sh = _mm256_add_epi32(lane, _mm256_set1_epi32(8 * i));
        const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(wv, sh), one);
        q[i] = _mm256_or_si256(q[i], _mm256_slli_epi32(bit, 4));
    }
}

// q[i] |= (2 bits of row 8i + lane) << 4, from the two words at p.
inline void add_bits56(const uint8_t* p, __m256i q[4]) {
    uint32_t w[2];
    std::memcpy(w, p, 8);
    const __m256i three = _mm256_set1_epi32(3);
    const __m256i sh_lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i sh_hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
    for (int i = 0; i < 4; ++i) {
        const __m256i wv = _mm256_set1_epi32(static_cast<int>(w[i / 2]));
        const __m256i b = _mm256_and_si256(_mm256_srlv_epi32(wv, i % 2 ? sh_hi : sh_lo), three);
        q[i] = _mm256_or_si256(q[i], _mm256_slli_epi32(b, 4));
    }
}

inline void halves32(const uint8_t* p, __m256 v[4]) {
    for (int i = 0; i < 4; ++i) v[i] = half8(p + 16 * i);
}

inline void store_row(float* y, const __m256 v[4]) {
    for (int i = 0; i < 4; ++i) _mm256_store_ps(y + 8 * i, v[i]);
}

// ---- one group -> (qb, 32) floats at y

// Q8_0: y = qs * d.
void dq_q8_0(const uint8_t* g, float* y) {
    __m256 d[4];
    halves32(g, d);
    const uint8_t* qs = g + 64;
    for (int k = 0; k < 32; ++k, y += kNR) {
        __m256 v[4];
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_mul_ps(_mm256_cvtepi32_ps(i8x8(qs + 32 * k + 8 * i)), d[i]);
        }
        store_row(y, v);
    }
}

// Q4_0: y = (q - 8) * d.  Q5_0: y = (q - 16) * d (q with its fifth bit).
template <bool kFive>
void dq_q4_0_q5_0(const uint8_t* g, float* y) {
    __m256 d[4];
    halves32(g, d);
    const uint8_t* qh = g + 64;
    const uint8_t* qs = g + (kFive ? 192 : 64);
    const __m256i off = _mm256_set1_epi32(kFive ? 16 : 8);
    for (int k = 0; k < 32; ++k, y += kNR) {
        __m256i q[4];
        nib32(qs + 16 * k, q);
        if (kFive) add_bit5(qh + 4 * k, q);
        __m256 v[4];
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q[i], off)), d[i]);
        }
        store_row(y, v);
    }
}

// Q4_1 / Q5_1: y = q * d + m.
template <bool kFive>
void dq_q4_1_q5_1(const uint8_t* g, float* y) {
    __m256 d[4], m[4];
    halves32(g, d);
    halves32(g + 64, m);
    const uint8_t* qh = g + 128;
    const uint8_t* qs = g + (kFive ? 256 : 128);
    for (int k = 0; k < 32; ++k, y += kNR) {
        __m256i q[4];
        nib32(qs + 16 * k, q);
        if (kFive) add_bit5(qh + 4 * k, q);
        __m256 v[4];
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(q[i]), d[i]), m[i]);
        }
        store_row(y, v);
    }
}

// Q4_K / Q5_K: per sub-block of 32, d1 = d * sc, m1 = dmin * mn; y = d1 * q - m1.
template <bool kFive>
void dq_q4_k_q5_k(const uint8_t* g, float* y) {
    __m256 d[4], dmin[4];
    halves32(g, d);
    halves32(g + 64, dmin);
    const uint8_t* sc = g + 128;
    const uint8_t* mn = g + 384;
    const uint8_t* qh = g + 640;
    const uint8_t* qs = g + (kFive ? 1664 : 640);
    for (int s = 0; s < 8; ++s) {
        __m256 d1[4], m1[4];
        for (int i = 0; i < 4; ++i) {
            d1[i] = _mm256_mul_ps(d[i], _mm256_cvtepi32_ps(u8x8(sc + 32 * s + 8 * i)));
            m1[i] = _mm256_mul_ps(dmin[i], _mm256_cvtepi32_ps(u8x8(mn + 32 * s + 8 * i)));
        }
        for (int k = 32 * s; k < 32 * s + 32; ++k, y += kNR) {
            __m256i q[4];
            nib32(qs + 16 * k, q);
            if (kFive) add_bit5(qh + 4 * k, q);
            __m256 v[4];
            for (int i = 0; i < 4; ++i) {
                v[i] = _mm256_sub_ps(_mm256_mul_ps(d1[i], _mm256_cvtepi32_ps(q[i])), m1[i]);
            }
            store_row(y, v);
        }
    }
}

// Q6_K: per sub-block of 16, ds = d * sc; y = ds * (q - 32).
void dq_q6_k(const uint8_t* g, float* y) {
    __m256 d[4];
    halves32(g, d);
    const uint8_t* sc = g + 64;
    const uint8_t* qs = g + 576;
    const uint8_t* qh = g + 4672;
    const __m256i off = _mm256_set1_epi32(32);
    for (int s = 0; s < 16; ++s) {
        __m256 ds[4];
        for (int i = 0; i < 4; ++i) {
            ds[i] = _mm256_mul_ps(d[i], _mm256_cvtepi32_ps(i8x8(sc + 32 * s + 8 * i)));
        }
        for (int k = 16 * s; k < 16 * s + 16; ++k, y += kNR) {
            __m256i q[4];
            nib32(qs + 16 * k, q);
            add_bits56(qh + 8 * k, q);
            __m256 v[4];
            for (int i = 0; i < 4; ++i) {
                v[i] = _mm256_mul_ps(ds[i], _mm256_cvtepi32_ps(_mm256_sub_epi32(q[i], off)));
            }
            store_row(y, v);
        }
    }
}

using GroupFn = void (*)(const uint8_t*, float*);

GroupFn group_fn(PackFormat f) {
    switch (f) {
        case PackFormat::kQ8_0:
            return dq_q8_0;
        case PackFormat::kQ4_0:
            return dq_q4_0_q5_0<false>;
        case PackFormat::kQ5_0:
            return dq_q4_0_q5_0<true>;
        case PackFormat::kQ4_1:
            return dq_q4_1_q5_1<false>;
        case PackFormat::kQ5_1:
            return dq_q4_1_q5_1<true>;
        case PackFormat::kQ4_K:
            return dq_q4_k_q5_k<false>;
        case PackFormat::kQ5_K:
            return dq_q4_k_q5_k<true>;
        case PackFormat::kQ6_K:
            return dq_q6_k;
        default:
            return nullptr;
    }
}

}  // namespace

void dequant_slice(PackFormat f, const uint8_t* panel, int64_t k0, int64_t kc, float* buf) {
    const FormatLayout L = layout(f);
    if (f == PackFormat::kBF16 || f == PackFormat::kF16) {
        const uint8_t* p = panel + k0 * L.group_bytes;
        for (int64_t k = 0; k < kc; ++k, p += 64, buf += kNR) {
            __m256 v[4];
            for (int i = 0; i < 4; ++i)
                v[i] = f == PackFormat::kBF16 ? bf16x8(p + 16 * i) : half8(p + 16 * i);
            store_row(buf, v);
        }
        return;
    }
    const GroupFn fn = group_fn(f);
    for (int64_t g = k0 / L.qb; g < (k0 + kc) / L.qb; ++g, buf += L.qb * kNR) {
        fn(panel + g * L.group_bytes, buf);
    }
}

}  // namespace pack

using pack::kNR;

// ---- packing

namespace {

void free_bytes(uint8_t* p) { std::free(p); }

PackFormat format_of(DType t) {
    switch (t) {
        case DType::kBF16:
            return PackFormat::kBF16;
        case DType::kF16:
            return PackFormat::kF16;
        case DType::kQ8_0:
            return PackFormat::kQ8_0;
        case DType::kQ4_0:
            return PackFormat::kQ4_0;
        case DType::kQ4_1:
            return PackFormat::kQ4_1;
        case DType::kQ5_0:
            return PackFormat::kQ5_0;
        case DType::kQ5_1:
            return PackFormat::kQ5_1;
        case DType::kQ4_K:
            return PackFormat::kQ4_K;
        case DType::kQ5_K:
            return PackFormat::kQ5_K;
        case DType::kQ6_K:
            return PackFormat::kQ6_K;
        default:
            return PackFormat::kF32;
    }
}

PackedPart new_part(PackFormat f, int64_t row0, int64_t rows, int64_t cols) {
    PackedPart p;
    p.row0 = row0;
    p.rows = rows;
    p.format = f;
    const pack::FormatLayout L = pack::layout(f);
    p.panel_bytes = cols / L.qb * L.group_bytes;
    const size_t bytes = std::max<size_t>(64, static_cast<size_t>(p.panels() * p.panel_bytes));
    uint8_t* data = static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
    if (data == nullptr) throw std::bad_alloc();
    std::memset(data, 0, bytes);
    p.data = std::unique_ptr<uint8_t[], void (*)(uint8_t*)>(data, free_bytes);
    return p;
}

inline void put2(uint8_t* field, int j, const uint8_t* src) { std::memcpy(field + 2 * j, src, 2); }
inline void put_nib(uint8_t* nib, int64_t k, int j, int q) {
    nib[k * 16 + (j & 15)] |= static_cast<uint8_t>((q & 15) << (j < 16 ? 0 : 4));
}
inline void put_bit5(uint8_t* qh, int64_t k, int j, int q) {
    uint32_t w;
    std::memcpy(&w, qh + 4 * k, 4);
    w |= static_cast<uint32_t>((q >> 4) & 1) << j;
    std::memcpy(qh + 4 * k, &w, 4);
}

// get_scale_min_k4 (ggml-quants.c, as quant.cpp).
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// One stored block b (ggml layout, ggml-common.h) into lane j of group g.
void put_block(PackFormat f, const uint8_t* b, uint8_t* g, int j) {
    switch (f) {
        case PackFormat::kQ8_0:
            put2(g, j, b);
            for (int k = 0; k < 32; ++k) g[64 + 32 * k + j] = b[2 + k];
            return;
        case PackFormat::kQ4_0:
        case PackFormat::kQ4_1: {
            const bool one = f == PackFormat::kQ4_1;
            put2(g, j, b);
            if (one) put2(g + 64, j, b + 2);
            const uint8_t* qs = b + (one ? 4 : 2);
            uint8_t* nib = g + (one ? 128 : 64);
            for (int k = 0; k < 16; ++k) {
                put_nib(nib, k, j, qs[k] & 15);
                put_nib(nib, k + 16, j, qs[k] >> 4);
            }
            return;
        }
        case PackFormat::kQ5_0:
        case PackFormat::kQ5_1: {
            const bool one = f == PackFormat::kQ5_1;
            put2(g, j, b);
            if (one) put2(g + 64, j, b + 2);
            uint32_t qh;
            std::memcpy(&qh, b + (one ? 4 : 2), 4);
            const uint8_t* qs = b + (one ? 8 : 6);
            uint8_t* gqh = g + (one ? 128 : 64);
            uint8_t* nib = g + (one ? 256 : 192);
            for (int k = 0; k < 32; ++k) {
                const int lo = k < 16 ? (qs[k] & 15) : (qs[k - 16] >> 4);
                const int q = lo | static_cast<int>(((qh >> k) & 1) << 4);
                put_nib(nib, k, j, q);
                put_bit5(gqh, k, j, q);
            }
            return;
        }
        case PackFormat::kQ4_K:
        case PackFormat::kQ5_K: {
            const bool five = f == PackFormat::kQ5_K;
            put2(g, j, b);
            put2(g + 64, j, b + 2);
            const uint8_t* scales = b + 4;
            for (int s = 0; s < 8; ++s)
                scale_min_k4(s, scales, &g[128 + 32 * s + j], &g[384 + 32 * s + j]);
            const uint8_t* qh = b + 16;
            const uint8_t* qs = b + (five ? 48 : 16);
            uint8_t* nib = g + (five ? 1664 : 640);
            for (int c = 0; c < 4; ++c) {
                for (int l = 0; l < 32; ++l) {
                    const uint8_t byte = qs[32 * c + l];
                    int q0 = byte & 15, q1 = byte >> 4;
                    if (five) {
                        q0 |= ((qh[l] >> (2 * c)) & 1) << 4;
                        q1 |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
                        put_bit5(g + 640, 64 * c + l, j, q0);
                        put_bit5(g + 640, 64 * c + 32 + l, j, q1);
                    }
                    put_nib(nib, 64 * c + l, j, q0);
                    put_nib(nib, 64 * c + 32 + l, j, q1);
                }
            }
            return;
        }
        case PackFormat::kQ6_K: {
            put2(g, j, b + 208);
            for (int s = 0; s < 16; ++s) g[64 + 32 * s + j] = b[192 + s];
            uint8_t* nib = g + 576;
            uint8_t* qh2 = g + 4672;
            for (int n = 0; n < 2; ++n) {
                const uint8_t* ql = b + 64 * n;
                const uint8_t* qh = b + 128 + 32 * n;
                for (int l = 0; l < 32; ++l) {
                    const int u[4] = {(ql[l] & 15) | (((qh[l] >> 0) & 3) << 4),
                                      (ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4),
                                      (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
                                      (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)};
                    for (int a = 0; a < 4; ++a) {
                        const int64_t k = 128 * n + 32 * a + l;
                        put_nib(nib, k, j, u[a]);
                        uint32_t w;
                        uint8_t* wp = qh2 + 8 * k + 4 * (j >> 4);
                        std::memcpy(&w, wp, 4);
                        w |= static_cast<uint32_t>(u[a] >> 4) << (2 * (j & 15));
                        std::memcpy(wp, &w, 4);
                    }
                }
            }
            return;
        }
        default:
            return;
    }
}

// Plain elements of panel pi (valid rows) copied as stored, in blocks of 64 k so the source
// slices and the destination stay in L1.
template <typename E, typename RowFn>
void copy_plain(const uint8_t* src_bytes, const StoredMatrix& s, uint8_t* panel_bytes, int64_t pi,
                int64_t valid, const RowFn& stored_row) {
    const int64_t IC = s.cols;
    E* panel = reinterpret_cast<E*>(panel_bytes);  // 64-byte aligned
    const auto at = [&](int64_t i) {               // the mapped file gives no alignment
        E v;
        std::memcpy(&v, src_bytes + i * static_cast<int64_t>(sizeof(E)), sizeof(E));
        return v;
    };
    for (int64_t k0 = 0; k0 < IC; k0 += 64) {
        const int64_t k1 = std::min(IC, k0 + 64);
        for (int64_t j = 0; j < valid; ++j) {
            const int64_t r = stored_row(pi * kNR + j);
            if (s.transposed) {
                for (int64_t k = k0; k < k1; ++k) panel[k * kNR + j] = at(k * s.rows + r);
            } else {
                for (int64_t k = k0; k < k1; ++k) panel[k * kNR + j] = at(r * IC + k);
            }
        }
    }
}

Status check_part(const StoredMatrix& m, int64_t cols, size_t index) {
    if (!packable_dtype(m.dtype)) {
        return invalid_argument("pack_stored: part {} has dtype {}, which has no packed format",
                                index, dtype_name(m.dtype));
    }
    if (m.rows < 0 || m.cols != cols) {
        return invalid_argument("pack_stored: part {} is ({}, {}), the matrix has {} columns",
                                index, m.rows, m.cols, cols);
    }
    const DTypeInfo& info = dtype_info(m.dtype);
    if (info.is_quantized && m.transposed) {
        return invalid_argument(
            "pack_stored: part {} is a transposed {} matrix (block types are "
            "stored row-major)",
            index, info.name);
    }
    if (cols % info.block_size != 0) {
        return corrupt_data(
            "pack_stored: part {} has {} columns, not a whole number of {}-element "
            "{} blocks",
            index, cols, info.block_size, info.name);
    }
    uint64_t n = 0, need = 0;
    if (!checked_mul_u64(static_cast<uint64_t>(m.rows), static_cast<uint64_t>(cols), &n)) {
        return corrupt_data("pack_stored: part {} ({} x {}) overflows", index, m.rows, cols);
    }
    MP_ASSIGN_OR_RETURN(need, dtype_nbytes(m.dtype, n));
    if (m.bytes.size() != need) {
        return corrupt_data("pack_stored: part {} ({} x {} {}) needs {} bytes, has {}", index,
                            m.rows, cols, info.name, need, m.bytes.size());
    }
    if (!m.row_order.empty()) {
        if (static_cast<int64_t>(m.row_order.size()) != m.rows) {
            return invalid_argument("pack_stored: part {} has {} rows and a row order of {}", index,
                                    m.rows, m.row_order.size());
        }
        for (int64_t r : m.row_order) {
            if (r < 0 || r >= m.rows) {
                return invalid_argument("pack_stored: part {} row order names row {} of {}", index,
                                        r, m.rows);
            }
        }
    }
    return Status();
}

}  // namespace

bool packable_dtype(DType t) {
    switch (t) {
        case DType::kF32:
        case DType::kBF16:
        case DType::kF16:
        case DType::kQ8_0:
        case DType::kQ4_0:
        case DType::kQ4_1:
        case DType::kQ5_0:
        case DType::kQ5_1:
        case DType::kQ4_K:
        case DType::kQ5_K:
        case DType::kQ6_K:
            return true;
        default:
            return false;
    }
}

size_t PackedMatrix::bytes() const {
    size_t n = 0;
    for (const auto& p : parts) n += static_cast<size_t>(p.panels() * p.panel_bytes);
    return n;
}

PackedMatrix pack_rows(const float* w, int64_t OC, int64_t IC) {
    PackedMatrix m;
    m.rows = OC;
    m.cols = IC;
    if (OC == 0) return m;
    m.parts.push_back(new_part(PackFormat::kF32, 0, OC, IC));
    float* data = reinterpret_cast<float*>(m.parts[0].data.get());
    const int64_t P = m.parts[0].panels();
    for (int64_t pi = 0; pi < P; ++pi) {
        float* dst = data + pi * IC * kNR;
        const int64_t o0 = pi * kNR;
        const int64_t valid = std::min<int64_t>(kNR, OC - o0);
        // Blocks of 64 k so the 32 source rows' slices and the destination stay in L1.
        for (int64_t k0 = 0; k0 < IC; k0 += 64) {
            const int64_t k1 = std::min(IC, k0 + 64);
            for (int64_t j = 0; j < valid; ++j) {
                const float* src = w + (o0 + j) * IC;
                for (int64_t k = k0; k < k1; ++k) dst[k * kNR + j] = src[k];
            }
        }
    }
    return m;
}

Result<PackedMatrix> pack_stored(std::span<const StoredMatrix> parts) {
    PackedMatrix m;
    if (parts.empty()) return m;
    m.cols = parts[0].cols;
    if (m.cols < 0) return invalid_argument("pack_stored: {} columns", m.cols);
    for (size_t i = 0; i < parts.size(); ++i) MP_TRY(check_part(parts[i], m.cols, i));
    const int64_t IC = m.cols;
    for (const StoredMatrix& s : parts) {
        if (s.rows == 0) continue;
        const PackFormat f = format_of(s.dtype);
        PackedPart part = new_part(f, m.rows, s.rows, IC);
        const DTypeInfo& info = dtype_info(s.dtype);
        const uint64_t row_bytes = static_cast<uint64_t>(IC) / info.block_size * info.block_bytes;
        const uint8_t* src = s.bytes.data();
        uint8_t* dst = part.data.get();
        const int64_t pb = part.panel_bytes;
        const auto stored_row = [&](int64_t r) { return s.row_order.empty() ? r : s.row_order[r]; };
        // Panels are independent: pack them in parallel (a 7B model has ~200k panels).
        parallel_for(static_cast<size_t>(part.panels()), [&](size_t pi_) {
            const int64_t pi = static_cast<int64_t>(pi_);
            const int64_t valid = std::min<int64_t>(kNR, s.rows - pi * kNR);
            uint8_t* panel = dst + pi * pb;
            if (!info.is_quantized) {
                if (info.block_bytes == 4) {
                    copy_plain<uint32_t>(src, s, panel, pi, valid, stored_row);
                } else {
                    copy_plain<uint16_t>(src, s, panel, pi, valid, stored_row);
                }
                return;
            }
            const pack::FormatLayout L = pack::layout(f);
            for (int j = 0; j < valid; ++j) {
                const uint8_t* row =
                    src + static_cast<uint64_t>(stored_row(pi * kNR + j)) * row_bytes;
                for (int64_t g = 0; g < IC / L.qb; ++g) {
                    put_block(f, row + g * info.block_bytes, panel + g * L.group_bytes, j);
                }
            }
        });
        m.rows += s.rows;
        m.parts.push_back(std::move(part));
    }
    return m;
}

}  // namespace modelprint

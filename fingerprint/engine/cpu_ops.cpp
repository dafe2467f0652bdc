// CPU transformer operations (see cpu_ops.h for shapes, formulas and their sources).
// Reductions run in a fixed order per output element; threads only partition independent
// outputs, so every result is the same for any thread count.
#include "fingerprint/engine/cpu_ops.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <numbers>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/cpu_gemm.h"

namespace modelprint {

void embedding_forward(float* out, const int32_t* ids, const float* wte, int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; ++n) {
        std::memcpy(out + n * C, wte + static_cast<int64_t>(ids[n]) * C, sizeof(float) * C);
    }
}

void position_embedding_forward(float* x, const int32_t* pos, const float* wpe, int64_t N,
                                int64_t C) {
    for (int64_t n = 0; n < N; ++n) {
        const float* p = wpe + static_cast<int64_t>(pos[n]) * C;
        float* row = x + n * C;
        for (int64_t c = 0; c < C; ++c) row[c] += p[c];
    }
}

void rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N, int64_t C,
                     float eps, int threads) {
    auto row = [&](size_t n) {
        const float* x = inp + static_cast<int64_t>(n) * C;
        double ss = 0.0;
        for (int64_t c = 0; c < C; ++c) ss += static_cast<double>(x[c]) * x[c];
        // HF: hidden * torch.rsqrt(variance + eps), then weight * hidden (both f32).
        const float rstd = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(C) + eps));
        float* o = out + static_cast<int64_t>(n) * C;
        for (int64_t c = 0; c < C; ++c) o[c] = weight[c] * (x[c] * rstd);
    };
    parallel_for(static_cast<size_t>(N), row, std::max(1, threads), 16);
}

void layernorm_forward(float* out, const float* inp, const float* weight, const float* bias,
                       int64_t N, int64_t C, float eps) {
    for (int64_t n = 0; n < N; ++n) {
        const float* x = inp + n * C;
        double sum = 0.0;
        for (int64_t c = 0; c < C; ++c) sum += x[c];
        const double mean = sum / static_cast<double>(C);
        double var = 0.0;
        for (int64_t c = 0; c < C; ++c) {
            const double d = x[c] - mean;
            var += d * d;
        }
        var /= static_cast<double>(C);
        const double rstd = 1.0 / std::sqrt(var + eps);
        float* o = out + n * C;
        for (int64_t c = 0; c < C; ++c) {
            o[c] = static_cast<float>((x[c] - mean) * rstd) * weight[c] + bias[c];
        }
    }
}

void matmul_forward(float* out, const float* inp, const float* weight, const float* bias,
                    int64_t N, int64_t IC, int64_t OC, int threads) {
    if (N <= 0 || OC == 0) return;
    const PackedMatrix w = pack_rows(weight, OC, IC);
    packed_matmul_forward(out, inp, w, bias, N, std::max(1, threads));
}

Result<RopeFreqs> rope_frequencies(const RopeConfig& rope, int64_t head_dim,
                                   int64_t max_position) {
    RopeFreqs f;
    const int64_t dim = rope.rotary_dim > 0 ? rope.rotary_dim : head_dim;
    if (dim <= 0 || dim % 2 != 0 || dim > head_dim) {
        return invalid_argument("rotary dimension {} must be even and in (0, head_dim {}]", dim,
                                head_dim);
    }
    if (!(rope.theta > 0.0)) return invalid_argument("rope theta {} must be positive", rope.theta);
    f.rotary_dim = dim;
    const int64_t half = dim / 2;
    std::vector<double> inv(half);
    // Default: inv_freq[i] = 1 / theta^(2i / dim) (RoFormer eq. 15).
    for (int64_t i = 0; i < half; ++i) {
        inv[i] = 1.0 / std::pow(rope.theta, static_cast<double>(2 * i) / static_cast<double>(dim));
    }
    double attention_scaling = 1.0;
    switch (rope.scaling) {
        case RopeScaling::kNone:
            break;
        case RopeScaling::kLinear:
            if (!(rope.factor > 0.0)) {
                return invalid_argument("linear rope scaling factor {} must be positive",
                                        rope.factor);
            }
            for (auto& x : inv) x /= rope.factor;
            break;
        case RopeScaling::kLlama3: {
            const double old_ctx = static_cast<double>(rope.original_max_position);
            if (old_ctx <= 0 || rope.high_freq_factor == rope.low_freq_factor) {
                return invalid_argument(
                    "llama3 rope scaling needs original_max_position_embeddings > 0 (got {}) and "
                    "high_freq_factor != low_freq_factor (both {})",
                    rope.original_max_position, rope.low_freq_factor);
            }
            const double low_wl = old_ctx / rope.low_freq_factor;
            const double high_wl = old_ctx / rope.high_freq_factor;
            for (auto& x : inv) {
                const double wavelen = 2.0 * std::numbers::pi / x;
                const double scaled = wavelen > low_wl ? x / rope.factor : x;
                const double smooth = (old_ctx / wavelen - rope.low_freq_factor) /
                                      (rope.high_freq_factor - rope.low_freq_factor);
                const double smoothed = (1.0 - smooth) * scaled / rope.factor + smooth * scaled;
                const bool medium = !(wavelen < high_wl) && !(wavelen > low_wl);
                x = medium ? smoothed : scaled;
            }
            break;
        }
        case RopeScaling::kYarn: {
            double factor = rope.factor;
            const double orig = static_cast<double>(rope.original_max_position);
            if (orig <= 0) {
                return invalid_argument("yarn rope scaling needs original_max_position_embeddings "
                                        "> 0 (got {})", rope.original_max_position);
            }
            if (!(factor > 0.0)) factor = static_cast<double>(max_position) / orig;
            auto mscale = [](double s) { return s <= 1.0 ? 1.0 : 0.1 * std::log(s) + 1.0; };
            attention_scaling = rope.attention_factor > 0.0 ? rope.attention_factor : mscale(factor);
            auto correction_dim = [&](double rot) {
                return (static_cast<double>(dim) *
                        std::log(orig / (rot * 2.0 * std::numbers::pi))) /
                       (2.0 * std::log(rope.theta));
            };
            double low = std::floor(correction_dim(rope.beta_fast));
            double high = std::ceil(correction_dim(rope.beta_slow));
            low = std::max(low, 0.0);
            high = std::min(high, static_cast<double>(dim - 1));
            if (low == high) high += 0.001;
            for (int64_t i = 0; i < half; ++i) {
                // HF builds the ramp in f32: clamp((i - low) / (high - low), 0, 1).
                const float ramp = std::clamp(
                    static_cast<float>((static_cast<double>(i) - low) / (high - low)), 0.0f, 1.0f);
                const double extrap_factor = 1.0 - ramp;
                const double extrap = inv[i];
                const double interp = inv[i] / factor;
                inv[i] = interp * (1.0 - extrap_factor) + extrap * extrap_factor;
            }
            break;
        }
        case RopeScaling::kDynamic:
            return unsupported("dynamic NTK rope scaling is not supported by the engine");
    }
    f.inv_freq.resize(half);
    for (int64_t i = 0; i < half; ++i) f.inv_freq[i] = static_cast<float>(inv[i]);
    f.attention_scaling = static_cast<float>(attention_scaling);
    return f;
}

void rope_forward(float* x, const int32_t* pos, const RopeFreqs& f, int64_t N, int64_t H,
                  int64_t HS) {
    const int64_t half = f.rotary_dim / 2;
    std::vector<float> cs(half), sn(half);
    for (int64_t n = 0; n < N; ++n) {
        const float p = static_cast<float>(pos[n]);
        for (int64_t d = 0; d < half; ++d) {
            const float angle = p * f.inv_freq[d];  // f32 product, as HF's f32 matmul forms it
            cs[d] = static_cast<float>(std::cos(static_cast<double>(angle))) * f.attention_scaling;
            sn[d] = static_cast<float>(std::sin(static_cast<double>(angle))) * f.attention_scaling;
        }
        for (int64_t h = 0; h < H; ++h) {
            float* v = x + (n * H + h) * HS;
            for (int64_t d = 0; d < half; ++d) {
                const float a = v[d], b = v[d + half];
                v[d] = a * cs[d] - b * sn[d];
                v[d + half] = b * cs[d] + a * sn[d];
            }
        }
    }
}

namespace {
// exp of 8 floats (Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-5 polynomial for
// (e^r - 1 - r) / r^2, times 2^n through the exponent bits). Within 2 ulp of exp on
// [-87.3, 88.7]; +inf above, 0 below, NaN stays NaN.
inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.7228391f), lo = _mm256_set1_ps(-87.3365479f);
    const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n for n in [-126, 128]: split as 2^(n/2) * 2^(n - n/2) so n = 128 does not overflow the
    // exponent field before the product.
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i h1 = _mm256_srai_epi32(ni, 1), h2 = _mm256_sub_epi32(ni, h1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h2, bias), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
    e = _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
    e = _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
    return _mm256_blendv_ps(e, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// The 8 lanes of v summed in one fixed tree: ((0+4)+(2+6)) + ((1+5)+(3+7)).
inline float hsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

// a . b over n floats: 8 lanes in two accumulators (fma, d ascending per lane), the lanes
// summed in a fixed tree, then the tail in order. Same result for any caller and thread.
inline float dot_f32(const float* a, const float* b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 16 <= n; d += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 8), _mm256_loadu_ps(b + d + 8), acc1);
    }
    if (d + 8 <= n) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), acc0);
        d += 8;
    }
    float sum = hsum8(_mm256_add_ps(acc0, acc1));
    for (; d < n; ++d) sum = std::fma(a[d], b[d], sum);
    return sum;
}
}  // namespace

namespace {
// scores[j] = exp(scores[j] - mx) with exp8 (8 at a time, the tail through a padded block);
// returns 1 / sum, the sum in double in index order.
float softmax_numerators(std::vector<float>& scores, float mx) {
    const size_t n = scores.size();
    const __m256 m = _mm256_set1_ps(mx);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        _mm256_storeu_ps(scores.data() + j,
                         exp8(_mm256_sub_ps(_mm256_loadu_ps(scores.data() + j), m)));
    }
    if (j < n) {
        float b[8] = {};
        std::memcpy(b, scores.data() + j, sizeof(float) * (n - j));
        _mm256_storeu_ps(b, exp8(_mm256_sub_ps(_mm256_loadu_ps(b), m)));
        std::memcpy(scores.data() + j, b, sizeof(float) * (n - j));
    }
    double sum = 0.0;
    for (float sc : scores) sum += sc;
    return static_cast<float>(1.0 / sum);
}

// One (token, head) row of attention for head size HS = 8 * NV: q and the output accumulators
// live in NV registers. q . k is one fma chain over the NV chunks, then the 8 lanes summed in the
// fixed tree of dot_f32; the output is sum_j w_j v_j as an fma chain over j per lane. The same
// code runs for every key and every query, whatever the batch or the thread.
template <int NV>
void attention_row(float* o, const float* qv, const float* k, const float* v, int64_t first,
                   int64_t last, int64_t stride, float scale, std::vector<float>& scores) {
    __m256 qr[NV];
    for (int c = 0; c < NV; ++c) qr[c] = _mm256_loadu_ps(qv + 8 * c);
    float mx = -INFINITY;
    for (int64_t j = first; j <= last; ++j) {
        const float* kv = k + j * stride;
        __m256 acc = _mm256_mul_ps(qr[0], _mm256_loadu_ps(kv));
        for (int c = 1; c < NV; ++c) acc = _mm256_fmadd_ps(qr[c], _mm256_loadu_ps(kv + 8 * c), acc);
        const float sc = hsum8(acc) * scale;
        scores[j - first] = sc;
        mx = std::max(mx, sc);
    }
    const __m256 inv = _mm256_set1_ps(softmax_numerators(scores, mx));
    __m256 acc[NV];
    for (int c = 0; c < NV; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t j = first; j <= last; ++j) {
        const __m256 w = _mm256_mul_ps(_mm256_set1_ps(scores[j - first]), inv);
        const float* vv = v + j * stride;
        for (int c = 0; c < NV; ++c) acc[c] = _mm256_fmadd_ps(w, _mm256_loadu_ps(vv + 8 * c), acc[c]);
    }
    for (int c = 0; c < NV; ++c) _mm256_storeu_ps(o + 8 * c, acc[c]);
}

// Any other head size: the same steps with dot_f32 and a scalar output loop.
void attention_row_any(float* o, const float* qv, const float* k, const float* v, int64_t first,
                       int64_t last, int64_t stride, int64_t HS, float scale,
                       std::vector<float>& scores) {
    float mx = -INFINITY;
    for (int64_t j = first; j <= last; ++j) {
        const float sc = dot_f32(qv, k + j * stride, HS) * scale;
        scores[j - first] = sc;
        mx = std::max(mx, sc);
    }
    const float inv = softmax_numerators(scores, mx);
    std::fill(o, o + HS, 0.0f);
    for (int64_t j = first; j <= last; ++j) {
        const float w = scores[j - first] * inv;
        const float* vv = v + j * stride;
        for (int64_t d = 0; d < HS; ++d) o[d] = std::fma(w, vv[d], o[d]);
    }
}
}  // namespace

void attention_forward(float* out, const float* q, const float* k, const float* v, int64_t T,
                       int64_t P, int64_t NH, int64_t NKV, int64_t HS, float scale,
                       int64_t sliding_window, int threads) {
    const int64_t group = NH / NKV;
    const int64_t qd = NH * HS, kvd = NKV * HS;
    parallel_for(
        static_cast<size_t>(T * NH),
        [&](size_t item) {
            const int64_t t = static_cast<int64_t>(item) / NH;
            const int64_t h = static_cast<int64_t>(item) % NH;
            const int64_t kh = h / group;
            const int64_t qpos = P + t;
            const int64_t first =
                sliding_window > 0 ? std::max<int64_t>(0, qpos - sliding_window + 1) : 0;
            thread_local std::vector<float> scores;
            scores.assign(static_cast<size_t>(qpos + 1 - first), 0.0f);
            const float* qv = q + t * qd + h * HS;
            const float* kb = k + kh * HS;
            const float* vb = v + kh * HS;
            float* o = out + t * qd + h * HS;
            switch (HS) {
                case 8: attention_row<1>(o, qv, kb, vb, first, qpos, kvd, scale, scores); break;
                case 16: attention_row<2>(o, qv, kb, vb, first, qpos, kvd, scale, scores); break;
                case 32: attention_row<4>(o, qv, kb, vb, first, qpos, kvd, scale, scores); break;
                case 64: attention_row<8>(o, qv, kb, vb, first, qpos, kvd, scale, scores); break;
                case 128: attention_row<16>(o, qv, kb, vb, first, qpos, kvd, scale, scores); break;
                default:
                    attention_row_any(o, qv, kb, vb, first, qpos, kvd, HS, scale, scores);
            }
        },
        threads, 8);
}

namespace {
// silu(g) * u over n floats, 8 at a time (the tail through a zero-padded block, so every
// element is computed by the same vector code).
void silu_mul(float* o, const float* g, const float* u, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    auto block = [&](const float* gp, const float* up, float* op) {
        const __m256 gv = _mm256_loadu_ps(gp);
        const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv));
        const __m256 sv = _mm256_div_ps(gv, _mm256_add_ps(one, e));
        _mm256_storeu_ps(op, up ? _mm256_mul_ps(sv, _mm256_loadu_ps(up)) : sv);
    };
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) block(g + i, u ? u + i : nullptr, o + i);
    if (i < n) {
        float gb[8] = {}, ub[8] = {}, ob[8];
        std::memcpy(gb, g + i, sizeof(float) * static_cast<size_t>(n - i));
        if (u) std::memcpy(ub, u + i, sizeof(float) * static_cast<size_t>(n - i));
        block(gb, u ? ub : nullptr, ob);
        std::memcpy(o + i, ob, sizeof(float) * static_cast<size_t>(n - i));
    }
}
}  // namespace

float exp_f32(float x) {
    float in[8] = {x}, out[8];
    _mm256_storeu_ps(out, exp8(_mm256_loadu_ps(in)));
    return out[0];
}

void swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF, int threads) {
    auto row = [&](size_t n) {
        const float* g = gu + static_cast<int64_t>(n) * 2 * FF;
        silu_mul(out + static_cast<int64_t>(n) * FF, g, g + FF, FF);
    };
    parallel_for(static_cast<size_t>(N), row, std::max(1, threads), 4);
}

void gelu_tanh_forward(float* x, int64_t n) {
    const float k = static_cast<float>(std::sqrt(2.0 / std::numbers::pi));
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
    }
}

void gelu_forward(float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        x[i] = static_cast<float>(0.5 * x[i] * (1.0 + std::erf(x[i] / std::numbers::sqrt2)));
    }
}

void silu_forward(float* x, int64_t n) { silu_mul(x, x, nullptr, n); }

void residual_forward(float* x, const float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void softcap_forward(float* x, int64_t n, float cap) {
    for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

void topk_forward(int32_t* ids, float* vals, const float* logits, int64_t V, int64_t K) {
    std::vector<int32_t> idx(static_cast<size_t>(V));
    std::iota(idx.begin(), idx.end(), 0);
    auto before = [&](int32_t a, int32_t b) {
        const float la = logits[a], lb = logits[b];
        // NaN sorts last; equal values go to the lower id.
        if (std::isnan(la) != std::isnan(lb)) return std::isnan(lb);
        return la > lb || (!(la < lb) && a < b);
    };
    std::partial_sort(idx.begin(), idx.begin() + K, idx.end(), before);
    for (int64_t i = 0; i < K; ++i) {
        ids[i] = idx[i];
        vals[i] = logits[idx[i]];
    }
}

double log_softmax_at(const float* logits, int64_t V, int64_t i) {
    double mx = -INFINITY;
    for (int64_t j = 0; j < V; ++j) mx = std::max(mx, static_cast<double>(logits[j]));
    double sum = 0.0;
    for (int64_t j = 0; j < V; ++j) sum += std::exp(static_cast<double>(logits[j]) - mx);
    return static_cast<double>(logits[i]) - mx - std::log(sum);
}

}  // namespace modelprint

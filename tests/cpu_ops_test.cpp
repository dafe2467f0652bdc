// cpu_ops against naive double-precision references written out here, against transformers'
// rope frequencies (testdata/models/rope_reference.json), and for thread-count independence.
// Tolerances: 1e-5 relative for f32 ops against f64 references of O(1) values (f32 epsilon 6e-8
// times reduction lengths <= 100); 1e-6 relative for rope frequencies (f32 rounding).
#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "fingerprint/engine/cpu_ops.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::testdata_dir;

std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

TEST(CpuOps, EmbeddingAndPositions) {
    const int64_t V = 5, C = 3;
    auto wte = randn(V * C, 1), wpe = randn(4 * C, 2);
    std::vector<int32_t> ids = {4, 0, 4}, pos = {0, 1, 3};
    std::vector<float> out(3 * C);
    embedding_forward(out.data(), ids.data(), wte.data(), 3, C);
    position_embedding_forward(out.data(), pos.data(), wpe.data(), 3, C);
    for (int n = 0; n < 3; ++n)
        for (int c = 0; c < C; ++c) EXPECT_EQ(out[n * C + c], wte[ids[n] * C + c] + wpe[pos[n] * C + c]);
}

TEST(CpuOps, RmsNormAndLayerNorm) {
    const int64_t N = 3, C = 37;
    auto x = randn(N * C, 3, 2.0f), w = randn(C, 4), b = randn(C, 5);
    std::vector<float> rms(N * C), ln(N * C);
    rmsnorm_forward(rms.data(), x.data(), w.data(), N, C, 1e-5f);
    layernorm_forward(ln.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
    for (int64_t n = 0; n < N; ++n) {
        double ss = 0, mean = 0, var = 0;
        for (int64_t c = 0; c < C; ++c) ss += double(x[n * C + c]) * x[n * C + c], mean += x[n * C + c];
        mean /= C;
        for (int64_t c = 0; c < C; ++c) var += (x[n * C + c] - mean) * (x[n * C + c] - mean);
        var /= C;
        for (int64_t c = 0; c < C; ++c) {
            const double r = x[n * C + c] / std::sqrt(ss / C + 1e-5) * w[c];
            const double l = (x[n * C + c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c];
            EXPECT_NEAR(rms[n * C + c], r, 1e-5 * (1 + std::abs(r)));
            EXPECT_NEAR(ln[n * C + c], l, 1e-5 * (1 + std::abs(l)));
        }
    }
    // In place (the q/k norm use) gives the same values.
    std::vector<float> y = x;
    rmsnorm_forward(y.data(), y.data(), w.data(), N, C, 1e-5f);
    EXPECT_EQ(y, rms);
}

TEST(CpuOps, MatmulAgainstDouble) {
    for (auto [N, IC, OC] : {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {13, 64, 33}, {70, 96, 129}}) {
        auto x = randn(N * IC, 6), w = randn(OC * IC, 7), b = randn(OC, 8);
        std::vector<float> out(N * OC), nob(N * OC);
        matmul_forward(out.data(), x.data(), w.data(), b.data(), N, IC, OC);
        matmul_forward(nob.data(), x.data(), w.data(), nullptr, N, IC, OC);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t o = 0; o < OC; ++o) {
                double s = 0;
                for (int64_t i = 0; i < IC; ++i) s += double(x[n * IC + i]) * w[o * IC + i];
                EXPECT_NEAR(nob[n * OC + o], s, 1e-5 * std::sqrt(double(IC)) * 4);
                EXPECT_NEAR(out[n * OC + o], s + b[o], 1e-5 * std::sqrt(double(IC)) * 4);
            }
    }
}

TEST(CpuOps, RopeFrequenciesMatchTransformers) {
    std::ifstream f(testdata_dir() / "models" / "rope_reference.json");
    const auto ref = nlohmann::json::parse(f);
    ASSERT_GE(ref["cases"].size(), 6u);
    for (const auto& c : ref["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        const auto& p = c["params"];
        RopeConfig rc;
        rc.theta = p["rope_theta"].get<double>();
        const std::string type = p["rope_type"];
        rc.factor = p.value("factor", 1.0);
        rc.original_max_position = p.value("original_max_position_embeddings", int64_t{0});
        if (type == "linear") rc.scaling = RopeScaling::kLinear;
        if (type == "llama3") {
            rc.scaling = RopeScaling::kLlama3;
            rc.low_freq_factor = p["low_freq_factor"];
            rc.high_freq_factor = p["high_freq_factor"];
        }
        if (type == "yarn") {
            rc.scaling = RopeScaling::kYarn;
            rc.beta_fast = p.value("beta_fast", 32.0);
            rc.beta_slow = p.value("beta_slow", 1.0);
            rc.attention_factor = p.value("attention_factor", 0.0);
        }
        auto fr = rope_frequencies(rc, c["head_dim"].get<int64_t>(), c["max_position"].get<int64_t>());
        MP_ASSERT_OK(fr);
        const auto want = c["inv_freq"].get<std::vector<double>>();
        ASSERT_EQ(fr->inv_freq.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(fr->inv_freq[i], want[i], 1e-6 * want[i]) << i;
        EXPECT_NEAR(fr->attention_scaling, c["attention_scaling"].get<double>(), 1e-6);
    }
}

TEST(CpuOps, RopeErrors) {
    RopeConfig rc;
    EXPECT_THAT(rope_frequencies(rc, 7, 16), StatusIs(StatusCode::kInvalidArgument, "rotary dimension 7"));
    rc.rotary_dim = 20;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kInvalidArgument, "head_dim 16"));
    rc.rotary_dim = 0;
    rc.theta = 0;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kInvalidArgument, "theta 0"));
    rc.theta = 10000;
    rc.scaling = RopeScaling::kDynamic;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kUnsupported, "dynamic"));
    rc.scaling = RopeScaling::kLlama3;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kInvalidArgument, "original_max_position"));
    rc.scaling = RopeScaling::kYarn;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kInvalidArgument, "yarn"));
    rc.scaling = RopeScaling::kLinear;
    rc.factor = 0;
    EXPECT_THAT(rope_frequencies(rc, 16, 16), StatusIs(StatusCode::kInvalidArgument, "factor 0"));
}

TEST(CpuOps, RopeRotatesPairsAndPreservesRelativePosition) {
    const int64_t H = 2, HS = 8;
    RopeConfig rc;
    auto fr = rope_frequencies(rc, HS, 64);
    MP_ASSERT_OK(fr);
    auto q = randn(H * HS, 9), k = randn(H * HS, 10);
    // Rotation by hand at position 5: pairs (d, d + HS/2).
    std::vector<float> r = q;
    int32_t p5 = 5;
    rope_forward(r.data(), &p5, *fr, 1, H, HS);
    for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < HS / 2; ++d) {
            const double ang = 5.0 * std::pow(10000.0, -2.0 * d / HS);
            const double a = q[h * HS + d], b = q[h * HS + d + HS / 2];
            EXPECT_NEAR(r[h * HS + d], a * std::cos(ang) - b * std::sin(ang), 1e-5);
            EXPECT_NEAR(r[h * HS + d + HS / 2], b * std::cos(ang) + a * std::sin(ang), 1e-5);
        }
    // <rope(q, m), rope(k, n)> depends on m - n only (RoFormer eq. 16).
    auto dot_at = [&](int32_t m, int32_t n) {
        std::vector<float> a(q.begin(), q.begin() + HS), b(k.begin(), k.begin() + HS);
        rope_forward(a.data(), &m, *fr, 1, 1, HS);
        rope_forward(b.data(), &n, *fr, 1, 1, HS);
        double s = 0;
        for (int64_t d = 0; d < HS; ++d) s += double(a[d]) * b[d];
        return s;
    };
    EXPECT_NEAR(dot_at(7, 3), dot_at(14, 10), 1e-4);
    EXPECT_NEAR(dot_at(0, 0), dot_at(9, 9), 1e-4);
    // Partial rotary: dims past R are untouched; yarn scaling multiplies cos and sin.
    rc.rotary_dim = 4;
    auto part = rope_frequencies(rc, HS, 64);
    MP_ASSERT_OK(part);
    std::vector<float> pr = q;
    rope_forward(pr.data(), &p5, *part, 1, H, HS);
    for (int64_t d = 4; d < HS; ++d) EXPECT_EQ(pr[d], q[d]);
    int32_t p0 = 0;
    RopeFreqs scaled = *fr;
    scaled.attention_scaling = 2.0f;
    std::vector<float> s0 = q;
    rope_forward(s0.data(), &p0, scaled, 1, H, HS);
    for (int64_t i = 0; i < H * HS; ++i) EXPECT_FLOAT_EQ(s0[i], 2.0f * q[i]);
}

void check_attention(int64_t HS);

// Naive f64 attention: causal, GQA, optional sliding window, queries at positions P..P+T-1.
std::vector<double> naive_attention(const std::vector<float>& q, const std::vector<float>& k,
                                    const std::vector<float>& v, int64_t T, int64_t P, int64_t NH,
                                    int64_t NKV, int64_t HS, int64_t window) {
    std::vector<double> out(T * NH * HS, 0.0);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < NH; ++h) {
            const int64_t kh = h / (NH / NKV), qp = P + t;
            std::vector<double> s;
            double mx = -1e300;
            for (int64_t j = 0; j <= qp; ++j) {
                if (window > 0 && qp - j >= window) { s.push_back(-1e300); continue; }
                double d = 0;
                for (int64_t i = 0; i < HS; ++i) d += double(q[(t * NH + h) * HS + i]) * k[(j * NKV + kh) * HS + i];
                s.push_back(d / std::sqrt(double(HS)));
                mx = std::max(mx, s.back());
            }
            double z = 0;
            for (auto& x : s) z += (x = x < -1e299 ? 0.0 : std::exp(x - mx));
            for (int64_t j = 0; j <= qp; ++j)
                for (int64_t i = 0; i < HS; ++i) out[(t * NH + h) * HS + i] += s[j] / z * v[(j * NKV + kh) * HS + i];
        }
    return out;
}

TEST(CpuOps, AttentionCausalGqaWindowAndCache) {
    // HS 6 takes the generic path; 8, 16, 64 and 128 the register kernels.
    for (int64_t HS : {6, 8, 16, 64, 128}) {
        SCOPED_TRACE(HS);
        check_attention(HS);
    }
}

void check_attention(int64_t HS) {
    const int64_t NH = 4, NKV = 2, T = 9;
    auto q = randn(T * NH * HS, 11), k = randn(T * NKV * HS, 12), v = randn(T * NKV * HS, 13);
    const float scale = 1.0f / std::sqrt(float(HS));
    for (int64_t window : {int64_t{0}, int64_t{3}}) {
        std::vector<float> out(T * NH * HS), out1(T * NH * HS);
        attention_forward(out.data(), q.data(), k.data(), v.data(), T, 0, NH, NKV, HS, scale, window, 2);
        attention_forward(out1.data(), q.data(), k.data(), v.data(), T, 0, NH, NKV, HS, scale, window, 1);
        EXPECT_EQ(out, out1) << "thread count changed the result";
        auto ref = naive_attention(q, k, v, T, 0, NH, NKV, HS, window);
        for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref[i], 1e-5) << i;
        // The last 4 queries against the whole cache (P = 5) equal rows 5..8 of the full pass.
        const int64_t P = 5;
        std::vector<float> tail(4 * NH * HS);
        attention_forward(tail.data(), q.data() + P * NH * HS, k.data(), v.data(), 4, P, NH, NKV, HS,
                          scale, window, 2);
        for (size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], out[P * NH * HS + i]);
    }
    // The first query sees only itself: output is its value row.
    std::vector<float> out(T * NH * HS);
    attention_forward(out.data(), q.data(), k.data(), v.data(), T, 0, NH, NKV, HS, scale, 0, 1);
    for (int64_t i = 0; i < HS; ++i) EXPECT_FLOAT_EQ(out[NH * 0 + i], v[i]);
}

TEST(CpuOps, Activations) {
    std::vector<float> x = {-3.0f, -1.0f, 0.0f, 0.5f, 1.0f, 4.0f};
    std::vector<float> gt = x, ge = x, si = x;
    gelu_tanh_forward(gt.data(), 6);
    gelu_forward(ge.data(), 6);
    silu_forward(si.data(), 6);
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        EXPECT_NEAR(gt[i], 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-6);
        EXPECT_NEAR(ge[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-6);
        EXPECT_NEAR(si[i], v / (1 + std::exp(-v)), 1e-6);
    }
    EXPECT_NEAR(gt[4], 0.8411919906082768, 1e-6);  // torch gelu(1, approximate="tanh")
    EXPECT_NEAR(ge[4], 0.8413447460685429, 1e-6);  // torch gelu(1)
    // SwiGLU: gate half then up half.
    std::vector<float> wide = {-1000.0f, -90.0f, -20.0f, 20.0f, 90.0f, 1000.0f, 0.0f, 1.0f, 1.0f,
                               1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
    std::vector<float> wout(9);
    swiglu_forward(wout.data(), wide.data(), 1, 9);
    for (int i = 0; i < 9; ++i) {
        const double g = wide[i];
        EXPECT_NEAR(wout[i], g / (1 + std::exp(-g)), 1e-6 * std::max(1.0, std::fabs(g))) << g;
    }
    std::vector<float> gu = {1.0f, -2.0f, 3.0f, 0.5f}, out(2);
    swiglu_forward(out.data(), gu.data(), 1, 2);
    EXPECT_NEAR(out[0], 1.0 / (1 + std::exp(-1.0)) * 3.0, 1e-6);
    EXPECT_NEAR(out[1], -2.0 / (1 + std::exp(2.0)) * 0.5, 1e-6);
    std::vector<float> a = {1, 2}, b = {0.5f, -4};
    residual_forward(a.data(), b.data(), 2);
    EXPECT_EQ(a, (std::vector<float>{1.5f, -2.0f}));
    std::vector<float> sc = {0.0f, 30.0f, -1000.0f};
    softcap_forward(sc.data(), 3, 30.0f);
    EXPECT_FLOAT_EQ(sc[0], 0.0f);
    EXPECT_NEAR(sc[1], 30.0 * std::tanh(1.0), 1e-5);
    EXPECT_NEAR(sc[2], -30.0, 1e-5);
}

TEST(CpuOps, TopKAndLogSoftmax) {
    std::vector<float> l = {0.5f, 2.0f, -1.0f, 2.0f, NAN, 1.0f};
    std::vector<int32_t> ids(4);
    std::vector<float> vals(4);
    topk_forward(ids.data(), vals.data(), l.data(), 6, 4);
    EXPECT_EQ(ids, (std::vector<int32_t>{1, 3, 5, 0}));  // tie 2.0 goes to the lower id; NaN last
    EXPECT_EQ(vals, (std::vector<float>{2.0f, 2.0f, 1.0f, 0.5f}));
    std::vector<float> z = {1.0f, 2.0f, 3.0f};
    const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    EXPECT_NEAR(log_softmax_at(z.data(), 3, 2), 3.0 - lse, 1e-12);
    std::vector<float> big = {1000.0f, 0.0f};  // no overflow
    EXPECT_NEAR(log_softmax_at(big.data(), 2, 0), 0.0, 1e-12);
}

TEST(CpuOps, ExpIsWithinTwoUlpOverTheFiniteRange) {
    double worst = 0.0;
    for (double x = -87.3; x <= 88.7; x += 0.00731) {
        const float xf = static_cast<float>(x);
        const double want = std::exp(static_cast<double>(xf));
        const double got = exp_f32(xf);
        // ulp of the f32 result (normal range).
        const double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
        worst = std::max(worst, std::fabs(got - want) / ulp);
    }
    EXPECT_LE(worst, 2.0);
    EXPECT_EQ(exp_f32(0.0f), 1.0f);
    EXPECT_EQ(exp_f32(100.0f), INFINITY);
    EXPECT_EQ(exp_f32(-100.0f), 0.0f);
    EXPECT_TRUE(std::isnan(exp_f32(NAN)));
}

}  // namespace
}  // namespace modelprint

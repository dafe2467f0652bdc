// Packed-panel products (fingerprint/engine/cpu_gemm.h) against the definition of their
// invariant written out here: out[m][o] = fma chain over k = 0..IC-1 in order from 0, plus bias.
// Equality is bitwise (EXPECT_EQ on floats): both kernels, every shape class (rows not a multiple
// of MR, partial panels, IC crossing the k-block), every thread count. A second check against a
// double-precision product (relative 1e-5) keeps the reference itself honest.
#include "fingerprint/engine/cpu_gemm.h"

#include <cmath>
#include <random>

#include "tests/util/test_util.h"

namespace modelprint {
namespace {

std::vector<float> randn(size_t n, uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

std::vector<float> fma_reference(const std::vector<float>& x, const std::vector<float>& w,
                                 const float* bias, int64_t N, int64_t IC, int64_t OC) {
    std::vector<float> out(static_cast<size_t>(N * OC));
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t o = 0; o < OC; ++o) {
            float acc = 0.0f;
            for (int64_t k = 0; k < IC; ++k) acc = std::fma(x[n * IC + k], w[o * IC + k], acc);
            out[n * OC + o] = bias ? acc + bias[o] : acc;
        }
    }
    return out;
}

struct Shape {
    int64_t N, IC, OC;
};

TEST(CpuGemm, BitwiseEqualToTheFmaChainForEveryKernelShapeAndThreadCount) {
    const Shape shapes[] = {{1, 1, 1},     {1, 64, 32},   {2, 5, 17},    {3, 255, 31},
                            {7, 256, 33},  {8, 257, 64},  {9, 600, 100}, {96, 300, 65},
                            {97, 513, 96}, {200, 130, 47}};
    int checked = 0;
    for (const Shape& s : shapes) {
        auto x = randn(static_cast<size_t>(s.N * s.IC), 1 + s.N);
        auto w = randn(static_cast<size_t>(s.OC * s.IC), 2 + s.OC);
        auto bias = randn(static_cast<size_t>(s.OC), 3);
        const PackedMatrix p = pack_rows(w.data(), s.OC, s.IC);
        ASSERT_EQ(p.rows, s.OC);
        ASSERT_EQ(p.cols, s.IC);
        for (bool with_bias : {false, true}) {
            const float* b = with_bias ? bias.data() : nullptr;
            const auto want = fma_reference(x, w, b, s.N, s.IC, s.OC);
            for (GemmKernel kern : {GemmKernel::kAvx512, GemmKernel::kAvx2}) {
                for (int threads : {1, 2, 3}) {
                    std::vector<float> got(want.size(), NAN);
                    packed_matmul_forward(got.data(), x.data(), p, b, s.N, threads, kern);
                    for (size_t i = 0; i < want.size(); ++i) {
                        ASSERT_EQ(got[i], want[i])
                            << "N=" << s.N << " IC=" << s.IC << " OC=" << s.OC
                            << " bias=" << with_bias << " kernel=" << static_cast<int>(kern)
                            << " threads=" << threads << " at " << i;
                    }
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 10 * 2 * 2 * 3);
}

TEST(CpuGemm, ReferenceAgreesWithADoubleProduct) {
    const int64_t N = 5, IC = 300, OC = 40;
    auto x = randn(N * IC, 7), w = randn(OC * IC, 8);
    const PackedMatrix p = pack_rows(w.data(), OC, IC);
    std::vector<float> got(N * OC);
    packed_matmul_forward(got.data(), x.data(), p, nullptr, N, 2);
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t o = 0; o < OC; ++o) {
            double acc = 0.0, mag = 0.0;
            for (int64_t k = 0; k < IC; ++k) {
                acc += static_cast<double>(x[n * IC + k]) * w[o * IC + k];
                mag += std::fabs(static_cast<double>(x[n * IC + k]) * w[o * IC + k]);
            }
            EXPECT_NEAR(got[n * OC + o], acc, 1e-5 * mag) << n << "," << o;
        }
    }
}

TEST(CpuGemm, ARowDoesNotDependOnItsBatch) {
    // The engine relies on this: the logits of a sequence are the same alone or in a batch.
    const int64_t N = 13, IC = 700, OC = 70;
    auto x = randn(N * IC, 9), w = randn(OC * IC, 10), bias = randn(OC, 11);
    const PackedMatrix p = pack_rows(w.data(), OC, IC);
    std::vector<float> all(N * OC), one(OC);
    packed_matmul_forward(all.data(), x.data(), p, bias.data(), N, 2);
    for (int64_t n = 0; n < N; ++n) {
        packed_matmul_forward(one.data(), x.data() + n * IC, p, bias.data(), 1, 1);
        for (int64_t o = 0; o < OC; ++o) ASSERT_EQ(one[o], all[n * OC + o]) << n << "," << o;
    }
}

TEST(CpuGemm, GatherRowsReturnsTheUnpackedRows) {
    const int64_t OC = 70, IC = 33;
    auto w = randn(OC * IC, 12);
    const PackedMatrix p = pack_rows(w.data(), OC, IC);
    const std::vector<int32_t> ids = {0, 31, 32, 69, 5, 69};
    std::vector<float> out(ids.size() * IC);
    packed_gather_rows(out.data(), p, ids.data(), static_cast<int64_t>(ids.size()));
    for (size_t n = 0; n < ids.size(); ++n)
        for (int64_t k = 0; k < IC; ++k) ASSERT_EQ(out[n * IC + k], w[ids[n] * IC + k]) << n << "," << k;
}

TEST(CpuGemm, EmptyInnerDimensionGivesTheBias) {
    const float bias[3] = {1.5f, -2.0f, 0.25f};
    const PackedMatrix p = pack_rows(nullptr, 3, 0);
    std::vector<float> out(6, NAN);
    packed_matmul_forward(out.data(), nullptr, p, bias, 2, 2);
    for (int n = 0; n < 2; ++n)
        for (int o = 0; o < 3; ++o) EXPECT_EQ(out[n * 3 + o], bias[o]);
    EXPECT_TRUE(std::string(gemm_kernel_name()) == "avx512" ||
                std::string(gemm_kernel_name()) == "avx2");
}

}  // namespace
}  // namespace modelprint

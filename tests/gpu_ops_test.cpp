// Per-op parity of the CUDA kernels (cuda/cuda_ops.cuh through the CudaOps interface of
// cuda/cuda_backend.h) against the CPU oracle (fingerprint/engine/cpu_ops.h) at several shapes.
// Tolerances (normalised error = ||gpu - cpu||_2 / max(||cpu||_2, tiny)):
//   kF32Tol   1e-5  every f32 op (different summation order, expf/tanhf vs glibc: a few ulp);
//   kBf16Tol  1e-2  matmul with bf16 inputs (8-bit mantissa: ~2^-9 relative per element);
//   kF16Tol   2e-3  matmul with f16 inputs (11-bit mantissa);
//   exact     dequantisation, embedding, top-k ids and residual (no arithmetic difference).
// Without a GPU (or a build without CUDA) every test that needs a device is skipped with the
// reason make_backend(..., DeviceKind::kCuda) returned; the start-up error itself is tested.
#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "fingerprint/base/quant.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/engine/cpu_ops.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::read_bytes;
using ::modelprint::testing::stories_dir;
using ::modelprint::testing::testdata_dir;

constexpr double kF32Tol = 1e-5;
constexpr double kBf16Tol = 1e-2;
constexpr double kF16Tol = 2e-3;

double norm_err(const std::vector<float>& gpu, const std::vector<float>& cpu) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < cpu.size(); ++i) {
        const double d = static_cast<double>(gpu[i]) - cpu[i];
        num += d * d;
        den += static_cast<double>(cpu[i]) * cpu[i];
    }
    return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

class GpuOpsTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = Model::open(stories_dir().string());
        ASSERT_TRUE(m.ok()) << m.status().to_string();
        model_ = std::move(m).value();
        auto b = make_backend(*model_, DeviceKind::kCuda);
        if (!b.ok()) GTEST_SKIP() << "no CUDA device: " << b.status().message();
        backend_ = std::move(b).value();
        ops_ = cuda_ops_of(backend_.get());
        ASSERT_NE(ops_, nullptr) << "backend " << backend_->name() << " has no CudaOps";
    }
    std::unique_ptr<Model> model_;
    std::unique_ptr<Backend> backend_;
    CudaOps* ops_ = nullptr;
};

// Runs on every machine: without a usable GPU, kCuda fails with the reason and kAuto falls back.
TEST(GpuStartupTest, NoGpuIsAFailedPreconditionWithAReasonAndAutoFallsBack) {
    auto m = Model::open(stories_dir().string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    auto cuda = make_backend(**m, DeviceKind::kCuda);
    if (cuda.ok()) {
        EXPECT_NE((*cuda)->name().find("cuda:0"), std::string::npos) << (*cuda)->name();
        EXPECT_NE(cuda_ops_of(cuda->get()), nullptr);
    } else {
        EXPECT_EQ(cuda.status().code(), StatusCode::kFailedPrecondition) << cuda.status().to_string();
        const std::string& msg = cuda.status().message();
        EXPECT_TRUE(msg.find("no GPU") != std::string::npos ||
                    msg.find("without CUDA") != std::string::npos) << msg;
        auto autob = make_backend(**m, DeviceKind::kAuto);
        ASSERT_TRUE(autob.ok()) << autob.status().to_string();
        EXPECT_EQ((*autob)->name(), "cpu");
        EXPECT_EQ(cuda_ops_of(autob->get()), nullptr);
    }
}

TEST_F(GpuOpsTest, EmbeddingAndPositionsAreExact) {
    for (auto [V, N, C] : {std::tuple<int64_t, int64_t, int64_t>{50, 1, 8}, {301, 7, 64}, {1000, 33, 100}}) {
        const auto wte = randn(V * C, 1);
        std::vector<int32_t> ids(N), pos(N);
        for (int64_t n = 0; n < N; ++n) {
            ids[n] = static_cast<int32_t>((n * 37 + 5) % V);
            pos[n] = static_cast<int32_t>(n % 11);
        }
        std::vector<float> cpu(N * C), gpu(N * C);
        embedding_forward(cpu.data(), ids.data(), wte.data(), N, C);
        MP_ASSERT_OK(ops_->embedding_forward(gpu.data(), ids.data(), wte.data(), V, N, C));
        EXPECT_EQ(gpu, cpu) << V << " " << N << " " << C;
        const auto wpe = randn(11 * C, 2);
        position_embedding_forward(cpu.data(), pos.data(), wpe.data(), N, C);
        MP_ASSERT_OK(ops_->position_embedding_forward(gpu.data(), pos.data(), wpe.data(), 11, N, C));
        EXPECT_EQ(gpu, cpu);
    }
    std::vector<int32_t> bad = {3, 50};
    std::vector<float> wte(50 * 8), out(16);
    EXPECT_THAT(ops_->embedding_forward(out.data(), bad.data(), wte.data(), 50, 2, 8),
                StatusIs(StatusCode::kOutOfRange, "id 50"));
}

TEST_F(GpuOpsTest, NormsMatchCpu) {
    for (auto [N, C] : {std::pair<int64_t, int64_t>{1, 8}, {5, 64}, {17, 1000}, {3, 4097}}) {
        const auto x = randn(N * C, 3, 2.0f);
        const auto w = randn(C, 4);
        const auto b = randn(C, 5);
        std::vector<float> cpu(N * C), gpu(N * C);
        rmsnorm_forward(cpu.data(), x.data(), w.data(), N, C, 1e-5f);
        MP_ASSERT_OK(ops_->rmsnorm_forward(gpu.data(), x.data(), w.data(), N, C, 1e-5f));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "rmsnorm " << N << "x" << C;
        layernorm_forward(cpu.data(), x.data(), w.data(), b.data(), N, C, 1e-5f);
        MP_ASSERT_OK(ops_->layernorm_forward(gpu.data(), x.data(), w.data(), b.data(), N, C, 1e-5f));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "layernorm " << N << "x" << C;
    }
}

TEST_F(GpuOpsTest, MatmulMatchesCpuInEveryPrecision) {
    for (auto [N, IC, OC] : {std::tuple<int64_t, int64_t, int64_t>{1, 8, 8}, {7, 64, 96},
                             {33, 100, 301}, {128, 512, 256}}) {
        const auto x = randn(N * IC, 6);
        const auto w = randn(OC * IC, 7, 0.05f);
        const auto b = randn(OC, 8);
        for (bool bias : {false, true}) {
            std::vector<float> cpu(N * OC), gpu(N * OC);
            matmul_forward(cpu.data(), x.data(), w.data(), bias ? b.data() : nullptr, N, IC, OC);
            for (auto [p, tol] : {std::pair{GpuPrecision::kF32Exact, kF32Tol},
                                  {GpuPrecision::kBF16, kBf16Tol}, {GpuPrecision::kF16, kF16Tol}}) {
                MP_ASSERT_OK(ops_->matmul_forward(gpu.data(), x.data(), w.data(),
                                                  bias ? b.data() : nullptr, N, IC, OC, p));
                EXPECT_LE(norm_err(gpu, cpu), tol)
                    << N << "x" << IC << "x" << OC << " precision " << static_cast<int>(p);
            }
        }
    }
}

TEST_F(GpuOpsTest, RopeMatchesCpuForEveryScaling) {
    std::vector<RopeConfig> configs(4);
    configs[1].scaling = RopeScaling::kLinear;
    configs[1].factor = 4.0;
    configs[2].scaling = RopeScaling::kLlama3;
    configs[2].factor = 8.0;
    configs[2].original_max_position = 16;
    configs[3].scaling = RopeScaling::kYarn;
    configs[3].factor = 4.0;
    configs[3].original_max_position = 32;
    for (const auto& rc : configs) {
        for (auto [N, H, HS] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 8}, {9, 4, 16}, {40, 3, 128}}) {
            auto f = rope_frequencies(rc, HS, 4096);
            ASSERT_TRUE(f.ok()) << f.status().to_string();
            auto x = randn(N * H * HS, 9);
            std::vector<int32_t> pos(N);
            for (int64_t n = 0; n < N; ++n) pos[n] = static_cast<int32_t>(n * 97 % 3000);
            auto cpu = x, gpu = x;
            rope_forward(cpu.data(), pos.data(), *f, N, H, HS);
            MP_ASSERT_OK(ops_->rope_forward(gpu.data(), pos.data(), *f, N, H, HS));
            EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "scaling " << static_cast<int>(rc.scaling);
        }
    }
}

struct AttnCase {
    int64_t T, P, NH, NKV, HS, window;
};

std::string describe(const AttnCase& c) {
    return fmt::format("T {} P {} NH {} NKV {} HS {} window {}", c.T, c.P, c.NH, c.NKV, c.HS, c.window);
}

// Normalised error of ops' single-sequence attention (random q, k, v from `seed`) against
// cpu_ops attention_forward.
Result<double> attention_error(CudaOps& ops, const AttnCase& c, uint32_t seed) {
    const auto q = randn(c.T * c.NH * c.HS, seed);
    const auto k = randn((c.P + c.T) * c.NKV * c.HS, seed + 1);
    const auto v = randn((c.P + c.T) * c.NKV * c.HS, seed + 2);
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.HS));
    std::vector<float> cpu(c.T * c.NH * c.HS), gpu(cpu.size());
    attention_forward(cpu.data(), q.data(), k.data(), v.data(), c.T, c.P, c.NH, c.NKV, c.HS, scale,
                      c.window, 1);
    MP_TRY(ops.attention_forward(gpu.data(), q.data(), k.data(), v.data(), c.T, c.P, c.NH, c.NKV,
                                 c.HS, scale, c.window));
    return norm_err(gpu, cpu);
}

TEST_F(GpuOpsTest, FusedAttentionMatchesCpu) {
    for (const AttnCase& c : {AttnCase{1, 0, 4, 2, 16, 0}, AttnCase{7, 0, 8, 8, 8, 0}, AttnCase{16, 5, 4, 1, 64, 0},
                          AttnCase{17, 0, 6, 2, 128, 0}, AttnCase{50, 3, 4, 2, 256, 0},
                          AttnCase{130, 0, 2, 1, 32, 0}, AttnCase{40, 0, 4, 2, 16, 5},
                          AttnCase{33, 10, 4, 4, 96, 8}}) {
        auto err = attention_error(*ops_, c, 10);
        ASSERT_TRUE(err.ok()) << describe(c) << ": " << err.status().to_string();
        EXPECT_LE(*err, kF32Tol) << describe(c);
    }
    std::vector<float> buf(64);
    EXPECT_THAT(ops_->attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), 1, 0, 3,
                                        2, 8, 1.0f, 0),
                StatusIs(StatusCode::kInvalidArgument, "NH 3 NKV 2"));
    EXPECT_THAT(ops_->attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), 1, 0, 1,
                                        1, 512, 1.0f, 0),
                StatusIs(StatusCode::kInvalidArgument, "HS 512"));
}

// Normalised error of the packed ragged attention of `ops` (random q, k, v from `seed`) against
// cpu_ops attention run on each sequence alone.
Result<double> packed_attention_error(CudaOps& ops, const std::vector<int64_t>& lengths, int64_t NH,
                                      int64_t NKV, int64_t HS, float scale, uint32_t seed) {
    const int64_t QD = NH * HS, KVD = NKV * HS;
    int64_t N = 0;
    for (int64_t t : lengths) N += t;
    const auto q = randn(N * QD, seed), k = randn(N * KVD, seed + 1), v = randn(N * KVD, seed + 2);
    std::vector<float> cpu(N * QD), gpu(N * QD);
    int64_t off = 0;
    for (int64_t T : lengths) {
        attention_forward(cpu.data() + off * QD, q.data() + off * QD, k.data() + off * KVD,
                          v.data() + off * KVD, T, 0, NH, NKV, HS, scale, 0, 1);
        off += T;
    }
    MP_TRY(ops.attention_packed_forward(gpu.data(), q.data(), k.data(), v.data(), lengths.data(),
                                        static_cast<int64_t>(lengths.size()), NH, NKV, HS, scale, 0));
    return norm_err(gpu, cpu);
}

TEST_F(GpuOpsTest, PackedRaggedAttentionEqualsPerSequence) {
    auto err = packed_attention_error(*ops_, {7, 1, 33, 16, 20}, 4, 2, 16, 0.25f, 13);
    ASSERT_TRUE(err.ok()) << err.status().to_string();
    EXPECT_LE(*err, kF32Tol);
    const int64_t zero = 0;
    std::vector<float> buf(64);
    EXPECT_THAT(ops_->attention_packed_forward(buf.data(), buf.data(), buf.data(), buf.data(), &zero,
                                               1, 4, 2, 16, 0.25f, 0),
                StatusIs(StatusCode::kInvalidArgument, "length 0"));
}

// The bf16 tensor-core kernel of the 16-bit modes: q, k, v and p rounded to bf16 (8 significant
// bits), f32 accumulation, so the normalised error is held to the bf16 product tolerance.
// Cases cross the 64-query and 64-key tile edges, with a KV prefix (P), GQA and sliding windows.
TEST_F(GpuOpsTest, TensorCoreAttentionMatchesCpu) {
    ops_->use_tensor_core_attention(true);
    for (const AttnCase& c : {AttnCase{1, 0, 4, 2, 64, 0}, AttnCase{64, 0, 2, 2, 64, 0}, AttnCase{65, 0, 4, 1, 128, 0},
                          AttnCase{130, 7, 4, 2, 32, 0}, AttnCase{200, 0, 2, 1, 80, 0},
                          AttnCase{97, 33, 3, 1, 96, 0}, AttnCase{150, 0, 4, 2, 64, 40},
                          AttnCase{1, 300, 4, 2, 128, 0}, AttnCase{70, 10, 2, 2, 64, 17}}) {
        auto err = attention_error(*ops_, c, 20);
        ASSERT_TRUE(err.ok()) << describe(c) << ": " << err.status().to_string();
        EXPECT_LE(*err, kBf16Tol) << describe(c);
    }
    // Packed ragged batch: each sequence as if alone.
    auto err = packed_attention_error(*ops_, {70, 1, 129, 64, 5}, 4, 2, 64, 0.125f, 23);
    ASSERT_TRUE(err.ok()) << err.status().to_string();
    EXPECT_LE(*err, kBf16Tol);
    std::vector<float> buf(64);
    EXPECT_THAT(ops_->attention_forward(buf.data(), buf.data(), buf.data(), buf.data(), 1, 0, 1, 1,
                                        16, 1.0f, 0),
                StatusIs(StatusCode::kInvalidArgument, "HS 16"));
    ops_->use_tensor_core_attention(false);
}

TEST_F(GpuOpsTest, ActivationsResidualAndSoftcapMatchCpu) {
    for (int64_t n : {1, 1000, 65537}) {
        const auto x = randn(n, 16, 3.0f);
        const auto y = randn(n, 17);
        auto cpu = x, gpu = x;
        gelu_tanh_forward(cpu.data(), n);
        MP_ASSERT_OK(ops_->gelu_tanh_forward(gpu.data(), n));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "gelu_tanh " << n;
        cpu = x, gpu = x;
        gelu_forward(cpu.data(), n);
        MP_ASSERT_OK(ops_->gelu_forward(gpu.data(), n));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "gelu " << n;
        cpu = x, gpu = x;
        silu_forward(cpu.data(), n);
        MP_ASSERT_OK(ops_->silu_forward(gpu.data(), n));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "silu " << n;
        cpu = x, gpu = x;
        residual_forward(cpu.data(), y.data(), n);
        MP_ASSERT_OK(ops_->residual_forward(gpu.data(), y.data(), n));
        EXPECT_EQ(gpu, cpu) << "residual " << n;
        cpu = x, gpu = x;
        softcap_forward(cpu.data(), n, 5.0f);
        MP_ASSERT_OK(ops_->softcap_forward(gpu.data(), n, 5.0f));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "softcap " << n;
    }
    for (auto [N, FF] : {std::pair<int64_t, int64_t>{1, 8}, {13, 172}, {64, 1536}}) {
        const auto gu = randn(N * 2 * FF, 18, 2.0f);
        std::vector<float> cpu(N * FF), gpu(N * FF);
        swiglu_forward(cpu.data(), gu.data(), N, FF);
        MP_ASSERT_OK(ops_->swiglu_forward(gpu.data(), gu.data(), N, FF));
        EXPECT_LE(norm_err(gpu, cpu), kF32Tol) << "swiglu " << N << "x" << FF;
    }
    std::vector<float> x(4);
    EXPECT_THAT(ops_->softcap_forward(x.data(), 4, 0.0f), StatusIs(StatusCode::kInvalidArgument, "cap 0"));
}

TEST_F(GpuOpsTest, TopKAndArgmaxMatchCpuIncludingTiesAndNan) {
    const int64_t rows = 3, V = 50257;
    auto logits = randn(rows * V, 19);
    logits[10] = logits[20] = 100.0f;  // tie in row 0: lower id first
    logits[V + 7] = std::numeric_limits<float>::quiet_NaN();  // NaN sorts last
    logits[2 * V + 3] = logits[2 * V + 4] = -1e30f;
    for (int64_t K : {1, 5, 64}) {
        std::vector<int32_t> gids(rows * K), cids(rows * K);
        std::vector<float> gvals(rows * K), cvals(rows * K);
        for (int64_t r = 0; r < rows; ++r) {
            topk_forward(cids.data() + r * K, cvals.data() + r * K, logits.data() + r * V, V, K);
        }
        MP_ASSERT_OK(ops_->topk_forward(gids.data(), gvals.data(), logits.data(), rows, V, K));
        EXPECT_EQ(gids, cids) << "k " << K;
        EXPECT_EQ(gvals, cvals) << "k " << K;
    }
    std::vector<int32_t> ids(rows);
    std::vector<double> lps(rows);
    logits[V + 7] = 0.0f;
    MP_ASSERT_OK(ops_->argmax_logprob_forward(ids.data(), lps.data(), logits.data(), rows, V));
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = logits.data() + r * V;
        const int32_t want = static_cast<int32_t>(std::max_element(row, row + V) - row);
        EXPECT_EQ(ids[r], want) << "row " << r;
        EXPECT_NEAR(lps[r], log_softmax_at(row, V, want), 1e-9) << "row " << r;
    }
    std::vector<int32_t> i1(1);
    std::vector<float> v1(1);
    EXPECT_THAT(ops_->topk_forward(i1.data(), v1.data(), logits.data(), 1, V, 0),
                StatusIs(StatusCode::kInvalidArgument, "k 0"));
}

TEST_F(GpuOpsTest, DeviceDequantisationIsBitExact) {
    // GGUF blocks against the gguf-py reference values (testdata/gguf/quant_<T>.{bin,f32}).
    for (auto [name, t] : {std::pair<const char*, DType>{"Q4_0", DType::kQ4_0}, {"Q4_1", DType::kQ4_1},
                           {"Q5_0", DType::kQ5_0}, {"Q5_1", DType::kQ5_1}, {"Q8_0", DType::kQ8_0},
                           {"Q4_K", DType::kQ4_K}, {"Q6_K", DType::kQ6_K}}) {
        const auto bin = read_bytes(testdata_dir() / "gguf" / (std::string("quant_") + name + ".bin"));
        const auto f32b = read_bytes(testdata_dir() / "gguf" / (std::string("quant_") + name + ".f32"));
        const int64_t n = static_cast<int64_t>(f32b.size() / 4);
        std::vector<float> ref(n), gpu(n);
        std::memcpy(ref.data(), f32b.data(), f32b.size());
        const int64_t bs = dtype_info(t).block_size;
        MP_ASSERT_OK(ops_->dequantize_forward(gpu.data(), t, bin.data(), bin.size(), n / bs, bs));
        EXPECT_EQ(0, std::memcmp(gpu.data(), ref.data(), f32b.size())) << name;
    }
    // Plain and one-byte float types against dtype.cpp, every bit pattern.
    std::vector<uint8_t> bytes(512);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + i / 256);
    for (DType t : {DType::kF16, DType::kBF16, DType::kF8_E4M3, DType::kF8_E5M2}) {
        const int64_t n = static_cast<int64_t>(bytes.size() / dtype_info(t).block_bytes);
        std::vector<float> cpu(n), gpu(n);
        MP_ASSERT_OK(convert_to_f32(t, bytes, n, cpu.data()));
        MP_ASSERT_OK(ops_->dequantize_forward(gpu.data(), t, bytes.data(), bytes.size(), 1, n));
        for (int64_t i = 0; i < n; ++i) {
            if (std::isnan(cpu[i])) {
                EXPECT_TRUE(std::isnan(gpu[i])) << dtype_name(t) << " " << i;
            } else {
                EXPECT_EQ(gpu[i], cpu[i]) << dtype_name(t) << " " << i;
            }
        }
    }
    std::vector<float> out(256);
    EXPECT_THAT(ops_->dequantize_forward(out.data(), DType::kQ2_K, bytes.data(), bytes.size(), 1, 256),
                StatusIs(StatusCode::kUnsupported, "Q2_K"));
    EXPECT_THAT(ops_->dequantize_forward(out.data(), DType::kQ8_0, bytes.data(), 10, 1, 32),
                StatusIs(StatusCode::kCorruptData, "10 bytes"));
    EXPECT_THAT(ops_->dequantize_forward(out.data(), DType::kQ8_0, bytes.data(), bytes.size(), 2, 16),
                StatusIs(StatusCode::kInvalidArgument, "16 columns"));
}

}  // namespace
}  // namespace modelprint

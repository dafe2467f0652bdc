// Host-side checks of the code the CUDA kernels share with the host (cuda/dequant_blocks.h), so the
// device decoders are verified on machines without a GPU: every GGUF block decoder against the
// gguf-py reference values (testdata/gguf/quant_<T>.{bin,f32}) bit for bit, and the Q/K row
// un-permutation against Model::canonical_f32 on the stories260K GGUF.
// Not here: the kernels themselves (tests/gpu_ops_test.cpp, which needs a device).
#include <cstring>
#include <string>
#include <vector>

#include "cuda/dequant_blocks.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::read_bytes;
using ::modelprint::testing::stories_dir;
using ::modelprint::testing::testdata_dir;

template <typename Decode>
void check_blocks(const char* name, int block_size, int block_bytes, Decode decode) {
    const auto bin = read_bytes(testdata_dir() / "gguf" / (std::string("quant_") + name + ".bin"));
    const auto f32b = read_bytes(testdata_dir() / "gguf" / (std::string("quant_") + name + ".f32"));
    ASSERT_EQ(bin.size() % block_bytes, 0u) << name;
    const size_t nblocks = bin.size() / block_bytes;
    ASSERT_EQ(f32b.size(), nblocks * block_size * 4) << name;
    std::vector<float> got(nblocks * block_size, -12345.0f), want(nblocks * block_size);
    std::memcpy(want.data(), f32b.data(), f32b.size());
    for (size_t b = 0; b < nblocks; ++b) {
        float* y = got.data() + b * block_size;
        decode(bin.data() + b * block_bytes, [&](int j, float v) { y[j] = v; });
    }
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), f32b.size())) << name;
}

TEST(CudaKernelsHost, BlockDecodersAreBitExactAgainstGgufPy) {
    check_blocks("Q4_0", 32, 18, [](const uint8_t* b, auto e) { dq::q4_0(b, e); });
    check_blocks("Q4_1", 32, 20, [](const uint8_t* b, auto e) { dq::q4_1(b, e); });
    check_blocks("Q5_0", 32, 22, [](const uint8_t* b, auto e) { dq::q5_0(b, e); });
    check_blocks("Q5_1", 32, 24, [](const uint8_t* b, auto e) { dq::q5_1(b, e); });
    check_blocks("Q8_0", 32, 34, [](const uint8_t* b, auto e) { dq::q8_0(b, e); });
    check_blocks("Q4_K", 256, 144, [](const uint8_t* b, auto e) { dq::q4_k(b, e); });
    check_blocks("Q6_K", 256, 210, [](const uint8_t* b, auto e) { dq::q6_k(b, e); });
}

TEST(CudaKernelsHost, QkRowUnpermutationMatchesCanonicalLayout) {
    auto m = Model::open((stories_dir() / "stories260K.gguf").string());
    ASSERT_TRUE(m.ok()) << m.status().to_string();
    const ModelConfig& c = (*m)->config();
    for (auto [role, heads] : {std::pair{Role::kAttnQ, c.n_heads}, {Role::kAttnK, c.n_kv_heads}}) {
        const TensorInfo* t = (*m)->find_role(role, 1);
        ASSERT_NE(t, nullptr);
        auto stored = (*m)->read_f32(*t);
        auto canon = (*m)->canonical_f32(role, 1);
        ASSERT_TRUE(stored.ok() && canon.ok());
        const int64_t rows = t->shape[0], cols = t->shape[1], hs = rows / heads;
        std::vector<float> mapped(stored->size());
        for (int64_t r = 0; r < rows; ++r) {
            std::memcpy(mapped.data() + dq::unpermute_qk_row(r, hs) * cols,
                        stored->data() + r * cols, sizeof(float) * cols);
        }
        EXPECT_EQ(mapped, canon->data) << role_name(role);
        EXPECT_NE(mapped, *stored) << "the fixture must actually be permuted";
    }
}

}  // namespace
}  // namespace modelprint

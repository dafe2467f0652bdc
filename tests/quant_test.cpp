// Tests of GGUF block dequantisation (fingerprint/base/quant.cpp) against gguf-py's numpy
// reference: testdata/gguf/quant_<T>.bin holds raw blocks and quant_<T>.f32 the reference values
// (testdata/gen/make_gguf_fixtures.py). Tolerance: none — results must be bit-identical, since
// both sides compute the same f32 products in the same order without fused multiply-add.
// Also hand-built single blocks whose values are worked out here from the block layout, and the
// error paths of dequantize_blocks / convert_to_f32 for block types.
#include "fingerprint/base/quant.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using testing::read_bytes;
using testing::testdata_dir;

uint32_t bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

std::vector<float> read_f32(const std::string& name) {
    const std::vector<uint8_t> raw = read_bytes(testdata_dir() / "gguf" / name);
    std::vector<float> out(raw.size() / 4);
    std::memcpy(out.data(), raw.data(), out.size() * 4);
    return out;
}

struct Case {
    DType dtype;
    const char* name;
};

class QuantGolden : public ::testing::TestWithParam<Case> {};

TEST_P(QuantGolden, BitExactAgainstGgufPy) {
    const Case c = GetParam();
    const DTypeInfo& info = dtype_info(c.dtype);
    const std::vector<uint8_t> raw =
        read_bytes(testdata_dir() / "gguf" / (std::string("quant_") + c.name + ".bin"));
    const std::vector<float> ref = read_f32(std::string("quant_") + c.name + ".f32");
    ASSERT_GT(raw.size(), 0u);
    ASSERT_EQ(raw.size() % info.block_bytes, 0u) << c.name;
    const uint64_t n_blocks = raw.size() / info.block_bytes;
    ASSERT_EQ(ref.size(), n_blocks * info.block_size) << c.name;

    // Block by block, so a mismatch names the block.
    std::vector<float> out(info.block_size);
    for (uint64_t b = 0; b < n_blocks; ++b) {
        MP_ASSERT_OK(dequantize_blocks(c.dtype, raw.data() + b * info.block_bytes, 1, out.data()));
        for (uint32_t i = 0; i < info.block_size; ++i) {
            ASSERT_EQ(bits(out[i]), bits(ref[b * info.block_size + i]))
                << c.name << " block " << b << " element " << i << ": got " << out[i]
                << ", reference " << ref[b * info.block_size + i];
        }
    }
    // All blocks at once, and through convert_to_f32 / convert_to_f64.
    std::vector<float> all(ref.size());
    MP_ASSERT_OK(dequantize_blocks(c.dtype, raw.data(), n_blocks, all.data()));
    std::vector<float> conv(ref.size());
    MP_ASSERT_OK(convert_to_f32(c.dtype, raw, ref.size(), conv.data()));
    std::vector<double> conv64(ref.size());
    MP_ASSERT_OK(convert_to_f64(c.dtype, raw, ref.size(), conv64.data()));
    for (size_t i = 0; i < ref.size(); ++i) {
        ASSERT_EQ(bits(all[i]), bits(ref[i])) << c.name << " element " << i;
        ASSERT_EQ(bits(conv[i]), bits(ref[i])) << c.name << " element " << i;
        ASSERT_EQ(conv64[i], static_cast<double>(ref[i])) << c.name << " element " << i;
    }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantGolden,
                         ::testing::Values(Case{DType::kQ4_0, "Q4_0"}, Case{DType::kQ4_1, "Q4_1"},
                                           Case{DType::kQ5_0, "Q5_0"}, Case{DType::kQ5_1, "Q5_1"},
                                           Case{DType::kQ8_0, "Q8_0"}, Case{DType::kQ2_K, "Q2_K"},
                                           Case{DType::kQ3_K, "Q3_K"}, Case{DType::kQ4_K, "Q4_K"},
                                           Case{DType::kQ5_K, "Q5_K"}, Case{DType::kQ6_K, "Q6_K"},
                                           Case{DType::kQ8_K, "Q8_K"}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                             return std::string(i.param.name);
                         });

// Hand-worked blocks: values derived here from the ggml-common.h layout, not from a reference.
TEST(QuantByHand, Q4_0NibbleOrderAndOffset) {
    std::vector<uint8_t> b(18, 0);
    const uint16_t d = f32_to_f16(0.5f);
    std::memcpy(b.data(), &d, 2);
    b[2] = 0xF0;   // element 0: low nibble 0 -> (0-8)*0.5 = -4; element 16: high 15 -> 3.5
    b[17] = 0x9A;  // element 15: low 10 -> 1; element 31: high 9 -> 0.5
    std::vector<float> y(32);
    MP_ASSERT_OK(dequantize_blocks(DType::kQ4_0, b.data(), 1, y.data()));
    EXPECT_EQ(y[0], -4.0f);
    EXPECT_EQ(y[16], 3.5f);
    EXPECT_EQ(y[15], 1.0f);
    EXPECT_EQ(y[31], 0.5f);
    EXPECT_EQ(y[1], -4.0f);  // qs[1] == 0
}

TEST(QuantByHand, Q5_0HighBits) {
    std::vector<uint8_t> b(22, 0);
    const uint16_t d = f32_to_f16(1.0f);
    std::memcpy(b.data(), &d, 2);
    const uint32_t qh = (1u << 3) | (1u << 20);  // bit 3 -> element 3; bit 20 -> element 20
    std::memcpy(b.data() + 2, &qh, 4);
    std::vector<float> y(32);
    MP_ASSERT_OK(dequantize_blocks(DType::kQ5_0, b.data(), 1, y.data()));
    EXPECT_EQ(y[3], 0.0f);    // (0 | 16) - 16
    EXPECT_EQ(y[20], 0.0f);   // element 20 = high nibble of qs[4] with qh bit 20
    EXPECT_EQ(y[0], -16.0f);  // (0 | 0) - 16
    EXPECT_EQ(y[19], -16.0f);
}

TEST(QuantByHand, Q8_0SignedValues) {
    std::vector<uint8_t> b(34, 0);
    const uint16_t d = f32_to_f16(0.25f);
    std::memcpy(b.data(), &d, 2);
    b[2] = 0x80;  // -128
    b[3] = 0x7F;  // 127
    std::vector<float> y(32);
    MP_ASSERT_OK(dequantize_blocks(DType::kQ8_0, b.data(), 1, y.data()));
    EXPECT_EQ(y[0], -32.0f);
    EXPECT_EQ(y[1], 31.75f);
}

TEST(QuantByHand, Q6_KScalesAndLayout) {
    std::vector<uint8_t> b(210, 0);
    const uint16_t d = f32_to_f16(2.0f);
    std::memcpy(b.data() + 208, &d, 2);
    for (int i = 0; i < 16; ++i) b[192 + i] = static_cast<uint8_t>(i - 8);  // int8 scales
    b[0] = 0x21;    // ql[0]: element 0 low 1, element 64 high 2
    b[128] = 0xC3;  // qh[0]: element 0 +3<<4, element 32 +0, element 64 +0, element 96 +3<<4
    std::vector<float> y(256);
    MP_ASSERT_OK(dequantize_blocks(DType::kQ6_K, b.data(), 1, y.data()));
    EXPECT_EQ(y[0], 2.0f * -8.0f * static_cast<float>((1 | 48) - 32));
    EXPECT_EQ(y[32], 2.0f * -6.0f * -32.0f);
    EXPECT_EQ(y[64], 2.0f * -4.0f * static_cast<float>(2 - 32));
    EXPECT_EQ(y[96], 2.0f * -2.0f * static_cast<float>(48 - 32));
    EXPECT_EQ(y[128], 2.0f * 0.0f * -32.0f);  // second half uses scales 8..15: scale[8] = 0
}

TEST(QuantErrors, PlainTypeIsInvalidArgument) {
    std::vector<uint8_t> b(4, 0);
    float y[1];
    EXPECT_THAT(dequantize_blocks(DType::kF32, b.data(), 1, y),
                StatusIs(StatusCode::kInvalidArgument, "F32 is not a block-quantised type"));
}

TEST(QuantErrors, Q8_1HasNoDequantiser) {
    std::vector<uint8_t> b(36, 0);
    std::vector<float> y(32);
    EXPECT_THAT(dequantize_blocks(DType::kQ8_1, b.data(), 1, y.data()),
                StatusIs(StatusCode::kUnsupported, "Q8_1"));
}

TEST(QuantErrors, NullBuffers) {
    std::vector<float> y(32);
    EXPECT_THAT(dequantize_blocks(DType::kQ4_0, nullptr, 1, y.data()),
                StatusIs(StatusCode::kInvalidArgument, "null buffer"));
    MP_EXPECT_OK(dequantize_blocks(DType::kQ4_0, nullptr, 0, nullptr));
}

TEST(QuantErrors, ConvertNeedsWholeBlocksAndEnoughBytes) {
    std::vector<uint8_t> b(18, 0);
    std::vector<float> y(64);
    EXPECT_THAT(convert_to_f32(DType::kQ4_0, b, 31, y.data()),
                StatusIs(StatusCode::kCorruptData, "not a whole number of 32-element Q4_0 blocks"));
    EXPECT_THAT(convert_to_f32(DType::kQ4_0, b, 64, y.data()),
                StatusIs(StatusCode::kCorruptData, "need 36 bytes, only 18 available"));
}

}  // namespace
}  // namespace modelprint

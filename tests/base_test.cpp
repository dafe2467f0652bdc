// Tests of fingerprint/base: Status/Result, dtype conversions, SHA-256, JSON adapter, threads.
#include <cmath>
#include <cstring>
#include <limits>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/base/thread_pool.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::TempDir;

Result<int> half(int x) {
    if (x % 2) return invalid_argument("{} is odd", x);
    return x / 2;
}
Result<int> quarter(int x) {
    MP_ASSIGN_OR_RETURN(int h, half(x));
    MP_ASSIGN_OR_RETURN(int q, half(h));
    return q;
}

TEST(StatusTest, ResultPropagates) {
    EXPECT_EQ(*quarter(8), 2);
    EXPECT_THAT(quarter(6), StatusIs(StatusCode::kInvalidArgument, "3 is odd"));
    Result<int> bad = Status();
    EXPECT_THAT(bad, StatusIs(StatusCode::kInternal, "OK status"));
    EXPECT_EQ(invalid_argument("x").with_context("ctx").message(), "ctx: x");
}

TEST(DTypeTest, HalfConversionsRoundTrip) {
    for (uint32_t h = 0; h < 65536; ++h) {
        float f = f16_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(f32_to_f16(f), h) << h;
    }
    EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
    EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
    EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
    for (uint32_t h = 0; h < 65536; ++h) {
        float f = bf16_to_f32(static_cast<uint16_t>(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(f32_to_bf16(f), h);
    }
    EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // halfway, ties to even
}

TEST(DTypeTest, Fp8Values) {
    EXPECT_EQ(f8_e4m3_to_f32(0x7e), 448.0f);  // max finite
    EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0x7f)));
    EXPECT_EQ(f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
    EXPECT_EQ(f8_e4m3_to_f32(0x38), 1.0f);
    EXPECT_EQ(f8_e5m2_to_f32(0x3c), 1.0f);
    EXPECT_EQ(f8_e5m2_to_f32(0x7b), 57344.0f);
    EXPECT_TRUE(std::isinf(f8_e5m2_to_f32(0x7c)));
    EXPECT_TRUE(std::isnan(f8_e5m2_to_f32(0x7d)));
    EXPECT_EQ(f8_e8m0_to_f32(127), 1.0f);
    EXPECT_EQ(f8_e8m0_to_f32(130), 8.0f);
    EXPECT_EQ(f8_e4m3fnuz_to_f32(0x40), 1.0f);
    EXPECT_TRUE(std::isnan(f8_e4m3fnuz_to_f32(0x80)));
    EXPECT_EQ(f8_e4m3fnuz_to_f32(0x7f), 240.0f);
    EXPECT_EQ(f8_e5m2fnuz_to_f32(0x40), 1.0f);
    EXPECT_EQ(f8_e5m2fnuz_to_f32(0x7f), 57344.0f);
}

TEST(DTypeTest, ParseAndSizes) {
    EXPECT_EQ(*dtype_from_safetensors("BF16"), DType::kBF16);
    EXPECT_THAT(dtype_from_safetensors("F4"), StatusIs(StatusCode::kUnsupported, "unsupported dtype F4"));
    EXPECT_THAT(dtype_from_safetensors("F17"), StatusIs(StatusCode::kCorruptData, "unknown dtype \"F17\""));
    EXPECT_THAT(dtype_from_safetensors("Q4_0"), StatusIs(StatusCode::kCorruptData, "unknown dtype"));
    EXPECT_EQ(*dtype_nbytes(DType::kF32, 10), 40u);
    EXPECT_EQ(*dtype_nbytes(DType::kQ4_K, 512), 288u);
    EXPECT_THAT(dtype_nbytes(DType::kQ8_0, 33), StatusIs(StatusCode::kCorruptData, "whole number"));
    EXPECT_THAT(dtype_nbytes(DType::kF64, uint64_t{1} << 62), StatusIs(StatusCode::kCorruptData, "overflows"));
    EXPECT_EQ(*dtype_from_gguf(12), DType::kQ4_K);
    EXPECT_EQ(*dtype_from_gguf(30), DType::kBF16);
    EXPECT_EQ(*dtype_from_gguf(27), DType::kI64);
    EXPECT_EQ(*dtype_from_gguf(28), DType::kF64);
    EXPECT_THAT(dtype_from_gguf(99), StatusIs(StatusCode::kUnsupported, "GGUF tensor type 99"));
}

TEST(DTypeTest, ConvertChecksLength) {
    std::vector<uint8_t> b(6);
    uint16_t one = 0x3c00;
    std::memcpy(b.data(), &one, 2);
    float out[3];
    MP_ASSERT_OK(convert_to_f32(DType::kF16, b, 3, out));
    EXPECT_EQ(out[0], 1.0f);
    EXPECT_THAT(convert_to_f32(DType::kF16, b, 4, out), StatusIs(StatusCode::kCorruptData, "need 8 bytes"));
    std::vector<uint8_t> i8 = {0xff, 0x02};
    double d[2];
    MP_ASSERT_OK(convert_to_f64(DType::kI8, i8, 2, d));
    EXPECT_EQ(d[0], -1.0);
    EXPECT_THAT(convert_to_f32(DType::kC64, b, 0, out), StatusIs(StatusCode::kUnsupported, "complex"));
}

TEST(Sha256Test, KnownVectors) {
    EXPECT_EQ(sha256_hex(std::string_view("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex(std::string_view("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 h;
    h.update(std::string_view("a"));
    h.update(std::string_view("bc"));
    EXPECT_EQ(to_hex(h.finish()), sha256_hex(std::string_view("abc")));
}

TEST(JsonTest, RejectsDuplicatesAndGarbage) {
    EXPECT_TRUE(parse_json(R"({"a": {"b": 1, "c": 2}, "d": [1, 2]})", "doc").ok());
    EXPECT_THAT(parse_json(R"({"a": 1, "a": 2})", "doc"), StatusIs(StatusCode::kCorruptData, "duplicate key \"a\""));
    EXPECT_THAT(parse_json(R"({"x": {"a": 1, "a": 2}})", "doc"), StatusIs(StatusCode::kCorruptData, "duplicate"));
    EXPECT_TRUE(parse_json(R"({"x": {"a": 1}, "y": {"a": 2}})", "doc").ok());
    EXPECT_THAT(parse_json("{\"a\": ", "hdr"), StatusIs(StatusCode::kCorruptData, "hdr: invalid JSON"));
    EXPECT_THAT(parse_json("\"\xff\"", "hdr"), StatusIs(StatusCode::kCorruptData, "invalid JSON"));
    std::string deep(500, '[');
    EXPECT_THAT(parse_json(deep, "deep"), StatusIs(StatusCode::kCorruptData, "nesting"));
}

TEST(FileTest, MapAndAtomicWrite) {
    TempDir dir;
    auto p = (dir / "f.bin").string();
    MP_ASSERT_OK(write_file_atomic(p, "hello"));
    auto m = MappedFile::open(p);
    MP_ASSERT_OK(m);
    EXPECT_EQ((*m)->size(), 5u);
    EXPECT_EQ((*m)->bytes()[0], 'h');
    EXPECT_THAT(MappedFile::open((dir / "missing").string()), StatusIs(StatusCode::kNotFound, "no such file"));
    EXPECT_THAT(MappedFile::open(dir.path().string()), StatusIs(StatusCode::kInvalidArgument, "not a regular file"));
    EXPECT_THAT(read_file((dir / "nope").string()), StatusIs(StatusCode::kNotFound, "nope"));
}

TEST(ThreadPoolTest, CoversEveryIndexOnce) {
    std::vector<int> hits(1000, 0);
    parallel_for(hits.size(), [&](size_t i) { hits[i]++; }, 4, 7);
    for (int h : hits) EXPECT_EQ(h, 1);
}

}  // namespace
}  // namespace modelprint

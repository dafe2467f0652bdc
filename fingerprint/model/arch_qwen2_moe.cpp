// Qwen2-MoE (Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): Qwen2's attention (q/k/v biases) with a sparse
// MoE block plus one shared expert whose output is scaled by sigmoid(x . shared_expert_gate)
// (transformers models/qwen2_moe/modeling_qwen2_moe.py Qwen2MoeSparseMoeBlock; router
// Qwen2MoeTopKRouter: softmax in f32, top-k, renormalised only when norm_topk_prob). Layers in
// mlp_only_layers, or with (l + 1) % decoder_sparse_step != 0, are dense (intermediate_size).
// GGUF: llama.cpp "qwen2moe" (top-k weights not renormalised unless expert_weights_norm).
// qwen_moe_hf_names / qwen_moe_hf_keys are shared with Qwen3-MoE.
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

std::vector<HfNameRule> qwen_moe_hf_names(bool qk_norm, bool shared) {
    std::vector<HfNameRule> r = llama_family_hf_names(qk_norm);
    r.push_back({"model.layers.{L}.mlp.gate", Role::kFfnGateInp});
    r.push_back({"model.layers.{L}.mlp.experts.{E}.gate_proj", Role::kFfnGateExps});
    r.push_back({"model.layers.{L}.mlp.experts.{E}.up_proj", Role::kFfnUpExps});
    r.push_back({"model.layers.{L}.mlp.experts.{E}.down_proj", Role::kFfnDownExps});
    if (shared) {
        r.push_back({"model.layers.{L}.mlp.shared_expert.gate_proj", Role::kFfnGateShexp});
        r.push_back({"model.layers.{L}.mlp.shared_expert.up_proj", Role::kFfnUpShexp});
        r.push_back({"model.layers.{L}.mlp.shared_expert.down_proj", Role::kFfnDownShexp});
        r.push_back({"model.layers.{L}.mlp.shared_expert_gate", Role::kFfnGateInpShexp});
    }
    return r;
}

void qwen_moe_hf_keys(ModelConfig* c, const ConfigKeys& k) {
    // Hub configs spell it num_experts; transformers 5's Qwen3MoeConfig saves num_local_experts.
    c->n_experts = k.get_int("num_experts").value_or(k.get_int("num_local_experts").value_or(0));
    c->n_experts_used = k.get_int("num_experts_per_tok").value_or(0);
    c->moe_intermediate_size = k.get_int("moe_intermediate_size").value_or(0);
    c->shared_expert_intermediate_size = k.get_int("shared_expert_intermediate_size").value_or(0);
    c->norm_topk_prob = k.get_bool("norm_topk_prob").value_or(false);
    c->decoder_sparse_step = k.get_int("decoder_sparse_step").value_or(1);
    c->mlp_only_layers = k.get_int_list("mlp_only_layers").value_or(std::vector<int64_t>{});
}

namespace {

Status qwen2_moe_fixup(ModelConfig* c, const ConfigKeys& k) {
    if (k.is_gguf()) {
        gguf_moe_keys(c, k, false);
    } else {
        qwen_moe_hf_keys(c, k);
    }
    return Status();
}

Result<ModelPlan> qwen2_moe_plan(const ModelConfig& c, const std::vector<TensorRole>& roles) {
    return moe_plan(c, roles, SharedGate::kSigmoid);
}

}  // namespace

const ArchSpec& qwen2_moe_arch() {
    static const ArchSpec spec{
        .arch = Arch::kQwen2Moe,
        .name = "qwen2_moe",
        .hf_model_types = {"qwen2_moe"},
        .hf_architectures = {"Qwen2MoeForCausalLM"},
        .gguf_archs = {"qwen2moe"},
        .hf_names = qwen_moe_hf_names(false, true),
        .qkv_bias = true,
        .fixup = qwen2_moe_fixup,
        .plan = qwen2_moe_plan,
    };
    return spec;
}

}  // namespace modelprint

// Mixtral (8x7B, 8x22B): Mistral's attention with a sparse MoE block in every layer
// (transformers models/mixtral/modeling_mixtral.py: block_sparse_moe.gate router (E, C),
// experts.{E}.w1 gate / w3 up / w2 down; MixtralTopKRouter: softmax over all experts in f32,
// top-k, renormalised to sum 1). Config: num_local_experts, num_experts_per_tok; every expert is
// intermediate_size wide. llama.cpp writes Mixtral GGUFs as "llama" (arch_llama.cpp).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

namespace {

std::vector<HfNameRule> mixtral_names() {
    std::vector<HfNameRule> r = llama_family_hf_names(false);
    r.push_back({"model.layers.{L}.block_sparse_moe.gate", Role::kFfnGateInp});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w1", Role::kFfnGateExps});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w3", Role::kFfnUpExps});
    r.push_back({"model.layers.{L}.block_sparse_moe.experts.{E}.w2", Role::kFfnDownExps});
    return r;
}

Status mixtral_fixup(ModelConfig* c, const ConfigKeys& k) {
    if (k.is_gguf()) {
        gguf_moe_keys(c, k, true);
        return Status();
    }
    c->n_experts = k.get_int("num_local_experts").value_or(8);
    c->n_experts_used = k.get_int("num_experts_per_tok").value_or(2);
    c->moe_intermediate_size = c->intermediate_size;
    c->norm_topk_prob = true;
    return Status();
}

Result<ModelPlan> mixtral_plan(const ModelConfig& c, const std::vector<TensorRole>& roles) {
    return moe_plan(c, roles, SharedGate::kNone);
}

}  // namespace

const ArchSpec& mixtral_arch() {
    static const ArchSpec spec{
        .arch = Arch::kMixtral,
        .name = "mixtral",
        .hf_model_types = {"mixtral"},
        .hf_architectures = {"MixtralForCausalLM"},
        .gguf_archs = {},  // llama.cpp writes Mixtral as "llama"
        .hf_names = mixtral_names(),
        .fixup = mixtral_fixup,
        .plan = mixtral_plan,
    };
    return spec;
}

}  // namespace modelprint

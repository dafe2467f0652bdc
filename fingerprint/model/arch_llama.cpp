// Llama family (Llama 2/3, TinyLlama, DeepSeek-R1-Distill-Llama, SmolLM): RMSNorm, RoPE,
// SwiGLU MLP, GQA; no biases by default. Names: transformers models/llama/modeling_llama.py.
// llama_family_hf_names() is shared by the architectures that reuse Llama's module names.
// llama.cpp writes Mixtral as GGUF "llama" with "llama.expert_count" > 0: the fix-up reads the
// expert keys and the plan makes those layers MoE (src/llama-model.cpp LLM_ARCH_LLAMA: softmax
// routing, top-k weights renormalised).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

std::vector<HfNameRule> llama_family_hf_names(bool qk_norm) {
    std::vector<HfNameRule> r = {
        {"model.embed_tokens", Role::kTokenEmbd},
        {"model.norm", Role::kOutputNorm},
        {"lm_head", Role::kOutput},
        {"model.layers.{L}.input_layernorm", Role::kAttnNorm},
        {"model.layers.{L}.self_attn.q_proj", Role::kAttnQ},
        {"model.layers.{L}.self_attn.k_proj", Role::kAttnK},
        {"model.layers.{L}.self_attn.v_proj", Role::kAttnV},
        {"model.layers.{L}.self_attn.o_proj", Role::kAttnOut},
        {"model.layers.{L}.post_attention_layernorm", Role::kFfnNorm},
        {"model.layers.{L}.mlp.gate_proj", Role::kFfnGate},
        {"model.layers.{L}.mlp.up_proj", Role::kFfnUp},
        {"model.layers.{L}.mlp.down_proj", Role::kFfnDown},
    };
    if (qk_norm) {
        r.push_back({"model.layers.{L}.self_attn.q_norm", Role::kAttnQNorm});
        r.push_back({"model.layers.{L}.self_attn.k_norm", Role::kAttnKNorm});
    }
    return r;
}

void gguf_moe_keys(ModelConfig* c, const ConfigKeys& k, bool norm_default) {
    c->n_experts = k.get_int("expert_count").value_or(0);
    c->n_experts_used = k.get_int("expert_used_count").value_or(0);
    c->moe_intermediate_size = k.get_int("expert_feed_forward_length").value_or(0);
    c->shared_expert_intermediate_size =
        k.get_int("expert_shared_feed_forward_length").value_or(0);
    c->norm_topk_prob = k.get_bool("expert_weights_norm").value_or(norm_default);
}

namespace {

Status llama_fixup(ModelConfig* c, const ConfigKeys& k) {
    if (k.is_gguf()) gguf_moe_keys(c, k, true);
    return Status();
}

Result<ModelPlan> llama_plan(const ModelConfig& c, const std::vector<TensorRole>& roles) {
    return moe_plan(c, roles, SharedGate::kNone);
}

}  // namespace

const ArchSpec& llama_arch() {
    static const ArchSpec spec{
        .arch = Arch::kLlama,
        .name = "llama",
        .hf_model_types = {"llama"},
        .hf_architectures = {"LlamaForCausalLM"},
        .gguf_archs = {"llama"},
        .hf_names = llama_family_hf_names(false),
        .fixup = llama_fixup,
        .plan = llama_plan,
    };
    return spec;
}

}  // namespace modelprint

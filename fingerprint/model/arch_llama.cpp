// Llama family (Llama 2/3, TinyLlama, DeepSeek-R1-Distill-Llama, SmolLM): RMSNorm, RoPE,
// SwiGLU MLP, GQA; no biases by default. Names: transformers models/llama/modeling_llama.py.
// llama_family_hf_names() is shared by the architectures that reuse Llama's module names.
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

const ArchSpec& llama_arch() {
    static const ArchSpec spec{
        .arch = Arch::kLlama,
        .name = "llama",
        .hf_model_types = {"llama"},
        .hf_architectures = {"LlamaForCausalLM"},
        .gguf_archs = {"llama"},
        .hf_names = llama_family_hf_names(false),
    };
    return spec;
}

}  // namespace modelprint

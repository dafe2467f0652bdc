// Qwen3 (dense): Llama modules without qkv bias, plus per-head RMSNorm of q and k before RoPE
// (transformers models/qwen3/modeling_qwen3.py: self_attn.q_norm / k_norm over head_dim).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

const ArchSpec& qwen3_arch() {
    static const ArchSpec spec{
        .arch = Arch::kQwen3,
        .name = "qwen3",
        .hf_model_types = {"qwen3"},
        .hf_architectures = {"Qwen3ForCausalLM"},
        .gguf_archs = {"qwen3"},
        .hf_names = llama_family_hf_names(true),
        .qk_norm = true,
    };
    return spec;
}

}  // namespace modelprint

// Qwen2 / Qwen2.5 / DeepSeek-R1-Distill-Qwen: Llama modules plus biases on q, k and v
// (transformers models/qwen2/modeling_qwen2.py: q_proj/k_proj/v_proj bias=True, o_proj no bias).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

const ArchSpec& qwen2_arch() {
    static const ArchSpec spec{
        .arch = Arch::kQwen2,
        .name = "qwen2",
        .hf_model_types = {"qwen2"},
        .hf_architectures = {"Qwen2ForCausalLM"},
        .gguf_archs = {"qwen2"},
        .hf_names = llama_family_hf_names(false),
        .qkv_bias = true,
    };
    return spec;
}

}  // namespace modelprint

// Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): Qwen3's attention (per-head q/k RMSNorm, no
// biases) with a sparse MoE block and no shared expert (transformers
// models/qwen3_moe/modeling_qwen3_moe.py; router as Qwen2-MoE's). GGUF: llama.cpp "qwen3moe",
// whose top-k weights are always renormalised (src/llama-model.cpp LLM_ARCH_QWEN3MOE).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

namespace {

Status qwen3_moe_fixup(ModelConfig* c, const ConfigKeys& k) {
    if (k.is_gguf()) {
        gguf_moe_keys(c, k, true);
    } else {
        qwen_moe_hf_keys(c, k);
        c->shared_expert_intermediate_size = 0;
    }
    return Status();
}

Result<ModelPlan> qwen3_moe_plan(const ModelConfig& c, const std::vector<TensorRole>& roles) {
    return moe_plan(c, roles, SharedGate::kNone);
}

}  // namespace

const ArchSpec& qwen3_moe_arch() {
    static const ArchSpec spec{
        .arch = Arch::kQwen3Moe,
        .name = "qwen3_moe",
        .hf_model_types = {"qwen3_moe"},
        .hf_architectures = {"Qwen3MoeForCausalLM"},
        .gguf_archs = {"qwen3moe"},
        .hf_names = qwen_moe_hf_names(true, false),
        .qk_norm = true,
        .fixup = qwen3_moe_fixup,
        .plan = qwen3_moe_plan,
    };
    return spec;
}

}  // namespace modelprint

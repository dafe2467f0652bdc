// Declarations shared by the per-architecture files and the registry (arch_registry.cpp).
// Adding an architecture: one arch_<name>.cpp defining <name>_arch(), one line in the registry.
#pragma once

#include <vector>

#include "fingerprint/model/arch.h"
#include "fingerprint/model/config.h"
#include "fingerprint/model/plan.h"

namespace modelprint {

std::vector<HfNameRule> llama_family_hf_names(bool qk_norm);
// Qwen2-MoE / Qwen3-MoE expert names (mlp.gate router, mlp.experts.{E}.*_proj, and with
// `shared` mlp.shared_expert.*_proj and mlp.shared_expert_gate).
std::vector<HfNameRule> qwen_moe_hf_names(bool qk_norm, bool shared);
// llama.cpp's MoE metadata of a GGUF file ("<arch>.expert_count", ".expert_used_count",
// ".expert_feed_forward_length", ".expert_shared_feed_forward_length", ".expert_weights_norm"
// with `norm_default` when absent: llama.cpp's per-architecture default).
void gguf_moe_keys(ModelConfig* cfg, const ConfigKeys& keys, bool norm_default);
// The Qwen-MoE config.json keys (num_experts, num_experts_per_tok, moe_intermediate_size,
// shared_expert_intermediate_size, norm_topk_prob, decoder_sparse_step, mlp_only_layers).
void qwen_moe_hf_keys(ModelConfig* cfg, const ConfigKeys& keys);

const ArchSpec& llama_arch();
const ArchSpec& mistral_arch();
const ArchSpec& qwen2_arch();
const ArchSpec& qwen3_arch();
const ArchSpec& gpt2_arch();
const ArchSpec& mixtral_arch();
const ArchSpec& qwen2_moe_arch();
const ArchSpec& qwen3_moe_arch();

}  // namespace modelprint

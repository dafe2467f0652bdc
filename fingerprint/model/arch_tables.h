// Declarations shared by the per-architecture files and the registry (arch_registry.cpp).
// Adding an architecture: one arch_<name>.cpp defining <name>_arch(), one line in the registry.
#pragma once

#include <vector>

#include "fingerprint/model/arch.h"

namespace modelprint {

std::vector<HfNameRule> llama_family_hf_names(bool qk_norm);

const ArchSpec& llama_arch();
const ArchSpec& mistral_arch();
const ArchSpec& qwen2_arch();
const ArchSpec& qwen3_arch();
const ArchSpec& gpt2_arch();

}  // namespace modelprint

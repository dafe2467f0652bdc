// Mistral (7B v0.1–v0.3, Ministral): Llama's modules and names; sliding-window attention in v0.1
// (config "sliding_window"). transformers models/mistral/modeling_mistral.py.
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

const ArchSpec& mistral_arch() {
    static const ArchSpec spec{
        .arch = Arch::kMistral,
        .name = "mistral",
        .hf_model_types = {"mistral"},
        .hf_architectures = {"MistralForCausalLM"},
        .gguf_archs = {},  // llama.cpp writes Mistral as "llama"
        .hf_names = llama_family_hf_names(false),
    };
    return spec;
}

}  // namespace modelprint

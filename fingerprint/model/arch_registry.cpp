// The architecture registry: one line per architecture.
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

const std::vector<const ArchSpec*>& all_archs() {
    static const std::vector<const ArchSpec*> archs = {
        &llama_arch(), &mistral_arch(), &qwen2_arch(), &qwen3_arch(), &gpt2_arch(),
        &mixtral_arch(), &qwen2_moe_arch(), &qwen3_moe_arch(),
    };
    return archs;
}

const ArchSpec* find_arch(Arch a) {
    for (const ArchSpec* s : all_archs()) {
        if (s->arch == a) return s;
    }
    return nullptr;
}

const ArchSpec* find_arch_by_hf(std::string_view model_type, std::string_view architecture) {
    for (const ArchSpec* s : all_archs()) {
        for (auto t : s->hf_model_types) {
            if (!model_type.empty() && t == model_type) return s;
        }
    }
    for (const ArchSpec* s : all_archs()) {
        for (auto a : s->hf_architectures) {
            if (!architecture.empty() && a == architecture) return s;
        }
    }
    return nullptr;
}

const ArchSpec* find_arch_by_gguf(std::string_view gguf_arch) {
    for (const ArchSpec* s : all_archs()) {
        for (auto g : s->gguf_archs) {
            if (g == gguf_arch) return s;
        }
    }
    return nullptr;
}

std::string_view arch_name(Arch a) {
    const ArchSpec* s = find_arch(a);
    return s ? s->name : "unknown";
}

}  // namespace modelprint

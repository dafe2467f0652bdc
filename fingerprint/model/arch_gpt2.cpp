// GPT-2: learned absolute positions, pre-LayerNorm with biases, fused c_attn (q|k|v), GELU (tanh)
// MLP, tied head. HF stores Conv1D weights as [in, out] (transformers pytorch_utils.Conv1D), so
// they are transposed to [out, in] in canonical layout. Checkpoints name tensors with or without
// the "transformer." prefix (openai-community/gpt2 has none).
#include "fingerprint/model/arch_tables.h"

namespace modelprint {

namespace {
std::vector<HfNameRule> gpt2_names() {
    std::vector<HfNameRule> r;
    static const std::vector<std::pair<std::string_view, Role>> base = {
        {"wte", Role::kTokenEmbd},           {"wpe", Role::kPosEmbd},
        {"ln_f", Role::kOutputNorm},         {"h.{L}.ln_1", Role::kAttnNorm},
        {"h.{L}.attn.c_attn", Role::kAttnQKV}, {"h.{L}.attn.c_proj", Role::kAttnOut},
        {"h.{L}.ln_2", Role::kFfnNorm},      {"h.{L}.mlp.c_fc", Role::kFfnUp},
        {"h.{L}.mlp.c_proj", Role::kFfnDown},
    };
    static const std::vector<std::string> prefixed = [] {
        std::vector<std::string> v;
        for (const auto& [n, role] : base) v.push_back("transformer." + std::string(n));
        return v;
    }();
    for (size_t i = 0; i < base.size(); ++i) r.push_back({prefixed[i], base[i].second});
    for (const auto& [n, role] : base) r.push_back({n, role});
    r.push_back({"lm_head", Role::kOutput});
    return r;
}
}  // namespace

const ArchSpec& gpt2_arch() {
    static const ArchSpec spec{
        .arch = Arch::kGpt2,
        .name = "gpt2",
        .hf_model_types = {"gpt2"},
        .hf_architectures = {"GPT2LMHeadModel"},
        .gguf_archs = {"gpt2"},
        .hf_names = gpt2_names(),
        .norm = NormType::kLayerNorm,
        .act = Activation::kGeluTanh,
        .gated_mlp = false,
        .qkv_bias = true,
        .conv1d_weights = true,
        .learned_positions = true,
    };
    return spec;
}

}  // namespace modelprint

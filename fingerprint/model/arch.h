// Architectures and canonical tensor roles. Knowledge of Hugging Face tensor names is data: one
// file per architecture (arch_<name>.cpp) defines an ArchSpec, and arch_registry.cpp lists them
// (one line per architecture). Canonical names follow llama.cpp/GGUF ("blk.3.attn_q.weight").
// Each ArchSpec also owns its config fix-ups (`fixup`: the keys only it reads) and its layer plan
// (`plan`: fingerprint/model/plan.h), which every engine and analysis reads instead of
// re-deriving the layer recipe.
// Experts: the routed-expert roles (ffn_{gate,up,down}_exps) are one stacked 3-D tensor per
// layer in GGUF ([E, rows, cols], expert = -1 in its TensorRole) and one 2-D tensor per expert in
// Hugging Face checkpoints (expert = e); Model::canonical_stored(role, layer, bias, e) gives the
// same (rows, cols) view of expert e from either. Canonical name of one expert's tensor:
// "blk.L.ffn_up_exps.E.weight" (the stacked GGUF name without ".E").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

enum class Arch : uint8_t {
    kLlama, kMistral, kQwen2, kQwen3, kGpt2, kMixtral, kQwen2Moe, kQwen3Moe, kUnknown
};

enum class Role : uint8_t {
    kTokenEmbd, kPosEmbd, kOutputNorm, kOutput,
    kAttnNorm, kAttnQ, kAttnK, kAttnV, kAttnQKV, kAttnOut, kAttnQNorm, kAttnKNorm,
    kFfnNorm, kFfnGate, kFfnUp, kFfnDown,
    // Mixture of experts: router (E, C); routed experts (per expert (FFE, C) / (C, FFE));
    // shared expert (FFS, C) / (C, FFS) and its gate (1, C).
    kFfnGateInp, kFfnGateExps, kFfnUpExps, kFfnDownExps,
    kFfnGateShexp, kFfnUpShexp, kFfnDownShexp, kFfnGateInpShexp,
    kUnknown,
};

// GGUF/llama.cpp base name of a role ("attn_q", "token_embd").
std::string_view role_name(Role r);
std::optional<Role> role_from_name(std::string_view name);
// A routed-expert role (ffn_{gate,up,down}_exps): stacked or per expert.
bool is_expert_role(Role r);
// A linear weight ([out, in] in canonical layout).
bool is_linear_role(Role r);

struct TensorRole {
    Role role = Role::kUnknown;
    int layer = -1;        // -1 for global tensors
    bool is_bias = false;  // ".bias" rather than ".weight"
    int expert = -1;       // routed expert index of a per-expert tensor; -1 otherwise (stacked)
    bool operator==(const TensorRole&) const = default;
};
// "blk.3.attn_q.weight", "token_embd.weight"; empty for kUnknown.
std::string canonical_name(const TensorRole& r);
// Parse a GGUF-style canonical name; kUnknown when it is not one.
TensorRole parse_canonical_name(std::string_view name);

enum class NormType : uint8_t { kRmsNorm, kLayerNorm };
enum class Activation : uint8_t { kSilu, kGeluTanh, kGelu };

// One Hugging Face tensor-name rule: `pattern` with "{L}" for the layer index (and "{E}" for the
// expert index of a routed-expert role), without the ".weight"/".bias" suffix, e.g.
// "model.layers.{L}.self_attn.q_proj", "model.layers.{L}.mlp.experts.{E}.up_proj".
struct HfNameRule {
    std::string_view pattern;
    Role role;
};

struct ModelConfig;
struct ModelPlan;
class ConfigKeys;  // config.h

struct ArchSpec {
    Arch arch;
    std::string_view name;                           // "llama"
    std::vector<std::string_view> hf_model_types;    // config.json "model_type"
    std::vector<std::string_view> hf_architectures;  // config.json "architectures"
    std::vector<std::string_view> gguf_archs;        // GGUF general.architecture
    std::vector<HfNameRule> hf_names;
    NormType norm = NormType::kRmsNorm;
    Activation act = Activation::kSilu;
    bool gated_mlp = true;           // SwiGLU (gate, up, down) vs plain MLP (up, down)
    bool qkv_bias = false;           // default when config.json does not say
    bool qk_norm = false;            // per-head RMSNorm of q and k (Qwen3)
    bool conv1d_weights = false;     // HF stores linear weights as [in, out] (GPT-2 Conv1D)
    bool learned_positions = false;  // position embedding table instead of RoPE
    bool parallel_residual = false;
    // Config fix-ups: reads the keys only this architecture has (config.json or GGUF metadata)
    // into `cfg` after the common ones. Null: none.
    Status (*fixup)(ModelConfig* cfg, const ConfigKeys& keys) = nullptr;
    // The layer plan of a model of this architecture (plan.h); null: dense_plan().
    // `roles` are the model's tensor roles (which optional tensors exist).
    Result<ModelPlan> (*plan)(const ModelConfig& cfg, const std::vector<TensorRole>& roles) =
        nullptr;
};

const std::vector<const ArchSpec*>& all_archs();
const ArchSpec* find_arch(Arch a);
const ArchSpec* find_arch_by_hf(std::string_view model_type, std::string_view architecture);
const ArchSpec* find_arch_by_gguf(std::string_view gguf_arch);
std::string_view arch_name(Arch a);

// Map a Hugging Face tensor name to its role under `spec`; kUnknown when no rule matches.
TensorRole hf_name_to_role(const ArchSpec& spec, std::string_view name);

}  // namespace modelprint

// ModelConfig: the hyper-parameters the engine and forensics need, read from config.json, from
// GGUF metadata, or inferred from tensor names and shapes (with a note for every guess).
// Dimension letters (llm.c): V vocab, C hidden, L layers, NH query heads, NKV kv heads,
// HS head dim, FF intermediate size, T sequence length.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/model/arch.h"

namespace modelprint {

enum class RopeScaling : uint8_t { kNone, kLinear, kLlama3, kYarn, kDynamic };

struct RopeConfig {
    double theta = 10000.0;
    RopeScaling scaling = RopeScaling::kNone;
    double factor = 1.0;
    double low_freq_factor = 1.0;       // llama3
    double high_freq_factor = 4.0;      // llama3
    int64_t original_max_position = 0;  // llama3 / yarn
    double beta_fast = 32.0;            // yarn
    double beta_slow = 1.0;             // yarn
    double attention_factor = 0.0;      // yarn (0: default 0.1*ln(factor)+1)
    int64_t rotary_dim = 0;             // 0: whole head (partial rotary otherwise)
};

struct ModelConfig {
    Arch arch = Arch::kUnknown;
    std::string model_type;         // HF model_type or GGUF general.architecture
    int64_t vocab_size = 0;         // V (rows of the embedding)
    int64_t hidden_size = 0;        // C
    int64_t n_layers = 0;           // L
    int64_t n_heads = 0;            // NH
    int64_t n_kv_heads = 0;         // NKV
    int64_t head_dim = 0;           // HS
    int64_t intermediate_size = 0;  // FF
    int64_t max_position = 0;       // context window
    double norm_eps = 1e-5;
    NormType norm = NormType::kRmsNorm;
    Activation act = Activation::kSilu;
    bool gated_mlp = true;
    bool tie_word_embeddings = false;
    bool qkv_bias = false;
    bool attn_out_bias = false;
    bool mlp_bias = false;
    bool qk_norm = false;
    bool learned_positions = false;
    RopeConfig rope;
    double final_logit_softcap = 0.0;  // 0: none
    int64_t sliding_window = 0;        // 0: none (Mistral v0.1 uses 4096)
    // Mixture of experts (0 experts: dense). Set by the architectures' fix-ups.
    int64_t n_experts = 0;             // E routed experts per MoE layer
    int64_t n_experts_used = 0;        // K experts per token (top-k)
    int64_t moe_intermediate_size = 0; // FFE, one routed expert's width
    int64_t shared_expert_intermediate_size = 0;  // FFS, 0: no shared expert
    bool norm_topk_prob = false;       // renormalise the top-k router probabilities to sum 1
    int64_t decoder_sparse_step = 1;   // layer l is MoE when (l + 1) % step == 0 ...
    std::vector<int64_t> mlp_only_layers;  // ... and l is not listed here (Qwen-MoE)
    int64_t bos_token_id = -1;
    std::vector<int64_t> eos_token_ids;
    std::string torch_dtype;
    // How the config was obtained, and each guess made when config.json was missing.
    std::string source;                // "config.json", "gguf", "inferred"
    std::vector<std::string> notes;
};

struct GgufFile;
struct TensorInfo;

// Read-only access to a config's raw keys for the architectures' fix-ups (ArchSpec::fixup):
// config.json's top-level keys, or a GGUF file's "<arch>.<key>" metadata (the prefix added here).
class ConfigKeys {
public:
    virtual ~ConfigKeys() = default;
    virtual bool is_gguf() const = 0;
    virtual std::optional<int64_t> get_int(std::string_view key) const = 0;
    virtual std::optional<double> get_num(std::string_view key) const = 0;
    virtual std::optional<bool> get_bool(std::string_view key) const = 0;
    // An array of integers (absent or not all integers: nullopt).
    virtual std::optional<std::vector<int64_t>> get_int_list(std::string_view key) const = 0;
};

// Parse a Hugging Face config.json (transformers 4.x "rope_scaling"/"rope_theta" and 5.x
// "rope_parameters" spellings; GPT-2's n_embd/n_layer/n_head names). `what` names the file.
// Unknown model types give arch kUnknown with a note, not an error.
Result<ModelConfig> config_from_hf_json(std::string_view text, std::string_view what);
// Read the hyper-parameters of a GGUF file's metadata ("<arch>.embedding_length", ...).
Result<ModelConfig> config_from_gguf(const GgufFile& gguf, std::string_view what);
// Fill what is missing (0 / unknown) from tensor shapes and roles, adding a note per guess, and
// set the flags the weights decide (biases, q/k norm, tied head) from which tensors exist.
void complete_config_from_tensors(ModelConfig* cfg, const std::vector<TensorInfo>& tensors,
                                  const std::vector<TensorRole>& roles);

}  // namespace modelprint

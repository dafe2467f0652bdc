// The layer plan: what each decoder block of a model computes, written once by its architecture
// file (ArchSpec::plan) from the ModelConfig and the tensors present, and read by every consumer
// (the CPU and CUDA engines, their config checks, the weight store and the weight analyses,
// `inspect`) instead of re-deriving the layer recipe from flags.
// Modelled on llama.cpp's per-layer hyper-parameter accessors (llama-hparams.h: n_ff(il),
// is_swa(il), n_embd_head_k(il)): every value that may vary by layer is in LayerPlan.
// Not here: the arithmetic (fingerprint/engine), tensor name matching (arch_*.cpp).
// Invariants (checked by make_plan / validate_plan): one LayerPlan per layer; every dimension in
// [1, 2^31]; n_heads a multiple of n_kv_heads; for MoE, 1 <= top_k <= n_experts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/arch.h"
#include "fingerprint/model/config.h"

namespace modelprint {

enum class AttnKind : uint8_t { kGqa };            // MHA / GQA / MQA (MLA: not yet)
enum class MlpKind : uint8_t { kDense, kMoe };
// How router logits become the top-k weights of a token.
//   kSoftmaxTopK: p = softmax(logits) over all experts (f32), take the k largest (ties: lower
//   expert id first, as torch.topk on CPU), optionally renormalise them to sum 1.
//   (Mixtral, Qwen2-MoE, Qwen3-MoE: transformers Mixtral/Qwen2Moe/Qwen3MoeTopKRouter.)
enum class RouterFn : uint8_t { kSoftmaxTopK };
enum class SharedGate : uint8_t { kNone, kSigmoid };  // shared expert output scaling

struct AttnPlan {
    AttnKind kind = AttnKind::kGqa;
    int64_t n_heads = 0;     // NH
    int64_t n_kv_heads = 0;  // NKV
    int64_t head_dim_k = 0;  // HS of q and k
    int64_t head_dim_v = 0;  // HS of v (== head_dim_k for every architecture so far)
    int64_t window = 0;      // sliding window (0: global)
    bool rope = true;        // false: learned absolute positions (GPT-2)
    RopeConfig rope_cfg;     // base and scaling of this layer's RoPE
    double softcap = 0.0;    // attention logit soft-cap (0: none)
    bool fused_qkv = false;  // one attn_qkv tensor instead of attn_q/k/v
    bool qkv_bias = false;
    bool out_bias = false;
    bool qk_norm = false;    // per-head RMSNorm of q and k before RoPE (Qwen3)
};

struct NormPlan {
    NormType type = NormType::kRmsNorm;
    bool one_plus_w = false;  // scale by (1 + w) (Gemma); false for every architecture so far
    bool post_attn = false;   // extra norm after attention, before the residual (Gemma 2/3)
    bool post_ffn = false;
};

struct MoePlan {
    int64_t n_experts = 0;  // E
    int64_t top_k = 0;      // K
    int64_t expert_ff = 0;  // FFE
    RouterFn router = RouterFn::kSoftmaxTopK;
    bool norm_topk = false;
    int64_t n_shared = 0;   // shared experts (0 or 1: one MLP of width shared_ff)
    int64_t shared_ff = 0;  // FFS
    SharedGate shared_gate = SharedGate::kNone;
};

struct MlpPlan {
    MlpKind kind = MlpKind::kDense;
    Activation act = Activation::kSilu;
    bool gated = true;  // act(gate) * up, else act(up)
    int64_t ff = 0;     // FF of a dense MLP
    bool bias = false;
    MoePlan moe;        // kind == kMoe
};

struct LayerPlan {
    AttnPlan attn;
    NormPlan norm;
    MlpPlan mlp;
};

struct ModelPlan {
    Arch arch = Arch::kUnknown;
    int64_t vocab_size = 0;   // V
    int64_t hidden_size = 0;  // C
    NormType out_norm = NormType::kRmsNorm;
    double norm_eps = 1e-5;
    bool learned_positions = false;
    bool tied_head = false;
    double final_softcap = 0.0;
    bool parallel_residual = false;
    std::vector<LayerPlan> layers;  // (L)

    bool has_moe() const;
    int64_t moe_layers() const;
};

// The plan of a model with this config and these tensor roles: its architecture's
// ArchSpec::plan (dense_plan when null), then validate_plan. kUnsupported for an unknown
// architecture.
Result<ModelPlan> make_plan(const ModelConfig& cfg, const std::vector<TensorRole>& roles);
// The plan of a dense decoder (Llama, Mistral, Qwen2, Qwen3, GPT-2): every layer alike, from
// the config's flags.
Result<ModelPlan> dense_plan(const ModelConfig& cfg, const std::vector<TensorRole>& roles);
// dense_plan, then MoE layers where the config has experts: layer l is MoE when n_experts > 0,
// (l + 1) % decoder_sparse_step == 0 and l is not in mlp_only_layers (transformers
// Qwen2MoeDecoderLayer) and, for GGUF files (whose metadata has no per-layer kind), its router
// tensor exists; `shared_gate` for the shared expert when the config has one.
Result<ModelPlan> moe_plan(const ModelConfig& cfg, const std::vector<TensorRole>& roles,
                           SharedGate shared_gate);
Status validate_plan(const ModelPlan& p);

// Every tensor layer l reads (weights and biases, per expert for routed experts), in load order.
std::vector<TensorRole> layer_tensors(const LayerPlan& lp, int l);
// The global tensors the plan reads (embedding, final norm, positions; not the head, which
// falls back to the embedding when tied).
std::vector<TensorRole> global_tensors(const ModelPlan& p);

std::string_view mlp_kind_name(MlpKind k);
std::string_view attn_kind_name(AttnKind k);
std::string_view router_name(RouterFn r);
std::string_view activation_name(Activation a);
// One line per run of identical layers: "0-3: gqa 4/2 hs 16 | moe 8x(ff 32) top-2 softmax norm".
std::vector<std::string> describe_plan(const ModelPlan& p);

}  // namespace modelprint

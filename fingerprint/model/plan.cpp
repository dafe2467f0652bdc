// Layer plans (plan.h): the dense and MoE plan builders the architecture files use, the plan's
// checks, the tensors a layer reads and the text description `inspect` prints.
#include "fingerprint/model/plan.h"

#include <algorithm>

namespace modelprint {
namespace {

bool has_role(const std::vector<TensorRole>& roles, Role r, int layer, bool bias) {
    return std::any_of(roles.begin(), roles.end(), [&](const TensorRole& t) {
        return t.role == r && t.layer == layer && t.is_bias == bias;
    });
}

bool in_range(int64_t v) { return v >= 1 && v <= (int64_t{1} << 31); }

std::string attn_text(const AttnPlan& a) {
    std::string s = fmt::format("{} {}/{} hs {}", attn_kind_name(a.kind), a.n_heads, a.n_kv_heads,
                                a.head_dim_k);
    if (a.head_dim_v != a.head_dim_k) s += fmt::format("/{}", a.head_dim_v);
    if (a.window > 0) s += fmt::format(" window {}", a.window);
    if (a.rope) {
        s += fmt::format(" rope {:g}", a.rope_cfg.theta);
    } else {
        s += " learned-pos";
    }
    if (a.fused_qkv) s += " fused-qkv";
    if (a.qkv_bias) s += " qkv-bias";
    if (a.qk_norm) s += " qk-norm";
    if (a.softcap > 0) s += fmt::format(" softcap {:g}", a.softcap);
    return s;
}

std::string mlp_text(const MlpPlan& m) {
    const std::string act = fmt::format("{}{}", m.gated ? "gated-" : "", activation_name(m.act));
    if (m.kind == MlpKind::kDense) return fmt::format("dense {} ff {}", act, m.ff);
    const MoePlan& e = m.moe;
    std::string s = fmt::format("moe {} experts x ff {} top-{} {}{} {}", e.n_experts, e.expert_ff,
                                e.top_k, router_name(e.router), e.norm_topk ? " norm" : "", act);
    if (e.n_shared > 0) {
        s += fmt::format(" + shared ff {}{}", e.shared_ff,
                         e.shared_gate == SharedGate::kSigmoid ? " sigmoid-gated" : "");
    }
    return s;
}

}  // namespace

bool ModelPlan::has_moe() const { return moe_layers() > 0; }

int64_t ModelPlan::moe_layers() const {
    return std::count_if(layers.begin(), layers.end(),
                         [](const LayerPlan& l) { return l.mlp.kind == MlpKind::kMoe; });
}

Result<ModelPlan> dense_plan(const ModelConfig& c, const std::vector<TensorRole>& roles) {
    const ArchSpec* spec = find_arch(c.arch);
    if (spec == nullptr) return unsupported("architecture \"{}\" is unknown", c.model_type);
    ModelPlan p;
    p.arch = c.arch;
    p.vocab_size = c.vocab_size;
    p.hidden_size = c.hidden_size;
    p.out_norm = c.norm;
    p.norm_eps = c.norm_eps;
    p.learned_positions = c.learned_positions;
    p.tied_head = c.tie_word_embeddings;
    p.final_softcap = c.final_logit_softcap;
    p.parallel_residual = spec->parallel_residual;
    if (c.n_layers < 0 || c.n_layers > (int64_t{1} << 20)) {
        return corrupt_data("num_hidden_layers {} is out of range", c.n_layers);
    }
    p.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
        LayerPlan& lp = p.layers[l];
        AttnPlan& a = lp.attn;
        a.n_heads = c.n_heads;
        a.n_kv_heads = c.n_kv_heads;
        a.head_dim_k = a.head_dim_v = c.head_dim;
        a.window = c.sliding_window;
        a.rope = !c.learned_positions;
        a.rope_cfg = c.rope;
        a.fused_qkv = has_role(roles, Role::kAttnQKV, l, false);
        a.qkv_bias = c.qkv_bias;
        a.out_bias = c.attn_out_bias;
        a.qk_norm = c.qk_norm;
        lp.norm.type = c.norm;
        MlpPlan& m = lp.mlp;
        m.act = c.act;
        m.gated = c.gated_mlp;
        m.ff = c.intermediate_size;
        m.bias = c.mlp_bias;
    }
    return p;
}

Result<ModelPlan> moe_plan(const ModelConfig& c, const std::vector<TensorRole>& roles,
                           SharedGate shared_gate) {
    MP_ASSIGN_OR_RETURN(ModelPlan p, dense_plan(c, roles));
    if (c.n_experts <= 0) return p;
    const int64_t step = std::max<int64_t>(1, c.decoder_sparse_step);
    for (int l = 0; l < static_cast<int>(p.layers.size()); ++l) {
        const bool dense_only = std::find(c.mlp_only_layers.begin(), c.mlp_only_layers.end(), l) !=
                                c.mlp_only_layers.end();
        if (dense_only || (l + 1) % step != 0) continue;
        // GGUF metadata has no per-layer MLP kind (no mlp_only_layers): a layer is MoE when its
        // router exists, as llama.cpp's loaders create one for every MoE layer.
        if (c.source == "gguf" && !has_role(roles, Role::kFfnGateInp, l, false)) continue;
        MlpPlan& m = p.layers[l].mlp;
        m.kind = MlpKind::kMoe;
        m.ff = 0;
        MoePlan& e = m.moe;
        e.n_experts = c.n_experts;
        e.top_k = c.n_experts_used;
        e.expert_ff = c.moe_intermediate_size > 0 ? c.moe_intermediate_size : c.intermediate_size;
        e.router = RouterFn::kSoftmaxTopK;
        e.norm_topk = c.norm_topk_prob;
        if (c.shared_expert_intermediate_size > 0) {
            e.n_shared = 1;
            e.shared_ff = c.shared_expert_intermediate_size;
            e.shared_gate = shared_gate;
        }
    }
    return p;
}

Status validate_plan(const ModelPlan& p) {
    for (size_t l = 0; l < p.layers.size(); ++l) {
        const LayerPlan& lp = p.layers[l];
        const AttnPlan& a = lp.attn;
        for (auto [what, v] : {std::pair<const char*, int64_t>{"num_attention_heads", a.n_heads},
                               {"num_key_value_heads", a.n_kv_heads},
                               {"head_dim", a.head_dim_k},
                               {"head_dim of v", a.head_dim_v}}) {
            if (!in_range(v)) return corrupt_data("layer {}: {} is {}, must be in [1, 2^31]", l, what, v);
        }
        if (a.n_heads % a.n_kv_heads != 0) {
            return corrupt_data("layer {}: {} attention heads are not a multiple of {} kv heads", l,
                                a.n_heads, a.n_kv_heads);
        }
        const MlpPlan& m = lp.mlp;
        if (m.kind == MlpKind::kDense) {
            if (!in_range(m.ff)) {
                return corrupt_data("layer {}: intermediate_size is {}, must be in [1, 2^31]", l, m.ff);
            }
            continue;
        }
        const MoePlan& e = m.moe;
        if (!in_range(e.n_experts) || !in_range(e.expert_ff)) {
            return corrupt_data("layer {}: {} experts of width {}: each must be in [1, 2^31]", l,
                                e.n_experts, e.expert_ff);
        }
        if (e.n_experts > 65536) {
            return corrupt_data("layer {}: {} experts exceed the limit of 65536", l, e.n_experts);
        }
        if (e.top_k < 1 || e.top_k > e.n_experts) {
            return corrupt_data("layer {}: {} experts per token is not in [1, {} experts]", l,
                                e.top_k, e.n_experts);
        }
        if (e.n_shared > 0 && !in_range(e.shared_ff)) {
            return corrupt_data("layer {}: shared expert width {} must be in [1, 2^31]", l, e.shared_ff);
        }
        if (!m.gated) return unsupported("layer {}: MoE experts without a gated MLP", l);
    }
    return Status();
}

Result<ModelPlan> make_plan(const ModelConfig& cfg, const std::vector<TensorRole>& roles) {
    const ArchSpec* spec = find_arch(cfg.arch);
    if (spec == nullptr) {
        return unsupported("architecture \"{}\" is unknown: no layer plan", cfg.model_type);
    }
    MP_ASSIGN_OR_RETURN(ModelPlan p, spec->plan ? spec->plan(cfg, roles) : dense_plan(cfg, roles));
    MP_TRY(validate_plan(p));
    return p;
}

std::vector<TensorRole> layer_tensors(const LayerPlan& lp, int l) {
    std::vector<TensorRole> out;
    auto add = [&](Role r, bool bias = false, int expert = -1) {
        out.push_back(TensorRole{r, l, bias, expert});
    };
    const bool ln = lp.norm.type == NormType::kLayerNorm;
    add(Role::kAttnNorm);
    add(Role::kFfnNorm);
    if (ln) {
        add(Role::kAttnNorm, true);
        add(Role::kFfnNorm, true);
    }
    const AttnPlan& a = lp.attn;
    if (a.fused_qkv) {
        add(Role::kAttnQKV);
        if (a.qkv_bias) add(Role::kAttnQKV, true);
    } else {
        for (Role r : {Role::kAttnQ, Role::kAttnK, Role::kAttnV}) {
            add(r);
            if (a.qkv_bias) add(r, true);
        }
    }
    add(Role::kAttnOut);
    if (a.out_bias) add(Role::kAttnOut, true);
    if (a.qk_norm) {
        add(Role::kAttnQNorm);
        add(Role::kAttnKNorm);
    }
    const MlpPlan& m = lp.mlp;
    if (m.kind == MlpKind::kDense) {
        if (m.gated) add(Role::kFfnGate);
        add(Role::kFfnUp);
        add(Role::kFfnDown);
        if (m.bias) {
            if (m.gated) add(Role::kFfnGate, true);
            add(Role::kFfnUp, true);
            add(Role::kFfnDown, true);
        }
        return out;
    }
    add(Role::kFfnGateInp);
    for (int e = 0; e < static_cast<int>(m.moe.n_experts); ++e) {
        add(Role::kFfnGateExps, false, e);
        add(Role::kFfnUpExps, false, e);
        add(Role::kFfnDownExps, false, e);
    }
    if (m.moe.n_shared > 0) {
        add(Role::kFfnGateShexp);
        add(Role::kFfnUpShexp);
        add(Role::kFfnDownShexp);
        if (m.moe.shared_gate == SharedGate::kSigmoid) add(Role::kFfnGateInpShexp);
    }
    return out;
}

std::vector<TensorRole> global_tensors(const ModelPlan& p) {
    std::vector<TensorRole> need = {{Role::kTokenEmbd, -1, false}, {Role::kOutputNorm, -1, false}};
    if (p.out_norm == NormType::kLayerNorm) need.push_back({Role::kOutputNorm, -1, true});
    if (p.learned_positions) need.push_back({Role::kPosEmbd, -1, false});
    return need;
}

std::string_view mlp_kind_name(MlpKind k) { return k == MlpKind::kMoe ? "moe" : "dense"; }
std::string_view attn_kind_name(AttnKind) { return "gqa"; }
std::string_view router_name(RouterFn) { return "softmax-topk"; }
std::string_view activation_name(Activation a) {
    switch (a) {
        case Activation::kSilu: return "silu";
        case Activation::kGeluTanh: return "gelu-tanh";
        case Activation::kGelu: return "gelu";
    }
    return "unknown";
}

std::vector<std::string> describe_plan(const ModelPlan& p) {
    std::vector<std::string> out;
    size_t start = 0;
    std::string prev;
    auto flush = [&](size_t end) {
        if (end == start) return;
        const std::string range =
            end - start == 1 ? fmt::format("{}", start) : fmt::format("{}-{}", start, end - 1);
        out.push_back(fmt::format("{}: {}", range, prev));
    };
    for (size_t l = 0; l < p.layers.size(); ++l) {
        const LayerPlan& lp = p.layers[l];
        std::string d = fmt::format("{} | {}", attn_text(lp.attn), mlp_text(lp.mlp));
        if (lp.norm.type == NormType::kLayerNorm) d += " | layernorm";
        if (l > 0 && d != prev) {
            flush(l);
            start = l;
        }
        prev = std::move(d);
    }
    flush(p.layers.size());
    return out;
}

}  // namespace modelprint

// ModelConfig from config.json, GGUF metadata, or tensor shapes.
// HF field names: transformers configuration_{llama,mistral,qwen2,qwen3,gpt2}.py; rope parameters
// as in modeling_rope_utils.py (rope_type default/linear/dynamic/yarn/llama3). GGUF keys: ggml
// docs/gguf.md "LLM" section ({arch}.context_length, .embedding_length, .block_count,
// .feed_forward_length, .attention.head_count[_kv], .attention.layer_norm[_rms]_epsilon,
// .rope.freq_base, .rope.dimension_count, .attention.key_length, .rope.scaling.*).
#include "fingerprint/model/config.h"

#include <algorithm>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/model/gguf.h"
#include "fingerprint/model/tensor.h"

namespace modelprint {
namespace {

int64_t get_int(const Json& j, std::initializer_list<const char*> keys, int64_t dflt) {
    for (const char* k : keys) {
        auto it = j.find(k);
        if (it != j.end() && it->is_number_integer()) return it->get<int64_t>();
    }
    return dflt;
}
double get_num(const Json& j, std::initializer_list<const char*> keys, double dflt) {
    for (const char* k : keys) {
        auto it = j.find(k);
        if (it != j.end() && it->is_number()) return it->get<double>();
    }
    return dflt;
}
std::string get_str(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Status parse_rope(const Json& rs, RopeConfig* rope, std::string_view what) {
    std::string type = get_str(rs, "rope_type");
    if (type.empty()) type = get_str(rs, "type");
    rope->theta = get_num(rs, {"rope_theta"}, rope->theta);
    rope->factor = get_num(rs, {"factor"}, 1.0);
    if (type.empty() || type == "default") {
        rope->scaling = RopeScaling::kNone;
    } else if (type == "linear") {
        rope->scaling = RopeScaling::kLinear;
    } else if (type == "llama3") {
        rope->scaling = RopeScaling::kLlama3;
        rope->low_freq_factor = get_num(rs, {"low_freq_factor"}, 1.0);
        rope->high_freq_factor = get_num(rs, {"high_freq_factor"}, 4.0);
    } else if (type == "yarn") {
        rope->scaling = RopeScaling::kYarn;
        rope->beta_fast = get_num(rs, {"beta_fast"}, 32.0);
        rope->beta_slow = get_num(rs, {"beta_slow"}, 1.0);
        rope->attention_factor = get_num(rs, {"attention_factor"}, 0.0);
    } else if (type == "dynamic") {
        rope->scaling = RopeScaling::kDynamic;
    } else {
        return unsupported("{}: unsupported rope scaling type \"{}\"", what, type);
    }
    rope->original_max_position = get_int(rs, {"original_max_position_embeddings"}, 0);
    return Status();
}

class JsonKeys final : public ConfigKeys {
public:
    explicit JsonKeys(const Json& j) : j_(j) {}
    bool is_gguf() const override { return false; }
    std::optional<int64_t> get_int(std::string_view key) const override {
        auto it = j_.find(std::string(key));
        if (it == j_.end() || !it->is_number_integer()) return std::nullopt;
        return it->get<int64_t>();
    }
    std::optional<double> get_num(std::string_view key) const override {
        auto it = j_.find(std::string(key));
        if (it == j_.end() || !it->is_number()) return std::nullopt;
        return it->get<double>();
    }
    std::optional<bool> get_bool(std::string_view key) const override {
        auto it = j_.find(std::string(key));
        if (it == j_.end() || !it->is_boolean()) return std::nullopt;
        return it->get<bool>();
    }
    std::optional<std::vector<int64_t>> get_int_list(std::string_view key) const override {
        auto it = j_.find(std::string(key));
        if (it == j_.end() || !it->is_array()) return std::nullopt;
        std::vector<int64_t> out;
        for (const auto& v : *it) {
            if (!v.is_number_integer()) return std::nullopt;
            out.push_back(v.get<int64_t>());
        }
        return out;
    }

private:
    const Json& j_;
};

class GgufKeys final : public ConfigKeys {
public:
    GgufKeys(const GgufFile& g, std::string arch) : g_(g), arch_(std::move(arch)) {}
    bool is_gguf() const override { return true; }
    std::optional<int64_t> get_int(std::string_view key) const override {
        auto v = g_.get_int(name(key));
        return v.ok() ? std::optional<int64_t>(*v) : std::nullopt;
    }
    std::optional<double> get_num(std::string_view key) const override {
        auto v = g_.get_float(name(key));
        return v.ok() ? std::optional<double>(*v) : std::nullopt;
    }
    std::optional<bool> get_bool(std::string_view key) const override {
        const GgufValue* v = g_.find(name(key));
        if (v == nullptr) return std::nullopt;
        auto b = v->as_bool(key);
        return b.ok() ? std::optional<bool>(*b) : std::nullopt;
    }
    std::optional<std::vector<int64_t>> get_int_list(std::string_view key) const override {
        auto v = g_.get_int_array(name(key));
        return v.ok() ? std::optional<std::vector<int64_t>>(*v) : std::nullopt;
    }

private:
    std::string name(std::string_view key) const { return fmt::format("{}.{}", arch_, key); }
    const GgufFile& g_;
    std::string arch_;
};

// The MoE fields shared by every MoE architecture, then the architecture's own fix-ups; and the
// checks that keep the plan's arithmetic in range.
Status finish_config(ModelConfig* c, const ArchSpec* spec, const ConfigKeys& keys,
                     std::string_view what) {
    if (spec != nullptr && spec->fixup != nullptr) MP_TRY(spec->fixup(c, keys));
    for (int64_t v : {c->n_experts, c->n_experts_used, c->moe_intermediate_size,
                      c->shared_expert_intermediate_size, c->decoder_sparse_step}) {
        if (v < 0 || v > (int64_t{1} << 31)) {
            return corrupt_data("{}: expert dimension value {} out of range", what, v);
        }
    }
    if (c->n_experts > 0 && (c->n_experts_used < 1 || c->n_experts_used > c->n_experts)) {
        return corrupt_data("{}: {} experts per token is not in [1, {} experts]", what,
                            c->n_experts_used, c->n_experts);
    }
    return Status();
}

}  // namespace

Result<ModelConfig> config_from_hf_json(std::string_view text, std::string_view what) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
    if (!j.is_object()) return corrupt_data("{}: must be a JSON object", what);
    ModelConfig c;
    c.source = "config.json";
    c.model_type = get_str(j, "model_type");
    std::string architecture;
    if (auto a = j.find("architectures"); a != j.end() && a->is_array() && !a->empty() &&
                                          (*a)[0].is_string()) {
        architecture = (*a)[0].get<std::string>();
    }
    const ArchSpec* spec = find_arch_by_hf(c.model_type, architecture);
    if (spec == nullptr) {
        c.notes.push_back(fmt::format("unknown architecture \"{}\" ({})", c.model_type, architecture));
    } else {
        c.arch = spec->arch;
        c.norm = spec->norm;
        c.act = spec->act;
        c.gated_mlp = spec->gated_mlp;
        c.learned_positions = spec->learned_positions;
        c.qk_norm = spec->qk_norm;
        c.qkv_bias = spec->qkv_bias;
    }
    c.vocab_size = get_int(j, {"vocab_size"}, 0);
    c.hidden_size = get_int(j, {"hidden_size", "n_embd"}, 0);
    c.n_layers = get_int(j, {"num_hidden_layers", "n_layer"}, 0);
    c.n_heads = get_int(j, {"num_attention_heads", "n_head"}, 0);
    c.n_kv_heads = get_int(j, {"num_key_value_heads"}, c.n_heads);
    c.head_dim = get_int(j, {"head_dim"}, 0);
    if (c.head_dim == 0 && c.n_heads > 0) c.head_dim = c.hidden_size / c.n_heads;
    c.intermediate_size = get_int(j, {"intermediate_size", "n_inner"}, 0);
    if (c.intermediate_size == 0 && c.arch == Arch::kGpt2) c.intermediate_size = 4 * c.hidden_size;
    c.max_position = get_int(j, {"max_position_embeddings", "n_positions"}, 0);
    c.norm_eps = get_num(j, {"rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"}, 1e-5);
    const bool default_tied = c.arch == Arch::kGpt2;
    if (auto t = j.find("tie_word_embeddings"); t != j.end() && t->is_boolean()) {
        c.tie_word_embeddings = t->get<bool>();
    } else {
        c.tie_word_embeddings = default_tied;
    }
    if (auto b = j.find("attention_bias"); b != j.end() && b->is_boolean()) {
        c.qkv_bias = b->get<bool>();
        c.attn_out_bias = b->get<bool>();
    }
    if (auto b = j.find("mlp_bias"); b != j.end() && b->is_boolean()) c.mlp_bias = b->get<bool>();
    if (c.arch == Arch::kGpt2) {
        c.attn_out_bias = c.mlp_bias = true;
        std::string act = get_str(j, "activation_function");
        if (!act.empty() && act != "gelu_new" && act != "gelu_pytorch_tanh") {
            c.act = act == "gelu" ? Activation::kGelu : c.act;
        }
    }
    c.rope.theta = get_num(j, {"rope_theta"}, 10000.0);
    for (const char* key : {"rope_scaling", "rope_parameters"}) {
        if (auto rs = j.find(key); rs != j.end() && rs->is_object()) {
            MP_TRY(parse_rope(*rs, &c.rope, what));
        }
    }
    if (double prf = get_num(j, {"partial_rotary_factor"}, 1.0); prf < 1.0) {
        c.rope.rotary_dim = static_cast<int64_t>(prf * static_cast<double>(c.head_dim));
    }
    c.final_logit_softcap = get_num(j, {"final_logit_softcapping"}, 0.0);
    if (auto sw = j.find("sliding_window"); sw != j.end() && sw->is_number_integer()) {
        bool use = true;
        if (auto u = j.find("use_sliding_window"); u != j.end() && u->is_boolean()) use = u->get<bool>();
        if (use) c.sliding_window = sw->get<int64_t>();
    }
    c.bos_token_id = get_int(j, {"bos_token_id"}, -1);
    if (auto e = j.find("eos_token_id"); e != j.end()) {
        if (e->is_number_integer()) c.eos_token_ids.push_back(e->get<int64_t>());
        if (e->is_array()) {
            for (const auto& v : *e) {
                if (v.is_number_integer()) c.eos_token_ids.push_back(v.get<int64_t>());
            }
        }
    }
    c.torch_dtype = get_str(j, "torch_dtype");
    if (c.torch_dtype.empty()) c.torch_dtype = get_str(j, "dtype");
    MP_TRY(finish_config(&c, spec, JsonKeys(j), what));
    for (int64_t v : {c.vocab_size, c.hidden_size, c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim,
                      c.intermediate_size, c.max_position}) {
        if (v < 0 || v > (int64_t{1} << 40)) {
            return corrupt_data("{}: dimension value {} out of range", what, v);
        }
    }
    if (c.n_kv_heads > 0 && c.n_heads % c.n_kv_heads != 0) {
        return corrupt_data("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
                            what, c.n_heads, c.n_kv_heads);
    }
    return c;
}

Result<ModelConfig> config_from_gguf(const GgufFile& g, std::string_view what) {
    ModelConfig c;
    c.source = "gguf";
    auto arch = g.get_string("general.architecture");
    if (!arch.ok()) return corrupt_data("{}: missing general.architecture", what);
    c.model_type = *arch;
    const ArchSpec* spec = find_arch_by_gguf(c.model_type);
    if (spec == nullptr) {
        c.notes.push_back(fmt::format("unknown GGUF architecture \"{}\"", c.model_type));
    } else {
        c.arch = spec->arch;
        c.norm = spec->norm;
        c.act = spec->act;
        c.gated_mlp = spec->gated_mlp;
        c.learned_positions = spec->learned_positions;
        c.qk_norm = spec->qk_norm;
    }
    auto key = [&](std::string_view k) { return fmt::format("{}.{}", c.model_type, k); };
    auto geti = [&](std::string_view k, int64_t d) {
        auto v = g.get_int(key(k));
        return v.ok() ? *v : d;
    };
    auto getf = [&](std::string_view k, double d) {
        auto v = g.get_float(key(k));
        return v.ok() ? *v : d;
    };
    c.max_position = geti("context_length", 0);
    c.hidden_size = geti("embedding_length", 0);
    c.n_layers = geti("block_count", 0);
    c.intermediate_size = geti("feed_forward_length", 0);
    c.n_heads = geti("attention.head_count", 0);
    c.n_kv_heads = geti("attention.head_count_kv", c.n_heads);
    c.head_dim = geti("attention.key_length", c.n_heads ? c.hidden_size / c.n_heads : 0);
    c.vocab_size = geti("vocab_size", 0);
    c.norm_eps = c.norm == NormType::kRmsNorm ? getf("attention.layer_norm_rms_epsilon", 1e-5)
                                               : getf("attention.layer_norm_epsilon", 1e-5);
    // GGUF stores f32: round-trip the epsilon to its nearest short decimal (9.9999997e-06 -> 1e-5).
    c.norm_eps = std::stod(fmt::format("{:.6g}", c.norm_eps));
    c.rope.theta = getf("rope.freq_base", 10000.0);
    const int64_t rot = geti("rope.dimension_count", 0);
    if (rot > 0 && rot < c.head_dim) c.rope.rotary_dim = rot;
    if (auto st = g.get_string(key("rope.scaling.type")); st.ok() && *st != "none") {
        if (*st == "linear") c.rope.scaling = RopeScaling::kLinear;
        else if (*st == "yarn") c.rope.scaling = RopeScaling::kYarn;
        else return unsupported("{}: unsupported rope scaling type \"{}\"", what, *st);
        c.rope.factor = getf("rope.scaling.factor", 1.0);
        c.rope.original_max_position = geti("rope.scaling.original_context_length", 0);
    }
    c.final_logit_softcap = getf("final_logit_softcapping", 0.0);
    if (auto b = g.get_int("tokenizer.ggml.bos_token_id"); b.ok()) c.bos_token_id = *b;
    if (auto e = g.get_int("tokenizer.ggml.eos_token_id"); e.ok()) c.eos_token_ids.push_back(*e);
    MP_TRY(finish_config(&c, spec, GgufKeys(g, c.model_type), what));
    if (c.n_kv_heads > 0 && c.n_heads % c.n_kv_heads != 0) {
        return corrupt_data("{}: head_count {} is not a multiple of head_count_kv {}", what,
                            c.n_heads, c.n_kv_heads);
    }
    return c;
}

void complete_config_from_tensors(ModelConfig* c, const std::vector<TensorInfo>& tensors,
                                  const std::vector<TensorRole>& roles) {
    auto find = [&](Role r, int layer, bool bias) -> const TensorInfo* {
        for (size_t i = 0; i < tensors.size(); ++i) {
            if (roles[i].role == r && roles[i].layer == layer && roles[i].is_bias == bias) {
                return &tensors[i];
            }
        }
        return nullptr;
    };
    auto note = [&](std::string s) { c->notes.push_back(std::move(s)); };
    int max_layer = -1;
    for (const auto& r : roles) max_layer = std::max(max_layer, r.layer);
    if (const TensorInfo* e = find(Role::kTokenEmbd, -1, false); e && e->shape.size() == 2) {
        if (c->vocab_size != e->shape[0]) {
            if (c->vocab_size != 0) {
                note(fmt::format("vocab_size {} from the config differs from the embedding's {} "
                                 "rows; using the embedding", c->vocab_size, e->shape[0]));
            }
            c->vocab_size = e->shape[0];
        }
        if (c->hidden_size == 0) {
            c->hidden_size = e->shape[1];
            note(fmt::format("hidden_size {} inferred from the embedding", c->hidden_size));
        }
    }
    if (c->n_layers == 0 && max_layer >= 0) {
        c->n_layers = max_layer + 1;
        note(fmt::format("num_hidden_layers {} inferred from tensor names", c->n_layers));
    }
    if (c->intermediate_size == 0) {
        if (const TensorInfo* up = find(Role::kFfnUp, 0, false); up && up->shape.size() == 2) {
            c->intermediate_size = up->shape[0];
            note(fmt::format("intermediate_size {} inferred from ffn_up", c->intermediate_size));
        }
    }
    const TensorInfo* qn = find(Role::kAttnQNorm, 0, false);
    if (c->head_dim == 0 && qn && qn->shape.size() == 1) {
        c->head_dim = qn->shape[0];
        note(fmt::format("head_dim {} inferred from attn_q_norm", c->head_dim));
    }
    const TensorInfo* q = find(Role::kAttnQ, 0, false);
    const TensorInfo* k = find(Role::kAttnK, 0, false);
    if (c->n_heads == 0 && q && q->shape.size() == 2) {
        if (c->head_dim == 0) {
            const int64_t rows = q->shape[0];
            c->head_dim = rows % 128 == 0 && rows >= 2048 ? 128 : (rows % 64 == 0 ? 64 : rows);
            note(fmt::format("head_dim {} GUESSED (no config): attention heads cannot be read "
                             "from shapes", c->head_dim));
        }
        c->n_heads = q->shape[0] / c->head_dim;
        note(fmt::format("num_attention_heads {} inferred from attn_q rows / head_dim", c->n_heads));
        if (k && k->shape.size() == 2) {
            c->n_kv_heads = k->shape[0] / c->head_dim;
            note(fmt::format("num_key_value_heads {} inferred from attn_k rows", c->n_kv_heads));
        }
    }
    // Flags decided by which tensors exist (whatever the config says).
    c->qkv_bias = find(Role::kAttnQ, 0, true) != nullptr || find(Role::kAttnQKV, 0, true) != nullptr;
    c->attn_out_bias = find(Role::kAttnOut, 0, true) != nullptr;
    c->mlp_bias = find(Role::kFfnUp, 0, true) != nullptr;
    c->qk_norm = qn != nullptr;
    if (find(Role::kOutput, -1, false) == nullptr) {
        if (!c->tie_word_embeddings && c->source != "inferred") {
            note("no output head tensor: using the token embedding (tied)");
        }
        c->tie_word_embeddings = true;
    } else if (c->source != "config.json") {
        c->tie_word_embeddings = false;
    }
    if (const TensorInfo* p = find(Role::kPosEmbd, -1, false); p && p->shape.size() == 2) {
        c->learned_positions = true;
        if (c->max_position == 0) c->max_position = p->shape[0];
    }
    if (c->source == "inferred") {
        if (c->max_position == 0) {
            c->max_position = 2048;
            note("max_position_embeddings 2048 GUESSED (no config)");
        }
        note(fmt::format("norm epsilon {} GUESSED (no config)", c->norm_eps));
    }
}

}  // namespace modelprint

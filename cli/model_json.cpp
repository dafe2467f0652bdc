// Shared model-description helpers for the CLI (see model_json.h).
#include "cli/model_json.h"

#include <cstdio>

namespace modelprint::cli {

namespace {
const char* rope_scaling_name(RopeScaling s) {
    switch (s) {
        case RopeScaling::kNone: return "none";
        case RopeScaling::kLinear: return "linear";
        case RopeScaling::kLlama3: return "llama3";
        case RopeScaling::kYarn: return "yarn";
        case RopeScaling::kDynamic: return "dynamic";
    }
    return "unknown";
}
}  // namespace

Json config_to_json(const ModelConfig& c) {
    Json j;
    j["architecture"] = std::string(arch_name(c.arch));
    j["model_type"] = c.model_type;
    j["source"] = c.source;
    j["vocab_size"] = c.vocab_size;
    j["hidden_size"] = c.hidden_size;
    j["num_layers"] = c.n_layers;
    j["num_heads"] = c.n_heads;
    j["num_kv_heads"] = c.n_kv_heads;
    j["head_dim"] = c.head_dim;
    j["intermediate_size"] = c.intermediate_size;
    j["max_position"] = c.max_position;
    j["norm"] = c.norm == NormType::kRmsNorm ? "rmsnorm" : "layernorm";
    j["norm_eps"] = c.norm_eps;
    j["activation"] = c.act == Activation::kSilu ? "silu" : (c.act == Activation::kGeluTanh ? "gelu_tanh" : "gelu");
    j["gated_mlp"] = c.gated_mlp;
    j["tie_word_embeddings"] = c.tie_word_embeddings;
    j["qkv_bias"] = c.qkv_bias;
    j["qk_norm"] = c.qk_norm;
    j["learned_positions"] = c.learned_positions;
    j["rope"] = {{"theta", c.rope.theta}, {"scaling", rope_scaling_name(c.rope.scaling)},
                 {"factor", c.rope.factor}};
    if (c.final_logit_softcap > 0) j["final_logit_softcap"] = c.final_logit_softcap;
    if (c.sliding_window > 0) j["sliding_window"] = c.sliding_window;
    j["notes"] = c.notes;
    return j;
}

std::string group_digits(uint64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

void print_json(const Json& j) {
    std::string out = j.dump(2, ' ', false, Json::error_handler_t::replace);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
}

}  // namespace modelprint::cli

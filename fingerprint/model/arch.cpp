// Role name table, canonical names, and Hugging Face name matching (see arch.h).
#include "fingerprint/model/arch.h"

#include <array>
#include <charconv>

namespace modelprint {
namespace {

struct RoleName {
    Role role;
    std::string_view name;
};
// llama.cpp tensor base names (src/llama-arch.cpp LLM_TENSOR_NAMES).
constexpr std::array<RoleName, 24> kRoleNames = {{
    {Role::kTokenEmbd, "token_embd"}, {Role::kPosEmbd, "position_embd"},
    {Role::kOutputNorm, "output_norm"}, {Role::kOutput, "output"},
    {Role::kAttnNorm, "attn_norm"}, {Role::kAttnQ, "attn_q"}, {Role::kAttnK, "attn_k"},
    {Role::kAttnV, "attn_v"}, {Role::kAttnQKV, "attn_qkv"}, {Role::kAttnOut, "attn_output"},
    {Role::kAttnQNorm, "attn_q_norm"}, {Role::kAttnKNorm, "attn_k_norm"},
    {Role::kFfnNorm, "ffn_norm"}, {Role::kFfnGate, "ffn_gate"}, {Role::kFfnUp, "ffn_up"},
    {Role::kFfnDown, "ffn_down"},
    {Role::kFfnGateInp, "ffn_gate_inp"}, {Role::kFfnGateExps, "ffn_gate_exps"},
    {Role::kFfnUpExps, "ffn_up_exps"}, {Role::kFfnDownExps, "ffn_down_exps"},
    {Role::kFfnGateShexp, "ffn_gate_shexp"}, {Role::kFfnUpShexp, "ffn_up_shexp"},
    {Role::kFfnDownShexp, "ffn_down_shexp"}, {Role::kFfnGateInpShexp, "ffn_gate_inp_shexp"},
}};

bool is_layer_role(Role r) {
    return r != Role::kTokenEmbd && r != Role::kPosEmbd && r != Role::kOutputNorm &&
           r != Role::kOutput && r != Role::kUnknown;
}

// Split "name.weight"/"name.bias" into base and kind.
bool split_suffix(std::string_view name, std::string_view* base, bool* is_bias) {
    if (name.ends_with(".weight")) {
        *base = name.substr(0, name.size() - 7);
        *is_bias = false;
        return true;
    }
    if (name.ends_with(".bias")) {
        *base = name.substr(0, name.size() - 5);
        *is_bias = true;
        return true;
    }
    return false;
}

bool parse_layer(std::string_view s, int* layer) {
    if (s.empty() || s.size() > 6) return false;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < 0) return false;
    *layer = v;
    return true;
}

// Match `base` against a pattern with at most one "{L}" and at most one "{E}" after it.
bool match_pattern(std::string_view pattern, std::string_view base, int* layer, int* expert) {
    *layer = -1;
    *expert = -1;
    size_t pos = pattern.find("{L}");
    if (pos == std::string_view::npos) return pattern == base;
    std::string_view pre = pattern.substr(0, pos);
    std::string_view post = pattern.substr(pos + 3);
    if (!base.starts_with(pre)) return false;
    base.remove_prefix(pre.size());
    const size_t epos = post.find("{E}");
    if (epos == std::string_view::npos) {
        if (base.size() < post.size() + 1 || !base.ends_with(post)) return false;
        return parse_layer(base.substr(0, base.size() - post.size()), layer);
    }
    // "{L}<mid>{E}<tail>": the layer runs to the first occurrence of <mid>.
    std::string_view mid = post.substr(0, epos), tail = post.substr(epos + 3);
    const size_t m = base.find(mid);
    if (m == std::string_view::npos || !parse_layer(base.substr(0, m), layer)) return false;
    base.remove_prefix(m + mid.size());
    if (base.size() < tail.size() + 1 || !base.ends_with(tail)) return false;
    return parse_layer(base.substr(0, base.size() - tail.size()), expert);
}

}  // namespace

std::string_view role_name(Role r) {
    for (const auto& e : kRoleNames) {
        if (e.role == r) return e.name;
    }
    return "unknown";
}

std::optional<Role> role_from_name(std::string_view name) {
    for (const auto& e : kRoleNames) {
        if (e.name == name) return e.role;
    }
    return std::nullopt;
}

bool is_expert_role(Role r) {
    return r == Role::kFfnGateExps || r == Role::kFfnUpExps || r == Role::kFfnDownExps;
}

bool is_linear_role(Role r) {
    switch (r) {
        case Role::kAttnQ: case Role::kAttnK: case Role::kAttnV: case Role::kAttnQKV:
        case Role::kAttnOut: case Role::kFfnGate: case Role::kFfnUp: case Role::kFfnDown:
        case Role::kFfnGateInp: case Role::kFfnGateExps: case Role::kFfnUpExps:
        case Role::kFfnDownExps: case Role::kFfnGateShexp: case Role::kFfnUpShexp:
        case Role::kFfnDownShexp: case Role::kFfnGateInpShexp:
            return true;
        default:
            return false;
    }
}

std::string canonical_name(const TensorRole& r) {
    if (r.role == Role::kUnknown) return {};
    std::string suffix = r.is_bias ? ".bias" : ".weight";
    if (r.layer >= 0 && r.expert >= 0) {
        return fmt::format("blk.{}.{}.{}{}", r.layer, role_name(r.role), r.expert, suffix);
    }
    if (r.layer >= 0) return fmt::format("blk.{}.{}{}", r.layer, role_name(r.role), suffix);
    return fmt::format("{}{}", role_name(r.role), suffix);
}

TensorRole parse_canonical_name(std::string_view name) {
    std::string_view base;
    bool is_bias = false;
    if (!split_suffix(name, &base, &is_bias)) return {};
    int layer = -1;
    if (base.starts_with("blk.")) {
        std::string_view rest = base.substr(4);
        size_t dot = rest.find('.');
        if (dot == std::string_view::npos || !parse_layer(rest.substr(0, dot), &layer)) return {};
        base = rest.substr(dot + 1);
    }
    int expert = -1;
    auto role = role_from_name(base);
    if (!role && layer >= 0) {
        // One expert of a routed-expert role: "blk.L.ffn_up_exps.E".
        const size_t dot = base.rfind('.');
        if (dot == std::string_view::npos || !parse_layer(base.substr(dot + 1), &expert)) return {};
        role = role_from_name(base.substr(0, dot));
        if (!role || !is_expert_role(*role)) return {};
    }
    if (!role) return {};
    if (is_layer_role(*role) != (layer >= 0)) return {};
    return TensorRole{*role, layer, is_bias, expert};
}

TensorRole hf_name_to_role(const ArchSpec& spec, std::string_view name) {
    std::string_view base;
    bool is_bias = false;
    if (!split_suffix(name, &base, &is_bias)) return {};
    for (const HfNameRule& rule : spec.hf_names) {
        int layer = -1, expert = -1;
        if (match_pattern(rule.pattern, base, &layer, &expert)) {
            return TensorRole{rule.role, layer, is_bias, expert};
        }
    }
    return {};
}

}  // namespace modelprint

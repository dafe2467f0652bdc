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
constexpr std::array<RoleName, 16> kRoleNames = {{
    {Role::kTokenEmbd, "token_embd"}, {Role::kPosEmbd, "position_embd"},
    {Role::kOutputNorm, "output_norm"}, {Role::kOutput, "output"},
    {Role::kAttnNorm, "attn_norm"}, {Role::kAttnQ, "attn_q"}, {Role::kAttnK, "attn_k"},
    {Role::kAttnV, "attn_v"}, {Role::kAttnQKV, "attn_qkv"}, {Role::kAttnOut, "attn_output"},
    {Role::kAttnQNorm, "attn_q_norm"}, {Role::kAttnKNorm, "attn_k_norm"},
    {Role::kFfnNorm, "ffn_norm"}, {Role::kFfnGate, "ffn_gate"}, {Role::kFfnUp, "ffn_up"},
    {Role::kFfnDown, "ffn_down"},
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

// Match `base` against a pattern with at most one "{L}".
bool match_pattern(std::string_view pattern, std::string_view base, int* layer) {
    size_t pos = pattern.find("{L}");
    if (pos == std::string_view::npos) {
        *layer = -1;
        return pattern == base;
    }
    std::string_view pre = pattern.substr(0, pos);
    std::string_view post = pattern.substr(pos + 3);
    if (base.size() < pre.size() + post.size() + 1) return false;
    if (!base.starts_with(pre) || !base.ends_with(post)) return false;
    return parse_layer(base.substr(pre.size(), base.size() - pre.size() - post.size()), layer);
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

std::string canonical_name(const TensorRole& r) {
    if (r.role == Role::kUnknown) return {};
    std::string suffix = r.is_bias ? ".bias" : ".weight";
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
    auto role = role_from_name(base);
    if (!role) return {};
    if (is_layer_role(*role) != (layer >= 0)) return {};
    return TensorRole{*role, layer, is_bias};
}

TensorRole hf_name_to_role(const ArchSpec& spec, std::string_view name) {
    std::string_view base;
    bool is_bias = false;
    if (!split_suffix(name, &base, &is_bias)) return {};
    for (const HfNameRule& rule : spec.hf_names) {
        int layer = -1;
        if (match_pattern(rule.pattern, base, &layer)) {
            return TensorRole{rule.role, layer, is_bias};
        }
    }
    return {};
}

}  // namespace modelprint

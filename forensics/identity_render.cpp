// Identity evidence rendering (see identity_render.h).
#include "forensics/identity_render.h"

#include <fmt/format.h>

namespace modelprint {

namespace {
Json unroled_json(const std::vector<UnroledTensor>& v) {
    Json out = Json::array();
    for (const UnroledTensor& u : v) {
        out.push_back({{"name", u.name},
                       {"dtype", u.dtype},
                       {"shape", u.shape},
                       {"sha256", u.sha256.empty() ? Json(nullptr) : Json(u.sha256)},
                       {"in_other", u.in_other}});
    }
    return out;
}

std::vector<std::string> names_of(const std::vector<UnroledTensor>& v) {
    std::vector<std::string> out;
    for (const UnroledTensor& u : v) out.push_back(u.name);
    return out;
}
}  // namespace

std::string unroled_summary(const std::vector<std::string>& names, size_t max_names) {
    if (names.empty()) return {};
    std::string out =
        fmt::format("{} tensor{} without a role: ", names.size(), names.size() == 1 ? "" : "s");
    for (size_t i = 0; i < names.size() && i < max_names; ++i) {
        out += (i ? ", " : "") + names[i];
    }
    if (names.size() > max_names) out += fmt::format(", … and {} more", names.size() - max_names);
    return out;
}

Json identity_json(const WeightEvidence& w) {
    const TensorIdentity& id = w.identity;
    return {{"tensors_a", id.tensors_a},
            {"tensors_b", id.tensors_b},
            {"with_role_a", id.roled_a},
            {"with_role_b", id.roled_b},
            {"inferred_roles_a", id.inferred_a},
            {"inferred_roles_b", id.inferred_b},
            {"digests_equal", id.digests_equal},
            {"without_role_a", unroled_json(id.unroled_a)},
            {"without_role_b", unroled_json(id.unroled_b)},
            {"without_role_equal", id.unroled_equal},
            {"shared_roles", id.shared_roles},
            {"only_a", id.only_a},
            {"only_b", id.only_b},
            {"equal_bytes", id.equal_bytes},
            {"equal_values", id.equal_values},
            {"dtype_cast_equal", id.cast_equal},
            {"names_differ", id.names_differ},
            {"names_nonstandard", id.names_nonstandard},
            {"dtype_a", id.dtype_a},
            {"dtype_b", id.dtype_b},
            {"quantised_a", w.quant_a.lattice},
            {"quantised_b", w.quant_b.lattice}};
}

std::vector<std::string> identity_text(const WeightEvidence& w, size_t max_names) {
    const TensorIdentity& id = w.identity;
    std::vector<std::string> out;
    out.push_back(fmt::format(
        "identity     every tensor counted: A {} ({} with a role{}), B {} ({} with a role{}); "
        "digest multisets {}",
        id.tensors_a, id.roled_a, id.inferred_a ? fmt::format(", {} inferred", id.inferred_a) : "",
        id.tensors_b, id.roled_b, id.inferred_b ? fmt::format(", {} inferred", id.inferred_b) : "",
        id.digests_equal ? "equal" : "differ"));
    out.push_back(
        fmt::format("             {} shared roles: {} bit-identical, {} same values, {} "
                    "exact dtype casts, {} stored under other names; only in A {}, "
                    "only in B {}",
                    id.shared_roles, id.equal_bytes, id.equal_values, id.cast_equal,
                    id.names_differ, id.only_a, id.only_b));
    auto side = [&](const char* who, const char* other, const std::vector<UnroledTensor>& v) {
        if (v.empty()) return;
        size_t same = 0;
        for (const UnroledTensor& u : v) same += u.in_other;
        out.push_back(fmt::format("without role {} {}; {} of {} bit-identical in {}", who,
                                  unroled_summary(names_of(v), max_names), same, v.size(), other));
    };
    side("A", "B", id.unroled_a);
    side("B", "A", id.unroled_b);
    return out;
}

}  // namespace modelprint

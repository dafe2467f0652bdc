// Identity over every tensor (see weights_identity.h).
#include "forensics/weights_identity.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "fingerprint/model/model.h"

namespace modelprint::weights_detail {

namespace {
std::string shape_string_of(const std::vector<int64_t>& shape) {
    std::string k;
    for (int64_t d : shape) k += fmt::format("{},", d);
    return k;
}
}  // namespace

// Identity over every tensor (TensorIdentity's comment): counts, the tensors without a role
// and whether each has its bytes in the other model, and the digest multisets.
void identity_over_every_tensor(const Model& a_, const Model& b_, const TensorDigests& d,
                                TensorIdentity* out) {
    TensorIdentity& id = *out;
    const bool all_digests_ = d.all, unroled_values_ = d.unroled_values;
    const std::vector<std::string>&dig_a_ = *d.dig_a, &dig_b_ = *d.dig_b, &val_a_ = *d.val_a,
          &val_b_ = *d.val_b;
    id.tensors_a = static_cast<int64_t>(a_.tensors().size());
    id.tensors_b = static_cast<int64_t>(b_.tensors().size());
    auto key = [](const TensorInfo& t, const std::string& digest) {
        std::string k = std::string(dtype_name(t.dtype));
        for (int64_t d : t.shape) k += fmt::format(",{}", d);
        return k + ":" + digest;
    };
    std::multiset<std::string> all_a, all_b, ub_bytes, ua_vals, ub_vals;
    std::map<std::string, size_t> ub_by_name;
    for (size_t j = 0; j < b_.tensors().size(); ++j) {
        const TensorInfo& t = b_.tensors()[j];
        if (all_digests_) all_b.insert(key(t, dig_b_[j]));
        if (b_.roles()[j].role != Role::kUnknown) {
            ++id.roled_b;
            id.inferred_b += b_.role_inferred(j);
            continue;
        }
        ub_bytes.insert(key(t, dig_b_[j]));
        ub_by_name[t.name] = j;
        if (unroled_values_) ub_vals.insert(shape_string_of(t.shape) + ":" + val_b_[j]);
        id.unroled_b.push_back({t.name, std::string(dtype_name(t.dtype)), t.shape, dig_b_[j]});
    }
    std::set<std::string> ua_names;
    bool name_pairs_bytes = true, name_pairs_values = true;
    for (size_t i = 0; i < a_.tensors().size(); ++i) {
        const TensorInfo& t = a_.tensors()[i];
        if (all_digests_) all_a.insert(key(t, dig_a_[i]));
        if (a_.roles()[i].role != Role::kUnknown) {
            ++id.roled_a;
            id.inferred_a += a_.role_inferred(i);
            continue;
        }
        ua_names.insert(t.name);
        UnroledTensor u{t.name, std::string(dtype_name(t.dtype)), t.shape, dig_a_[i]};
        if (auto it = ub_by_name.find(t.name); it != ub_by_name.end()) {
            const TensorInfo& tb = b_.tensors()[it->second];
            u.in_other = key(t, dig_a_[i]) == key(tb, dig_b_[it->second]);
            name_pairs_bytes &= u.in_other;
            name_pairs_values &=
                !unroled_values_ || (t.shape == tb.shape && val_a_[i] == val_b_[it->second]);
        } else {
            u.in_other = ub_bytes.count(key(t, dig_a_[i])) > 0;
        }
        if (unroled_values_) ua_vals.insert(shape_string_of(t.shape) + ":" + val_a_[i]);
        id.unroled_equal += u.in_other;
        id.unroled_a.push_back(std::move(u));
    }
    std::multiset<std::string> ua_bytes;
    for (const UnroledTensor& u : id.unroled_a) ua_bytes.insert(u.dtype + "|" + u.sha256);
    for (UnroledTensor& u : id.unroled_b) {
        if (ua_names.count(u.name)) {
            u.in_other = std::find_if(id.unroled_a.begin(), id.unroled_a.end(), [&](const auto& x) {
                             return x.name == u.name;
                         })->in_other;
        } else {
            u.in_other = ua_bytes.count(u.dtype + "|" + u.sha256) > 0;
        }
    }
    id.digests_equal = all_digests_ && all_a == all_b && name_pairs_bytes;
    id.values_equal_unroled = unroled_values_ && ua_vals == ub_vals && name_pairs_values;
}

}  // namespace modelprint::weights_detail

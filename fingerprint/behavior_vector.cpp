// Behaviour index vector (see behavior_vector.h for the construction).
#include "fingerprint/behavior_vector.h"

#include <cmath>
#include <cstdint>

namespace modelprint {
namespace {

uint32_t fnv1a(const unsigned char* p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

// ASCII-lowercased, whitespace runs folded to one space, trimmed.
std::string normalise(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (unsigned char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    return out;
}

}  // namespace

std::string behavior_vector_spec(const std::string& probe_digest) {
    return "behavior-char3-512/v1:" + probe_digest;
}

Result<std::vector<float>> behavior_index_vector(const OutputPrint& print) {
    std::vector<double> sum(kBehaviorVectorDim, 0.0);
    size_t used = 0;
    for (size_t i = 0; i < print.responses.size(); ++i) {
        if (i < print.present.size() && !print.present[i]) continue;
        const std::string text = normalise(print.responses[i]);
        if (text.size() < 3) continue;
        std::vector<double> v(kBehaviorVectorDim, 0.0);
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        for (size_t j = 0; j + 3 <= text.size(); ++j) {
            const uint32_t h = fnv1a(p + j, 3);
            v[h % kBehaviorVectorDim] += (h >> 31) != 0 ? -1.0 : 1.0;
        }
        double norm = 0.0;
        for (double x : v) norm += x * x;
        if (norm == 0.0) continue;  // every 3-gram cancelled out: nothing to add
        norm = std::sqrt(norm);
        for (int k = 0; k < kBehaviorVectorDim; ++k) sum[k] += v[k] / norm;
        ++used;
    }
    if (used == 0) {
        return failed_precondition(
            "{}: no answered response of three bytes or more, so no "
            "behaviour vector ({} responses)",
            print.source, print.responses.size());
    }
    return std::vector<float>(sum.begin(), sum.end());
}

}  // namespace modelprint

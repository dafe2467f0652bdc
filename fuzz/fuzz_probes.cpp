// libFuzzer target: parse_probe_set on arbitrary bytes (a hostile probe-set JSONL file).
// Invariants checked on an accepted set: it has 1..kMaxProbes probes, unique non-empty ids,
// known categories, max_new_tokens in 1..kMaxProbeNewTokens, find() locates every id, the
// digest is 64 hex digits and equals probe_set_digest of the parsed content. Any violation
// aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "fingerprint/probes/probe_set.h"
#include "fuzz/fuzz_targets.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    modelprint::fuzz::invariant_broken("fuzz_probes", what, detail);
}

using modelprint::fuzz::is_hex64;

}  // namespace

int modelprint::fuzz::fuzz_probes(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto set = parse_probe_set(text, "fuzz probes");
    if (!set.ok()) {
        if (set.status().message().empty()) fail("error without a message", "");
        return 0;
    }
    if (set->probes.empty() || set->probes.size() > kMaxProbes) fail("probe count", "");
    if (!is_hex64(set->digest)) fail("digest", set->digest);
    if (probe_set_digest(*set) != set->digest) fail("digest differs from content", set->digest);
    if (set->version < 0) fail("negative version", std::to_string(set->version));
    std::set<std::string_view> ids;
    size_t categorised = 0;
    for (const char* c : {"identity", "factual", "open", "code", "arithmetic", "reasoning",
                          "refusal", "rare", "other"}) {
        categorised += set->indices_of(c).size();
    }
    if (categorised != set->probes.size()) fail("probe with an unknown category", "");
    for (size_t i = 0; i < set->probes.size(); ++i) {
        const Probe& p = set->probes[i];
        if (p.id.empty()) fail("empty id", p.prompt);
        if (!ids.insert(p.id).second) fail("duplicate id accepted", p.id);
        if (set->find(p.id) != static_cast<int64_t>(i)) fail("find", p.id);
        if (p.max_new_tokens < 1 || p.max_new_tokens > kMaxProbeNewTokens) {
            fail("max_new_tokens", std::to_string(p.max_new_tokens));
        }
    }
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_probes)

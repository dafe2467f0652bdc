// Behaviour evidence for `modelprint compare` from paths (see behavior_run.h).
#include "forensics/behavior_run.h"

#include <set>

#include "fingerprint/probes/probe_set.h"

namespace modelprint {

Result<BehaviorEvidence> compare_behavior_paths(const std::string& a, const std::string& b,
                                                const BehaviorRunOptions& options) {
    std::set<std::string> seen;
    std::vector<std::string> paths = {a, b};
    paths.insert(paths.end(), options.background.begin(), options.background.end());
    for (const auto& p : paths) {
        if (!seen.insert(p).second) {
            return invalid_argument("behaviour comparison: {} is given twice (A, B and every "
                                    "--background must differ)", p);
        }
    }
    MP_ASSIGN_OR_RETURN(ProbeSet probes, load_probe_set(options.probes));
    BehaviorPanel panel(probes);
    for (const auto& p : paths) {
        auto part = open_participant(p, probes, options.device, options.print);
        if (!part.ok()) return part.status().with_context(fmt::format("behaviour of {}", p));
        panel.add(std::move(part).value());
    }
    // Panel order: a = 0, b = 1, background = 2.. (the default background of compare_behavior).
    return compare_behavior(panel, 0, 1, options.compare);
}

}  // namespace modelprint

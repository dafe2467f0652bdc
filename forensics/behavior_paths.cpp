// Behaviour comparison from paths: probe set, background members, one-at-a-time failures (see
// behavior_paths.h).
#include "forensics/behavior_paths.h"

#include <algorithm>
#include <set>

#include "fingerprint/model/hash.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/transcript.h"

namespace modelprint {

Result<ComparisonProbes> comparison_probes(const std::string& a, const std::string& b,
                                           const std::string& requested) {
    MP_ASSIGN_OR_RETURN(ProbeSet req, load_probe_set(requested));
    std::vector<std::string> ids, prompts;
    for (const Probe& p : req.probes) {
        ids.push_back(p.id);
        prompts.push_back(p.prompt);
    }
    for (const std::string* side : {&a, &b}) {
        if (!is_transcript_path(*side)) continue;
        MP_ASSIGN_OR_RETURN(Transcript t, load_transcript(*side));
        if (transcript_within(t, ids, prompts)) continue;
        auto own = load_probe_set(*side);
        if (!own.ok()) {
            return own.status().with_context(
                fmt::format("the prompts of transcript {} as the probe set", *side));
        }
        return ComparisonProbes{
            std::move(own).value(),
            fmt::format("prompts of transcript {} ({} of its prompts are not "
                        "probes of {})",
                        *side, t.entries.size(), req.name.empty() ? requested : req.name),
            true};
    }
    return ComparisonProbes{std::move(req), "probe set " + requested, false};
}

Result<std::string> root_digest_of(const std::string& path) {
    HashOptions h;
    h.tensors = false;
    MP_ASSIGN_OR_RETURN(ModelDigest d, hash_path(path, h));
    return d.root_digest;
}

BackgroundPlan command_line_background(const std::vector<std::string>& paths) {
    BackgroundPlan plan;
    for (const auto& p : paths) {
        auto d = root_digest_of(p);
        if (!d.ok()) {
            plan.dropped.push_back(
                {p, "", BackgroundSource::kCommandLine, "unreadable: " + d.status().message()});
            continue;
        }
        BackgroundMember m;
        m.name = p;
        m.root_digest = *d;
        m.source = BackgroundSource::kCommandLine;
        m.path = p;
        plan.members.push_back(std::move(m));
    }
    return plan;
}

namespace {

// The first line of a message (drop reasons are one line each).
std::string first_line(const std::string& s) {
    const size_t nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

}  // namespace

Result<BehaviorEvidence> compare_behavior_paths(const std::string& a, const std::string& b,
                                                const ComparisonProbes& probes,
                                                const BackgroundPlan& plan,
                                                const BehaviorRunOptions& options) {
    std::set<std::string> seen = {a};
    if (!seen.insert(b).second) {
        return invalid_argument(
            "behaviour comparison: {} is given twice (A, B and every "
            "--background must differ)",
            b);
    }
    for (const auto& m : plan.members) {
        if (m.path.empty()) continue;
        if (!seen.insert(m.path).second) {
            return invalid_argument(
                "behaviour comparison: {} is given twice (A, B and every "
                "--background must differ)",
                m.path);
        }
    }
    const ProbeSet& set = probes.set;
    BehaviorPanel panel(set);
    for (const std::string* side : {&a, &b}) {
        auto part = open_participant(*side, set, options.device, options.print);
        if (!part.ok()) return part.status().with_context(fmt::format("behaviour of {}", *side));
        panel.add(std::move(part).value());
    }
    std::vector<DroppedMember> dropped = plan.dropped;
    std::vector<size_t> bg;                       // panel indices of the members taking part
    std::vector<BackgroundParticipantInfo> info;  // parallel to bg
    for (const auto& m : plan.members) {
        std::unique_ptr<BehaviorParticipant> part;
        if (!m.path.empty()) {
            const BehaviorPrint* cached = m.stored ? &*m.stored : nullptr;
            auto r = open_participant(m.path, set, options.device, options.print, cached,
                                      /*whole_probe_set=*/true);
            if (!r.ok()) {
                dropped.push_back(
                    {m.name, m.root_digest, m.source, first_line(r.status().message())});
                continue;
            }
            part = std::move(r).value();
        } else if (m.stored) {
            if (m.stored->probe_digest != set.digest) {
                dropped.push_back({m.name, m.root_digest, m.source,
                                   fmt::format("its stored print is of probe set {} and it has no "
                                               "readable source to run on this one",
                                               m.stored->probe_digest.substr(0, 12))});
                continue;
            }
            part = participant_from_print(m.name, *m.stored);
        } else {
            dropped.push_back({m.name, m.root_digest, m.source, "nothing to open"});
            continue;
        }
        part->name = m.name;
        info.push_back({m.name, m.root_digest, m.source, part->kind});
        bg.push_back(panel.add(std::move(part)));
    }
    // Compare; a background member whose model fails to score the others' text is dropped and
    // the comparison runs again (scores already computed stay cached).
    BehaviorOptions o = options.compare;
    o.background_given = true;
    for (;;) {
        o.background = bg;
        panel.clear_failed_scorer();
        auto r = compare_behavior(panel, 0, 1, o);
        if (r.ok()) {
            BehaviorEvidence e = std::move(r).value();
            e.background_members = info;
            e.dropped = std::move(dropped);
            e.excluded = plan.excluded;
            e.probes_used = {set.name, set.digest, set.probes.size(), probes.origin};
            return e;
        }
        const auto failed = panel.last_failed_scorer();
        auto it = failed ? std::find(bg.begin(), bg.end(), *failed) : bg.end();
        if (it == bg.end()) return r.status();  // A or B: the comparison's own failure
        const size_t k = static_cast<size_t>(it - bg.begin());
        dropped.push_back(
            {info[k].name, info[k].root_digest, info[k].source,
             "cannot score the others' answers: " + first_line(r.status().message())});
        bg.erase(it);
        info.erase(info.begin() + static_cast<std::ptrdiff_t>(k));
    }
}

Result<BehaviorEvidence> compare_behavior_paths(const std::string& a, const std::string& b,
                                                const BehaviorRunOptions& options) {
    MP_ASSIGN_OR_RETURN(ComparisonProbes probes, comparison_probes(a, b, options.probes));
    return compare_behavior_paths(a, b, probes, command_line_background(options.background),
                                  options);
}

}  // namespace modelprint

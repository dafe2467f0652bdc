// Behaviour vectors of models and transcripts (see behavior_source.h).
#include "cli/behavior_source.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "db/store.h"
#include "fingerprint/behavior_vector.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/arch.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/transcript.h"

namespace modelprint::cli {

bool is_transcript_path(const std::string& path) {
    return path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
}

Result<BehaviorVectorOf> behavior_vector_of(const std::string& path, const std::string& probes_name,
                                            Store& store) {
    MP_ASSIGN_OR_RETURN(ProbeSet probes, load_probe_set(probes_name));
    BehaviorVectorOf out;
    out.path = path;
    out.spec = behavior_vector_spec(probes.digest);
    HashOptions hopt;
    hopt.tensors = false;
    if (is_transcript_path(path)) {
        MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_path(path, hopt));
        MP_ASSIGN_OR_RETURN(Transcript t, load_transcript(path));
        MP_ASSIGN_OR_RETURN(OutputPrint print, output_print_from_transcript(probes, t));
        out.root_digest = digest.root_digest;
        out.arch = "transcript";
        MP_ASSIGN_OR_RETURN(out.vector, behavior_index_vector(print));
        return out;
    }
    MP_ASSIGN_OR_RETURN(auto model, Model::open(path));
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_model(*model, hopt));
    out.root_digest = digest.root_digest;
    out.arch = std::string(arch_name(model->config().arch));
    out.parameters = static_cast<int64_t>(model->parameter_count());
    MP_ASSIGN_OR_RETURN(auto stored, store.list_fingerprints("behavior"));
    for (const FingerprintRecord& f : stored) {
        if (f.model_digest != out.root_digest || f.spec_digest != probes.digest) continue;
        MP_ASSIGN_OR_RETURN(
            BehaviorPrint print,
            parse_behavior_print(f.blob, probes, "stored behaviour fingerprint of " + path));
        MP_ASSIGN_OR_RETURN(out.vector, behavior_index_vector(print.outputs));
        return out;
    }
    return failed_precondition(
        "{}: no behaviour fingerprint stored for root digest {} on probe set "
        "{} ({}); run `modelprint fingerprint {} --probes {}` first",
        path, out.root_digest, probes.name, probes.digest.substr(0, 12), path, probes_name);
}

}  // namespace modelprint::cli

namespace modelprint::cli {

namespace {

bool is_relation(const std::string& verdict) {
    return verdict == "identical" || verdict == "derived" || verdict == "distilled";
}

// Models the store relates to A or B (header comment), with the comparison that says so.
Result<std::map<std::string, std::string>> related_models(Store& store,
                                                          const std::vector<std::string>& roots) {
    std::map<std::string, std::string> why;  // digest -> reason
    std::vector<std::string> todo = roots;
    std::set<std::string> seen(roots.begin(), roots.end());
    while (!todo.empty()) {
        const std::string d = todo.back();
        todo.pop_back();
        MP_ASSIGN_OR_RETURN(auto cmps, store.comparisons_of(d));
        for (const ComparisonRecord& c : cmps) {
            if (!is_relation(c.verdict)) continue;
            const std::string& other = c.digest_a == d ? c.digest_b : c.digest_a;
            if (!seen.insert(other).second) continue;
            why[other] = fmt::format("the store records it as {} with {} (comparison {})",
                                     c.verdict, d.substr(0, 12), c.id);
            todo.push_back(other);
        }
    }
    return why;
}

bool readable(const std::string& path) {
    std::error_code ec;
    return !path.empty() && std::filesystem::exists(path, ec);
}

}  // namespace

Result<BackgroundPlan> resolve_background(Store* store, const ComparisonProbes& probes,
                                          const std::string& a, const std::string& b,
                                          const BackgroundRequest& request) {
    std::set<std::string> paths = {a, b};
    for (const auto& p : request.command_line) {
        if (!paths.insert(p).second) {
            return invalid_argument("behaviour comparison: {} is given twice (A, B and every "
                                    "--background must differ)", p);
        }
    }
    BackgroundPlan plan = command_line_background(request.command_line);
    // A and B by root digest (a side that cannot be hashed fails later, when it is opened).
    std::vector<std::string> roots;
    std::map<std::string, std::string> side_of;  // digest -> "A" / "B"
    for (const auto& [side, path, known] : {std::tuple{"A", &a, &request.digest_a},
                                            std::tuple{"B", &b, &request.digest_b}}) {
        auto d = known->empty() ? root_digest_of(*path) : Result<std::string>(*known);
        if (d.ok()) {
            roots.push_back(*d);
            side_of.emplace(*d, side);
        }
    }
    // A command-line member that is A or B under another path is not background.
    for (auto it = plan.members.begin(); it != plan.members.end();) {
        auto s = side_of.find(it->root_digest);
        if (s == side_of.end()) {
            ++it;
            continue;
        }
        plan.excluded.push_back({it->name, it->root_digest, it->source,
                                 fmt::format("the same files as {} (root digest {})", s->second,
                                             it->root_digest.substr(0, 12))});
        it = plan.members.erase(it);
    }
    if (store == nullptr || !request.use_store) return plan;
    MP_ASSIGN_OR_RETURN(auto related, related_models(*store, roots));
    std::set<std::string> given;
    for (const auto& m : plan.members) given.insert(m.root_digest);
    MP_ASSIGN_OR_RETURN(auto prints, store->list_fingerprints("behavior"));
    // One entry per model, in the order of its first print: the print on this probe set, if any.
    std::vector<std::string> order;
    std::map<std::string, const FingerprintRecord*> on_set;
    std::map<std::string, std::string> other_set;  // digest -> a probe digest it has a print of
    for (const FingerprintRecord& f : prints) {
        if (on_set.count(f.model_digest) == 0 && other_set.count(f.model_digest) == 0) {
            order.push_back(f.model_digest);
        }
        if (f.spec_digest == probes.set.digest) {
            on_set.emplace(f.model_digest, &f);  // keeps the oldest
        } else {
            other_set.emplace(f.model_digest, f.spec_digest);
        }
    }
    for (const std::string& d : order) {
        if (side_of.count(d) > 0 || given.count(d) > 0) continue;
        auto rec = store->get_model(d);
        const std::string name = rec.ok() ? rec->name : d.substr(0, 12);
        const std::string source = rec.ok() ? rec->source_path : "";
        if (auto r = related.find(d); r != related.end()) {
            plan.excluded.push_back({name, d, BackgroundSource::kStore, r->second});
            continue;
        }
        BackgroundMember m;
        m.name = name;
        m.root_digest = d;
        m.source = BackgroundSource::kStore;
        // The source path is used only while it still holds the recorded files.
        std::string path_note;
        if (!readable(source)) {
            path_note = source.empty() ? "no source path recorded"
                                       : fmt::format("source path {} is not readable", source);
        } else {
            auto now = root_digest_of(source);
            if (!now.ok()) {
                path_note = fmt::format("source path {} cannot be hashed: {}", source,
                                        now.status().message());
            } else if (*now != d) {
                path_note = fmt::format("source path {} now holds other files (root digest {})",
                                        source, now->substr(0, 12));
            } else {
                m.path = source;
            }
        }
        auto it = on_set.find(d);
        if (it != on_set.end()) {
            auto p = parse_behavior_print(it->second->blob, probes.set,
                                          "stored behaviour fingerprint of " + name);
            if (!p.ok()) {
                plan.dropped.push_back({name, d, BackgroundSource::kStore,
                                        "unreadable stored print: " + p.status().message()});
                continue;
            }
            m.stored = std::move(p).value();
        } else if (!probes.from_transcript) {
            continue;  // prints of other probe sets only: not background for this set
        } else if (m.path.empty()) {
            plan.dropped.push_back(
                {name, d, BackgroundSource::kStore,
                 fmt::format("the probe set is the transcript's own prompts, its stored prints "
                             "are of another probe set, and {}", path_note)});
            continue;
        }
        plan.members.push_back(std::move(m));
    }
    return plan;
}

std::vector<std::string> BehaviorInputs::background_digests() const {
    std::vector<std::string> out;
    for (const auto& m : plan.members) out.push_back(m.root_digest.empty() ? m.name : m.root_digest);
    std::sort(out.begin(), out.end());
    return out;
}

Result<BehaviorInputs> behavior_inputs(Store* store, const std::string& a, const std::string& b,
                                       const std::string& probes, const BackgroundRequest& request) {
    BehaviorInputs in;
    MP_ASSIGN_OR_RETURN(in.probes, comparison_probes(a, b, probes));
    MP_ASSIGN_OR_RETURN(in.plan, resolve_background(store, in.probes, a, b, request));
    return in;
}

}  // namespace modelprint::cli

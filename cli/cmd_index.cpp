// `modelprint index add MODEL [--vector FILE] [--kind K]` / `modelprint index stats [--kind K]`:
// keeps fixed-size fingerprint vectors in the store (fingerprint kind "vector:K", float32 LE
// blob; db/index.h) so that `search` can build the FAISS index from them. MODEL is hashed (OMS
// root digest) and upserted in the models table first.
// The vector comes from --vector (JSON array or raw float32), or, for the default kind
// weight-stats, from the model itself: the HuRef-style invariant vector of
// fingerprint/weight_print.h (768 components, invariant to unit/head permutations and
// function-preserving rescaling); for kind behavior, from the model's stored behaviour
// fingerprint or from a transcript JSONL (cli/behavior_source.h: hashed character 3-grams of the
// answers, fingerprint/behavior_vector.h). Other kinds need --vector (kFailedPrecondition
// otherwise).
#include <cstdio>

#include "cli/behavior_source.h"
#include "cli/command.h"
#include "db/index.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/weight_print.h"

namespace modelprint::cli {
namespace {

struct IndexArgs {
    CLI::App* add = nullptr;
    CLI::App* stats = nullptr;
    std::string model;
    std::string vector;
    std::string kind = "weight-stats";
    std::string name;
    std::string probes = "default";  // --kind behavior: the probe set of the stored fingerprint
};

// `index add MODEL_OR_TRANSCRIPT --kind behavior`: the behaviour vector (cli/behavior_source.h).
Status run_add_behavior(const IndexArgs& a) {
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    MP_ASSIGN_OR_RETURN(BehaviorVectorOf b, behavior_vector_of(a.model, a.probes, *store));
    MP_TRY(l2_normalise(b.vector, a.model));
    MP_ASSIGN_OR_RETURN(auto existing, store->list_fingerprints("vector:behavior"));
    for (const auto& f : existing) {
        if (f.model_digest != b.root_digest && f.spec_digest != b.spec) {
            return invalid_argument("{}: the stored behavior vectors were made on another probe set "
                                    "({}; this one {}): vectors of different probe sets are not "
                                    "comparable", a.model, f.spec_digest, b.spec);
        }
    }
    std::string name = a.name;
    if (name.empty()) {
        std::string p = b.path;
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        name = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    }
    MP_TRY(store->transaction([&]() -> Status {
        MP_TRY(store->upsert_model({b.root_digest, name, b.arch, b.parameters, b.path, "", ""}));
        FingerprintRecord f;
        f.model_digest = b.root_digest;
        f.kind = "vector:behavior";
        f.spec_digest = b.spec;
        f.engine = "";
        f.blob = vector_to_blob(b.vector);
        return store->put_fingerprint(f).status();
    }));
    std::printf("indexed %s  %s  (behavior vector, %zu components, probe set %s)\n",
                b.root_digest.c_str(), name.c_str(), b.vector.size(), a.probes.c_str());
    return Status();
}

Status run_add(const IndexArgs& a) {
    if (a.kind == "behavior" && a.vector.empty()) return run_add_behavior(a);
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    HashOptions hopt;
    hopt.tensors = false;
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_model(*model, hopt));
    std::vector<float> v;
    std::string spec = "external", source = a.vector;
    if (a.vector.empty()) {
        if (a.kind != "weight-stats") {
            return failed_precondition("{}: no --vector given, and only weight-stats and behavior "
                                       "vectors are computed from the model (not {})", a.model, a.kind);
        }
        WeightPrintOptions wo;
        wo.tensor_digests = false;
        MP_ASSIGN_OR_RETURN(WeightFingerprint fp, compute_weight_fingerprint(*model, wo));
        v = weight_index_vector(fp);
        spec = kWeightIndexSpec;
        source = a.model + " (weight-print invariants)";
    } else {
        MP_ASSIGN_OR_RETURN(std::string bytes, read_file(a.vector));
        MP_ASSIGN_OR_RETURN(v, parse_vector_file(bytes, a.vector));
    }
    MP_TRY(l2_normalise(v, source));  // refuse zero / non-finite vectors up front
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    // Every stored vector of a kind must have the same dimension.
    MP_ASSIGN_OR_RETURN(auto existing, store->list_fingerprints("vector:" + a.kind));
    for (const auto& f : existing) {
        if (f.model_digest == digest.root_digest) continue;
        if (f.blob.size() != v.size() * 4) {
            return invalid_argument("{}: vector has {} components but the stored {} vectors have {}",
                                    source, v.size(), a.kind, f.blob.size() / 4);
        }
        break;
    }
    std::string name = a.name;
    if (name.empty()) {
        std::string p = model->path();
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        name = p.substr(p.find_last_of('/') == std::string::npos ? 0 : p.find_last_of('/') + 1);
    }
    MP_TRY(store->transaction([&]() -> Status {
        MP_TRY(store->upsert_model({digest.root_digest, name,
                                    std::string(arch_name(model->config().arch)),
                                    static_cast<int64_t>(model->parameter_count()), model->path(),
                                    "", ""}));
        FingerprintRecord f;
        f.model_digest = digest.root_digest;
        f.kind = "vector:" + a.kind;
        f.spec_digest = spec;
        f.engine = "";
        f.blob = vector_to_blob(v);
        return store->put_fingerprint(f).status();
    }));
    std::printf("indexed %s  %s  (%s vector, %zu components)\n", digest.root_digest.c_str(),
                name.c_str(), a.kind.c_str(), v.size());
    return Status();
}

Status run_stats(const IndexArgs& a) {
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    MP_ASSIGN_OR_RETURN(auto fps, store->list_fingerprints("vector:" + a.kind));
    const size_t dim = fps.empty() ? 0 : fps.front().blob.size() / 4;
    IndexOptions opt;
    std::printf("kind %s: %zu vectors of dimension %zu; search uses a %s index (IVF from %zu)\n",
                a.kind.c_str(), fps.size(), dim, fps.size() >= opt.ivf_threshold ? "IVF" : "flat",
                opt.ivf_threshold);
    return Status();
}

CommandRegistrar reg({"index", "Add fingerprint vectors to the similarity index (index add MODEL)", 70,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<IndexArgs>();
                          sub.require_subcommand(1);
                          a->add = sub.add_subcommand("add", "Add a model's fingerprint vector");
                          a->add->add_option("MODEL", a->model, "Model directory or file")->required();
                          a->add->add_option("--vector", a->vector, "Vector file (JSON array or float32 LE)");
                          a->add->add_option("--kind", a->kind, "Vector kind: weight-stats (default), behavior, or any with --vector");
                          a->add->add_option("--probes", a->probes, "Probe set of a behavior vector (default: default)");
                          a->add->add_option("--name", a->name, "Model name (default: the path's last part)");
                          a->stats = sub.add_subcommand("stats", "Count the stored vectors");
                          a->stats->add_option("--kind", a->kind, "Vector kind (default weight-stats)");
                          return [a] { return a->add->parsed() ? run_add(*a) : run_stats(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

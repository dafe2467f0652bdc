// `modelprint search MODEL [-k N] [--json] [--kind K] [--vector FILE]`: the nearest known models
// by cosine similarity of their fingerprint vectors (kind K, default weight-stats), with the
// verdict of a stored full comparison where one exists. The FAISS index is rebuilt from the
// store's vectors on each call (flat below IndexOptions::ivf_threshold, IVF above); the model
// itself is left out of its own results. Without --vector the query is the model's stored
// vector, or, for kind weight-stats, the weight-print invariants computed from the model
// (fingerprint/weight_print.h); for kind behavior, the behaviour vector of the model's stored
// behaviour fingerprint or of a transcript JSONL (cli/behavior_source.h).
#include <cstdio>
#include <map>

#include "cli/behavior_source.h"
#include "cli/command.h"
#include "cli/model_json.h"
#include "db/index.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/weight_print.h"

namespace modelprint::cli {
namespace {

struct SearchArgs {
    std::string model;
    int k = 10;
    bool json = false;
    std::string kind = "weight-stats";
    std::string vector;
    std::string probes = "default";  // --kind behavior
};

Status run_search(const SearchArgs& a) {
    HashOptions hopt;
    hopt.tensors = false;
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_path(a.model, hopt));
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    const std::string kind = "vector:" + a.kind;
    std::vector<float> query;
    if (a.vector.empty() && a.kind == "behavior") {
        MP_ASSIGN_OR_RETURN(BehaviorVectorOf b, behavior_vector_of(a.model, a.probes, *store));
        query = std::move(b.vector);
    } else if (!a.vector.empty()) {
        MP_ASSIGN_OR_RETURN(std::string bytes, read_file(a.vector));
        MP_ASSIGN_OR_RETURN(query, parse_vector_file(bytes, a.vector));
    } else {
        auto f = store->get_fingerprint(digest.root_digest, kind, "external", "");
        if (!f.ok()) f = store->get_fingerprint(digest.root_digest, kind, kWeightIndexSpec, "");
        if (f.ok()) {
            MP_ASSIGN_OR_RETURN(query, blob_to_vector(f->blob, "stored query vector"));
        } else if (a.kind == "weight-stats") {
            MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
            WeightPrintOptions wo;
            wo.tensor_digests = false;
            MP_ASSIGN_OR_RETURN(WeightFingerprint fp, compute_weight_fingerprint(*model, wo));
            query = weight_index_vector(fp);
        } else {
            return failed_precondition("{}: no {} vector stored for root digest {}; run `modelprint "
                                       "index add {} --vector FILE` first (or pass --vector)",
                                       a.model, a.kind, digest.root_digest, a.model);
        }
    }
    MP_ASSIGN_OR_RETURN(auto fps, store->list_fingerprints(kind));
    std::vector<int64_t> ids;
    std::vector<float> vecs;
    std::map<int64_t, std::string> digest_of;
    for (const auto& f : fps) {
        MP_ASSIGN_OR_RETURN(std::vector<float> v, blob_to_vector(f.blob, "stored vector"));
        if (v.size() != query.size()) {
            return invalid_argument("stored {} vector of {} has {} components, the query {}",
                                    a.kind, f.model_digest, v.size(), query.size());
        }
        ids.push_back(f.id);
        vecs.insert(vecs.end(), v.begin(), v.end());
        digest_of[f.id] = f.model_digest;
    }
    Json out = Json::array();
    if (!ids.empty()) {
        MP_ASSIGN_OR_RETURN(auto index, VectorIndex::build(static_cast<int>(query.size()), ids, vecs));
        MP_ASSIGN_OR_RETURN(auto hits, index->search(query, a.k + 1));
        for (const SearchHit& h : hits) {
            const std::string& d = digest_of[h.id];
            if (d == digest.root_digest) continue;
            if (static_cast<int>(out.size()) >= a.k) break;
            Json row = {{"root_digest", d}, {"similarity", fmt::format("{:.6f}", h.similarity)}};
            auto m = store->get_model(d);
            row["name"] = m.ok() ? m->name : "";
            row["architecture"] = m.ok() ? m->architecture : "";
            auto cmp = store->latest_comparison(digest.root_digest, d);
            row["verdict"] = cmp.ok() ? Json(cmp->verdict) : Json(nullptr);
            out.push_back(std::move(row));
        }
    }
    if (a.json) {
        print_json({{"query", {{"path", a.model}, {"root_digest", digest.root_digest}}},
                    {"kind", a.kind}, {"indexed", ids.size()}, {"results", out}});
        return Status();
    }
    std::printf("nearest to %s (%s) among %zu indexed %s vectors\n", a.model.c_str(),
                digest.root_digest.substr(0, 16).c_str(), ids.size(), a.kind.c_str());
    std::printf("%-4s %-10s %-16s %-24s %s\n", "rank", "cosine", "root digest", "name", "verdict");
    int rank = 1;
    for (const Json& r : out) {
        std::printf("%-4d %-10s %-16s %-24s %s\n", rank++, r["similarity"].get<std::string>().c_str(),
                    r["root_digest"].get<std::string>().substr(0, 16).c_str(),
                    r["name"].get<std::string>().c_str(),
                    r["verdict"].is_null() ? "(no comparison stored)"
                                           : r["verdict"].get<std::string>().c_str());
    }
    return Status();
}

CommandRegistrar reg({"search", "Nearest known models by fingerprint-vector similarity", 71,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<SearchArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_option("-k", a->k, "Number of neighbours (default 10)")->check(CLI::PositiveNumber);
                          sub.add_flag("--json", a->json, "Print JSON");
                          sub.add_option("--kind", a->kind, "Vector kind: weight-stats (default) or behavior");
                          sub.add_option("--probes", a->probes, "Probe set of a behavior query (default: default)");
                          sub.add_option("--vector", a->vector, "Query vector file instead of the stored one");
                          return [a] { return run_search(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

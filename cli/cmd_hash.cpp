// `modelprint hash MODEL [--json]`: SHA-256 of every file and of every tensor's bytes, and the
// root digest computed as OpenSSF Model Signing's "files" method (same value as
// `model_signing digest MODEL`).
#include <cstdio>

#include "cli/command.h"
#include "cli/model_json.h"
#include "fingerprint/model/hash.h"

namespace modelprint::cli {
namespace {

struct HashArgs {
    std::string model;
    bool json = false;
    bool no_tensors = false;
    bool allow_symlinks = false;
    int threads = 0;
};

Status run_hash(const HashArgs& a) {
    HashOptions opt;
    opt.threads = a.threads;
    opt.tensors = !a.no_tensors;
    opt.allow_symlinks = a.allow_symlinks;
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    MP_ASSIGN_OR_RETURN(ModelDigest d, hash_model(*model, opt));
    if (a.json) {
        Json j;
        j["path"] = model->path();
        j["root_digest"] = d.root_digest;
        j["files"] = Json::array();
        for (const auto& f : d.files) j["files"].push_back({{"name", f.name}, {"size", f.size}, {"sha256", f.sha256}});
        j["tensors"] = Json::array();
        for (const auto& t : d.tensors) j["tensors"].push_back({{"name", t.name}, {"sha256", t.sha256}});
        print_json(j);
        return Status();
    }
    std::printf("root_digest  %s  (OpenSSF Model Signing, method files, sha256)\n", d.root_digest.c_str());
    std::printf("\nfiles\n");
    for (const auto& f : d.files) {
        std::printf("  %s  %14s  %s\n", f.sha256.c_str(), group_digits(f.size).c_str(), f.name.c_str());
    }
    if (!d.tensors.empty()) {
        std::printf("\ntensors\n");
        for (const auto& t : d.tensors) std::printf("  %s  %s\n", t.sha256.c_str(), t.name.c_str());
    }
    return Status();
}

CommandRegistrar reg({"hash", "SHA-256 of every file and tensor, and the OpenSSF Model Signing root digest", 20,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<HashArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_flag("--json", a->json, "Print one JSON object");
                          sub.add_flag("--no-tensors", a->no_tensors, "Skip per-tensor digests");
                          sub.add_flag("--allow-symlinks", a->allow_symlinks, "Follow symbolic links");
                          sub.add_option("--threads", a->threads, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
                          return [a] { return run_hash(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

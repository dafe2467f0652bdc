// `modelprint compare A B [--weights-only] [--json] [--out FILE] [--no-store]`: is B a copy, a
// derivative, or independent of A? Three steps, kept apart so behaviour evidence (--behavior-only)
// and signing (--sign KEY, forensics/report.h) slot in:
//   1. compute evidence  (forensics/compare.h: weights; behaviour added by its engineer)
//   2. build the JSON document (comparison_json) and the text summary (comparison_text)
//   3. print / write (--out, atomically) and record the comparison in the store.
// Exit codes: 0 whatever the verdict (unknown included); 4 for unreadable inputs (docs/errors.md).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "forensics/compare.h"

namespace modelprint::cli {
namespace {

struct CompareArgs {
    std::string a, b;
    bool weights_only = false;
    bool json = false;
    std::string out;
    bool no_store = false;
    int64_t max_units = 1024;
    int threads = 0;
};

// The options that change the result (stored with the comparison).
std::string spec_of(const CompareArgs& a) {
    return sha256_hex(fmt::format("weights-v1;max_units={}", a.max_units));
}

Status store_comparison(const ComparisonResult& r, const std::string& doc, const CompareArgs& a) {
    MP_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::open(resolve_db_path()));
    return store->transaction([&]() -> Status {
        for (const ModelSide* s : {&r.a, &r.b}) {
            ModelRecord m;
            m.root_digest = s->root_digest;
            m.name = s->path;
            m.architecture = s->arch;
            m.parameter_count = static_cast<int64_t>(s->parameters);
            m.source_path = s->path;
            MP_TRY(store->upsert_model(m));
        }
        ComparisonRecord c;
        c.digest_a = r.a.root_digest;
        c.digest_b = r.b.root_digest;
        c.spec_digest = spec_of(a);
        c.verdict = r.verdict.relation;
        c.result_json = doc;
        MP_TRY(store->put_comparison(c));
        return Status();
    });
}

Status run_compare(const CompareArgs& a) {
    if (a.max_units < 16) {
        return invalid_argument("--max-units {} is below the minimum 16", a.max_units);
    }
    // 1. evidence
    CompareOptions opt;
    opt.threads = a.threads;
    opt.progress = !global_options().quiet;
    opt.weights.max_units = a.max_units;
    MP_ASSIGN_OR_RETURN(ComparisonResult r, compare_models(a.a, a.b, opt));
    // 2. documents
    const std::string doc = comparison_json(r, 2);
    // 3. output
    if (!a.out.empty()) MP_TRY(write_file_atomic(a.out, doc + "\n"));
    if (a.json) {
        std::printf("%s\n", doc.c_str());
    } else {
        std::fputs(comparison_text(r).c_str(), stdout);
        if (!a.weights_only) {
            std::printf("\n(weights only: behaviour evidence is not part of this build's compare)\n");
        }
    }
    if (!a.no_store) {
        Status s = store_comparison(r, comparison_json(r, -1), a);
        if (!s.ok()) {
            std::fprintf(stderr, "modelprint: warning: comparison not stored: %s\n",
                         s.message().c_str());
        }
    }
    return Status();
}

CommandRegistrar reg({"compare",
                      "Compare two models: identical, derived (with subtype) or independent",
                      40,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<CompareArgs>();
                          sub.add_option("A", a->a, "Reference model (directory or file)")->required();
                          sub.add_option("B", a->b, "Candidate model (directory or file)")->required();
                          sub.add_flag("--weights-only", a->weights_only,
                                       "Use weight evidence only");
                          sub.add_flag("--json", a->json, "Print the JSON document");
                          sub.add_option("--out", a->out, "Write the JSON document to FILE");
                          sub.add_flag("--no-store", a->no_store, "Do not record in the database");
                          sub.add_option("--max-units", a->max_units,
                                         "MLP units tested per layer (subsampled above)");
                          sub.add_option("--threads", a->threads, "Worker threads (0: all)");
                          return [a] { return run_compare(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

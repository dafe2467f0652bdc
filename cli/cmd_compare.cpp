// `modelprint compare A B [--weights-only|--behavior-only] [--probes SET] [--device D]
// [--background M...] [--no-store-background] [--json] [--out FILE] [--sign KEY] [--recompute]
// [--no-store]`: is B a copy, a derivative, or independent of A? Three steps, kept apart so
// behaviour evidence (--behavior-only) slots in:
//   1. compute evidence  (forensics/compare.h: open + hash both models, then, unless the store
//      already holds this pair under the same options and --recompute is not given, the weights)
//   2. build the JSON document (comparison_json) and the text summary (comparison_text)
//   3. print / write and record: --out FILE gets the JSON document (atomically), or with
//      --sign KEY the signed report (forensics/report.h; without --out the report goes to
//      stdout); the comparison (and the signed report) go into the store (global --db PATH,
//      MODELPRINT_DB, else ./modelprint.db) unless --no-store.
// Exit codes: 0 whatever the verdict (unknown included); 2 bad flags; 4 unreadable inputs;
// 5 I/O (docs/errors.md). A store that cannot be written is a warning, not a failure.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/behavior_source.h"
#include "cli/command.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/base/json.h"
#include "forensics/behavior_run.h"
#include "forensics/compare.h"
#include "forensics/report.h"

namespace modelprint::cli {
namespace {

struct CompareArgs {
    std::string a, b;
    bool weights_only = false;
    bool json = false;
    std::string out;
    std::string sign;
    bool recompute = false;
    bool no_store = false;
    int64_t max_units = 1024;
    int threads = 0;
    // --- behaviour (issue 6; forensics/behavior_run.h) ---
    bool behavior_only = false;
    std::string probes = "default";
    std::string device = "auto";
    std::vector<std::string> background;
    bool no_store_background = false;
};

// The options that change the result (stored with the comparison).
std::string spec_of(const CompareArgs& a) {
    return sha256_hex(fmt::format("weights-v1;max_units={}", a.max_units));
}

void upsert_sides(Store& store, const ModelSide& sa, const ModelSide& sb, Status* st) {
    for (const ModelSide* s : {&sa, &sb}) {
        if (!st->ok()) return;
        ModelRecord m;
        m.root_digest = s->root_digest;
        m.name = s->path;
        m.architecture = s->arch;
        m.parameter_count = static_cast<int64_t>(s->parameters);
        m.source_path = s->path;
        *st = store.upsert_model(m);
    }
}

Result<int64_t> store_comparison(Store& store, const ModelSide& sa, const ModelSide& sb,
                                 const std::string& verdict, const std::string& doc,
                                 const CompareArgs& a) {
    int64_t id = 0;
    MP_TRY(store.transaction([&]() -> Status {
        Status st;
        upsert_sides(store, sa, sb, &st);
        MP_TRY(st);
        ComparisonRecord c;
        c.digest_a = sa.root_digest;
        c.digest_b = sb.root_digest;
        c.spec_digest = spec_of(a);
        c.verdict = verdict;
        c.result_json = doc;
        MP_ASSIGN_OR_RETURN(id, store.put_comparison(c));
        return Status();
    }));
    return id;
}

// The text of a comparison read back from the store (the full evidence table needs a rerun).
Result<std::string> stored_text(const std::string& doc, const ComparisonRecord& rec) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(doc, "stored comparison"));
    const Json& v = j["verdict"];
    std::string sub = v.value("subtype", Json(nullptr)).is_string() ? " / " + v["subtype"].get<std::string>() : "";
    return fmt::format(
        "verdict      {}{}  (confidence {:.2f})\ndecided by   {}\nwhy          {}\n\n"
        "(stored comparison {} of {}; --recompute for the full evidence table)\n",
        v.value("relation", std::string("?")), sub, v.value("confidence", 0.0),
        v.value("decisive", std::string()), v.value("reason", std::string()), rec.id,
        rec.created_at);
}

void warn(const char* what, const Status& s) {
    std::fprintf(stderr, "modelprint: warning: %s: %s\n", what, s.message().c_str());
}

// --- behaviour (issue 6): evidence from probes/transcripts (forensics/behavior_run.h) ---
// The background (issue 15 item 5): resolve_background (cli/behavior_source.h) from the store
// (`store`, or the database opened read-only when it exists) unless --no-store-background, plus
// --background. A store that cannot be read is a warning: the command-line members remain.
Result<BehaviorEvidence> behavior_evidence(const CompareArgs& a, Store* store,
                                           const std::string& digest_a = "",
                                           const std::string& digest_b = "") {
    BehaviorRunOptions bo;
    bo.probes = a.probes;
    MP_ASSIGN_OR_RETURN(bo.device, parse_device(a.device));
    bo.print.progress = !global_options().quiet;
    BackgroundRequest req;
    req.command_line = a.background;
    req.use_store = !a.no_store_background;
    req.digest_a = digest_a;
    req.digest_b = digest_b;
    std::unique_ptr<Store> own;
    if (req.use_store && store == nullptr) {
        const std::string db = resolve_db_path();
        std::error_code ec;
        if (std::filesystem::exists(db, ec)) {
            StoreOptions so;
            so.read_only = true;
            auto s = Store::open(db, so);
            if (s.ok()) own = std::move(s).value();
            else warn("store background not used", s.status());
        }
        store = own.get();
    }
    auto in = behavior_inputs(store, a.a, a.b, a.probes, req);
    if (!in.ok() && store != nullptr && in.status().code() != StatusCode::kInvalidArgument &&
        in.status().code() != StatusCode::kCorruptData) {
        warn("store background not used", in.status());
        req.use_store = false;
        in = behavior_inputs(nullptr, a.a, a.b, a.probes, req);
    }
    MP_TRY(in.status());
    return compare_behavior_paths(a.a, a.b, in->probes, in->plan, bo);
}

Status run_compare(const CompareArgs& a) {
    if (a.max_units < 16) {
        return invalid_argument("--max-units {} is below the minimum 16", a.max_units);
    }
    if (a.weights_only && a.behavior_only) {
        return invalid_argument("--weights-only and --behavior-only exclude each other");
    }
    // --- behaviour (issue 6): no weights (a transcript side, or --behavior-only) ---
    if (a.behavior_only || is_transcript_path(a.a) || is_transcript_path(a.b)) {
        if (a.weights_only) {
            return invalid_argument("--weights-only needs two models; {} is a transcript",
                                    is_transcript_path(a.a) ? a.a : a.b);
        }
        if (!a.sign.empty()) {
            return unsupported("--sign needs model digests; behaviour-only comparisons are not "
                               "signed");
        }
        MP_ASSIGN_OR_RETURN(BehaviorEvidence be, behavior_evidence(a, nullptr));
        MP_ASSIGN_OR_RETURN(Json bdoc, parse_json(behavior_only_document(be), "comparison"));
        if (!a.out.empty()) MP_TRY(write_file_atomic(a.out, bdoc.dump(2) + "\n"));
        if (a.json) std::printf("%s\n", bdoc.dump(2).c_str());
        else std::fputs(behavior_only_text(be).c_str(), stdout);
        return Status();
    }
    // --- end behaviour ---
    // 1. evidence
    CompareOptions opt;
    opt.threads = a.threads;
    opt.progress = !global_options().quiet;
    opt.weights.max_units = a.max_units;
    // Root digests before the comparison only for the store lookup; otherwise they come out of
    // the comparison's own read (each weight file read once).
    opt.hash_on_open = !a.no_store && !a.recompute;
    MP_ASSIGN_OR_RETURN(OpenedPair pair, open_pair(a.a, a.b, opt));
    std::unique_ptr<Store> store;
    if (!a.no_store) {
        auto s = Store::open(resolve_db_path());
        if (s.ok()) store = std::move(*s);
        else warn("comparison not stored", s.status());
    }
    std::string doc, text, relation;
    std::optional<int64_t> comparison_id;
    if (store && !a.recompute) {
        auto rec = store->find_comparison(pair.a.root_digest, pair.b.root_digest, spec_of(a));
        if (rec.ok() && rec->digest_a == pair.a.root_digest) {
            auto t = stored_text(rec->result_json, *rec);
            if (t.ok()) {
                doc = rec->result_json;
                text = *t;
                relation = rec->verdict;
                comparison_id = rec->id;
                std::fprintf(stderr, "reusing stored comparison %lld (%s)\n",
                             static_cast<long long>(rec->id), store->path().c_str());
            }
        }
    }
    if (doc.empty()) {
        MP_ASSIGN_OR_RETURN(ComparisonResult r, compare_opened(pair, opt));
        // 2. documents
        doc = comparison_json(r, -1);
        text = comparison_text(r);
        relation = r.verdict.relation;
        if (store) {
            auto id = store_comparison(*store, r.a, r.b, relation, doc, a);
            if (id.ok()) comparison_id = *id;
            else warn("comparison not stored", id.status());
        }
    }
    // --- behaviour (issue 6): evidence.behavior, `distilled` where weights say independent ---
    // A model that cannot be probed (no tokenizer, unsupported architecture) keeps the weight
    // verdict with a warning.
    if (!a.weights_only) {
        auto be = behavior_evidence(a, store.get(), pair.a.root_digest, pair.b.root_digest);
        if (be.ok()) MP_TRY(merge_behavior(doc, text, *be));
        else warn("no behaviour evidence", be.status());
    }
    // --- end behaviour ---
    // 3. output
    MP_ASSIGN_OR_RETURN(Json parsed, parse_json(doc, "comparison document"));
    const std::string pretty = parsed.dump(2);
    if (!a.sign.empty()) {
        ReportInput in;
        in.kind = ReportKind::kComparison;
        in.subjects = {{"A: " + pair.a.path, pair.a.root_digest}, {"B: " + pair.b.path, pair.b.root_digest}};
        MP_ASSIGN_OR_RETURN(in.predicate_json, comparison_predicate(doc));
        MP_ASSIGN_OR_RETURN(std::string bytes, write_report(in, a.out, a.sign));
        if (a.out.empty()) std::fputs(bytes.c_str(), stdout);
        else std::fprintf(stderr, "wrote signed comparison report %s\n", a.out.c_str());
        if (store) {
            MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_report(bytes, a.out.empty() ? "report" : a.out));
            ReportRecord rr;
            rr.kind = "comparison";
            rr.predicate_type = std::string(kComparisonPredicateType);
            rr.envelope = bytes;
            rr.is_signed = rep.is_signed;
            rr.key_hint = rep.is_signed ? rep.bundle.key_hint : "";
            rr.comparison_id = comparison_id;
            for (const auto& s : rep.subjects) rr.subjects.push_back({s.name, s.sha256});
            auto rid = store->put_report(rr);
            if (rid.ok()) std::fprintf(stderr, "stored as report %lld\n", static_cast<long long>(*rid));
            else warn("report not stored", rid.status());
        }
        if (a.out.empty()) return Status();
    } else if (!a.out.empty()) {
        MP_TRY(write_file_atomic(a.out, pretty + "\n"));
    }
    if (a.json) {
        std::printf("%s\n", pretty.c_str());
    } else {
        std::fputs(text.c_str(), stdout);
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
                          sub.add_option("--sign", a->sign,
                                         "Write a signed report (private key PEM) to --out or stdout");
                          sub.add_flag("--recompute", a->recompute,
                                       "Compute again even if the store holds this comparison");
                          sub.add_flag("--no-store", a->no_store, "Do not record in the database");
                          sub.add_option("--max-units", a->max_units,
                                         "MLP units tested per layer (subsampled above)");
                          sub.add_option("--threads", a->threads, "Worker threads (0: all)");
                          // --- behaviour (issue 6) ---
                          sub.add_flag("--behavior-only", a->behavior_only,
                                       "Use behaviour evidence only (implied by a .jsonl "
                                       "transcript on either side)");
                          sub.add_option("--probes", a->probes,
                                         "Probe set: 'default' or a JSONL file");
                          sub.add_option("--device", a->device, "Engine device: auto|cpu|cuda");
                          sub.add_option("--background", a->background,
                                         "Models or transcripts independent of A and B, for "
                                         "calibrating behaviour statistics (added to the store's "
                                         "behaviour fingerprints)");
                          sub.add_flag("--no-store-background", a->no_store_background,
                                       "Do not use the store's behaviour fingerprints as "
                                       "background (only --background)");
                          return [a] { return run_compare(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

// `modelprint compare A B [--weights-only|--behavior-only] [--probes SET] [--device D]
// [--background M...] [--no-store-background] [--watermark-key KEY.json [--watermark-samples N]
// [--watermark-max-tokens T] [--watermark-seed S] [--watermark-null-keys K]] [--json]
// [--out FILE] [--sign KEY] [--recompute] [--no-store]`: is B a
// copy, a derivative, a distilled student, or independent of A? A pipeline
// (forensics/pipeline.h):
//   1. open both sides (models hashed when the store is used: its key needs root digests);
//   2. the behaviour inputs resolved (probe set, and the background: the store's behaviour
//      fingerprints unless --no-store-background, plus --background; cli/behavior_source.h),
//      then the store key (store_key below): reuse a stored result only when every input of
//      the question matches; otherwise run the evidence sections that apply and decide();
//   3. render (text, JSON document), write --out, record in the store (global --db PATH,
//      MODELPRINT_DB, else ./modelprint.db) unless --no-store, and with --sign KEY write the
//      signed report whose predicate holds every section (always computed, never reused).
// --watermark-key: the keyed watermark section (forensics/watermark_section.h); the key is read
// here and never printed, stored or signed — the store key and the outputs carry its commitment.
// Exit codes: 0 whatever the verdict (unknown included); 2 bad flags; 4 unreadable inputs;
// 5 I/O (docs/errors.md). A store that cannot be written is a warning, not a failure.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "cli/behavior_source.h"
#include "cli/command.h"
#include "cli/report_record.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/transcript.h"
#include "fingerprint/watermark.h"
#include "forensics/pipeline.h"
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
    bool behavior_only = false;
    std::string probes = "default";
    std::string device = "auto";
    std::vector<std::string> background;
    bool no_store_background = false;
    std::string watermark_key;
    int watermark_samples = 256;
    int watermark_max_tokens = 128;
    uint64_t watermark_seed = 0;
    int watermark_null_keys = 100;
};

void warn(const char* what, const Status& s) {
    std::fprintf(stderr, "modelprint: warning: %s: %s\n", what, s.message().c_str());
}

Result<CompareRequest> request_of(const CompareArgs& a) {
    if (a.max_units < 16) {
        return invalid_argument("--max-units {} is below the minimum 16", a.max_units);
    }
    CompareRequest r;
    r.a = a.a;
    r.b = a.b;
    r.weights_only = a.weights_only;
    r.behavior_only = a.behavior_only;
    r.weights.threads = a.threads;
    r.weights.progress = !global_options().quiet;
    r.weights.weights.max_units = a.max_units;
    r.behavior.probes = a.probes;
    MP_ASSIGN_OR_RETURN(r.behavior.device, parse_device(a.device));
    r.behavior.background = a.background;
    r.behavior.print.progress = !global_options().quiet;
    if (!a.watermark_key.empty()) {
        if (a.weights_only) {
            return invalid_argument("--watermark-key needs sampled text; --weights-only excludes it");
        }
        MP_ASSIGN_OR_RETURN(r.watermark_key, load_watermark_key(a.watermark_key));
        r.watermark.samples = a.watermark_samples;
        r.watermark.null_keys = a.watermark_null_keys;
        r.watermark.null_seed = a.watermark_seed;
        r.watermark.radioactivity.max_new_tokens = a.watermark_max_tokens;
        r.watermark.radioactivity.seed = a.watermark_seed;
    }
    return r;
}

// The background (issue 15 item 5): resolve_background (cli/behavior_source.h) from the store
// (`store`, or the database opened read-only when it exists) unless --no-store-background, plus
// --background. A store that cannot be read is a warning: the command-line members remain.
Result<BehaviorInputs> resolve_behavior_inputs(const CompareArgs& a, Store* store,
                                               const std::string& digest_a,
                                               const std::string& digest_b) {
    BackgroundRequest req;
    req.command_line = a.background;
    req.use_store = !a.no_store_background;
    req.digest_a = digest_a;
    req.digest_b = digest_b;
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
            if (s.ok())
                own = std::move(s).value();
            else
                warn("store background not used", s.status());
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
    return in;
}

// The store key: every input that can change the result (docs/store.md "Comparison keys"):
// the probe set actually used and the root digests of the background members resolved for
// this run come from the resolved behaviour inputs.
std::string store_key(const CompareRequest& r, const PairContext& c, const std::string& device) {
    std::string probe_digest = "-", bg;
    if (r.behavior_inputs) {
        probe_digest = r.behavior_inputs->probes.set.digest;
        std::vector<std::string> digests;
        for (const BackgroundMember& m : r.behavior_inputs->plan.members) {
            digests.push_back(m.root_digest.empty() ? "name:" + m.name : m.root_digest);
        }
        std::sort(digests.begin(), digests.end());
        for (const std::string& d : digests) bg += d + ",";
    }
    const BehaviorOptions& bo = r.behavior.compare;
    // The watermark key enters by its commitment only (the key is a secret), with every option
    // of the watermark section.
    std::string wm = "-";
    if (r.watermark_key) {
        const WatermarkSectionOptions& w = r.watermark;
        wm = fmt::format("{},samples={},max_tokens={},seed={},null_keys={},alpha={}",
                         watermark_key_commitment(*r.watermark_key), w.samples,
                         w.radioactivity.max_new_tokens, w.radioactivity.seed, w.null_keys,
                         w.radioactivity.text.alpha);
    }
    return sha256_hex(fmt::format(
        "modelprint.compare;methods={};a={};b={};sections={};probes={};background=[{}];"
        "device={};max_units={};alpha={};max_score_tokens={};idiosyncrasy={};chat={};top_k={};"
        "watermark={}",
        kMethodsVersion, c.a.model.root_digest, c.b.model.root_digest,
        r.weights_only ? "weights" : (r.behavior_only ? "behavior" : "weights+behavior"),
        probe_digest, bg, device, r.weights.weights.max_units, bo.alpha, bo.max_score_tokens,
        bo.idiosyncrasy, r.behavior.print.chat_template, r.behavior.print.top_k, wm));
}

Status run_compare(const CompareArgs& a) {
    MP_ASSIGN_OR_RETURN(CompareRequest req, request_of(a));
    const bool transcript = is_transcript_path(a.a) || is_transcript_path(a.b);
    if (!a.sign.empty() && transcript) {
        return unsupported("--sign needs model digests on both sides; {} is a transcript",
                           is_transcript_path(a.a) ? a.a : a.b);
    }
    // Transcript sides have no root digest: not stored (nothing to key them by).
    const bool use_store = !a.no_store && !transcript;
    std::unique_ptr<Store> store;
    if (use_store) {
        auto s = Store::open(resolve_db_path());
        if (s.ok())
            store = std::move(*s);
        else
            warn("comparison not stored", s.status());
    }
    // 1. open (hash now when the store key needs the digests).
    OpenedPair pair;
    MP_ASSIGN_OR_RETURN(PairContext ctx, open_comparison(req, &pair, store != nullptr));
    // 2. the behaviour inputs, then the store key; reuse only an exact match (and never for a
    // signed report).
    if (!req.weights_only) {
        MP_ASSIGN_OR_RETURN(BehaviorInputs in,
                            resolve_behavior_inputs(a, store.get(), ctx.a.model.root_digest,
                                                    ctx.b.model.root_digest));
        req.behavior_inputs = ResolvedBehaviorInputs{std::move(in.probes), std::move(in.plan)};
    }
    StoreInfo info;
    if (store) {
        info.key = store_key(req, ctx, a.device);
        if (!a.recompute && a.sign.empty()) {
            auto rec =
                store->find_comparison(ctx.a.model.root_digest, ctx.b.model.root_digest, info.key);
            if (rec.ok() && rec->digest_a == ctx.a.model.root_digest) {
                StoreInfo reused = info;
                reused.reused = true;
                reused.id = rec->id;
                auto doc = reused_comparison_document(rec->result_json, reused);
                auto text = reused_comparison_text(rec->result_json, reused, rec->created_at);
                if (doc.ok() && text.ok()) {
                    std::fprintf(stderr, "reusing stored comparison %lld (%s)\n",
                                 static_cast<long long>(rec->id), store->path().c_str());
                    if (!a.out.empty()) MP_TRY(write_file_atomic(a.out, *doc + "\n"));
                    if (a.json)
                        std::printf("%s\n", doc->c_str());
                    else
                        std::fputs(text->c_str(), stdout);
                    return Status();
                }
                warn("stored comparison unreadable, computing again",
                     doc.ok() ? text.status() : doc.status());
            }
        }
    }
    MP_ASSIGN_OR_RETURN(ComparisonResult r, run_sections(ctx));
    r.store = info;
    const std::string doc = comparison_document(r);
    if (store) {
        auto id = store_comparison(*store, r, comparison_document(r, -1));
        if (id.ok())
            r.store.id = *id;
        else
            warn("comparison not stored", id.status());
    }
    // 3. output
    if (!a.sign.empty()) {
        MP_TRY(sign_and_store(r, a.out, a.sign, r.store.id, store.get()));
        if (a.out.empty()) return Status();
    } else if (!a.out.empty()) {
        MP_TRY(write_file_atomic(a.out, doc + "\n"));
    }
    if (a.json)
        std::printf("%s\n", doc.c_str());
    else
        std::fputs(comparison_text_of(r).c_str(), stdout);
    return Status();
}

CommandRegistrar reg(
    {"compare",
     "Compare two models: identical, derived (with subtype), distilled or "
     "independent",
     40, [](CLI::App& sub) -> CommandAction {
         auto a = std::make_shared<CompareArgs>();
         sub.add_option("A", a->a, "Reference model (directory or file)")->required();
         sub.add_option("B", a->b, "Candidate model (directory or file)")->required();
         sub.add_flag("--weights-only", a->weights_only, "Use weight evidence only");
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
         sub.add_flag("--behavior-only", a->behavior_only,
                      "Use behaviour evidence only (implied by a .jsonl "
                      "transcript on either side)");
         sub.add_option("--probes", a->probes, "Probe set: 'default' or a JSONL file");
         sub.add_option("--device", a->device, "Engine device: auto|cpu|cuda");
         sub.add_option("--background", a->background,
                        "Models or transcripts independent of A and B, for "
                        "calibrating behaviour statistics (added to the store's "
                        "behaviour fingerprints)");
         sub.add_option("--watermark-key", a->watermark_key,
                        "Keyed watermark evidence: A's watermark key (watermark keygen); B a "
                        "model (radioactivity) or a transcript (text detection)");
         sub.add_option("--watermark-samples", a->watermark_samples,
                        "Watermark: suspect samples of the default prompts (256)")
             ->check(CLI::Range(1, 1000000));
         sub.add_option("--watermark-max-tokens", a->watermark_max_tokens,
                        "Watermark: tokens per suspect sample (128)")
             ->check(CLI::Range(1, 1000000));
         sub.add_option("--watermark-seed", a->watermark_seed,
                        "Watermark: sampling and null-key seed (0)");
         sub.add_option("--watermark-null-keys", a->watermark_null_keys,
                        "Watermark: random keys for the calibration check (100; 0: none)")
             ->check(CLI::Range(0, 100000));
         sub.add_flag("--no-store-background", a->no_store_background,
                      "Do not use the store's behaviour fingerprints as "
                      "background (only --background)");
         return [a] { return run_compare(*a); };
     }});

}  // namespace
}  // namespace modelprint::cli

// Store: the embedded SQLite database that keeps models, fingerprints, comparisons, reports,
// audits and known public keys, keyed by content digests (schema in docs/store.md).
//
// Guarantees:
//  - WAL journal, foreign keys on, busy_timeout (default 10 s) so a second writer waits instead
//    of failing; every write, single- or multi-row, runs in one transaction (BEGIN IMMEDIATE,
//    nested calls become SAVEPOINTs), so a process killed at any point leaves either all of a
//    write or none of it.
//  - Migrations are numbered and recorded in PRAGMA user_version; a database whose version is
//    newer than kSchemaVersion is refused with kFailedPrecondition before anything is written.
//  - Reports are stored as the exact bytes written (the signed bundle or unsigned JSON), never
//    re-serialised, so they still verify when exported.
//  - Not thread-safe: one Store per thread (separate processes/connections are fine).
//
// How callers use it (fingerprint / compare / audit / index commands):
//   MP_ASSIGN_OR_RETURN(auto store, Store::open(cli::resolve_db_path()));
//   MP_TRY(store->upsert_model({root, name, arch, n_params, path}));      // before anything else
//   auto fp = store->get_fingerprint(root, "weight-stats", spec_digest, "cpu");
//   if (fp.ok() && !recompute) reuse fp->blob; else { ...compute...; store->put_fingerprint(..); }
//   auto cmp = store->find_comparison(root_a, root_b, spec_digest);   // either order
//   store->put_comparison({..., verdict, result_json});
//   store->put_report({kind, predicate_type, bytes_written, is_signed, hint, subjects, ...});
//   store->put_audit(audit, items);                                   // audit + items, one txn
// A missing record is kNotFound; SQLite failures are kIoError (kCorruptData for a file that is
// not a database or fails integrity checks), each naming the database path.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct StoreOptions {
    int busy_timeout_ms = 10000;
    bool read_only = false;  // open an existing database without writing (no migration)
};

struct ModelRecord {
    std::string root_digest;  // 64 lowercase hex (OMS root digest)
    std::string name;
    std::string architecture;
    int64_t parameter_count = 0;
    std::string source_path;
    std::string created_at;  // RFC 3339 UTC (set by the store)
    std::string updated_at;
};

struct FingerprintRecord {
    int64_t id = 0;
    std::string model_digest;
    std::string kind;         // e.g. "weight-stats", "behaviour"
    std::string spec_digest;  // digest of the spec / probe set that produced it
    std::string engine;       // e.g. "cpu-f32", "cuda-bf16", "" when not engine-dependent
    std::vector<uint8_t> blob;
    std::string blob_sha256;  // set by the store
    std::string created_at;
};

struct ComparisonRecord {
    int64_t id = 0;
    std::string digest_a;
    std::string digest_b;
    std::string spec_digest;  // options/probe set that produced it ("" if none)
    std::string verdict;      // identical|derived|distilled|independent|unknown
    std::string result_json;
    std::string created_at;
};

struct ReportSubjectRecord {
    std::string name;
    std::string digest;
};

struct ReportRecord {
    int64_t id = 0;
    std::string kind;            // "comparison" | "audit"
    std::string predicate_type;
    std::string envelope;        // the report file's bytes exactly as written
    std::string envelope_sha256; // set by the store
    bool is_signed = false;
    std::string key_hint;
    std::optional<int64_t> comparison_id;
    std::optional<int64_t> audit_id;
    std::vector<ReportSubjectRecord> subjects;
    std::string created_at;
};

struct AuditRecord {
    int64_t id = 0;
    std::string model_digest;
    std::string bench_name;
    std::string bench_digest;
    std::string claim;   // claimed score as a decimal string ("" if none)
    std::string score;   // measured score as a decimal string
    std::string result_json;
    std::string created_at;
};

struct AuditItemRecord {
    int64_t index = 0;
    std::string item_id;
    int correct = -1;  // 1 / 0, or -1 when not applicable
    std::string score; // decimal string
    std::string detail_json;
};

struct KeyRecord {
    std::string hint;  // SHA-256 hex of the public PEM
    std::string key_type;
    std::string public_pem;
    std::string label;
    std::string created_at;
};

class Store {
public:
    static constexpr int kSchemaVersion = 1;

    static Result<std::unique_ptr<Store>> open(const std::string& path,
                                               const StoreOptions& options = {});
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::string& path() const { return path_; }
    Result<int> schema_version();

    // Run `fn` in one transaction (nested calls become savepoints); rolled back when fn fails.
    Status transaction(const std::function<Status()>& fn);

    // Models. upsert keeps created_at and refreshes the other fields.
    Status upsert_model(const ModelRecord& m);
    Result<ModelRecord> get_model(const std::string& root_digest);
    // Exact digest, or a unique digest prefix (>= 8 hex digits), or an exact name.
    Result<ModelRecord> find_model(const std::string& digest_prefix_or_name);
    Result<std::vector<ModelRecord>> list_models();

    // Fingerprints: one per (model, kind, spec, engine); put replaces. Returns the row id.
    Result<int64_t> put_fingerprint(const FingerprintRecord& f);
    Result<FingerprintRecord> get_fingerprint(const std::string& model_digest,
                                              const std::string& kind,
                                              const std::string& spec_digest,
                                              const std::string& engine);
    // Every fingerprint of a kind (all models), for rebuilding an index; ordered by id.
    Result<std::vector<FingerprintRecord>> list_fingerprints(const std::string& kind);

    // Comparisons: one per (a, b, spec); put replaces. find looks in both orders.
    Result<int64_t> put_comparison(const ComparisonRecord& c);
    Result<ComparisonRecord> find_comparison(const std::string& digest_a,
                                             const std::string& digest_b,
                                             const std::string& spec_digest);
    // Every comparison with `digest` on either side, oldest first, without result_json (the
    // recorded relations: resolve_background excludes models identical to, derived from or
    // distilled from A or B).
    Result<std::vector<ComparisonRecord>> comparisons_of(const std::string& digest);
    // Latest comparison of the pair under any spec, either order.
    Result<ComparisonRecord> latest_comparison(const std::string& digest_a,
                                               const std::string& digest_b);

    // Reports: the bytes as written plus their subjects, in one transaction. The same bytes
    // stored twice give the existing id.
    Result<int64_t> put_report(const ReportRecord& r);
    Result<ReportRecord> get_report(int64_t id);
    Result<std::vector<ReportRecord>> list_reports();  // newest first, envelope included

    // An audit and its per-item results, in one transaction.
    Result<int64_t> put_audit(const AuditRecord& a, const std::vector<AuditItemRecord>& items);
    Result<AuditRecord> get_audit(int64_t id);
    Result<std::vector<AuditItemRecord>> audit_items(int64_t audit_id);

    // Known public keys, by hint.
    Status put_key(const KeyRecord& k);
    Result<KeyRecord> get_key(const std::string& hint);
    Result<std::vector<KeyRecord>> list_keys();

    // PRAGMA integrity_check and foreign_key_check; kCorruptData describing the first problem.
    Status check_integrity();

private:
    struct Impl;
    Store() = default;
    Status migrate();
    std::string path_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace modelprint

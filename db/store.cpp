// SQLite adapter for store.h. Prepared statements in an RAII holder; every write method runs in
// transaction() (BEGIN IMMEDIATE at depth 0 so a writer takes the write lock up front and waits
// on busy_timeout instead of failing on a read->write upgrade; SAVEPOINTs inside). Migrations:
// kMigrations[i] takes user_version i to i+1, applied in one transaction together with the
// version bump. Schema described in docs/store.md.
#include "db/store.h"

#include <ctime>

#include <sqlite3.h>

#include "fingerprint/base/sha256.h"

namespace modelprint {
namespace {

// Migration i brings user_version from i to i+1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE models (
    root_digest     TEXT PRIMARY KEY CHECK (length(root_digest) = 64),
    name            TEXT NOT NULL,
    architecture    TEXT NOT NULL DEFAULT '',
    parameter_count INTEGER NOT NULL DEFAULT 0,
    source_path     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX models_name ON models(name);
CREATE TABLE fingerprints (
    id           INTEGER PRIMARY KEY,
    model_digest TEXT NOT NULL REFERENCES models(root_digest) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    spec_digest  TEXT NOT NULL,
    engine       TEXT NOT NULL,
    blob         BLOB NOT NULL,
    blob_sha256  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (model_digest, kind, spec_digest, engine)
);
CREATE INDEX fingerprints_kind ON fingerprints(kind);
CREATE TABLE comparisons (
    id          INTEGER PRIMARY KEY,
    digest_a    TEXT NOT NULL REFERENCES models(root_digest) ON DELETE CASCADE,
    digest_b    TEXT NOT NULL REFERENCES models(root_digest) ON DELETE CASCADE,
    spec_digest TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (digest_a, digest_b, spec_digest)
);
CREATE INDEX comparisons_b ON comparisons(digest_b);
CREATE TABLE audits (
    id           INTEGER PRIMARY KEY,
    model_digest TEXT NOT NULL REFERENCES models(root_digest) ON DELETE CASCADE,
    bench_name   TEXT NOT NULL,
    bench_digest TEXT NOT NULL,
    claim        TEXT NOT NULL,
    score        TEXT NOT NULL,
    result_json  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE TABLE audit_items (
    audit_id    INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
    item_index  INTEGER NOT NULL,
    item_id     TEXT NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (-1, 0, 1)),
    score       TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    PRIMARY KEY (audit_id, item_index)
);
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    predicate_type  TEXT NOT NULL,
    envelope        BLOB NOT NULL,
    envelope_sha256 TEXT NOT NULL UNIQUE,
    is_signed       INTEGER NOT NULL CHECK (is_signed IN (0, 1)),
    key_hint        TEXT NOT NULL,
    comparison_id   INTEGER REFERENCES comparisons(id) ON DELETE SET NULL,
    audit_id        INTEGER REFERENCES audits(id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL
);
CREATE TABLE report_subjects (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    digest    TEXT NOT NULL,
    PRIMARY KEY (report_id, position)
);
CREATE INDEX report_subjects_digest ON report_subjects(digest);
CREATE TABLE keys (
    hint       TEXT PRIMARY KEY CHECK (length(hint) = 64),
    key_type   TEXT NOT NULL,
    public_pem TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
)sql",
};
constexpr int kNumMigrations = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kNumMigrations == Store::kSchemaVersion, "one migration per schema version");

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Status sqlite_status(sqlite3* db, int rc, const std::string& path, std::string_view what) {
    const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int primary = rc & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) {
        return corrupt_data("database {}: {}: {} (not a modelprint database or damaged)", path,
                            what, msg);
    }
    if (primary == SQLITE_CONSTRAINT) {
        return invalid_argument("database {}: {}: {}", path, what, msg);
    }
    return io_error("database {}: {}: {} (sqlite code {})", path, what, msg, rc);
}

class Stmt {
public:
    Stmt(sqlite3* db, const std::string& path) : db_(db), path_(path) {}
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Status prepare(std::string_view sql) {
        what_ = sql.substr(0, 60);
        const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_,
                                          nullptr);
        return rc == SQLITE_OK ? Status() : sqlite_status(db_, rc, path_, what_);
    }
    Stmt& bind(int i, std::string_view s) {
        sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind_blob(int i, const void* p, size_t n) {
        sqlite3_bind_blob64(stmt_, i, n ? p : "", n, SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, int64_t v) {
        sqlite3_bind_int64(stmt_, i, v);
        return *this;
    }
    Stmt& bind(int i, std::optional<int64_t> v) {
        if (v) {
            sqlite3_bind_int64(stmt_, i, *v);
        } else {
            sqlite3_bind_null(stmt_, i);
        }
        return *this;
    }
    // true: a row is available; false: done.
    Result<bool> step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return sqlite_status(db_, rc, path_, what_);
    }
    Status run() {
        MP_ASSIGN_OR_RETURN(bool row, step());
        (void)row;
        return Status();
    }
    std::string text(int c) const {
        const unsigned char* p = sqlite3_column_text(stmt_, c);
        const int n = sqlite3_column_bytes(stmt_, c);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : "";
    }
    std::string blob(int c) const {
        const void* p = sqlite3_column_blob(stmt_, c);
        const int n = sqlite3_column_bytes(stmt_, c);
        return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : "";
    }
    int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
    bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

private:
    sqlite3* db_;
    const std::string& path_;
    sqlite3_stmt* stmt_ = nullptr;
    std::string what_;
};

const char* const kModelCols =
    "root_digest, name, architecture, parameter_count, source_path, created_at, updated_at";
ModelRecord read_model(const Stmt& s) {
    return ModelRecord{s.text(0), s.text(1), s.text(2), s.i64(3), s.text(4), s.text(5), s.text(6)};
}

const char* const kFpCols =
    "id, model_digest, kind, spec_digest, engine, blob, blob_sha256, created_at";
FingerprintRecord read_fp(const Stmt& s) {
    FingerprintRecord f;
    f.id = s.i64(0);
    f.model_digest = s.text(1);
    f.kind = s.text(2);
    f.spec_digest = s.text(3);
    f.engine = s.text(4);
    const std::string b = s.blob(5);
    f.blob.assign(b.begin(), b.end());
    f.blob_sha256 = s.text(6);
    f.created_at = s.text(7);
    return f;
}

const char* const kCmpCols =
    "id, digest_a, digest_b, spec_digest, verdict, result_json, created_at";
ComparisonRecord read_cmp(const Stmt& s) {
    return ComparisonRecord{s.i64(0), s.text(1), s.text(2), s.text(3),
                            s.text(4), s.text(5), s.text(6)};
}

const char* const kReportCols =
    "id, kind, predicate_type, envelope, envelope_sha256, is_signed, key_hint, comparison_id, "
    "audit_id, created_at";
ReportRecord read_report(const Stmt& s) {
    ReportRecord r;
    r.id = s.i64(0);
    r.kind = s.text(1);
    r.predicate_type = s.text(2);
    r.envelope = s.blob(3);
    r.envelope_sha256 = s.text(4);
    r.is_signed = s.i64(5) != 0;
    r.key_hint = s.text(6);
    if (!s.is_null(7)) r.comparison_id = s.i64(7);
    if (!s.is_null(8)) r.audit_id = s.i64(8);
    r.created_at = s.text(9);
    return r;
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

struct Store::Impl {
    sqlite3* db = nullptr;
    int depth = 0;
    bool read_only = false;
    ~Impl() { sqlite3_close_v2(db); }
};

Store::~Store() = default;

namespace {
Status exec(sqlite3* db, const std::string& path, const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status();
    Status s = sqlite_status(db, rc, path, std::string_view(sql).substr(0, 40));
    sqlite3_free(err);
    return s;
}
}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const StoreOptions& options) {
    if (path.empty()) return invalid_argument("database path is empty");
    std::unique_ptr<Store> store(new Store());
    store->path_ = path;
    store->impl_ = std::make_unique<Impl>();
    store->impl_->read_only = options.read_only;
    const int flags = options.read_only ? SQLITE_OPEN_READONLY
                                        : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    const int rc = sqlite3_open_v2(path.c_str(), &store->impl_->db, flags | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        if (options.read_only && (rc & 0xff) == SQLITE_CANTOPEN) {
            return not_found("database {}: cannot open ({})", path, sqlite3_errstr(rc));
        }
        return sqlite_status(store->impl_->db, rc, path, "open");
    }
    sqlite3* db = store->impl_->db;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    MP_TRY(exec(db, path, "PRAGMA foreign_keys = ON"));
    MP_ASSIGN_OR_RETURN(int version, store->schema_version());
    if (version > kSchemaVersion) {
        return failed_precondition(
            "database {} has schema version {}, newer than this modelprint supports ({}); "
            "upgrade modelprint or use another database",
            path, version, kSchemaVersion);
    }
    if (version < 0) return corrupt_data("database {}: negative schema version {}", path, version);
    if (options.read_only) return store;
    MP_TRY(exec(db, path, "PRAGMA journal_mode = WAL"));
    MP_TRY(exec(db, path, "PRAGMA synchronous = NORMAL"));
    MP_TRY(store->migrate());
    return store;
}

Result<int> Store::schema_version() {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare("PRAGMA user_version"));
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return internal_error("PRAGMA user_version returned no row");
    return static_cast<int>(s.i64(0));
}

Status Store::migrate() {
    MP_ASSIGN_OR_RETURN(int v0, schema_version());
    if (v0 == kSchemaVersion) return Status();
    return transaction([&]() -> Status {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        MP_ASSIGN_OR_RETURN(int v, schema_version());
        if (v > kSchemaVersion) {
            return failed_precondition("database {} has schema version {}, newer than this "
                                       "modelprint supports ({})", path_, v, kSchemaVersion);
        }
        for (; v < kSchemaVersion; ++v) {
            MP_TRY(exec(impl_->db, path_, kMigrations[v]));
            MP_TRY(exec(impl_->db, path_, fmt::format("PRAGMA user_version = {}", v + 1).c_str()));
        }
        return Status();
    });
}

Status Store::transaction(const std::function<Status()>& fn) {
    if (impl_->read_only) return failed_precondition("database {} is open read-only", path_);
    const int depth = impl_->depth;
    const std::string sp = fmt::format("mp_sp{}", depth);
    MP_TRY(exec(impl_->db, path_,
                depth == 0 ? "BEGIN IMMEDIATE" : fmt::format("SAVEPOINT {}", sp).c_str()));
    ++impl_->depth;
    Status s = fn();
    --impl_->depth;
    if (!s.ok()) {
        if (depth == 0) {
            (void)exec(impl_->db, path_, "ROLLBACK");
        } else {
            (void)exec(impl_->db, path_, fmt::format("ROLLBACK TO {0}; RELEASE {0}", sp).c_str());
        }
        return s;
    }
    Status c = exec(impl_->db, path_, depth == 0 ? "COMMIT" : fmt::format("RELEASE {}", sp).c_str());
    if (!c.ok() && depth == 0) (void)exec(impl_->db, path_, "ROLLBACK");
    return c;
}

// ---- models

Status Store::upsert_model(const ModelRecord& m) {
    if (!is_hex64(m.root_digest)) {
        return invalid_argument("model root digest '{}' is not 64 lowercase hex digits",
                                m.root_digest);
    }
    return transaction([&]() -> Status {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare(
            "INSERT INTO models (root_digest, name, architecture, parameter_count, source_path, "
            "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
            "ON CONFLICT(root_digest) DO UPDATE SET name = excluded.name, "
            "architecture = excluded.architecture, parameter_count = excluded.parameter_count, "
            "source_path = excluded.source_path, updated_at = excluded.updated_at"));
        s.bind(1, m.root_digest).bind(2, m.name).bind(3, m.architecture);
        s.bind(4, m.parameter_count).bind(5, m.source_path).bind(6, now_utc());
        return s.run();
    });
}

Result<ModelRecord> Store::get_model(const std::string& root_digest) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format("SELECT {} FROM models WHERE root_digest = ?1", kModelCols)));
    s.bind(1, root_digest);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no model with root digest {}", path_, root_digest);
    return read_model(s);
}

Result<ModelRecord> Store::find_model(const std::string& key) {
    if (is_hex64(key)) return get_model(key);
    std::vector<ModelRecord> hits;
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format(
        "SELECT {} FROM models WHERE name = ?1 OR (length(?1) >= 8 AND substr(root_digest, 1, "
        "length(?1)) = ?1) ORDER BY root_digest LIMIT 3",
        kModelCols)));
    s.bind(1, key);
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        hits.push_back(read_model(s));
    }
    if (hits.empty()) return not_found("database {}: no model named or prefixed '{}'", path_, key);
    if (hits.size() > 1) {
        return invalid_argument("database {}: '{}' is ambiguous ({} and {} match)", path_, key,
                                hits[0].root_digest.substr(0, 16), hits[1].root_digest.substr(0, 16));
    }
    return hits.front();
}

Result<std::vector<ModelRecord>> Store::list_models() {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format("SELECT {} FROM models ORDER BY name, root_digest", kModelCols)));
    std::vector<ModelRecord> out;
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out.push_back(read_model(s));
    }
    return out;
}

// ---- fingerprints

Result<int64_t> Store::put_fingerprint(const FingerprintRecord& f) {
    if (f.kind.empty()) return invalid_argument("fingerprint kind is empty");
    int64_t id = 0;
    MP_TRY(transaction([&]() -> Status {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare(
            "INSERT INTO fingerprints (model_digest, kind, spec_digest, engine, blob, "
            "blob_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
            "ON CONFLICT(model_digest, kind, spec_digest, engine) DO UPDATE SET "
            "blob = excluded.blob, blob_sha256 = excluded.blob_sha256, "
            "created_at = excluded.created_at RETURNING id"));
        s.bind(1, f.model_digest).bind(2, f.kind).bind(3, f.spec_digest).bind(4, f.engine);
        s.bind_blob(5, f.blob.data(), f.blob.size());
        s.bind(6, sha256_hex(std::span<const uint8_t>(f.blob))).bind(7, now_utc());
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) return internal_error("INSERT ... RETURNING gave no row");
        id = s.i64(0);
        return s.run();
    }).with_context(fmt::format("storing {} fingerprint of {}", f.kind, f.model_digest)));
    return id;
}

Result<FingerprintRecord> Store::get_fingerprint(const std::string& model_digest,
                                                 const std::string& kind,
                                                 const std::string& spec_digest,
                                                 const std::string& engine) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format("SELECT {} FROM fingerprints WHERE model_digest = ?1 AND kind = "
                                 "?2 AND spec_digest = ?3 AND engine = ?4",
                                 kFpCols)));
    s.bind(1, model_digest).bind(2, kind).bind(3, spec_digest).bind(4, engine);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) {
        return not_found("database {}: no {} fingerprint of {} (spec {}, engine '{}')", path_, kind,
                         model_digest, spec_digest, engine);
    }
    FingerprintRecord f = read_fp(s);
    if (sha256_hex(std::span<const uint8_t>(f.blob)) != f.blob_sha256) {
        return corrupt_data("database {}: fingerprint {} blob does not match its recorded sha256",
                            path_, f.id);
    }
    return f;
}

Result<std::vector<FingerprintRecord>> Store::list_fingerprints(const std::string& kind) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format("SELECT {} FROM fingerprints WHERE kind = ?1 ORDER BY id", kFpCols)));
    s.bind(1, kind);
    std::vector<FingerprintRecord> out;
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out.push_back(read_fp(s));
    }
    return out;
}

// ---- comparisons

Result<int64_t> Store::put_comparison(const ComparisonRecord& c) {
    int64_t id = 0;
    MP_TRY(transaction([&]() -> Status {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare(
            "INSERT INTO comparisons (digest_a, digest_b, spec_digest, verdict, result_json, "
            "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
            "ON CONFLICT(digest_a, digest_b, spec_digest) DO UPDATE SET verdict = excluded.verdict, "
            "result_json = excluded.result_json, created_at = excluded.created_at RETURNING id"));
        s.bind(1, c.digest_a).bind(2, c.digest_b).bind(3, c.spec_digest).bind(4, c.verdict);
        s.bind(5, c.result_json).bind(6, now_utc());
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) return internal_error("INSERT ... RETURNING gave no row");
        id = s.i64(0);
        return s.run();
    }).with_context(fmt::format("storing comparison {} / {}", c.digest_a, c.digest_b)));
    return id;
}

Result<ComparisonRecord> Store::find_comparison(const std::string& a, const std::string& b,
                                                const std::string& spec) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format(
        "SELECT {} FROM comparisons WHERE spec_digest = ?3 AND ((digest_a = ?1 AND digest_b = ?2) "
        "OR (digest_a = ?2 AND digest_b = ?1)) ORDER BY (digest_a = ?1) DESC LIMIT 1",
        kCmpCols)));
    s.bind(1, a).bind(2, b).bind(3, spec);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no comparison of {} and {} (spec {})", path_, a, b, spec);
    return read_cmp(s);
}

Result<ComparisonRecord> Store::latest_comparison(const std::string& a, const std::string& b) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format(
        "SELECT {} FROM comparisons WHERE (digest_a = ?1 AND digest_b = ?2) OR (digest_a = ?2 "
        "AND digest_b = ?1) ORDER BY created_at DESC, id DESC LIMIT 1",
        kCmpCols)));
    s.bind(1, a).bind(2, b);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no comparison of {} and {}", path_, a, b);
    return read_cmp(s);
}

Result<std::vector<ComparisonRecord>> Store::comparisons_of(const std::string& digest) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(
        "SELECT id, digest_a, digest_b, spec_digest, verdict, '', created_at FROM comparisons "
        "WHERE digest_a = ?1 OR digest_b = ?1 ORDER BY id"));
    s.bind(1, digest);
    std::vector<ComparisonRecord> out;
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out.push_back(read_cmp(s));
    }
    return out;
}

// ---- reports

Result<int64_t> Store::put_report(const ReportRecord& r) {
    if (r.envelope.empty()) return invalid_argument("report bytes are empty");
    const std::string digest = sha256_hex(r.envelope);
    int64_t id = 0;
    MP_TRY(transaction([&]() -> Status {
        Stmt find(impl_->db, path_);
        MP_TRY(find.prepare("SELECT id FROM reports WHERE envelope_sha256 = ?1"));
        find.bind(1, digest);
        MP_ASSIGN_OR_RETURN(bool exists, find.step());
        if (exists) {
            id = find.i64(0);
            return Status();
        }
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare(
            "INSERT INTO reports (kind, predicate_type, envelope, envelope_sha256, is_signed, "
            "key_hint, comparison_id, audit_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9) RETURNING id"));
        s.bind(1, r.kind).bind(2, r.predicate_type).bind_blob(3, r.envelope.data(), r.envelope.size());
        s.bind(4, digest).bind(5, int64_t{r.is_signed ? 1 : 0}).bind(6, r.key_hint);
        s.bind(7, r.comparison_id).bind(8, r.audit_id).bind(9, now_utc());
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) return internal_error("INSERT ... RETURNING gave no row");
        id = s.i64(0);
        MP_TRY(s.run());
        for (size_t i = 0; i < r.subjects.size(); ++i) {
            Stmt sub(impl_->db, path_);
            MP_TRY(sub.prepare("INSERT INTO report_subjects (report_id, position, name, digest) "
                               "VALUES (?1, ?2, ?3, ?4)"));
            sub.bind(1, id).bind(2, static_cast<int64_t>(i)).bind(3, r.subjects[i].name);
            sub.bind(4, r.subjects[i].digest);
            MP_TRY(sub.run());
        }
        return Status();
    }).with_context("storing report"));
    return id;
}

Result<ReportRecord> Store::get_report(int64_t id) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare(fmt::format("SELECT {} FROM reports WHERE id = ?1", kReportCols)));
    s.bind(1, id);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no report with id {}", path_, id);
    ReportRecord r = read_report(s);
    if (sha256_hex(r.envelope) != r.envelope_sha256) {
        return corrupt_data("database {}: report {} bytes do not match their recorded sha256",
                            path_, id);
    }
    Stmt sub(impl_->db, path_);
    MP_TRY(sub.prepare("SELECT name, digest FROM report_subjects WHERE report_id = ?1 "
                       "ORDER BY position"));
    sub.bind(1, id);
    while (true) {
        MP_ASSIGN_OR_RETURN(bool more, sub.step());
        if (!more) break;
        r.subjects.push_back({sub.text(0), sub.text(1)});
    }
    return r;
}

Result<std::vector<ReportRecord>> Store::list_reports() {
    std::vector<int64_t> ids;
    {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare("SELECT id FROM reports ORDER BY id DESC"));
        while (true) {
            MP_ASSIGN_OR_RETURN(bool row, s.step());
            if (!row) break;
            ids.push_back(s.i64(0));
        }
    }
    std::vector<ReportRecord> out;
    for (int64_t id : ids) {
        MP_ASSIGN_OR_RETURN(ReportRecord r, get_report(id));
        out.push_back(std::move(r));
    }
    return out;
}

// ---- audits

Result<int64_t> Store::put_audit(const AuditRecord& a, const std::vector<AuditItemRecord>& items) {
    int64_t id = 0;
    MP_TRY(transaction([&]() -> Status {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare(
            "INSERT INTO audits (model_digest, bench_name, bench_digest, claim, score, result_json, "
            "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id"));
        s.bind(1, a.model_digest).bind(2, a.bench_name).bind(3, a.bench_digest).bind(4, a.claim);
        s.bind(5, a.score).bind(6, a.result_json).bind(7, now_utc());
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) return internal_error("INSERT ... RETURNING gave no row");
        id = s.i64(0);
        MP_TRY(s.run());
        for (const AuditItemRecord& item : items) {
            Stmt one(impl_->db, path_);
            MP_TRY(one.prepare("INSERT INTO audit_items (audit_id, item_index, item_id, correct, "
                               "score, detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
            one.bind(1, id).bind(2, item.index).bind(3, item.item_id);
            one.bind(4, int64_t{item.correct}).bind(5, item.score).bind(6, item.detail_json);
            MP_TRY(one.run());
        }
        return Status();
    }).with_context(fmt::format("storing audit of {}", a.model_digest)));
    return id;
}

Result<AuditRecord> Store::get_audit(int64_t id) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare("SELECT id, model_digest, bench_name, bench_digest, claim, score, result_json, "
                     "created_at FROM audits WHERE id = ?1"));
    s.bind(1, id);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no audit with id {}", path_, id);
    return AuditRecord{s.i64(0),  s.text(1), s.text(2), s.text(3),
                       s.text(4), s.text(5), s.text(6), s.text(7)};
}

Result<std::vector<AuditItemRecord>> Store::audit_items(int64_t audit_id) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare("SELECT item_index, item_id, correct, score, detail_json FROM audit_items "
                     "WHERE audit_id = ?1 ORDER BY item_index"));
    s.bind(1, audit_id);
    std::vector<AuditItemRecord> out;
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out.push_back({s.i64(0), s.text(1), static_cast<int>(s.i64(2)), s.text(3), s.text(4)});
    }
    return out;
}

// ---- keys

Status Store::put_key(const KeyRecord& k) {
    if (!is_hex64(k.hint)) return invalid_argument("key hint '{}' is not 64 lowercase hex", k.hint);
    return transaction([&]() -> Status {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare("INSERT INTO keys (hint, key_type, public_pem, label, created_at) VALUES "
                         "(?1, ?2, ?3, ?4, ?5) ON CONFLICT(hint) DO UPDATE SET label = "
                         "excluded.label"));
        s.bind(1, k.hint).bind(2, k.key_type).bind(3, k.public_pem).bind(4, k.label);
        s.bind(5, now_utc());
        return s.run();
    });
}

Result<KeyRecord> Store::get_key(const std::string& hint) {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare("SELECT hint, key_type, public_pem, label, created_at FROM keys WHERE hint = ?1"));
    s.bind(1, hint);
    MP_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("database {}: no known public key with hint {}", path_, hint);
    return KeyRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)};
}

Result<std::vector<KeyRecord>> Store::list_keys() {
    Stmt s(impl_->db, path_);
    MP_TRY(s.prepare("SELECT hint, key_type, public_pem, label, created_at FROM keys ORDER BY created_at"));
    std::vector<KeyRecord> out;
    while (true) {
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
    }
    return out;
}

Status Store::check_integrity() {
    {
        Stmt s(impl_->db, path_);
        MP_TRY(s.prepare("PRAGMA integrity_check"));
        MP_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) return internal_error("PRAGMA integrity_check returned no row");
        if (s.text(0) != "ok") {
            return corrupt_data("database {}: integrity check failed: {}", path_, s.text(0));
        }
    }
    Stmt fk(impl_->db, path_);
    MP_TRY(fk.prepare("PRAGMA foreign_key_check"));
    MP_ASSIGN_OR_RETURN(bool bad, fk.step());
    if (bad) {
        return corrupt_data("database {}: foreign key violation in table {} (rowid {})", path_,
                            fk.text(0), fk.i64(1));
    }
    return Status();
}

}  // namespace modelprint

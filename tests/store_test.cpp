// Store: migrations and pragmas, CRUD of every table, transactions rolled back as a whole,
// newer-schema refusal, a non-database file, concurrent writers from two processes, and blob
// integrity checks. The kill -9 crash loop is tests/cli/crash_consistency.sh.
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db/store.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using testing::TempDir;

const std::string kA(64, 'a');
const std::string kB(64, 'b');

std::unique_ptr<Store> open_ok(const std::string& path) {
    auto s = Store::open(path);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
}

std::string pragma(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

TEST(Store, CreatesSchemaWithWalAndVersion) {
    TempDir dir;
    const std::string path = (dir / "m.db").string();
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(*store->schema_version(), Store::kSchemaVersion);
    EXPECT_EQ(pragma(path, "PRAGMA journal_mode"), "wal");
    EXPECT_EQ(pragma(path, "PRAGMA user_version"), std::to_string(Store::kSchemaVersion));
    MP_EXPECT_OK(store->check_integrity());
    store.reset();
    auto again = open_ok(path);  // reopening an up-to-date database is a no-op
    ASSERT_TRUE(again);
}

TEST(Store, RefusesNewerSchemaAndNonDatabase) {
    TempDir dir;
    const std::string path = (dir / "m.db").string();
    { ASSERT_TRUE(open_ok(path)); }
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_THAT(Store::open(path), StatusIs(StatusCode::kFailedPrecondition, "schema version 99"));

    const std::string junk = (dir / "junk.db").string();
    testing::write_text(junk, std::string(4096, 'x'));
    EXPECT_THAT(Store::open(junk), StatusIs(StatusCode::kCorruptData, "junk.db"));
    EXPECT_THAT(Store::open(""), StatusIs(StatusCode::kInvalidArgument, "empty"));
    EXPECT_THAT(Store::open((dir / "nope.db").string(), StoreOptions{.read_only = true}),
                StatusIs(StatusCode::kNotFound, "nope.db"));
}

TEST(Store, ModelsUpsertFindList) {
    TempDir dir;
    auto store = open_ok((dir / "m.db").string());
    ASSERT_TRUE(store);
    MP_ASSERT_OK(store->upsert_model({kA, "alpha", "llama", 260000, "/m/a", "", ""}));
    MP_ASSERT_OK(store->upsert_model({kB, "beta", "qwen3", 10, "/m/b", "", ""}));
    MP_ASSERT_OK(store->upsert_model({kA, "alpha2", "llama", 260001, "/m/a2", "", ""}));
    auto a = store->get_model(kA);
    MP_ASSERT_OK(a);
    EXPECT_EQ(a->name, "alpha2");
    EXPECT_EQ(a->parameter_count, 260001);
    EXPECT_FALSE(a->created_at.empty());
    EXPECT_EQ(store->find_model("beta")->root_digest, kB);
    EXPECT_EQ(store->find_model(kB.substr(0, 10))->root_digest, kB);
    EXPECT_THAT(store->find_model("gamma"), StatusIs(StatusCode::kNotFound, "gamma"));
    EXPECT_THAT(store->get_model(std::string(64, 'c')), StatusIs(StatusCode::kNotFound, "cccc"));
    EXPECT_EQ(store->list_models()->size(), 2u);
    EXPECT_THAT(store->upsert_model({"xyz", "bad", "", 0, "", "", ""}),
                StatusIs(StatusCode::kInvalidArgument, "xyz"));
}

TEST(Store, FingerprintsReplaceAndForeignKeys) {
    TempDir dir;
    auto store = open_ok((dir / "m.db").string());
    ASSERT_TRUE(store);
    FingerprintRecord f{0, kA, "weight-stats", "spec1", "cpu", {1, 2, 3}, "", ""};
    // The model row must exist first (foreign key).
    EXPECT_THAT(store->put_fingerprint(f), StatusIs(StatusCode::kInvalidArgument, "FOREIGN KEY"));
    MP_ASSERT_OK(store->upsert_model({kA, "alpha", "", 0, "", "", ""}));
    auto id1 = store->put_fingerprint(f);
    MP_ASSERT_OK(id1);
    f.blob = {9, 9};
    auto id2 = store->put_fingerprint(f);
    MP_ASSERT_OK(id2);
    EXPECT_EQ(*id1, *id2);  // same key: replaced in place
    auto got = store->get_fingerprint(kA, "weight-stats", "spec1", "cpu");
    MP_ASSERT_OK(got);
    EXPECT_EQ(got->blob, (std::vector<uint8_t>{9, 9}));
    EXPECT_THAT(store->get_fingerprint(kA, "weight-stats", "spec2", "cpu"),
                StatusIs(StatusCode::kNotFound, "spec2"));
    EXPECT_EQ(store->list_fingerprints("weight-stats")->size(), 1u);
    EXPECT_EQ(store->list_fingerprints("behaviour")->size(), 0u);
    EXPECT_THAT(store->put_fingerprint({0, kA, "", "", "", {}, "", ""}),
                StatusIs(StatusCode::kInvalidArgument, "kind"));
}

TEST(Store, CorruptedBlobIsDetected) {
    TempDir dir;
    const std::string path = (dir / "m.db").string();
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    MP_ASSERT_OK(store->upsert_model({kA, "alpha", "", 0, "", "", ""}));
    MP_ASSERT_OK(store->put_fingerprint({0, kA, "k", "s", "e", {1, 2, 3}, "", ""}));
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "UPDATE fingerprints SET blob = x'010204'", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    EXPECT_THAT(store->get_fingerprint(kA, "k", "s", "e"),
                StatusIs(StatusCode::kCorruptData, "does not match its recorded sha256"));
}

TEST(Store, ComparisonsReportsAuditsKeys) {
    TempDir dir;
    auto store = open_ok((dir / "m.db").string());
    ASSERT_TRUE(store);
    MP_ASSERT_OK(store->upsert_model({kA, "alpha", "", 0, "", "", ""}));
    MP_ASSERT_OK(store->upsert_model({kB, "beta", "", 0, "", "", ""}));
    auto cid = store->put_comparison({0, kA, kB, "s", "derived", "{\"x\":1}", ""});
    MP_ASSERT_OK(cid);
    auto found = store->find_comparison(kB, kA, "s");  // either order
    MP_ASSERT_OK(found);
    EXPECT_EQ(found->verdict, "derived");
    EXPECT_EQ(store->latest_comparison(kB, kA)->id, *cid);
    EXPECT_THAT(store->find_comparison(kA, kB, "other"), StatusIs(StatusCode::kNotFound, "other"));

    ReportRecord r;
    r.kind = "comparison";
    r.predicate_type = "https://modelprint.dev/comparison/v1";
    r.envelope = "{\n  \"exact\": \"bytes\" }\n";
    r.is_signed = true;
    r.key_hint = std::string(64, 'f');
    r.comparison_id = *cid;
    r.subjects = {{"A", kA}, {"B", kB}};
    auto rid = store->put_report(r);
    MP_ASSERT_OK(rid);
    EXPECT_EQ(*store->put_report(r), *rid);  // same bytes: same report
    auto back = store->get_report(*rid);
    MP_ASSERT_OK(back);
    EXPECT_EQ(back->envelope, r.envelope);  // byte for byte
    ASSERT_EQ(back->subjects.size(), 2u);
    EXPECT_EQ(back->subjects[1].digest, kB);
    EXPECT_EQ(*back->comparison_id, *cid);
    EXPECT_EQ(store->list_reports()->size(), 1u);
    EXPECT_THAT(store->get_report(12345), StatusIs(StatusCode::kNotFound, "12345"));
    EXPECT_THAT(store->put_report(ReportRecord{}), StatusIs(StatusCode::kInvalidArgument, "empty"));

    std::vector<AuditItemRecord> items;
    for (int i = 0; i < 50; ++i) items.push_back({i, "q" + std::to_string(i), i % 2, "0.5", "{}"});
    auto aid = store->put_audit({0, kA, "mmlu-tiny", std::string(64, 'd'), "0.7", "0.52", "{}", ""},
                                items);
    MP_ASSERT_OK(aid);
    EXPECT_EQ(store->get_audit(*aid)->bench_name, "mmlu-tiny");
    EXPECT_EQ(store->audit_items(*aid)->size(), 50u);
    EXPECT_THAT(store->get_audit(999), StatusIs(StatusCode::kNotFound, "999"));

    MP_ASSERT_OK(store->put_key({std::string(64, 'e'), "ecdsa-p256", "PEM", "ci", ""}));
    EXPECT_EQ(store->get_key(std::string(64, 'e'))->label, "ci");
    EXPECT_EQ(store->list_keys()->size(), 1u);
    EXPECT_THAT(store->get_key(std::string(64, '1')), StatusIs(StatusCode::kNotFound, "1111"));
    EXPECT_THAT(store->put_key({"short", "", "", "", ""}), StatusIs(StatusCode::kInvalidArgument, "short"));
    MP_EXPECT_OK(store->check_integrity());
}

TEST(Store, MultiRowWriteIsAllOrNothing) {
    TempDir dir;
    auto store = open_ok((dir / "m.db").string());
    ASSERT_TRUE(store);
    MP_ASSERT_OK(store->upsert_model({kA, "alpha", "", 0, "", "", ""}));
    // Duplicate item index violates the primary key on the 3rd row: the audit must vanish too.
    std::vector<AuditItemRecord> items = {{0, "a", 1, "1", "{}"}, {1, "b", 0, "0", "{}"},
                                          {1, "c", 1, "1", "{}"}};
    EXPECT_THAT(store->put_audit({0, kA, "bench", "d", "", "0.5", "{}", ""}, items),
                StatusIs(StatusCode::kInvalidArgument, "storing audit"));
    EXPECT_THAT(store->get_audit(1), StatusIs(StatusCode::kNotFound, "audit"));
    // An explicit transaction that fails rolls back every write inside it.
    Status s = store->transaction([&]() -> Status {
        MP_TRY(store->upsert_model({kB, "beta", "", 0, "", "", ""}));
        return invalid_argument("caller gave up");
    });
    EXPECT_THAT(s, StatusIs(StatusCode::kInvalidArgument, "caller gave up"));
    EXPECT_THAT(store->get_model(kB), StatusIs(StatusCode::kNotFound, "bbbb"));
}

TEST(Store, TwoProcessesWriteConcurrently) {
    TempDir dir;
    const std::string path = (dir / "m.db").string();
    { ASSERT_TRUE(open_ok(path)); }
    constexpr int kWriters = 2, kRows = 200;
    std::vector<pid_t> kids;
    for (int w = 0; w < kWriters; ++w) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto st = Store::open(path);
            if (!st.ok()) _exit(10);
            for (int i = 0; i < kRows; ++i) {
                std::string d = fmt::format("{:064x}", w * 100000 + i);
                if (!(*st)->upsert_model({d, "m", "", i, "", "", ""}).ok()) _exit(11);
                if (!(*st)->put_fingerprint({0, d, "k", "s", "e", std::vector<uint8_t>(512, 7), "", ""}).ok()) {
                    _exit(12);
                }
            }
            _exit(0);
        }
        kids.push_back(pid);
    }
    for (pid_t pid : kids) {
        int status = 0;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
    }
    auto store = open_ok(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->list_models()->size(), static_cast<size_t>(kWriters * kRows));
    EXPECT_EQ(store->list_fingerprints("k")->size(), static_cast<size_t>(kWriters * kRows));
    MP_EXPECT_OK(store->check_integrity());
}

}  // namespace
}  // namespace modelprint

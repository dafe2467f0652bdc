// `modelprint sign REPORT --key KEY [--out FILE]`: signs an unsigned report (an in-toto
// statement as written by `compare`/`audit`/`report create` without --sign). The payload is the
// statement's canonical JSON; the bundle goes to FILE (default REPORT.sigstore.json) and into the
// store's reports.
#include <cstdio>

#include "cli/command.h"
#include "db/store.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "forensics/report.h"

namespace modelprint::cli {
namespace {

struct SignArgs {
    std::string report;
    std::string key;
    std::string out;
    bool no_db = false;
};

Status run_sign(const SignArgs& a) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(a.report));
    MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_report(text, a.report));
    if (rep.is_signed) {
        return invalid_argument("{}: is already a signed bundle (verify it with `modelprint verify`)",
                                a.report);
    }
    MP_ASSIGN_OR_RETURN(Json j, parse_json(rep.statement, a.report));
    MP_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::load(a.key));
    MP_ASSIGN_OR_RETURN(std::string bundle, sign_statement(canonical_json(j), key));
    const std::string out = a.out.empty() ? a.report + ".sigstore.json" : a.out;
    MP_TRY(write_file_atomic(out, bundle, 0644));
    std::printf("signed  %s  (%s, key hint %s)\n", out.c_str(),
                std::string(key_type_name(key.type())).c_str(), key.public_key().hint().c_str());
    if (a.no_db) return Status();
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    ReportRecord r;
    r.kind = rep.predicate_type == kAuditPredicateType ? "audit" : "comparison";
    r.predicate_type = rep.predicate_type;
    r.envelope = bundle;
    r.is_signed = true;
    r.key_hint = key.public_key().hint();
    for (const auto& s : rep.subjects) r.subjects.push_back({s.name, s.sha256});
    MP_ASSIGN_OR_RETURN(int64_t id, store->put_report(r));
    std::printf("stored  report %lld in %s\n", static_cast<long long>(id), store->path().c_str());
    return Status();
}

CommandRegistrar reg({"sign", "Sign an unsigned report (DSSE envelope in a Sigstore bundle)", 81,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<SignArgs>();
                          sub.add_option("REPORT", a->report, "Unsigned report (JSON statement)")->required();
                          sub.add_option("--key", a->key, "Private key (PEM)")->required();
                          sub.add_option("--out", a->out, "Output bundle (default REPORT.sigstore.json)");
                          sub.add_flag("--no-db", a->no_db, "Do not store the signed report");
                          return [a] { return run_sign(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli

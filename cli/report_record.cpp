// Comparison records and signed comparison reports (see report_record.h).
#include "cli/report_record.h"

#include <cstdio>

#include "forensics/report.h"

namespace modelprint::cli {

Result<ReportRecord> report_record_of(const std::string& envelope, const std::string& name,
                                      std::string_view kind, std::string_view predicate_type) {
    MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_report(envelope, name));
    ReportRecord rr;
    rr.kind = std::string(kind);
    rr.predicate_type = std::string(predicate_type);
    rr.envelope = envelope;
    rr.is_signed = rep.is_signed;
    rr.key_hint = rep.is_signed ? rep.bundle.key_hint : "";
    for (const auto& s : rep.subjects) rr.subjects.push_back({s.name, s.sha256});
    return rr;
}

Result<int64_t> store_comparison(Store& store, const ComparisonResult& r, const std::string& doc) {
    int64_t id = 0;
    MP_TRY(store.transaction([&]() -> Status {
        for (const SideInfo* s : {&r.a, &r.b}) {
            ModelRecord m;
            m.root_digest = s->model.root_digest;
            m.name = s->kind == "endpoint"
                         ? fmt::format("{} (model \"{}\")", s->path, s->endpoint_model)
                         : s->path;
            m.architecture = s->model.arch;
            m.parameter_count = static_cast<int64_t>(s->model.parameters);
            m.source_path = s->path;
            MP_TRY(store.upsert_model(m));
        }
        ComparisonRecord c;
        c.digest_a = r.a.model.root_digest;
        c.digest_b = r.b.model.root_digest;
        c.spec_digest = r.store.key;
        c.verdict = std::string(relation_name(r.verdict.relation));
        c.result_json = doc;
        MP_ASSIGN_OR_RETURN(id, store.put_comparison(c));
        return Status();
    }));
    return id;
}

Status sign_and_store(const ComparisonResult& r, const std::string& out_path,
                      const std::string& key_path, std::optional<int64_t> comparison_id,
                      Store* store) {
    ReportInput in;
    in.kind = ReportKind::kComparison;
    auto subject_name = [](const char* label, const SideInfo& s) {
        return s.kind == "endpoint"
                   ? fmt::format("{}: endpoint {} (model \"{}\")", label, s.path, s.endpoint_model)
                   : fmt::format("{}: {}", label, s.path);
    };
    in.subjects = {{subject_name("A", r.a), r.a.model.root_digest},
                   {subject_name("B", r.b), r.b.model.root_digest}};
    in.predicate_json = comparison_predicate_of(r);
    MP_ASSIGN_OR_RETURN(std::string bytes, write_report(in, out_path, key_path));
    if (out_path.empty())
        std::fputs(bytes.c_str(), stdout);
    else
        std::fprintf(stderr, "wrote signed comparison report %s\n", out_path.c_str());
    if (store == nullptr) return Status();
    MP_ASSIGN_OR_RETURN(ReportRecord rr,
                        report_record_of(bytes, out_path.empty() ? "report" : out_path,
                                         "comparison", kComparisonPredicateType));
    rr.comparison_id = comparison_id;
    auto rid = store->put_report(rr);
    if (rid.ok()) {
        std::fprintf(stderr,
                     "stored as report %lld (modelprint report export %lld --format html)\n",
                     static_cast<long long>(*rid), static_cast<long long>(*rid));
    } else {
        std::fprintf(stderr, "modelprint: warning: report not stored: %s\n",
                     rid.status().message().c_str());
    }
    return Status();
}

}  // namespace modelprint::cli

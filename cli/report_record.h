// Recording a comparison result (forensics/pipeline.h ComparisonResult) in the store and as a
// signed report, for every command that answers a comparison question (`compare`, `endpoint
// check`): one implementation, so the records and reports of both read the same.
//   store_comparison: both sides as model records (an endpoint side under its identity digest,
//     forensics/endpoint_section.h), then the comparison (document, verdict, store key) in one
//     transaction; returns its id.
//   sign_and_store: the report (DSSE, signed with `key_path`; forensics/report.h) whose predicate
//     is comparison_predicate_of(r), written to `out_path` (stdout when empty) and, with a
//     store, kept as a report linked to the comparison.
//   report_record_of: the store record of a report the command just wrote (parses the envelope:
//     kind, predicate type, envelope, signed flag, key hint, subjects); the caller sets the
//     comparison_id / audit_id link. Used by sign_and_store and by `audit --out`.
// Not here: store keys (each command knows the inputs of its question).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/store.h"
#include "forensics/pipeline.h"

namespace modelprint::cli {

Result<ReportRecord> report_record_of(const std::string& envelope, const std::string& name,
                                      std::string_view kind, std::string_view predicate_type);

Result<int64_t> store_comparison(Store& store, const ComparisonResult& r, const std::string& doc);

Status sign_and_store(const ComparisonResult& r, const std::string& out_path,
                      const std::string& key_path, std::optional<int64_t> comparison_id,
                      Store* store);

}  // namespace modelprint::cli

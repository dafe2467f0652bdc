// The store record of a report the command just wrote: parses the envelope (forensics/report.h)
// and fills kind, predicate type, envelope, signed flag, key hint and subjects. The caller sets
// the comparison_id / audit_id link. Shared by `compare --sign` and `audit --out`.
#pragma once

#include <string>
#include <string_view>

#include "db/store.h"
#include "fingerprint/base/status.h"

namespace modelprint::cli {

Result<ReportRecord> report_record_of(const std::string& envelope, const std::string& name,
                                      std::string_view kind, std::string_view predicate_type);

}  // namespace modelprint::cli

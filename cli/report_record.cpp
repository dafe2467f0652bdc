// report_record.h.
#include "cli/report_record.h"

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

}  // namespace modelprint::cli

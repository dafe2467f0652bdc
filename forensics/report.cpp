// Report statements, signing and verification (see report.h). The statement is canonical JSON
// (nlohmann with sorted keys, no whitespace); the signature covers exactly those bytes via DSSE
// PAE. Reading a report file: a JSON object with "dsseEnvelope" is a bundle, one with "_type" is
// an unsigned statement; anything else is refused.
#include "forensics/report.h"

#include <ctime>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"

namespace modelprint {
namespace {

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";

Result<ParsedReport> parse_statement_into(ParsedReport r, std::string_view what) {
    auto parsed = parse_json(r.statement, what);
    if (!parsed.ok()) {
        if (r.is_signed) {
            return verification_failed("payload is not valid JSON: {}", parsed.status().message());
        }
        return parsed.status();
    }
    const Json& j = *parsed;
    auto fail = [&](std::string msg) -> Status {
        return r.is_signed ? verification_failed("payload {}", msg)
                           : corrupt_data("{}: {}", what, msg);
    };
    if (!j.is_object() || !j.contains("_type") || j["_type"] != kStatementType) {
        return fail("is not an in-toto Statement v1 (_type must be " + std::string(kStatementType) +
                    ")");
    }
    if (!j.contains("predicateType") || !j["predicateType"].is_string()) {
        return fail("has no predicateType string");
    }
    r.predicate_type = j["predicateType"].get<std::string>();
    if (!j.contains("subject") || !j["subject"].is_array() || j["subject"].empty()) {
        return fail("has no subject");
    }
    for (const Json& s : j["subject"]) {
        if (!s.is_object() || !s.contains("digest") || !s["digest"].is_object() ||
            !s["digest"].contains("sha256") || !s["digest"]["sha256"].is_string()) {
            return fail("has a subject without a sha256 digest");
        }
        ReportSubject rs;
        if (s.contains("name") && s["name"].is_string()) rs.name = s["name"].get<std::string>();
        rs.sha256 = s["digest"]["sha256"].get<std::string>();
        r.subjects.push_back(std::move(rs));
    }
    return r;
}

}  // namespace

std::string_view report_kind_name(ReportKind kind) {
    return kind == ReportKind::kAudit ? "audit" : "comparison";
}

std::string_view report_predicate_type(ReportKind kind) {
    return kind == ReportKind::kAudit ? kAuditPredicateType : kComparisonPredicateType;
}

Result<ReportKind> parse_report_kind(std::string_view name) {
    if (name == "comparison") return ReportKind::kComparison;
    if (name == "audit") return ReportKind::kAudit;
    return invalid_argument("report kind '{}' is not comparison or audit", name);
}

std::string rfc3339_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Result<std::string> build_statement(const ReportInput& in) {
    if (in.subjects.empty()) return invalid_argument("report statement needs at least one subject");
    Json subjects = Json::array();
    for (const ReportSubject& s : in.subjects) {
        if (!is_hex64(s.sha256)) {
            return invalid_argument("report subject '{}': digest '{}' is not 64 lowercase hex digits",
                                    s.name, s.sha256);
        }
        subjects.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256}}}});
    }
    MP_ASSIGN_OR_RETURN(Json pred, parse_json(in.predicate_json, "report predicate"));
    if (!pred.is_object()) return invalid_argument("report predicate is not a JSON object");
    if (!pred.contains("created_at")) {
        pred["created_at"] = in.created_at.empty() ? rfc3339_now() : in.created_at;
    }
    if (!pred.contains("generator")) pred["generator"] = "modelprint 0.1.0";
    Json st;
    st["_type"] = kStatementType;
    st["subject"] = std::move(subjects);
    st["predicateType"] = report_predicate_type(in.kind);
    st["predicate"] = std::move(pred);
    try {
        return canonical_json(st);
    } catch (const std::exception& e) {
        return invalid_argument("report statement cannot be serialised: {}", e.what());
    }
}

Result<std::string> pretty_report_json(std::string_view statement_json) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(statement_json, "report statement"));
    return j.dump(2) + "\n";
}

Result<std::string> sign_statement(std::string_view statement_json, const PrivateKey& key) {
    MP_ASSIGN_OR_RETURN(SigstoreBundle b,
                        sign_dsse(std::string(statement_json), kInTotoPayloadType, key));
    return write_bundle(b);
}

Result<std::string> write_report(const ReportInput& input, const std::string& out_path,
                                 const std::string& key_path) {
    MP_ASSIGN_OR_RETURN(std::string statement, build_statement(input));
    std::string bytes;
    if (!key_path.empty()) {
        MP_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::load(key_path));
        MP_ASSIGN_OR_RETURN(bytes, sign_statement(statement, key));
    } else {
        MP_ASSIGN_OR_RETURN(bytes, pretty_report_json(statement));
    }
    if (!out_path.empty()) MP_TRY(write_file_atomic(out_path, bytes, 0644));
    return bytes;
}

Result<ParsedReport> parse_report(std::string_view file_bytes, std::string_view what) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(file_bytes, what));
    if (!j.is_object()) return corrupt_data("{}: not a JSON object", what);
    ParsedReport r;
    if (j.contains("dsseEnvelope")) {
        MP_ASSIGN_OR_RETURN(r.bundle, parse_bundle(file_bytes, what));
        r.is_signed = true;
        r.statement = r.bundle.payload;
        if (r.bundle.payload_type != kInTotoPayloadType) {
            return verification_failed("payload type '{}' is not '{}'", r.bundle.payload_type,
                                       kInTotoPayloadType);
        }
    } else if (j.contains("_type")) {
        r.statement = std::string(file_bytes);
    } else {
        return corrupt_data("{}: neither a Sigstore bundle (dsseEnvelope) nor an in-toto statement",
                            what);
    }
    return parse_statement_into(std::move(r), what);
}

Status verify_report(const ParsedReport& report, const PublicKey& key) {
    if (!report.is_signed) {
        return verification_failed("report is not signed (no DSSE envelope); nothing to verify");
    }
    return verify_dsse(report.bundle, key);
}

Status check_report_subject(const ParsedReport& report, const std::string& root_digest) {
    std::string names;
    for (const ReportSubject& s : report.subjects) {
        if (s.sha256 == root_digest) return Status();
        names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", s.name, s.sha256);
    }
    return verification_failed("model digests do not match: model root digest {} is not a subject "
                               "of the report (subjects: {})",
                               root_digest, names);
}

}  // namespace modelprint

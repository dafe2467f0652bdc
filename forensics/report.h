// Reports: the in-toto Statement v1 that carries a comparison or audit verdict with its evidence,
// its unsigned JSON form, its signed form (DSSE envelope in a Sigstore bundle v0.3, same shape and
// keys as OpenSSF Model Signing), its verification, and its Markdown / HTML renderings.
//
// How a caller (compare, audit) uses it:
//   ReportInput in;
//   in.kind = ReportKind::kComparison;                  // or kAudit
//   in.subjects = {{"A: llama-7b", root_a}, {"B: suspect", root_b}};   // root digests (hex)
//   in.predicate_json = canonical_json(predicate);      // a JSON object you build (see below)
//   MP_ASSIGN_OR_RETURN(std::string statement, build_statement(in));
//   // unsigned:  write_file_atomic(out, pretty_report_json(statement))
//   // signed:    MP_ASSIGN_OR_RETURN(auto key, PrivateKey::load(key_path));
//   //            MP_ASSIGN_OR_RETURN(std::string bundle, sign_statement(statement, key));
//   // render:    render_report_markdown(statement) / render_report_html(statement)
// or simply write_report(in, out_path, key_path) which does all of that and returns the bytes
// written (store them unchanged with Store::put_report).
//
// Predicate conventions (decimals as JSON strings, e.g. "0.9731"; timestamps RFC 3339 UTC). The
// renderers recognise these optional members and show every other member as a generic table:
//   "verdict":  {"label": "identical|derived|distilled|similar-behavior|independent|unknown",
//                "subtype": str, "confidence": str, "basis": str, "decided_by": str,
//                "summary": str}
//   "comparison": the whole comparison document (signed; rendered through the members above,
//                never dumped)
//   "models":   [{"role": "A", "name": str, "root_digest": hex, "architecture": str,
//                 "parameters": str|int, "path": str}]
//   "heatmaps": [{"title": str, "x_label": str, "y_label": str, "x_labels": [str],
//                 "y_labels": [str], "values": [[str decimal]] (rows = y), "min": str,
//                 "max": str}]                          -> inline SVG heatmap
//   "distributions": [{"title": str, "statistic": str, "observed": str decimal,
//                      "background": [str decimal], "p_value": str, "note": str}]
//                                                       -> inline SVG histogram + observed line
//   "sections": [{"title": str, "text": str, "columns": [str], "rows": [[str]]}] -> tables
// build_statement adds "created_at" (RFC 3339 UTC, now) and "generator" ("modelprint 0.1.0")
// to the predicate when the caller did not set them.
// Not here: computing evidence (forensics engines), storing (db/store.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "forensics/dsse.h"
#include "forensics/sign.h"

namespace modelprint {

enum class ReportKind { kComparison, kAudit };

inline constexpr std::string_view kComparisonPredicateType = "https://modelprint.dev/comparison/v1";
inline constexpr std::string_view kAuditPredicateType = "https://modelprint.dev/audit/v1";

std::string_view report_kind_name(ReportKind kind);  // "comparison" | "audit"
std::string_view report_predicate_type(ReportKind kind);
Result<ReportKind> parse_report_kind(std::string_view name);

struct ReportSubject {
    std::string name;    // human label, e.g. "A: stories260K"
    std::string sha256;  // lowercase hex root digest (OMS) or weight-file digest
};

struct ReportInput {
    ReportKind kind = ReportKind::kComparison;
    std::vector<ReportSubject> subjects;  // at least one
    std::string predicate_json;           // a JSON object
    std::string created_at;               // RFC 3339 UTC; empty: now
};

// RFC 3339 UTC of the current time, seconds precision ("2025-01-31T12:00:00Z").
std::string rfc3339_now();

// The Statement as canonical JSON (sorted keys, no whitespace). kInvalidArgument when there is no
// subject, a digest is not 64 lowercase hex digits, or the predicate is not a JSON object.
Result<std::string> build_statement(const ReportInput& input);

// The unsigned report file: the statement pretty-printed (2-space indent) with a final newline.
Result<std::string> pretty_report_json(std::string_view statement_json);

// Sign the exact statement bytes; returns the bundle JSON text.
Result<std::string> sign_statement(std::string_view statement_json, const PrivateKey& key);

// Build, optionally sign (when key_path is not empty), and write to out_path (when not empty).
// Returns the bytes of the report file (bundle JSON or unsigned statement JSON).
Result<std::string> write_report(const ReportInput& input, const std::string& out_path,
                                 const std::string& key_path);

// A report file read back: signed (bundle) or unsigned (bare statement).
struct ParsedReport {
    bool is_signed = false;
    SigstoreBundle bundle;     // when signed
    std::string statement;     // the exact payload bytes (or the unsigned file's bytes)
    std::string predicate_type;
    std::vector<ReportSubject> subjects;
};
Result<ParsedReport> parse_report(std::string_view file_bytes, std::string_view what);

// Verify a signed report with `key`: hint, signature, then that the payload is an in-toto
// Statement v1 (kVerificationFailed "payload ..." otherwise). An unsigned report fails with
// kVerificationFailed "not signed".
Status verify_report(const ParsedReport& report, const PublicKey& key);

// Check that a model root digest is one of the report's subjects; kVerificationFailed naming
// the digest and the subjects otherwise.
Status check_report_subject(const ParsedReport& report, const std::string& root_digest);

// Renderings of a statement (the payload of a report). HTML is one self-contained page (inline
// CSS and SVG; no script, no external resource).
Result<std::string> render_report_markdown(std::string_view statement_json);
Result<std::string> render_report_html(std::string_view statement_json);

}  // namespace modelprint

// Reports: statement shape, signing and verification (tamper: payload, signature, key hint,
// subject digest), unsigned reports, error paths, and the Markdown / HTML renderings (structure,
// inline SVG, escaping of hostile strings).
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "forensics/report.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

const std::string kA(64, 'a');
const std::string kB(64, 'b');

ReportInput sample_input() {
    ReportInput in;
    in.kind = ReportKind::kComparison;
    in.subjects = {{"A: base", kA}, {"B: suspect <script>", kB}};
    in.created_at = "2025-01-31T12:00:00Z";
    in.predicate_json = R"({
      "verdict": {"label": "derived", "subtype": "fine-tuned", "confidence": "0.999",
                  "decided_by": "weight cosine p-value", "summary": "B continues A."},
      "models": [{"role": "A", "name": "base", "root_digest": ")" + kA + R"("}],
      "heatmaps": [{"title": "Layer similarity", "x_label": "role", "y_label": "layer",
                    "x_labels": ["q", "k"], "y_labels": ["0", "1"],
                    "values": [["0.99", "0.98"], ["0.97", "x"]], "min": "0", "max": "1"}],
      "distributions": [{"title": "Likelihood of A's outputs", "statistic": "z",
                         "observed": "4.5", "background": ["0.1", "-0.3", "0.7", "1.1"],
                         "p_value": "3.4e-06"}],
      "sections": [{"title": "Identity", "text": "No shared tensors.",
                    "columns": ["tensor", "sha256"], "rows": [["w", "00"]]}],
      "threshold_source": "docs/thresholds.md"})";
    return in;
}

TEST(Report, StatementShape) {
    auto st = build_statement(sample_input());
    MP_ASSERT_OK(st);
    auto j = parse_json(*st, "st");
    MP_ASSERT_OK(j);
    EXPECT_EQ((*j)["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ((*j)["predicateType"], "https://modelprint.dev/comparison/v1");
    EXPECT_EQ((*j)["subject"][1]["digest"]["sha256"], kB);
    EXPECT_EQ((*j)["predicate"]["created_at"], "2025-01-31T12:00:00Z");
    EXPECT_EQ((*j)["predicate"]["generator"], "modelprint 0.1.0");
    EXPECT_EQ(*st, canonical_json(*j));  // canonical: re-serialising gives the same bytes
    ReportInput audit = sample_input();
    audit.kind = ReportKind::kAudit;
    EXPECT_NE(build_statement(audit)->find("https://modelprint.dev/audit/v1"), std::string::npos);
    EXPECT_EQ(rfc3339_now().size(), 20u);
}

TEST(Report, StatementErrors) {
    ReportInput in = sample_input();
    in.subjects.clear();
    EXPECT_THAT(build_statement(in), StatusIs(StatusCode::kInvalidArgument, "at least one subject"));
    in = sample_input();
    in.subjects[0].sha256 = "ABC";
    EXPECT_THAT(build_statement(in), StatusIs(StatusCode::kInvalidArgument, "'ABC'"));
    in = sample_input();
    in.predicate_json = "[1]";
    EXPECT_THAT(build_statement(in), StatusIs(StatusCode::kInvalidArgument, "not a JSON object"));
    in.predicate_json = "{";
    EXPECT_THAT(build_statement(in), StatusIs(StatusCode::kCorruptData, "report predicate"));
    EXPECT_THAT(parse_report_kind("x"), StatusIs(StatusCode::kInvalidArgument, "'x'"));
    EXPECT_THAT(parse_report("{\"a\":1}", "r.json"), StatusIs(StatusCode::kCorruptData, "neither"));
    EXPECT_THAT(parse_report("{\"_type\":\"other\"}", "r.json"),
                StatusIs(StatusCode::kCorruptData, "in-toto Statement v1"));
}

TEST(Report, SignedReportVerifiesAndTamperIsNamed) {
    testing::TempDir dir;
    auto files = generate_key_files(KeyType::kEcdsaP256, (dir / "k").string());
    MP_ASSERT_OK(files);
    const std::string out = (dir / "r.json").string();
    auto bytes = write_report(sample_input(), out, files->private_path);
    MP_ASSERT_OK(bytes);
    EXPECT_EQ(*read_file(out), *bytes);
    auto pub = PublicKey::load(files->public_path);
    MP_ASSERT_OK(pub);
    auto rep = parse_report(*bytes, out);
    MP_ASSERT_OK(rep);
    EXPECT_TRUE(rep->is_signed);
    EXPECT_EQ(rep->predicate_type, kComparisonPredicateType);
    MP_EXPECT_OK(verify_report(*rep, *pub));
    MP_EXPECT_OK(check_report_subject(*rep, kA));
    EXPECT_THAT(check_report_subject(*rep, std::string(64, 'c')),
                StatusIs(StatusCode::kVerificationFailed, "model digests do not match"));

    ParsedReport p = *rep;
    p.bundle.payload[p.bundle.payload.find("derived")] = 'D';
    EXPECT_THAT(verify_report(p, *pub), StatusIs(StatusCode::kVerificationFailed, "payload"));
    ParsedReport s = *rep;
    s.bundle.signatures[0].sig.back() ^= 1;
    EXPECT_THAT(verify_report(s, *pub), StatusIs(StatusCode::kVerificationFailed, "signature"));
    ParsedReport h = *rep;
    h.bundle.key_hint[0] = h.bundle.key_hint[0] == 'f' ? '0' : 'f';
    EXPECT_THAT(verify_report(h, *pub), StatusIs(StatusCode::kVerificationFailed, "key hint"));
    // A payload that is valid base64 but not a statement, re-signed: refused as payload.
    auto key = PrivateKey::load(files->private_path);
    MP_ASSERT_OK(key);
    auto bad = sign_dsse("{\"x\":1}", kInTotoPayloadType, *key);
    MP_ASSERT_OK(bad);
    EXPECT_THAT(parse_report(write_bundle(*bad), "r"),
                StatusIs(StatusCode::kVerificationFailed, "payload is not an in-toto Statement"));
}

TEST(Report, UnsignedReportParsesButDoesNotVerify) {
    auto bytes = write_report(sample_input(), "", "");
    MP_ASSERT_OK(bytes);
    EXPECT_EQ(bytes->back(), '\n');
    auto rep = parse_report(*bytes, "r");
    MP_ASSERT_OK(rep);
    EXPECT_FALSE(rep->is_signed);
    EXPECT_EQ(rep->subjects.size(), 2u);
    auto key = PrivateKey::generate(KeyType::kEd25519);
    MP_ASSERT_OK(key);
    EXPECT_THAT(verify_report(*rep, key->public_key()),
                StatusIs(StatusCode::kVerificationFailed, "not signed"));
}

TEST(Report, Ed25519SignedReport) {
    auto key = PrivateKey::generate(KeyType::kEd25519);
    MP_ASSERT_OK(key);
    auto st = build_statement(sample_input());
    MP_ASSERT_OK(st);
    auto b = sign_statement(*st, *key);
    MP_ASSERT_OK(b);
    auto rep = parse_report(*b, "r");
    MP_ASSERT_OK(rep);
    EXPECT_EQ(rep->statement, *st);  // exact payload bytes
    MP_EXPECT_OK(verify_report(*rep, key->public_key()));
}

TEST(Report, MarkdownRendering) {
    auto st = build_statement(sample_input());
    MP_ASSERT_OK(st);
    auto md = render_report_markdown(*st);
    MP_ASSERT_OK(md);
    EXPECT_NE(md->find("# modelprint comparison report"), std::string::npos);
    EXPECT_NE(md->find("**derived** (fine-tuned), confidence 0.999"), std::string::npos);
    EXPECT_NE(md->find("| layer \\ role | q | k |"), std::string::npos) << *md;
    EXPECT_NE(md->find("| z | 4.5 | 4 |"), std::string::npos);
    EXPECT_NE(md->find("## Identity"), std::string::npos);
    EXPECT_NE(md->find("threshold\\_source"), std::string::npos);  // generic member
    EXPECT_NE(md->find("B: suspect \\<script\\>"), std::string::npos);
    EXPECT_THAT(render_report_markdown("{}"), StatusIs(StatusCode::kCorruptData, "no predicate"));
}

TEST(Report, HtmlRenderingIsSelfContainedAndEscaped) {
    auto st = build_statement(sample_input());
    MP_ASSERT_OK(st);
    auto html = render_report_html(*st);
    MP_ASSERT_OK(html);
    EXPECT_EQ(html->rfind("<!DOCTYPE html>", 0), 0u);
    size_t svgs = 0;
    for (size_t p = html->find("<svg"); p != std::string::npos; p = html->find("<svg", p + 1)) ++svgs;
    EXPECT_EQ(svgs, 2u);  // heatmap + one distribution
    EXPECT_EQ(html->find("<script"), std::string::npos);  // the hostile name is escaped
    EXPECT_NE(html->find("B: suspect &lt;script&gt;"), std::string::npos);
    EXPECT_EQ(html->find("http://"), html->find("http://www.w3.org/2000/svg"));  // no external refs
    EXPECT_NE(html->find("#bbbbbb"), std::string::npos);  // the unparsable cell is grey
    EXPECT_NE(html->find("observed 4.5"), std::string::npos);
    EXPECT_THAT(render_report_html("[]"), StatusIs(StatusCode::kCorruptData, "no predicate"));
}

}  // namespace
}  // namespace modelprint

// libFuzzer target: the readers of signed material on arbitrary bytes — parse_report (a Sigstore
// bundle with a DSSE envelope, or a bare in-toto statement), parse_bundle, parse_oms_statement
// (OpenSSF model signing statements, on the input and on a bundle's payload), PublicKey::from_pem
// and base64_decode — then verify_report with a fixed public key and the Markdown and HTML
// renderings of an accepted statement. The key is a fuzzing fixture (fuzz/keys/fuzz_p256.pem,
// its private half beside it) so that seeds signed with it reach the code after a valid
// signature. Invariants checked: an accepted bundle has signatures and survives write_bundle +
// parse_bundle unchanged; base64 round-trips the input; an accepted report has subjects and
// check_report_subject accepts the first; verification never succeeds for a payload other than
// the one that was signed (checked by flipping one payload byte). Any violation aborts, which
// libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "forensics/dsse.h"
#include "forensics/oms.h"
#include "forensics/report.h"
#include "forensics/sign.h"
#include "fuzz/fuzz_targets.h"

namespace {

constexpr std::string_view kFuzzPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX6b4rfu/ecVPx1kgY54y4ldwn9SF\n"
    "mmCO8BYvWc9L7gMe4CoUwZ2yXDVrjD/fpd1A2DVSvz60aiZC0IbW+M3n9Q==\n"
    "-----END PUBLIC KEY-----\n";

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_bundle invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

const modelprint::PublicKey& fuzz_key() {
    static const modelprint::PublicKey key = [] {
        auto k = modelprint::PublicKey::from_pem(kFuzzPublicKey, "fuzz key");
        if (!k.ok()) fail("fixture key", k.status().to_string());
        return *k;
    }();
    return key;
}

void check_bundle(const modelprint::SigstoreBundle& b) {
    using namespace modelprint;
    if (b.signatures.empty()) fail("accepted a bundle without signatures", "");
    auto again = parse_bundle(write_bundle(b), "fuzz bundle (written back)");
    if (!again.ok()) fail("written bundle does not parse", again.status().to_string());
    if (again->payload != b.payload || again->payload_type != b.payload_type ||
        again->key_hint != b.key_hint || again->signatures.size() != b.signatures.size()) {
        fail("bundle changed on round trip", b.payload_type);
    }
    for (size_t i = 0; i < b.signatures.size(); ++i) {
        if (again->signatures[i].sig != b.signatures[i].sig ||
            again->signatures[i].keyid != b.signatures[i].keyid) {
            fail("signature changed on round trip", std::to_string(i));
        }
    }
    (void)parse_oms_statement(b.payload, "fuzz bundle payload");
    const Status v = verify_dsse(b, fuzz_key());
    if (v.ok() && !b.payload.empty()) {
        SigstoreBundle tampered = b;
        tampered.payload[tampered.payload.size() / 2] ^= 0x01;
        if (verify_dsse(tampered, fuzz_key()).ok()) fail("tampered payload verifies", "");
    }
}

}  // namespace

int modelprint::fuzz::fuzz_bundle(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    auto decoded = base64_decode(base64_encode(in), "fuzz base64");
    if (!decoded.ok() || *decoded != in) fail("base64 round trip", "");
    (void)base64_decode(in, "fuzz base64 input");
    (void)dsse_pae(in.substr(0, 16), in);
    if (auto pk = PublicKey::from_pem(in, "fuzz pem"); pk.ok() && pk->hint().size() != 64) {
        fail("key hint", pk->hint());
    }

    if (auto b = parse_bundle(in, "fuzz bundle"); b.ok()) check_bundle(*b);
    (void)parse_oms_statement(in, "fuzz statement");

    auto r = parse_report(in, "fuzz report");
    if (!r.ok()) {
        if (r.status().message().empty()) fail("error without a message", "");
        return 0;
    }
    if (r->subjects.empty()) fail("accepted a report without subjects", "");
    if (!check_report_subject(*r, r->subjects.front().sha256).ok()) {
        fail("check_report_subject rejects the report's own subject", r->subjects.front().sha256);
    }
    (void)verify_report(*r, fuzz_key());
    if (r->statement.size() <= 65536) {
        (void)render_report_markdown(r->statement);
        (void)render_report_html(r->statement);
    }
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_bundle)

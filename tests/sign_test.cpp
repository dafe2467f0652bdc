// Keys, DSSE PAE, base64 and Sigstore bundles: round trips, both base64 alphabets, tamper
// detection (payload, signature, key hint), malformed bundles built by hand, and an independent
// check of a DSSE signature with the `openssl` command line (skipped when it is absent).
#include <sys/stat.h>

#include <cstdlib>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "forensics/dsse.h"
#include "forensics/sign.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using testing::TempDir;

std::span<const uint8_t> bytes_of(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Base64, RoundTripAndBothAlphabets) {
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        const std::string e = base64_encode(s);
        auto d = base64_decode(e, "t");
        MP_ASSERT_OK(d);
        EXPECT_EQ(*d, s);
    }
    EXPECT_EQ(base64_encode(std::string("foobar")), "Zm9vYmFy");  // RFC 4648 §10
    EXPECT_EQ(base64_encode(std::string("fo")), "Zm8=");
    const std::string raw("\xfb\xff\xfe", 3);
    EXPECT_EQ(base64_encode(raw), "+//+");
    EXPECT_EQ(*base64_decode("-__-", "t"), raw);  // URL-safe alphabet
    EXPECT_EQ(*base64_decode("Zm8", "t"), "fo");  // no padding
}

TEST(Base64, RejectsMalformed) {
    EXPECT_THAT(base64_decode("Zm9v!A", "payload"), StatusIs(StatusCode::kCorruptData, "offset 4"));
    EXPECT_THAT(base64_decode("Zm9vY", "payload"), StatusIs(StatusCode::kCorruptData, "whole bytes"));
    EXPECT_THAT(base64_decode("Zm8==", "payload"), StatusIs(StatusCode::kCorruptData, "padding"));
}

TEST(Dsse, PaeMatchesProtocolExample) {
    // secure-systems-lab/dsse protocol.md test vector.
    EXPECT_EQ(dsse_pae("http://example.com/HelloWorld", "hello world"),
              "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    EXPECT_EQ(dsse_pae("", ""), "DSSEv1 0  0 ");
}

TEST(Keys, GenerateWritesPkcs8With0600AndSpki) {
    TempDir dir;
    const std::string name = (dir / "k").string();
    auto files = generate_key_files(KeyType::kEcdsaP256, name);
    MP_ASSERT_OK(files);
    struct stat st {};
    ASSERT_EQ(::stat(name.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto priv = read_file(name);
    auto pub = read_file(name + ".pub");
    ASSERT_TRUE(priv.ok() && pub.ok());
    EXPECT_NE(priv->find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    EXPECT_NE(pub->find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
    auto pk = PublicKey::load(name + ".pub");
    MP_ASSERT_OK(pk);
    EXPECT_EQ(pk->type(), KeyType::kEcdsaP256);
    EXPECT_EQ(files->hint, pk->hint());
    EXPECT_EQ(pk->hint(), sha256_hex(*pub));  // hint is over the PEM text
    // Never overwrite.
    EXPECT_THAT(generate_key_files(KeyType::kEcdsaP256, name),
                StatusIs(StatusCode::kFailedPrecondition, "refusing to overwrite"));
}

TEST(Keys, SignVerifyBothTypes) {
    for (KeyType t : {KeyType::kEcdsaP256, KeyType::kEd25519}) {
        auto key = PrivateKey::generate(t);
        MP_ASSERT_OK(key);
        const std::string msg = "message";
        auto sig = key->sign(bytes_of(msg));
        MP_ASSERT_OK(sig);
        if (t == KeyType::kEd25519) {
            EXPECT_EQ(sig->size(), 64u);
        }
        if (t == KeyType::kEcdsaP256) {
            EXPECT_EQ((*sig)[0], 0x30);  // DER SEQUENCE
        }
        const PublicKey pub = key->public_key();
        MP_EXPECT_OK(pub.verify(bytes_of(msg), *sig));
        EXPECT_THAT(pub.verify(bytes_of(std::string("messagf")), *sig),
                    StatusIs(StatusCode::kVerificationFailed, "does not verify"));
        // PEM round trip keeps the type.
        auto pem = key->pkcs8_pem();
        MP_ASSERT_OK(pem);
        auto back = PrivateKey::from_pem(*pem, "mem");
        MP_ASSERT_OK(back);
        EXPECT_EQ(back->type(), t);
    }
}

TEST(Keys, RejectsBadInput) {
    EXPECT_THAT(PublicKey::from_pem("not a key", "pub.pem"),
                StatusIs(StatusCode::kCorruptData, "pub.pem"));
    EXPECT_THAT(PrivateKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\n", "k.pem"),
                StatusIs(StatusCode::kUnsupported, "encrypted"));
    EXPECT_THAT(PrivateKey::from_pem("garbage", "k.pem"), StatusIs(StatusCode::kCorruptData, "k.pem"));
    EXPECT_THAT(PublicKey::load("/nonexistent/key.pub"), StatusIs(StatusCode::kNotFound, "key.pub"));
    EXPECT_THAT(parse_key_type("rsa"), StatusIs(StatusCode::kInvalidArgument, "rsa"));
    EXPECT_THAT(PrivateKey::generate(KeyType::kEcdsaP384),
                StatusIs(StatusCode::kInvalidArgument, "ecdsa-p384"));
}

TEST(Bundle, SignParseVerifyRoundTrip) {
    auto key = PrivateKey::generate(KeyType::kEcdsaP256);
    MP_ASSERT_OK(key);
    auto b = sign_dsse("{\"a\":1}", kInTotoPayloadType, *key);
    MP_ASSERT_OK(b);
    const std::string text = write_bundle(*b);
    EXPECT_NE(text.find("\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\""),
              std::string::npos);
    EXPECT_NE(text.find("\"tlogEntries\": []"), std::string::npos);
    auto parsed = parse_bundle(text, "b.json");
    MP_ASSERT_OK(parsed);
    EXPECT_EQ(parsed->payload, "{\"a\":1}");
    MP_EXPECT_OK(verify_dsse(*parsed, key->public_key()));
}

TEST(Bundle, TamperedPayloadSignatureHintAreNamed) {
    auto key = PrivateKey::generate(KeyType::kEcdsaP256);
    MP_ASSERT_OK(key);
    auto b = sign_dsse("{\"verdict\":\"independent\"}", kInTotoPayloadType, *key);
    MP_ASSERT_OK(b);
    const PublicKey pub = key->public_key();

    SigstoreBundle payload = *b;
    payload.payload[3] ^= 0x01;
    EXPECT_THAT(verify_dsse(payload, pub), StatusIs(StatusCode::kVerificationFailed, "payload"));

    SigstoreBundle sig = *b;
    sig.signatures[0].sig[sig.signatures[0].sig.size() - 1] ^= 0x01;
    EXPECT_THAT(verify_dsse(sig, pub), StatusIs(StatusCode::kVerificationFailed, "signature"));

    SigstoreBundle hint = *b;
    hint.key_hint[0] = hint.key_hint[0] == 'a' ? 'b' : 'a';
    EXPECT_THAT(verify_dsse(hint, pub), StatusIs(StatusCode::kVerificationFailed, "key hint"));

    auto other = PrivateKey::generate(KeyType::kEcdsaP256);
    MP_ASSERT_OK(other);
    EXPECT_THAT(verify_dsse(*b, other->public_key()),
                StatusIs(StatusCode::kVerificationFailed, "key hint mismatch"));
    SigstoreBundle no_hint = *b;
    no_hint.key_hint.clear();  // older bundles: signature check alone decides
    EXPECT_THAT(verify_dsse(no_hint, other->public_key()),
                StatusIs(StatusCode::kVerificationFailed, "signature does not match"));
}

TEST(Bundle, UrlSafeBase64IsAccepted) {
    auto key = PrivateKey::generate(KeyType::kEd25519);
    MP_ASSERT_OK(key);
    // A payload whose standard base64 contains '+' and '/'.
    auto b = sign_dsse(std::string("\xfb\xff\xfe\xfb\xff", 5), "text/plain", *key);
    MP_ASSERT_OK(b);
    std::string text = write_bundle(*b);
    for (char& c : text) {
        if (c == '+') c = '-';
        if (c == '/' ) c = '_';
    }
    // The media type contains '/', restore it; only base64 fields must stay URL-safe.
    const std::string mt = "application_vnd.dev.sigstore.bundle.v0.3-json";
    text.replace(text.find(mt), mt.size(), std::string(kBundleMediaType));
    const std::string pt = "text_plain";
    text.replace(text.find(pt), pt.size(), "text/plain");
    auto parsed = parse_bundle(text, "b");
    MP_ASSERT_OK(parsed);
    MP_EXPECT_OK(verify_dsse(*parsed, key->public_key()));
}

TEST(Bundle, MalformedBundlesAreRejected) {
    EXPECT_THAT(parse_bundle("[]", "b"), StatusIs(StatusCode::kCorruptData, "not a JSON object"));
    EXPECT_THAT(parse_bundle("{\"mediaType\":\"x\"}", "b"),
                StatusIs(StatusCode::kUnsupported, "mediaType 'x'"));
    const std::string mt = "\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"";
    EXPECT_THAT(parse_bundle("{" + mt + "}", "b"), StatusIs(StatusCode::kUnsupported, "dsseEnvelope"));
    EXPECT_THAT(parse_bundle("{" + mt + ",\"dsseEnvelope\":{\"payloadType\":\"t\"}}", "b"),
                StatusIs(StatusCode::kCorruptData, "payload"));
    EXPECT_THAT(parse_bundle("{" + mt + ",\"dsseEnvelope\":{\"payload\":\"!!\",\"payloadType\":\"t\","
                             "\"signatures\":[]}}", "b"),
                StatusIs(StatusCode::kCorruptData, "invalid base64"));
    EXPECT_THAT(parse_bundle("{" + mt + ",\"dsseEnvelope\":{\"payload\":\"\",\"payloadType\":\"t\","
                             "\"signatures\":[]}}", "b"),
                StatusIs(StatusCode::kUnsupported, "no signatures"));
    EXPECT_THAT(parse_bundle("{" + mt + ",\"dsseEnvelope\":{\"payload\":\"\",\"payloadType\":\"t\","
                             "\"signatures\":[{\"keyid\":\"\"}]}}", "b"),
                StatusIs(StatusCode::kCorruptData, "sig"));
    EXPECT_THAT(parse_bundle("{" + mt + "," + mt + "}", "b"),
                StatusIs(StatusCode::kCorruptData, "duplicate key"));
    EXPECT_THAT(parse_bundle("{" + mt + ",\"verificationMaterial\":{\"publicKey\":{\"hint\":1}},"
                             "\"dsseEnvelope\":{}}", "b"),
                StatusIs(StatusCode::kCorruptData, "hint"));
}

TEST(Bundle, OpensslCliVerifiesDsseSignature) {
    if (std::system("openssl version > /dev/null 2>&1") != 0) {
        GTEST_SKIP() << "openssl command line not found";
    }
    TempDir dir;
    auto files = generate_key_files(KeyType::kEcdsaP256, (dir / "k").string());
    MP_ASSERT_OK(files);
    auto key = PrivateKey::load(files->private_path);
    MP_ASSERT_OK(key);
    auto b = sign_dsse("{\"_type\":\"https://in-toto.io/Statement/v1\"}", kInTotoPayloadType, *key);
    MP_ASSERT_OK(b);
    MP_ASSERT_OK(write_file_atomic((dir / "pae.bin").string(), dsse_pae(b->payload_type, b->payload)));
    MP_ASSERT_OK(write_file_atomic((dir / "sig.der").string(), b->signatures[0].sig));
    const std::string cmd = "openssl dgst -sha256 -verify " + files->public_path + " -signature " +
                            (dir / "sig.der").string() + " " + (dir / "pae.bin").string() +
                            " > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    // And it rejects a changed PAE.
    MP_ASSERT_OK(write_file_atomic((dir / "pae.bin").string(), dsse_pae(b->payload_type, "{}")));
    EXPECT_NE(std::system(cmd.c_str()), 0);
}

}  // namespace
}  // namespace modelprint

// OpenSSF Model Signing v1.0: statement shape (exact fields), sign/verify round trip on a copy
// of stories260K, tamper detection (model file, extra file, missing file, payload, hint), and
// malformed statements. Interop with the real `model_signing` package is in
// tests/cli/oms_interop.sh.
#include <filesystem>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "forensics/oms.h"
#include "tests/util/test_util.h"

namespace fs = std::filesystem;

namespace modelprint {
namespace {

using testing::TempDir;

// A small writable model directory (copies of the real fixture's small files plus weights).
fs::path make_model(const TempDir& dir) {
    const fs::path m = dir / "tiny-model";
    fs::create_directories(m / "sub");
    for (const char* f : {"config.json", "model.safetensors", "tokenizer_config.json"}) {
        fs::copy_file(testing::stories_dir() / f, m / f);
        fs::permissions(m / f, fs::perms::owner_write, fs::perm_options::add);
    }
    testing::write_text(m / "sub" / "notes.txt", "hello\n");
    fs::create_directories(m / ".git");
    testing::write_text(m / ".git" / "HEAD", "ref: refs/heads/main\n");
    return m;
}

TEST(OmsStatement, HasExactlyTheV1Fields) {
    ModelDigest d;
    d.files = {{"a.bin", 1, std::string(64, 'a')}, {"b/c.bin", 2, std::string(64, 'b')}};
    d.root_digest = std::string(64, '0');
    const std::string s = oms_statement_json(d, "m", {".git"}, false);
    auto j = parse_json(s, "statement");
    MP_ASSERT_OK(j);
    EXPECT_EQ((*j)["_type"], "https://in-toto.io/Statement/v1");
    EXPECT_EQ((*j)["predicateType"], "https://model_signing/signature/v1.0");
    ASSERT_EQ((*j)["subject"].size(), 1u);
    EXPECT_EQ((*j)["subject"][0]["name"], "m");
    EXPECT_EQ((*j)["subject"][0]["digest"]["sha256"], d.root_digest);
    EXPECT_EQ((*j)["predicate"].size(), 2u);  // serialization + resources, nothing else
    const Json& ser = (*j)["predicate"]["serialization"];
    EXPECT_EQ(ser, Json::parse(R"({"method":"files","hash_type":"sha256","allow_symlinks":false,
                                   "ignore_paths":[".git"]})"));
    EXPECT_EQ((*j)["predicate"]["resources"][1],
              Json::parse(R"({"name":"b/c.bin","algorithm":"sha256","digest":")" +
                          std::string(64, 'b') + "\"}"));
    // Resources do not hash to the fake root: the parser notices.
    EXPECT_THAT(parse_oms_statement(s, "p"),
                StatusIs(StatusCode::kVerificationFailed, "payload inconsistent"));
}

TEST(Oms, SignVerifyRoundTripAndTamper) {
    TempDir dir;
    const fs::path m = make_model(dir);
    auto key = PrivateKey::generate(KeyType::kEcdsaP256);
    MP_ASSERT_OK(key);
    auto bundle = oms_sign_model(m.string(), *key);
    MP_ASSERT_OK(bundle);
    const std::string sig_path = (m / "model.sig").string();
    ASSERT_TRUE(fs::exists(sig_path));
    auto text = read_file(sig_path);
    MP_ASSERT_OK(text);
    auto parsed = parse_bundle(*text, sig_path);
    MP_ASSERT_OK(parsed);
    const PublicKey pub = key->public_key();
    auto ok = oms_verify_model(m.string(), *parsed, pub, sig_path);
    MP_ASSERT_OK(ok);
    EXPECT_EQ(ok->files_checked, 4u);  // .git and model.sig ignored
    EXPECT_EQ(ok->statement.model_name, "tiny-model");
    HashOptions no_tensors;
    no_tensors.tensors = false;
    auto digest = hash_path(m.string(), no_tensors);
    MP_ASSERT_OK(digest);
    EXPECT_EQ(ok->statement.root_digest, digest->root_digest);
    std::vector<std::string> ig = ok->statement.ignore_paths;
    EXPECT_NE(std::find(ig.begin(), ig.end(), "model.sig"), ig.end());

    // One flipped byte in a model file.
    {
        auto bytes = testing::read_bytes(m / "model.safetensors");
        bytes[bytes.size() / 2] ^= 0x01;
        testing::write_bytes(m / "model.safetensors", bytes);
        EXPECT_THAT(oms_verify_model(m.string(), *parsed, pub, sig_path),
                    StatusIs(StatusCode::kVerificationFailed, "model file 'model.safetensors' was modified"));
        bytes[bytes.size() / 2] ^= 0x01;
        testing::write_bytes(m / "model.safetensors", bytes);
        MP_EXPECT_OK(oms_verify_model(m.string(), *parsed, pub, sig_path));
    }
    // An extra file, then a missing file.
    testing::write_text(m / "extra.bin", "x");
    EXPECT_THAT(oms_verify_model(m.string(), *parsed, pub, sig_path),
                StatusIs(StatusCode::kVerificationFailed, "'extra.bin' is not covered"));
    fs::remove(m / "extra.bin");
    fs::rename(m / "sub" / "notes.txt", dir / "notes.txt");
    EXPECT_THAT(oms_verify_model(m.string(), *parsed, pub, sig_path),
                StatusIs(StatusCode::kVerificationFailed, "'sub/notes.txt' is signed but missing"));
    fs::rename(dir / "notes.txt", m / "sub" / "notes.txt");

    // Payload, signature and key hint tampering.
    SigstoreBundle p = *parsed;
    p.payload[p.payload.find("tiny-model")] = 'T';
    EXPECT_THAT(oms_verify_model(m.string(), p, pub, sig_path),
                StatusIs(StatusCode::kVerificationFailed, "payload"));
    SigstoreBundle h = *parsed;
    h.key_hint[5] = h.key_hint[5] == '0' ? '1' : '0';
    EXPECT_THAT(oms_verify_model(m.string(), h, pub, sig_path),
                StatusIs(StatusCode::kVerificationFailed, "key hint"));
}

TEST(Oms, SingleFileModelAndEd25519Refusal) {
    TempDir dir;
    const fs::path f = dir / "w.safetensors";
    fs::copy_file(testing::stories_dir() / "model.safetensors", f);
    auto key = PrivateKey::generate(KeyType::kEcdsaP256);
    MP_ASSERT_OK(key);
    auto b = oms_sign_model(f.string(), *key);
    MP_ASSERT_OK(b);
    auto st = parse_oms_statement(b->payload, "p");
    MP_ASSERT_OK(st);
    ASSERT_EQ(st->resources.size(), 1u);
    EXPECT_EQ(st->resources[0].name, ".");
    EXPECT_EQ(st->model_name, "w.safetensors");
    MP_EXPECT_OK(oms_verify_model(f.string(), *b, key->public_key(), f.string() + ".sig"));

    auto ed = PrivateKey::generate(KeyType::kEd25519);
    MP_ASSERT_OK(ed);
    EXPECT_THAT(oms_sign_model(f.string(), *ed), StatusIs(StatusCode::kInvalidArgument, "Ed25519"));
}

TEST(OmsStatement, MalformedStatementsAreRejected) {
    EXPECT_THAT(parse_oms_statement("{", "p"), StatusIs(StatusCode::kCorruptData, "invalid JSON"));
    EXPECT_THAT(parse_oms_statement(R"({"_type":"x"})", "p"),
                StatusIs(StatusCode::kUnsupported, "_type 'x'"));
    const std::string head = R"({"_type":"https://in-toto.io/Statement/v1",)";
    EXPECT_THAT(parse_oms_statement(head + R"("predicateType":"https://other/v1"})", "p"),
                StatusIs(StatusCode::kUnsupported, "predicateType"));
    const std::string pt = R"("predicateType":"https://model_signing/signature/v1.0",)";
    EXPECT_THAT(parse_oms_statement(head + pt + R"("subject":[]})", "p"),
                StatusIs(StatusCode::kCorruptData, "exactly one subject"));
    const std::string subj =
        R"("subject":[{"name":"m","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],)";
    EXPECT_THAT(parse_oms_statement(head + pt + subj + R"("predicate":{"serialization":{"method":"shards","hash_type":"sha256"},"resources":[]}})", "p"),
                StatusIs(StatusCode::kUnsupported, "shards"));
    EXPECT_THAT(parse_oms_statement(head + pt + subj + R"("predicate":{"serialization":{"method":"files","hash_type":"blake3"},"resources":[]}})", "p"),
                StatusIs(StatusCode::kUnsupported, "blake3"));
    EXPECT_THAT(parse_oms_statement(head + pt + subj + R"("predicate":{"serialization":{"method":"files","hash_type":"sha256"},"resources":[{"name":"a","algorithm":"sha256","digest":"XYZ"}]}})", "p"),
                StatusIs(StatusCode::kCorruptData, "64 lowercase hex"));
    // Empty resource list hashes to SHA-256("") = the subject digest above: accepted.
    MP_EXPECT_OK(parse_oms_statement(head + pt + subj + R"("predicate":{"serialization":{"method":"files","hash_type":"sha256"},"resources":[]}})", "p"));
}

}  // namespace
}  // namespace modelprint

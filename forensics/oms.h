// OpenSSF Model Signing (OMS) v1.0: `model.sig` for a model directory or file, signed and
// verified exactly as sigstore/model-transparency's `model_signing` (>= 1.0) does for key-based
// signing with serialization method "files".
// Statement (model_signing/_signing/signing.py, class Payload):
//   {"_type": "https://in-toto.io/Statement/v1",
//    "subject": [{"name": <model basename>, "digest": {"sha256": ROOT}}],
//    "predicateType": "https://model_signing/signature/v1.0",
//    "predicate": {"serialization": {"method": "files", "hash_type": "sha256",
//                                    "allow_symlinks": false, "ignore_paths": [...]},
//                  "resources": [{"name": relpath, "algorithm": "sha256", "digest": hex}, ...]}}
// ROOT = SHA-256 of the concatenated raw per-file digests in resource order (hash.h computes it).
// The payload is written as canonical JSON (sorted keys, no whitespace); verifiers parse it, so
// the bytes need not match Python's. Verification mirrors model_signing: key hint, signature over
// PAE, predicate type, resources hashing to the subject digest, and the re-hashed model (ignoring
// the signed ignore_paths and the signature file) equal file by file to the resources.
// Not here: modelprint's own report statements (report.h).
#pragma once

#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/hash.h"
#include "forensics/dsse.h"
#include "forensics/sign.h"

namespace modelprint {

inline constexpr std::string_view kInTotoStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kOmsPredicateType = "https://model_signing/signature/v1.0";

struct OmsStatement {
    std::string model_name;
    std::string root_digest;               // subject[0].digest.sha256
    std::vector<FileDigest> resources;     // name + sha256 (size unknown: 0)
    std::vector<std::string> ignore_paths;
    bool allow_symlinks = false;
};

// The statement bytes (canonical JSON) for a hashed model. `ignore_paths` is written as given.
std::string oms_statement_json(const ModelDigest& digest, const std::string& model_name,
                               const std::vector<std::string>& ignore_paths, bool allow_symlinks);

// Parse and check an OMS statement: exactly one subject, the v1.0 predicate type, method
// "files", hash_type "sha256", and resources that hash to the subject digest (kVerificationFailed
// "payload inconsistent" otherwise). kCorruptData for malformed JSON or missing fields.
Result<OmsStatement> parse_oms_statement(std::string_view payload, std::string_view what);

struct OmsSignOptions {
    std::string signature_path;             // default: <dir>/model.sig (<file>.sig for a file)
    std::vector<std::string> ignore_paths;  // in addition to the git paths and the signature
    bool allow_symlinks = false;
    int threads = 0;
};

// Hash `model_path`, sign the statement with `key` (ECDSA; model_signing refuses Ed25519 so
// kInvalidArgument for it) and write the bundle to the signature path. Returns the bundle.
Result<SigstoreBundle> oms_sign_model(const std::string& model_path, const PrivateKey& key,
                                      const OmsSignOptions& options = {});

struct OmsVerifyResult {
    OmsStatement statement;
    size_t files_checked = 0;
};

// Verify `bundle` (already parsed from `signature_path`) against the model at `model_path`:
// kVerificationFailed naming the key hint, the signature, the payload, or the first model file
// whose digest differs / that is missing / that was not signed.
Result<OmsVerifyResult> oms_verify_model(const std::string& model_path,
                                         const SigstoreBundle& bundle, const PublicKey& key,
                                         const std::string& signature_path = "", int threads = 0);

// The default signature path of a model path.
std::string oms_default_signature_path(const std::string& model_path);

}  // namespace modelprint

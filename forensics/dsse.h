// DSSE envelopes inside Sigstore bundles v0.3: the container of every modelprint signature and of
// OpenSSF Model Signing's model.sig.
// PAE (secure-systems-lab/dsse protocol.md): "DSSEv1" SP len(type) SP type SP len(body) SP body,
// lengths as decimal byte counts of the raw (decoded) payload.
// Bundle (sigstore protobuf-specs, as model_signing writes it):
//   {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//    "verificationMaterial": {"publicKey": {"hint": H}, "tlogEntries": []},
//    "dsseEnvelope": {"payload": b64, "payloadType": T, "signatures": [{"sig": b64, "keyid": ""}]}}
// Reading accepts both base64 alphabets (standard and URL-safe, padding optional) and ignores
// unknown fields; verification is over the exact decoded payload bytes, never re-serialised.
// Not here: what the payload means (report.h, oms.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "forensics/sign.h"

namespace modelprint {

inline constexpr std::string_view kBundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

std::string base64_encode(std::span<const uint8_t> bytes);
std::string base64_encode(std::string_view bytes);
// Standard or URL-safe alphabet, with or without '=' padding; anything else is kCorruptData
// naming `what` and the offending offset.
Result<std::string> base64_decode(std::string_view text, std::string_view what);

// Pre-Authentication Encoding of DSSE v1.
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

struct DsseSignature {
    std::string sig;  // raw signature bytes (DER ECDSA or 64-byte Ed25519)
    std::string keyid;
};

struct SigstoreBundle {
    std::string media_type = std::string(kBundleMediaType);
    std::string key_hint;  // verificationMaterial.publicKey.hint (may be empty)
    std::string payload_type = std::string(kInTotoPayloadType);
    std::string payload;   // raw decoded payload bytes
    std::vector<DsseSignature> signatures;
};

// Serialise as pretty JSON (2-space indent) in the field order model_signing writes.
std::string write_bundle(const SigstoreBundle& bundle);
// Parse a bundle; kCorruptData naming `what` and the field for anything malformed,
// kUnsupported for a media type other than bundle v0.3 or an envelope without signatures.
Result<SigstoreBundle> parse_bundle(std::string_view text, std::string_view what);

// Sign `payload` (PAE over type and bytes) and wrap it in a bundle whose hint is the key's.
Result<SigstoreBundle> sign_dsse(std::string payload, std::string_view payload_type,
                                 const PrivateKey& key);

// Check the key hint (when the bundle has one) against `key`, then the first signature over
// PAE(payload_type, payload). kVerificationFailed with "key hint" or "signature" in the message
// saying which check failed.
Status verify_dsse(const SigstoreBundle& bundle, const PublicKey& key);

}  // namespace modelprint

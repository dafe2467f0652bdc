// Signing keys: generation, loading, signing and verification through OpenSSL (adapter in
// sign.cpp; no OpenSSL type appears here).
// Key types: ECDSA P-256 with SHA-256 (the default; what OpenSSF `model_signing` verifies;
// signatures are DER-encoded ECDSA-Sig-Value, RFC 3279 §2.2.3) and Ed25519 (RFC 8032, raw
// 64-byte signatures). P-384/P-521 public and private keys are accepted as model_signing accepts
// them (hash SHA-384/SHA-512 by curve size, as model_signing's sign_ec_key.get_ec_key_hash).
// Files: private keys are PEM PKCS#8 ("BEGIN PRIVATE KEY"; SEC1 "BEGIN EC PRIVATE KEY" is read
// too), written with mode 0600 and never overwritten; public keys are SubjectPublicKeyInfo PEM
// exactly as PEM_write_bio_PUBKEY writes them. Encrypted private keys are refused (kUnsupported).
// Key hint (Sigstore bundle verificationMaterial.publicKey.hint, as model_signing computes it):
// lowercase hex SHA-256 of the public key's PEM text, not of its DER.
// Invariant: verify() returns OK only when the signature is valid for exactly the given bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

enum class KeyType { kEcdsaP256, kEcdsaP384, kEcdsaP521, kEd25519 };

// "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519".
std::string_view key_type_name(KeyType type);
// Accepts the names above plus "p256"/"ecdsa"; kInvalidArgument naming the value otherwise.
Result<KeyType> parse_key_type(std::string_view name);

class PublicKey {
public:
    // `what` names the source in error messages (a path, "bundle").
    static Result<PublicKey> from_pem(std::string_view pem, std::string_view what);
    static Result<PublicKey> load(const std::string& path);

    KeyType type() const { return type_; }
    // SPKI PEM as PEM_write_bio_PUBKEY writes it (re-encoded, so the hint does not depend on
    // the whitespace of the file it was read from).
    const std::string& pem() const { return pem_; }
    // Lowercase hex SHA-256 of pem().
    std::string hint() const;
    // kVerificationFailed "signature does not verify ..." when invalid.
    Status verify(std::span<const uint8_t> message, std::span<const uint8_t> signature) const;

    ~PublicKey();
    PublicKey(const PublicKey&);
    PublicKey& operator=(const PublicKey&);
    PublicKey(PublicKey&&) noexcept;
    PublicKey& operator=(PublicKey&&) noexcept;

private:
    struct Impl;
    PublicKey() = default;
    std::shared_ptr<Impl> impl_;
    KeyType type_ = KeyType::kEcdsaP256;
    std::string pem_;
    friend class PrivateKey;
};

class PrivateKey {
public:
    static Result<PrivateKey> from_pem(std::string_view pem, std::string_view what);
    static Result<PrivateKey> load(const std::string& path);
    static Result<PrivateKey> generate(KeyType type);

    KeyType type() const { return type_; }
    PublicKey public_key() const;
    // PEM PKCS#8, unencrypted.
    Result<std::string> pkcs8_pem() const;
    // ECDSA: DER signature over SHA-256/384/512(message) by curve; Ed25519: 64 raw bytes.
    Result<std::vector<uint8_t>> sign(std::span<const uint8_t> message) const;

    ~PrivateKey();
    PrivateKey(const PrivateKey&);
    PrivateKey& operator=(const PrivateKey&);
    PrivateKey(PrivateKey&&) noexcept;
    PrivateKey& operator=(PrivateKey&&) noexcept;

private:
    struct Impl;
    PrivateKey() = default;
    std::shared_ptr<Impl> impl_;
    KeyType type_ = KeyType::kEcdsaP256;
};

struct KeyFiles {
    std::string private_path;  // NAME, mode 0600
    std::string public_path;   // NAME.pub
    std::string hint;          // SHA-256 hex of the public PEM
    KeyType type = KeyType::kEcdsaP256;
};

// Generate a key pair and write NAME and NAME.pub. Refuses (kFailedPrecondition) when either
// file exists, so a key is never silently replaced. Only P-256 and Ed25519 are generated.
Result<KeyFiles> generate_key_files(KeyType type, const std::string& name);

}  // namespace modelprint

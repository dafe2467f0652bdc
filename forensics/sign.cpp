// OpenSSL adapter for sign.h: EVP_PKEY keys in shared RAII holders, PEM I/O through memory BIOs,
// EVP_DigestSign/EVP_DigestVerify for both ECDSA (digest by curve) and Ed25519 (no digest:
// PureEdDSA signs the message itself, RFC 8032 §5.1.6). Every OpenSSL failure becomes a Status
// carrying the first entry of OpenSSL's error queue; the queue is cleared after each call.
#include "forensics/sign.h"

#include <sys/stat.h>

#include <filesystem>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

struct PublicKey::Impl {
    EVP_PKEY* pkey = nullptr;
    ~Impl() { EVP_PKEY_free(pkey); }
};
struct PrivateKey::Impl {
    EVP_PKEY* pkey = nullptr;
    ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "no OpenSSL error recorded";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    return buf;
}

struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string bio_to_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// Classify an EVP_PKEY as one of our key types.
Result<KeyType> classify(EVP_PKEY* pkey, std::string_view what) {
    const int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_ED25519) return KeyType::kEd25519;
    if (id == EVP_PKEY_EC) {
        char group[64] = {0};
        size_t len = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) {
            return unsupported("{}: EC key without a named curve ({})", what, openssl_error());
        }
        const std::string g(group, len);
        if (g == "prime256v1" || g == "P-256" || g == "secp256r1") return KeyType::kEcdsaP256;
        if (g == "secp384r1" || g == "P-384") return KeyType::kEcdsaP384;
        if (g == "secp521r1" || g == "P-521") return KeyType::kEcdsaP521;
        return unsupported("{}: EC curve '{}' is not supported (P-256, P-384, P-521 are)", what, g);
    }
    return unsupported("{}: key algorithm '{}' is not supported (ECDSA P-256 or Ed25519 are)",
                       what, OBJ_nid2sn(id));
}

const EVP_MD* digest_for(KeyType t) {
    switch (t) {
        case KeyType::kEcdsaP256: return EVP_sha256();
        case KeyType::kEcdsaP384: return EVP_sha384();
        case KeyType::kEcdsaP521: return EVP_sha512();
        case KeyType::kEd25519: return nullptr;
    }
    return nullptr;
}

Result<std::string> public_pem_of(EVP_PKEY* pkey) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
        return internal_error("writing public key PEM: {}", openssl_error());
    }
    return bio_to_string(bio.get());
}

// Refuses to prompt for a password: encrypted keys fail to load with a clear message.
int no_password_cb(char*, int, int, void*) { return -1; }

}  // namespace

std::string_view key_type_name(KeyType type) {
    switch (type) {
        case KeyType::kEcdsaP256: return "ecdsa-p256";
        case KeyType::kEcdsaP384: return "ecdsa-p384";
        case KeyType::kEcdsaP521: return "ecdsa-p521";
        case KeyType::kEd25519: return "ed25519";
    }
    return "unknown";
}

Result<KeyType> parse_key_type(std::string_view name) {
    if (name == "ecdsa-p256" || name == "p256" || name == "ecdsa" || name == "P-256") {
        return KeyType::kEcdsaP256;
    }
    if (name == "ecdsa-p384") return KeyType::kEcdsaP384;
    if (name == "ecdsa-p521") return KeyType::kEcdsaP521;
    if (name == "ed25519") return KeyType::kEd25519;
    return invalid_argument("key type '{}' is not one of ecdsa-p256, ed25519", name);
}

// ---- PublicKey

PublicKey::~PublicKey() = default;
PublicKey::PublicKey(const PublicKey&) = default;
PublicKey& PublicKey::operator=(const PublicKey&) = default;
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;

Result<PublicKey> PublicKey::from_pem(std::string_view pem, std::string_view what) {
    if (pem.size() > (1u << 20)) {
        return corrupt_data("{}: public key file of {} bytes exceeds 1 MiB", what, pem.size());
    }
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return internal_error("BIO_new_mem_buf: {}", openssl_error());
    EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, no_password_cb, nullptr);
    if (pkey == nullptr) {
        return corrupt_data("{}: not a PEM SubjectPublicKeyInfo public key ({})", what,
                            openssl_error());
    }
    PublicKey k;
    k.impl_ = std::make_shared<Impl>();
    k.impl_->pkey = pkey;
    MP_ASSIGN_OR_RETURN(k.type_, classify(pkey, what));
    MP_ASSIGN_OR_RETURN(k.pem_, public_pem_of(pkey));
    return k;
}

Result<PublicKey> PublicKey::load(const std::string& path) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    return from_pem(text, path);
}

std::string PublicKey::hint() const { return sha256_hex(pem_); }

Status PublicKey::verify(std::span<const uint8_t> message,
                         std::span<const uint8_t> signature) const {
    if (!impl_) return internal_error("PublicKey used before initialisation");
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) return internal_error("EVP_MD_CTX_new: {}", openssl_error());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(type_), nullptr, impl_->pkey) != 1) {
        return internal_error("EVP_DigestVerifyInit: {}", openssl_error());
    }
    const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                    message.size());
    if (rc != 1) {
        const std::string why = openssl_error();
        return verification_failed(
            "signature does not verify with the {} public key {} ({} signature bytes over {} "
            "message bytes; {})",
            key_type_name(type_), hint().substr(0, 16), signature.size(), message.size(), why);
    }
    return Status();
}

// ---- PrivateKey

PrivateKey::~PrivateKey() = default;
PrivateKey::PrivateKey(const PrivateKey&) = default;
PrivateKey& PrivateKey::operator=(const PrivateKey&) = default;
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;

Result<PrivateKey> PrivateKey::from_pem(std::string_view pem, std::string_view what) {
    if (pem.size() > (1u << 20)) {
        return corrupt_data("{}: private key file of {} bytes exceeds 1 MiB", what, pem.size());
    }
    if (pem.find("ENCRYPTED") != std::string_view::npos) {
        return unsupported("{}: encrypted private keys are not supported (use an unencrypted "
                           "PKCS#8 key, e.g. from `modelprint keygen`)", what);
    }
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return internal_error("BIO_new_mem_buf: {}", openssl_error());
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password_cb, nullptr);
    if (pkey == nullptr) {
        return corrupt_data("{}: not a PEM PKCS#8 or SEC1 private key ({})", what,
                            openssl_error());
    }
    PrivateKey k;
    k.impl_ = std::make_shared<Impl>();
    k.impl_->pkey = pkey;
    MP_ASSIGN_OR_RETURN(k.type_, classify(pkey, what));
    return k;
}

Result<PrivateKey> PrivateKey::load(const std::string& path) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    return from_pem(text, path);
}

Result<PrivateKey> PrivateKey::generate(KeyType type) {
    EVP_PKEY* pkey = nullptr;
    switch (type) {
        case KeyType::kEcdsaP256: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
        case KeyType::kEd25519: pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
        default:
            return invalid_argument("key generation supports ecdsa-p256 and ed25519, not {}",
                                    key_type_name(type));
    }
    if (pkey == nullptr) return internal_error("key generation failed: {}", openssl_error());
    PrivateKey k;
    k.impl_ = std::make_shared<Impl>();
    k.impl_->pkey = pkey;
    k.type_ = type;
    return k;
}

PublicKey PrivateKey::public_key() const {
    PublicKey pub;
    if (!impl_) return pub;
    // Round-trip through PEM so that the public object owns a public-only key.
    auto pem = public_pem_of(impl_->pkey);
    if (!pem.ok()) return pub;
    auto parsed = PublicKey::from_pem(*pem, "derived public key");
    return parsed.ok() ? std::move(parsed).value() : pub;
}

Result<std::string> PrivateKey::pkcs8_pem() const {
    if (!impl_) return internal_error("PrivateKey used before initialisation");
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        return internal_error("writing PKCS#8 PEM: {}", openssl_error());
    }
    return bio_to_string(bio.get());
}

Result<std::vector<uint8_t>> PrivateKey::sign(std::span<const uint8_t> message) const {
    if (!impl_) return internal_error("PrivateKey used before initialisation");
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) return internal_error("EVP_MD_CTX_new: {}", openssl_error());
    if (EVP_DigestSignInit(ctx.get(), nullptr, digest_for(type_), nullptr, impl_->pkey) != 1) {
        return internal_error("EVP_DigestSignInit: {}", openssl_error());
    }
    size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
        return internal_error("EVP_DigestSign (size): {}", openssl_error());
    }
    std::vector<uint8_t> sig(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
        return internal_error("EVP_DigestSign: {}", openssl_error());
    }
    sig.resize(len);
    return sig;
}

Result<KeyFiles> generate_key_files(KeyType type, const std::string& name) {
    if (name.empty()) return invalid_argument("key output name is empty");
    KeyFiles files;
    files.private_path = name;
    files.public_path = name + ".pub";
    files.type = type;
    for (const std::string& p : {files.private_path, files.public_path}) {
        std::error_code ec;
        if (std::filesystem::exists(p, ec)) {
            return failed_precondition("{}: already exists; refusing to overwrite a key", p);
        }
    }
    MP_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::generate(type));
    MP_ASSIGN_OR_RETURN(std::string priv_pem, key.pkcs8_pem());
    PublicKey pub = key.public_key();
    if (pub.pem().empty()) return internal_error("deriving the public key failed");
    MP_TRY(write_file_atomic(files.private_path, priv_pem, 0600));
    // write_file_atomic creates with the mode (umask may only narrow it); make it exact.
    ::chmod(files.private_path.c_str(), 0600);
    MP_TRY(write_file_atomic(files.public_path, pub.pem(), 0644));
    files.hint = pub.hint();
    return files;
}

}  // namespace modelprint

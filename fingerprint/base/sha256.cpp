// OpenSSL adapter for SHA-256. Large inputs are fed in 64 MiB chunks.
#include "fingerprint/base/sha256.h"

#include <openssl/evp.h>

namespace modelprint {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(std::span<const uint8_t> data) {
    constexpr size_t kChunk = size_t{64} << 20;
    for (size_t off = 0; off < data.size(); off += kChunk) {
        size_t n = std::min(kChunk, data.size() - off);
        EVP_DigestUpdate(impl_->ctx, data.data() + off, n);
    }
}

void Sha256::update(std::string_view data) {
    update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

Digest Sha256::finish() {
    Digest d{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(impl_->ctx, d.data(), &len);
    return d;
}

Digest sha256(std::span<const uint8_t> data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Digest sha256(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

std::string to_hex(std::span<const uint8_t> bytes) {
    static const char* kHex = "0123456789abcdef";
    std::string s;
    s.resize(bytes.size() * 2);
    for (size_t i = 0; i < bytes.size(); ++i) {
        s[2 * i] = kHex[bytes[i] >> 4];
        s[2 * i + 1] = kHex[bytes[i] & 15];
    }
    return s;
}

std::string sha256_hex(std::span<const uint8_t> data) { return to_hex(sha256(data)); }
std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

}  // namespace modelprint

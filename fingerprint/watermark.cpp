// Watermark keys and green lists (see watermark.h for the construction and its source).
#include "fingerprint/watermark.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

namespace {

constexpr uint64_t kMaxHashingKey = (uint64_t{1} << 63) - 1;

// Python's `seed % (2**64 - 1)` for a non-negative integer below 2^128.
uint64_t mod_2_64_minus_1(unsigned __int128 v) {
    const unsigned __int128 m = (static_cast<unsigned __int128>(1) << 64) - 1;
    return static_cast<uint64_t>(v % m);
}

const std::set<std::string>& known_fields() {
    static const std::set<std::string> f = {"greenlist_ratio", "bias",          "hashing_key",
                                            "seeding_scheme",  "context_width", "vocab_size"};
    return f;
}

}  // namespace

std::string_view seeding_scheme_name(SeedingScheme s) {
    return s == SeedingScheme::kSelfHash ? "selfhash" : "lefthash";
}

Result<WatermarkKey> parse_watermark_key(std::string_view text, std::string_view what) {
    auto parsed = parse_json(text, what);
    if (!parsed.ok()) {
        // The parser's message quotes the text it last read, which may be digits of the secret
        // hashing_key: only its position is kept.
        const std::string& m = parsed.status().message();
        const size_t at = m.find("at line ");
        const std::string where =
            at == std::string::npos ? std::string() : " " + m.substr(at, m.find(':', at) - at);
        return corrupt_data(
            "{}: not valid JSON{} (the parser's message is withheld: it may quote "
            "the secret key)",
            what, where);
    }
    Json j = std::move(parsed).value();
    if (!j.is_object()) return corrupt_data("{}: a watermark key must be a JSON object", what);
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!known_fields().count(it.key())) {
            return corrupt_data(
                "{}: unknown field \"{}\" (a watermark key has greenlist_ratio, "
                "bias, hashing_key, seeding_scheme, context_width, vocab_size)",
                what, it.key());
        }
    }
    WatermarkKey k;
    auto need = [&](const char* name) -> Result<const Json*> {
        auto it = j.find(name);
        if (it == j.end()) return corrupt_data("{}: missing field \"{}\"", what, name);
        return &*it;
    };
    MP_ASSIGN_OR_RETURN(const Json* ratio, need("greenlist_ratio"));
    if (!ratio->is_number()) return corrupt_data("{}: greenlist_ratio must be a number", what);
    k.greenlist_ratio = ratio->get<double>();
    if (!(k.greenlist_ratio > 0.0 && k.greenlist_ratio < 1.0)) {
        return corrupt_data("{}: greenlist_ratio {} is not in (0, 1)", what, k.greenlist_ratio);
    }
    MP_ASSIGN_OR_RETURN(const Json* bias, need("bias"));
    if (!bias->is_number()) return corrupt_data("{}: bias must be a number", what);
    k.bias = bias->get<double>();
    if (!std::isfinite(k.bias) || std::fabs(k.bias) > 1e4) {
        return corrupt_data("{}: bias {} is not a finite number of at most 1e4", what, k.bias);
    }
    MP_ASSIGN_OR_RETURN(const Json* hk, need("hashing_key"));
    if (!hk->is_number_integer() ||
        (hk->is_number_integer() && !hk->is_number_unsigned() && hk->get<int64_t>() < 0)) {
        return corrupt_data("{}: hashing_key must be a non-negative integer", what);
    }
    k.hashing_key = hk->get<uint64_t>();
    if (k.hashing_key > kMaxHashingKey) {
        return corrupt_data(
            "{}: hashing_key exceeds 2^63 - 1 (transformers multiplies it in int64)", what);
    }
    MP_ASSIGN_OR_RETURN(const Json* scheme, need("seeding_scheme"));
    if (!scheme->is_string()) return corrupt_data("{}: seeding_scheme must be a string", what);
    const std::string s = scheme->get<std::string>();
    if (s == "lefthash") {
        k.seeding_scheme = SeedingScheme::kLeftHash;
    } else if (s == "selfhash") {
        k.seeding_scheme = SeedingScheme::kSelfHash;
    } else {
        return corrupt_data("{}: seeding_scheme \"{}\" is neither lefthash nor selfhash", what, s);
    }
    MP_ASSIGN_OR_RETURN(const Json* cw, need("context_width"));
    if (!cw->is_number_integer()) return corrupt_data("{}: context_width must be an integer", what);
    const int64_t w = cw->get<int64_t>();
    if (w < 1 || w > kMaxContextWidth) {
        return corrupt_data("{}: context_width {} is not in [1, {}]", what, w, kMaxContextWidth);
    }
    k.context_width = static_cast<int>(w);
    if (auto it = j.find("vocab_size"); it != j.end()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 2 ||
            it->get<int64_t>() >= (int64_t{1} << 31)) {
            return corrupt_data("{}: vocab_size must be an integer in [2, 2^31)", what);
        }
        k.vocab_size = it->get<int64_t>();
    }
    return k;
}

Result<WatermarkKey> load_watermark_key(const std::string& path) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    return parse_watermark_key(text, path);
}

std::string watermark_key_json(const WatermarkKey& k) {
    Json j = {{"greenlist_ratio", k.greenlist_ratio},
              {"bias", k.bias},
              {"hashing_key", k.hashing_key},
              {"seeding_scheme", std::string(seeding_scheme_name(k.seeding_scheme))},
              {"context_width", k.context_width}};
    if (k.vocab_size > 0) j["vocab_size"] = k.vocab_size;
    return canonical_json(j);
}

std::string watermark_key_commitment(const WatermarkKey& key) {
    return sha256_hex(watermark_key_json(key));
}

Result<WatermarkKey> generate_watermark_key(const WatermarkKey& base) {
    WatermarkKey k = base;
    try {
        std::random_device rd;
        const uint64_t hi = rd(), lo = rd();
        k.hashing_key = ((hi << 32) | lo) & kMaxHashingKey;
    } catch (const std::exception& e) {
        return io_error("no OS random source for a watermark key: {}", e.what());
    }
    return k;
}

Status write_watermark_key(const std::string& path, const WatermarkKey& key, bool force) {
    const std::string text = watermark_key_json(key) + "\n";
    const int flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL) | O_CLOEXEC;
    const int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            return failed_precondition("{} exists; refusing to overwrite a key (use --force)",
                                       path);
        }
        return io_error("cannot create {}: {}", path, std::strerror(errno));
    }
    Status st;
    if (::fchmod(fd, 0600) != 0)
        st = io_error("cannot chmod 0600 {}: {}", path, std::strerror(errno));
    size_t off = 0;
    while (st.ok() && off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            st = io_error("cannot write {}: {}", path, std::strerror(errno));
        } else {
            off += static_cast<size_t>(n);
        }
    }
    if (st.ok() && ::fsync(fd) != 0)
        st = io_error("cannot sync {}: {}", path, std::strerror(errno));
    ::close(fd);
    return st;
}

std::vector<int32_t> torch_randperm_prefix(uint64_t seed, int64_t n, int64_t keep) {
    // at::mt19937 seeds its 32-bit state with seed & 0xffffffff, the standard mt19937 init.
    std::mt19937 rng(static_cast<uint32_t>(seed & 0xffffffffu));
    std::vector<int32_t> r(static_cast<size_t>(n));
    std::iota(r.begin(), r.end(), 0);
    keep = std::min(keep, n);
    const int64_t steps = std::min(keep, n - 1);
    for (int64_t i = 0; i < steps; ++i) {
        const int64_t z = static_cast<int64_t>(rng() % static_cast<uint64_t>(n - i));
        std::swap(r[static_cast<size_t>(i)], r[static_cast<size_t>(i + z)]);
    }
    r.resize(static_cast<size_t>(keep));
    return r;
}

Result<GreenLists> GreenLists::create(const WatermarkKey& key, int64_t vocab_size) {
    if (vocab_size < 2 || vocab_size >= (int64_t{1} << 31)) {
        return invalid_argument("watermark: vocabulary size {} is not in [2, 2^31)", vocab_size);
    }
    if (key.vocab_size > 0 && key.vocab_size != vocab_size) {
        return invalid_argument(
            "watermark key is bound to a vocabulary of {} ids, the model or "
            "tokenizer has {}",
            key.vocab_size, vocab_size);
    }
    GreenLists g;
    g.key_ = key;
    g.vocab_ = vocab_size;
    // int(vocab_size * greenlist_ratio) in Python: truncation of the double product.
    g.green_ = static_cast<int64_t>(static_cast<double>(vocab_size) * key.greenlist_ratio);
    if (g.green_ < 1 || g.green_ >= vocab_size) {
        return invalid_argument("watermark: greenlist_ratio {} gives {} green ids of {}",
                                key.greenlist_ratio, g.green_, vocab_size);
    }
    if (key.seeding_scheme == SeedingScheme::kSelfHash) {
        g.table_ = std::make_shared<const std::vector<int32_t>>(
            torch_randperm_prefix(key.hashing_key, kSelfHashTableSize, kSelfHashTableSize));
    }
    return g;
}

uint64_t GreenLists::seed(std::span<const int32_t> window) const {
    const uint64_t hk = key_.hashing_key;
    if (key_.seeding_scheme == SeedingScheme::kLeftHash) {
        const auto last = static_cast<uint64_t>(window.back());
        return mod_2_64_minus_1(static_cast<unsigned __int128>(hk) * last);
    }
    const size_t w = std::min(window.size(), static_cast<size_t>(key_.context_width));
    const std::span<const int32_t> tail = window.subspan(window.size() - w);
    const auto& t = *table_;
    const uint64_t b =
        static_cast<uint64_t>(t[static_cast<size_t>(tail.back() % kSelfHashTableSize)]) + 1;
    int64_t best = INT64_MAX;
    for (int32_t id : tail) {
        const uint64_t a =
            static_cast<uint64_t>(t[static_cast<size_t>(id % kSelfHashTableSize)]) + 1;
        const auto v = static_cast<int64_t>(hk * a * b);  // int64 tensor arithmetic wraps
        best = std::min(best, v);
    }
    // Python: negative % (2^64 - 1) = value + 2^64 - 1.
    return best >= 0 ? static_cast<uint64_t>(best) : static_cast<uint64_t>(best) - 1;
}

std::vector<int32_t> GreenLists::green_ids_for_seed(uint64_t s) const {
    return torch_randperm_prefix(s, vocab_, green_);
}

std::vector<int32_t> GreenLists::green_ids(std::span<const int32_t> context) const {
    return green_ids_for_seed(seed(context));
}

bool GreenLists::is_green(std::span<const int32_t> context, int32_t token) const {
    std::vector<int32_t> ids;
    if (key_.seeding_scheme == SeedingScheme::kLeftHash) {
        ids = green_ids(context);
    } else {
        std::vector<int32_t> window(context.begin(), context.end());
        window.push_back(token);
        ids = green_ids(window);
    }
    return std::find(ids.begin(), ids.end(), token) != ids.end();
}

void GreenLists::apply(std::span<const int32_t> ids, std::span<float> logits) const {
    if (static_cast<int64_t>(ids.size()) < key_.context_width || ids.empty()) return;
    const auto bias = static_cast<float>(key_.bias);
    if (key_.seeding_scheme == SeedingScheme::kLeftHash) {
        for (int32_t g : green_ids(ids)) logits[static_cast<size_t>(g)] += bias;
        return;
    }
    // selfhash: the best candidates by the unbiased scores (descending; ties by id), each green
    // when it is in the list seeded by the window ending with itself.
    const int64_t V = static_cast<int64_t>(logits.size());
    const int64_t K = std::min<int64_t>(kSelfHashCandidates, V);
    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int32_t a, int32_t b) {
        const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
        return la > lb || (la == lb && a < b);
    });
    const size_t keep = static_cast<size_t>(std::max(0, key_.context_width - 1));
    const std::span<const int32_t> ctx = ids.subspan(ids.size() - std::min(keep, ids.size()));
    std::vector<int32_t> green;
    for (int64_t i = 0; i < K; ++i) {
        if (is_green(ctx, order[static_cast<size_t>(i)]))
            green.push_back(order[static_cast<size_t>(i)]);
    }
    for (int32_t g : green) logits[static_cast<size_t>(g)] += bias;
}

}  // namespace modelprint

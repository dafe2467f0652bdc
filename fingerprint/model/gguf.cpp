// GGUF v2/v3 parser. Format: ggml `docs/gguf.md`; reference readers: gguf-py `gguf_reader.py` and
// ggml `src/gguf.cpp` (gguf_init_from_file_impl), whose checks this file mirrors.
// Layout (little-endian): "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   | n_kv x (string key | u32 value type | value) | n_tensors x (string name | u32 n_dims
//   | n_dims x u64 dim (innermost first) | u32 ggml type | u64 offset relative to the data section)
//   | padding to general.alignment | data.   string = u64 length | bytes (no NUL terminator).
// Rules enforced (each failure names the file, the key or tensor, and the rule): magic, version 2
// or 3 (1, > 3 and byte-swapped/big-endian files are kUnsupported), every read bounded by the
// file, every count checked against the bytes left before anything is allocated, a limit on the
// number of metadata values (kMaxMetadataValues) and on array nesting (kMaxNesting), unique keys
// and tensor names, non-empty NUL-free keys and names, known value types, known tensor types,
// n_dims <= 4, dims product without overflow, innermost dim a whole number of blocks,
// general.alignment a u32 power of two, offsets multiples of the alignment, ranges inside the
// file and pairwise disjoint.
// Not here: what the metadata means (config.cpp) and tensor-name mapping (arch*.cpp).
// Strings other than keys and tensor names are kept as raw bytes (UTF-8 is not validated).
#include "fingerprint/model/gguf.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

namespace modelprint {
namespace {

constexpr uint32_t kMaxDims = 4;                   // GGML_MAX_DIMS
constexpr uint64_t kMaxMetadataValues = 1u << 23;  // all KV values incl. array elements
constexpr int kMaxNesting = 8;                     // arrays of arrays of ...
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kDefaultAlignment = 32;               // GGUF_DEFAULT_ALIGNMENT
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims 0, type, offset

// Indexed by GgufValueType (0..12): its name, and the bytes one value occupies at least
// (strings and arrays: their length/type headers).
constexpr std::array<std::string_view, 13> kValueTypeNames = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
constexpr std::array<uint64_t, 13> kMinValueBytes = {1, 1, 2, 2, 4, 4, 4, 1, 8, 4 + 8, 8, 8, 8};

std::string_view value_type_name(GgufValueType t) {
    return kValueTypeNames[static_cast<size_t>(t)];
}
uint64_t min_value_bytes(GgufValueType t) { return kMinValueBytes[static_cast<size_t>(t)]; }

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

class Reader {
public:
    Reader(std::span<const uint8_t> data, std::string_view file) : data_(data), file_(file) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return data_.size() - pos_; }
    std::string_view file() const { return file_; }

    // `what` names the item being read in error messages: a string, or a callable returning one
    // (so that hot loops over array elements format nothing unless they fail).
    template <typename W>
    static std::string describe(const W& what) {
        if constexpr (std::is_invocable_v<W>) {
            return what();
        } else {
            return std::string(what);
        }
    }

    template <typename W>
    Status need(uint64_t n, const W& what) const {
        if (n > remaining()) {
            return corrupt_data(
                "{}: truncated: {} needs {} bytes at offset {}, the file has {} "
                "bytes left",
                file_, describe(what), n, pos_, remaining());
        }
        return Status();
    }

    template <typename T, typename W>
    Result<T> read(const W& what) {
        MP_TRY(need(sizeof(T), what));
        T v;
        std::memcpy(&v, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    template <typename W>
    Result<std::string> read_string(const W& what) {
        MP_ASSIGN_OR_RETURN(uint64_t len, read<uint64_t>(what));
        if (len > remaining()) {
            return corrupt_data(
                "{}: truncated: {} has length {} at offset {}, past the end of "
                "the file ({} bytes left)",
                file_, describe(what), len, pos_ - 8, remaining());
        }
        std::string s(reinterpret_cast<const char*>(data_.data() + pos_), len);
        pos_ += len;
        return s;
    }

private:
    std::span<const uint8_t> data_;
    std::string_view file_;
    uint64_t pos_ = 0;
};

class Parser {
public:
    Parser(std::span<const uint8_t> data, std::string_view file)
        : r_(data, file), size_(data.size()), file_(file) {}

    Result<GgufFile> parse();

private:
    Status read_header();
    Status read_value(GgufValueType type, const std::string& key, int depth, GgufValue* out);
    Status read_kvs();
    Status read_tensor_infos();
    Status apply_alignment();
    Status place_tensors();

    Result<GgufValueType> value_type(uint32_t raw, const std::string& key) const {
        if (raw > static_cast<uint32_t>(GgufValueType::kF64)) {
            return corrupt_data("{}: metadata key \"{}\": unknown value type {} (known: 0..12)",
                                file_, key, raw);
        }
        return static_cast<GgufValueType>(raw);
    }

    Reader r_;
    uint64_t size_;
    std::string_view file_;
    GgufFile g_;
    uint64_t n_tensors_ = 0;
    uint64_t n_kv_ = 0;
    uint64_t values_ = 0;
    std::vector<uint64_t> rel_offsets_;
};

Status Parser::read_header() {
    MP_ASSIGN_OR_RETURN(uint32_t magic, r_.read<uint32_t>("magic"));
    if (magic != 0x46554747u) {  // "GGUF" little-endian
        return corrupt_data("{}: bad magic 0x{:08x} (a GGUF file starts with \"GGUF\")", file_,
                            __builtin_bswap32(magic));
    }
    MP_ASSIGN_OR_RETURN(g_.version, r_.read<uint32_t>("version"));
    const uint32_t swapped = __builtin_bswap32(g_.version);
    if (g_.version > 3 && swapped >= 1 && swapped <= 3) {
        return unsupported("{}: big-endian GGUF (version {} byte-swapped) is not supported", file_,
                           swapped);
    }
    if (g_.version == 1) {
        return unsupported("{}: GGUF version 1 is not supported (versions 2 and 3 are)", file_);
    }
    if (g_.version < 2 || g_.version > 3) {
        return unsupported("{}: GGUF version {} is not supported (versions 2 and 3 are)", file_,
                           g_.version);
    }
    MP_ASSIGN_OR_RETURN(n_tensors_, r_.read<uint64_t>("tensor count"));
    MP_ASSIGN_OR_RETURN(n_kv_, r_.read<uint64_t>("metadata key/value count"));
    // Cheap plausibility first, so nothing is sized from an unchecked count.
    if (n_kv_ > r_.remaining() / kMinKvBytes) {
        return corrupt_data(
            "{}: metadata key/value count {} is too large for the {} bytes left "
            "(each pair needs at least {} bytes)",
            file_, n_kv_, r_.remaining(), kMinKvBytes);
    }
    if (n_tensors_ > kMaxTensors) {
        return unsupported("{}: tensor count {} exceeds the limit of {}", file_, n_tensors_,
                           kMaxTensors);
    }
    if (n_tensors_ > r_.remaining() / kMinTensorInfoBytes) {
        return corrupt_data(
            "{}: tensor count {} is too large for the {} bytes left (each tensor "
            "info needs at least {} bytes)",
            file_, n_tensors_, r_.remaining(), kMinTensorInfoBytes);
    }
    return Status();
}

Status Parser::read_value(GgufValueType type, const std::string& key, int depth, GgufValue* out) {
    out->type = type;
    if (++values_ > kMaxMetadataValues) {
        return unsupported(
            "{}: metadata key \"{}\": the metadata holds more than {} values "
            "(limit)",
            file_, key, kMaxMetadataValues);
    }
    auto what = [&] { return fmt::format("metadata key \"{}\" ({})", key, value_type_name(type)); };
    switch (type) {
        case GgufValueType::kU8: {
            MP_ASSIGN_OR_RETURN(uint8_t v, r_.read<uint8_t>(what));
            out->scalar = static_cast<uint64_t>(v);
            return Status();
        }
        case GgufValueType::kI8: {
            MP_ASSIGN_OR_RETURN(int8_t v, r_.read<int8_t>(what));
            out->scalar = static_cast<int64_t>(v);
            return Status();
        }
        case GgufValueType::kU16: {
            MP_ASSIGN_OR_RETURN(uint16_t v, r_.read<uint16_t>(what));
            out->scalar = static_cast<uint64_t>(v);
            return Status();
        }
        case GgufValueType::kI16: {
            MP_ASSIGN_OR_RETURN(int16_t v, r_.read<int16_t>(what));
            out->scalar = static_cast<int64_t>(v);
            return Status();
        }
        case GgufValueType::kU32: {
            MP_ASSIGN_OR_RETURN(uint32_t v, r_.read<uint32_t>(what));
            out->scalar = static_cast<uint64_t>(v);
            return Status();
        }
        case GgufValueType::kI32: {
            MP_ASSIGN_OR_RETURN(int32_t v, r_.read<int32_t>(what));
            out->scalar = static_cast<int64_t>(v);
            return Status();
        }
        case GgufValueType::kU64: {
            MP_ASSIGN_OR_RETURN(uint64_t v, r_.read<uint64_t>(what));
            out->scalar = v;
            return Status();
        }
        case GgufValueType::kI64: {
            MP_ASSIGN_OR_RETURN(int64_t v, r_.read<int64_t>(what));
            out->scalar = v;
            return Status();
        }
        case GgufValueType::kF32: {
            MP_ASSIGN_OR_RETURN(float v, r_.read<float>(what));
            out->scalar = static_cast<double>(v);
            return Status();
        }
        case GgufValueType::kF64: {
            MP_ASSIGN_OR_RETURN(double v, r_.read<double>(what));
            out->scalar = v;
            return Status();
        }
        case GgufValueType::kBool: {
            MP_ASSIGN_OR_RETURN(uint8_t v, r_.read<uint8_t>(what));
            if (v > 1) {
                return corrupt_data("{}: metadata key \"{}\": bool value {} is neither 0 nor 1",
                                    file_, key, v);
            }
            out->scalar = v == 1;
            return Status();
        }
        case GgufValueType::kString: {
            MP_ASSIGN_OR_RETURN(std::string s, r_.read_string(what));
            out->scalar = std::move(s);
            return Status();
        }
        case GgufValueType::kArray: {
            if (depth >= kMaxNesting) {
                return corrupt_data("{}: metadata key \"{}\": arrays nested deeper than {}", file_,
                                    key, kMaxNesting);
            }
            MP_ASSIGN_OR_RETURN(uint32_t raw_elem,
                                r_.read<uint32_t>([&] { return what() + " element type"; }));
            MP_ASSIGN_OR_RETURN(out->elem_type, value_type(raw_elem, key));
            MP_ASSIGN_OR_RETURN(uint64_t count,
                                r_.read<uint64_t>([&] { return what() + " element count"; }));
            const uint64_t min_bytes = min_value_bytes(out->elem_type);
            if (count > r_.remaining() / min_bytes) {
                return corrupt_data(
                    "{}: metadata key \"{}\": array of {} {} values needs at "
                    "least {} bytes each, only {} bytes are left",
                    file_, key, count, value_type_name(out->elem_type), min_bytes, r_.remaining());
            }
            if (count > kMaxMetadataValues - std::min(values_, kMaxMetadataValues)) {
                return unsupported(
                    "{}: metadata key \"{}\": array of {} values exceeds the "
                    "limit of {} metadata values",
                    file_, key, count, kMaxMetadataValues);
            }
            out->array.resize(count);
            for (uint64_t i = 0; i < count; ++i) {
                MP_TRY(read_value(out->elem_type, key, depth + 1, &out->array[i]));
            }
            return Status();
        }
    }
    return internal_error("unhandled GGUF value type {}", static_cast<uint32_t>(type));
}

Status Parser::read_kvs() {
    for (uint64_t i = 0; i < n_kv_; ++i) {
        const uint64_t at = r_.pos();
        MP_ASSIGN_OR_RETURN(std::string key,
                            r_.read_string([&] { return fmt::format("metadata key #{}", i); }));
        if (key.empty() || has_nul(key)) {
            return corrupt_data(
                "{}: metadata key #{} at offset {} is empty or contains a NUL "
                "byte",
                file_, i, at);
        }
        if (g_.metadata.count(key) != 0) {
            return corrupt_data("{}: duplicate metadata key \"{}\" (pair #{})", file_, key, i);
        }
        MP_ASSIGN_OR_RETURN(uint32_t raw_type, r_.read<uint32_t>([&] {
            return fmt::format("type of metadata key \"{}\"", key);
        }));
        MP_ASSIGN_OR_RETURN(GgufValueType type, value_type(raw_type, key));
        GgufValue v;
        MP_TRY(read_value(type, key, 0, &v));
        g_.metadata.emplace(std::move(key), std::move(v));
    }
    return Status();
}

Status Parser::read_tensor_infos() {
    g_.tensors.reserve(n_tensors_);
    rel_offsets_.reserve(n_tensors_);
    std::map<std::string_view, uint64_t> seen;  // views into g_.tensors[i].name (reserved: stable)
    for (uint64_t i = 0; i < n_tensors_; ++i) {
        TensorInfo t;
        MP_ASSIGN_OR_RETURN(t.name,
                            r_.read_string([&] { return fmt::format("name of tensor #{}", i); }));
        if (t.name.empty() || has_nul(t.name)) {
            return corrupt_data("{}: tensor #{}: name is empty or contains a NUL byte", file_, i);
        }
        const std::string what = fmt::format("tensor \"{}\"", t.name);
        MP_ASSIGN_OR_RETURN(uint32_t n_dims, r_.read<uint32_t>(what + " n_dims"));
        if (n_dims > kMaxDims) {
            return corrupt_data("{}: {}: n_dims {} exceeds the maximum of {}", file_, what, n_dims,
                                kMaxDims);
        }
        uint64_t dims[kMaxDims] = {0, 0, 0, 0};
        for (uint32_t d = 0; d < n_dims; ++d) {
            MP_ASSIGN_OR_RETURN(dims[d], r_.read<uint64_t>(what + " dims"));
            if (dims[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return corrupt_data("{}: {}: dimension {} is {}, above the int64 maximum", file_,
                                    what, d, dims[d]);
            }
        }
        MP_ASSIGN_OR_RETURN(uint32_t type_id, r_.read<uint32_t>(what + " type"));
        MP_ASSIGN_OR_RETURN(uint64_t rel, r_.read<uint64_t>(what + " offset"));
        auto dtype = dtype_from_gguf(type_id);
        if (!dtype.ok()) {
            return Status(dtype.status().code(),
                          fmt::format("{}: {}: {}", file_, what, dtype.status().message()));
        }
        t.dtype = *dtype;
        t.shape.reserve(n_dims);
        for (uint32_t d = n_dims; d > 0; --d) t.shape.push_back(static_cast<int64_t>(dims[d - 1]));
        const std::string ctx = fmt::format("{}: {}", file_, what);
        MP_ASSIGN_OR_RETURN(uint64_t numel, checked_numel(t.shape, ctx));
        const DTypeInfo& info = dtype_info(t.dtype);
        if (n_dims > 0 && dims[0] % info.block_size != 0) {
            return corrupt_data(
                "{}: innermost dimension {} is not a multiple of the {} block "
                "size {}",
                ctx, dims[0], info.name, info.block_size);
        }
        auto nbytes = dtype_nbytes(t.dtype, numel);
        if (!nbytes.ok()) {
            return Status(nbytes.status().code(),
                          fmt::format("{}: {}", ctx, nbytes.status().message()));
        }
        t.nbytes = *nbytes;
        g_.tensors.push_back(std::move(t));
        rel_offsets_.push_back(rel);
        if (!seen.emplace(g_.tensors.back().name, i).second) {
            return corrupt_data("{}: duplicate tensor name \"{}\" (tensors #{} and #{})", file_,
                                g_.tensors.back().name, seen[g_.tensors.back().name], i);
        }
    }
    return Status();
}

Status Parser::apply_alignment() {
    g_.alignment = kDefaultAlignment;
    if (const GgufValue* a = g_.find("general.alignment")) {
        if (a->type != GgufValueType::kU32) {
            return corrupt_data("{}: general.alignment has type {}, must be u32", file_,
                                value_type_name(a->type));
        }
        const uint64_t v = std::get<uint64_t>(a->scalar);
        if (v == 0 || (v & (v - 1)) != 0) {
            return corrupt_data("{}: general.alignment {} is not a nonzero power of two", file_, v);
        }
        g_.alignment = v;
    }
    const uint64_t end = r_.pos();  // <= file size < 2^63 in practice; alignment <= 2^31
    uint64_t padded;
    if (!checked_add_u64(end, g_.alignment - 1, &padded)) {
        return corrupt_data("{}: data section offset overflows", file_);
    }
    g_.data_start = padded / g_.alignment * g_.alignment;
    return Status();
}

Status Parser::place_tensors() {
    for (size_t i = 0; i < g_.tensors.size(); ++i) {
        TensorInfo& t = g_.tensors[i];
        const uint64_t rel = rel_offsets_[i];
        if (rel % g_.alignment != 0) {
            return corrupt_data(
                "{}: tensor \"{}\": offset {} is not a multiple of the alignment "
                "{}",
                file_, t.name, rel, g_.alignment);
        }
        uint64_t abs, end;
        if (!checked_add_u64(g_.data_start, rel, &abs) || !checked_add_u64(abs, t.nbytes, &end) ||
            end > size_) {
            return corrupt_data(
                "{}: tensor \"{}\": {} bytes at data offset {} (data section "
                "starts at {}) lie past the end of the file ({} bytes)",
                file_, t.name, t.nbytes, rel, g_.data_start, size_);
        }
        t.offset = abs;
    }
    std::vector<size_t> order(g_.tensors.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return g_.tensors[a].offset < g_.tensors[b].offset; });
    const TensorInfo* prev = nullptr;
    for (size_t idx : order) {
        const TensorInfo& t = g_.tensors[idx];
        if (t.nbytes == 0) continue;
        if (prev != nullptr && t.offset < prev->offset + prev->nbytes) {
            return corrupt_data("{}: tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", file_,
                                prev->name, prev->offset, prev->offset + prev->nbytes, t.name,
                                t.offset, t.offset + t.nbytes);
        }
        prev = &t;
    }
    return Status();
}

Result<GgufFile> Parser::parse() {
    MP_TRY(read_header());
    MP_TRY(read_kvs());
    MP_TRY(read_tensor_infos());
    MP_TRY(apply_alignment());
    MP_TRY(place_tensors());
    return std::move(g_);
}

Result<int64_t> int_of(const GgufValue& v, std::string_view key) {
    switch (v.type) {
        case GgufValueType::kU8:
        case GgufValueType::kU16:
        case GgufValueType::kU32:
        case GgufValueType::kU64: {
            const uint64_t u = std::get<uint64_t>(v.scalar);
            if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
                return invalid_argument("GGUF key \"{}\": value {} does not fit in int64", key, u);
            }
            return static_cast<int64_t>(u);
        }
        case GgufValueType::kI8:
        case GgufValueType::kI16:
        case GgufValueType::kI32:
        case GgufValueType::kI64:
            return std::get<int64_t>(v.scalar);
        default:
            return invalid_argument("GGUF key \"{}\" has type {}, not an integer", key,
                                    value_type_name(v.type));
    }
}

}  // namespace

Result<int64_t> GgufValue::as_int(std::string_view key) const { return int_of(*this, key); }

Result<double> GgufValue::as_float(std::string_view key) const {
    if (type == GgufValueType::kF32 || type == GgufValueType::kF64) {
        return std::get<double>(scalar);
    }
    if (type == GgufValueType::kU8 || type == GgufValueType::kU16 || type == GgufValueType::kU32 ||
        type == GgufValueType::kU64) {
        return static_cast<double>(std::get<uint64_t>(scalar));
    }
    if (type == GgufValueType::kI8 || type == GgufValueType::kI16 || type == GgufValueType::kI32 ||
        type == GgufValueType::kI64) {
        return static_cast<double>(std::get<int64_t>(scalar));
    }
    return invalid_argument("GGUF key \"{}\" has type {}, not a number", key,
                            value_type_name(type));
}

Result<std::string> GgufValue::as_string(std::string_view key) const {
    if (type != GgufValueType::kString) {
        return invalid_argument("GGUF key \"{}\" has type {}, not string", key,
                                value_type_name(type));
    }
    return std::get<std::string>(scalar);
}

Result<bool> GgufValue::as_bool(std::string_view key) const {
    if (type != GgufValueType::kBool) {
        return invalid_argument("GGUF key \"{}\" has type {}, not bool", key,
                                value_type_name(type));
    }
    return std::get<bool>(scalar);
}

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = metadata.find(std::string(key));
    return it == metadata.end() ? nullptr : &it->second;
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return not_found("GGUF metadata key \"{}\" is absent", key);
    return v->as_int(key);
}

Result<double> GgufFile::get_float(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return not_found("GGUF metadata key \"{}\" is absent", key);
    return v->as_float(key);
}

Result<std::string> GgufFile::get_string(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return not_found("GGUF metadata key \"{}\" is absent", key);
    return v->as_string(key);
}

namespace {
template <typename T, typename Fn>
Result<std::vector<T>> array_of(const GgufFile& g, std::string_view key, Fn elem) {
    const GgufValue* v = g.find(key);
    if (v == nullptr) return not_found("GGUF metadata key \"{}\" is absent", key);
    if (!v->is_array()) {
        return invalid_argument("GGUF key \"{}\" has type {}, not array", key,
                                value_type_name(v->type));
    }
    std::vector<T> out;
    out.reserve(v->array.size());
    for (const GgufValue& e : v->array) {
        MP_ASSIGN_OR_RETURN(T x, elem(e));
        out.push_back(std::move(x));
    }
    return out;
}
}  // namespace

Result<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
    return array_of<std::string>(*this, key, [&](const GgufValue& e) { return e.as_string(key); });
}
Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
    return array_of<int64_t>(*this, key, [&](const GgufValue& e) { return e.as_int(key); });
}
Result<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
    return array_of<double>(*this, key, [&](const GgufValue& e) { return e.as_float(key); });
}

Result<GgufFile> parse_gguf(std::span<const uint8_t> file, std::string_view file_name) {
    Parser p(file, file_name);
    return p.parse();
}

}  // namespace modelprint

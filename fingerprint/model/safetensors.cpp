// safetensors header parser and validator.
// Rules (huggingface/safetensors README, safetensors/src/tensor.rs `SafeTensors::read_metadata` and
// `Metadata::validate`): file >= 8 bytes; header length N <= 100,000,000; 8 + N <= file size;
// header is UTF-8 JSON object; each tensor entry has dtype/shape/data_offsets; shape x dtype size
// does not overflow and equals e - b; offsets sorted by start tile [0, buffer) exactly.
// Added here: duplicate names (JSON parsers keep the last), NUL bytes in names, __metadata__ must
// map strings to strings, begin <= end. The header need not be padded to 8 (no alignment assumed).
#include "fingerprint/model/safetensors.h"

#include <algorithm>
#include <cstring>

#include "fingerprint/base/json.h"

namespace modelprint {
namespace {

Result<uint64_t> as_u64(const Json& v, std::string_view file, std::string_view tensor,
                        std::string_view field) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) {
        int64_t x = v.get<int64_t>();
        if (x >= 0) return static_cast<uint64_t>(x);
        return corrupt_data("{}: tensor \"{}\": {} has negative value {}", file, tensor, field, x);
    }
    return corrupt_data("{}: tensor \"{}\": {} must hold non-negative integers, got {}", file,
                        tensor, field, v.dump());
}

Result<TensorInfo> parse_entry(const std::string& name, const Json& e, std::string_view file) {
    if (name.find('\0') != std::string::npos) {
        return corrupt_data("{}: tensor name contains a NUL byte", file);
    }
    if (!e.is_object()) {
        return corrupt_data("{}: tensor \"{}\": entry must be an object, got {}", file, name,
                            e.type_name());
    }
    auto dt = e.find("dtype");
    auto sh = e.find("shape");
    auto off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string()) {
        return corrupt_data("{}: tensor \"{}\": missing or non-string \"dtype\"", file, name);
    }
    if (sh == e.end() || !sh->is_array()) {
        return corrupt_data("{}: tensor \"{}\": missing or non-array \"shape\"", file, name);
    }
    if (off == e.end() || !off->is_array() || off->size() != 2) {
        return corrupt_data("{}: tensor \"{}\": \"data_offsets\" must be [begin, end]", file, name);
    }
    TensorInfo t;
    t.name = name;
    auto dtype = dtype_from_safetensors(dt->get<std::string>());
    if (!dtype.ok()) {
        return dtype.status().with_context(fmt::format("{}: tensor \"{}\"", file, name));
    }
    t.dtype = *dtype;
    if (sh->size() > 64) {
        return corrupt_data("{}: tensor \"{}\": rank {} exceeds the limit of 64", file, name,
                            sh->size());
    }
    for (const Json& d : *sh) {
        MP_ASSIGN_OR_RETURN(uint64_t dim, as_u64(d, file, name, "shape"));
        if (dim > static_cast<uint64_t>(INT64_MAX)) {
            return corrupt_data("{}: tensor \"{}\": dimension {} too large", file, name, dim);
        }
        t.shape.push_back(static_cast<int64_t>(dim));
    }
    MP_ASSIGN_OR_RETURN(uint64_t begin, as_u64((*off)[0], file, name, "data_offsets"));
    MP_ASSIGN_OR_RETURN(uint64_t end, as_u64((*off)[1], file, name, "data_offsets"));
    if (end < begin) {
        return corrupt_data("{}: tensor \"{}\": data_offsets [{}, {}] end before begin", file,
                            name, begin, end);
    }
    auto numel = checked_numel(t.shape, fmt::format("{}: tensor \"{}\"", file, name));
    if (!numel.ok()) return numel.status();
    auto nbytes = dtype_nbytes(t.dtype, *numel);
    if (!nbytes.ok()) {
        return nbytes.status().with_context(fmt::format("{}: tensor \"{}\" shape", file, name));
    }
    if (*nbytes != end - begin) {
        return corrupt_data(
            "{}: tensor \"{}\": data_offsets [{}, {}] span {} bytes but shape x {} needs {} bytes",
            file, name, begin, end, end - begin, dtype_name(t.dtype), *nbytes);
    }
    t.offset = begin;  // relative for now
    t.nbytes = end - begin;
    return t;
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors(std::span<const uint8_t> file, std::string_view name) {
    if (file.size() < 8) {
        return corrupt_data("{}: file is {} bytes, too short for the 8-byte header length "
                            "(truncated or not a safetensors file)", name, file.size());
    }
    uint64_t n;
    std::memcpy(&n, file.data(), 8);  // little-endian hosts only (x86-64, aarch64)
    if (n > kSafetensorsMaxHeader) {
        return corrupt_data("{}: header length {} exceeds the limit of {} bytes", name, n,
                            kSafetensorsMaxHeader);
    }
    if (8 + n > file.size()) {
        return corrupt_data("{}: header length {} runs past the end of the file ({} bytes): "
                            "truncated file", name, n, file.size());
    }
    std::string_view text(reinterpret_cast<const char*>(file.data() + 8), n);
    auto parsed = parse_json(text, fmt::format("{} header", name));
    if (!parsed.ok()) return parsed.status();
    const Json& j = *parsed;
    if (!j.is_object()) {
        return corrupt_data("{}: header must be a JSON object, got {}", name, j.type_name());
    }
    SafetensorsHeader h;
    h.header_size = n;
    h.data_start = 8 + n;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "__metadata__") {
            if (!it->is_object()) {
                return corrupt_data("{}: __metadata__ must be an object of strings", name);
            }
            for (auto m = it->begin(); m != it->end(); ++m) {
                if (!m->is_string()) {
                    return corrupt_data("{}: __metadata__ value of \"{}\" must be a string, got {}",
                                        name, m.key(), m->type_name());
                }
                h.metadata[m.key()] = m->get<std::string>();
            }
            continue;
        }
        MP_ASSIGN_OR_RETURN(TensorInfo t, parse_entry(it.key(), *it, name));
        h.tensors.push_back(std::move(t));
    }
    // Offsets sorted by (begin, end) must tile the data buffer exactly.
    std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes;
    });
    const uint64_t buffer = file.size() - h.data_start;
    uint64_t expect = 0;
    for (TensorInfo& t : h.tensors) {
        if (t.offset != expect) {
            if (t.offset < expect) {
                return corrupt_data("{}: tensor \"{}\": data_offsets begin {} overlaps the "
                                    "previous tensor (which ends at {})", name, t.name, t.offset, expect);
            }
            return corrupt_data("{}: tensor \"{}\": data_offsets begin {} leaves a gap after "
                                "offset {}", name, t.name, t.offset, expect);
        }
        expect = t.offset + t.nbytes;
        if (expect > buffer) {
            return corrupt_data("{}: tensor \"{}\": data_offsets end {} is past the data buffer "
                                "({} bytes): truncated file", name, t.name, expect, buffer);
        }
        t.offset += h.data_start;
    }
    if (expect != buffer) {
        return corrupt_data("{}: tensors cover {} bytes but the data buffer holds {} bytes "
                            "(trailing bytes not covered)", name, expect, buffer);
    }
    return h;
}

}  // namespace modelprint

// libFuzzer target: parse_safetensors on arbitrary bytes, then convert every tensor the parser
// accepted to f32 and f64. Invariants checked: no read outside the input (ASan), accepted
// tensors lie inside the input, and conversion fails only for dtypes without a real conversion
// (C64). Any violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/model/safetensors.h"
#include "fuzz/fuzz_targets.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_safetensors invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

int modelprint::fuzz::fuzz_safetensors(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::span<const uint8_t> file(data, size);
    auto h = parse_safetensors(file, "fuzz.safetensors");
    if (!h.ok()) return 0;
    std::vector<float> f32;
    std::vector<double> f64;
    for (const TensorInfo& t : h->tensors) {
        if (t.offset > size || t.nbytes > size - t.offset) fail("tensor range", t.name);
        const uint64_t n = t.numel();
        if (n > (1u << 24)) continue;  // keep memory bounded whatever -max_len is
        f32.resize(n);
        f64.resize(n);
        const auto bytes = file.subspan(t.offset, t.nbytes);
        const Status a = convert_to_f32(t.dtype, bytes, n, f32.data());
        const Status b = convert_to_f64(t.dtype, bytes, n, f64.data());
        if (!a.ok() && a.code() != StatusCode::kUnsupported) fail("convert_to_f32", a.to_string());
        if (!b.ok() && b.code() != StatusCode::kUnsupported) fail("convert_to_f64", b.to_string());
    }
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_safetensors)

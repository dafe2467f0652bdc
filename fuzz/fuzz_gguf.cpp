// libFuzzer target: parse_gguf on arbitrary bytes, then read every metadata value through the
// typed accessors and convert every tensor the parser accepted to f32 (dequantising block
// types). Invariants checked: the parser never reads outside the input (ASan), a tensor the
// parser accepted lies inside the input, and converting it never fails except for dtypes that
// have no f32 conversion. Any violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/model/gguf.h"
#include "fuzz/fuzz_targets.h"

namespace {

void touch(const modelprint::GgufValue& v, std::string_view key) {
    (void)v.as_int(key);
    (void)v.as_float(key);
    (void)v.as_string(key);
    (void)v.as_bool(key);
    for (const auto& e : v.array) touch(e, key);
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz_gguf invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

}  // namespace

int modelprint::fuzz::fuzz_gguf(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::span<const uint8_t> file(data, size);
    auto g = parse_gguf(file, "fuzz.gguf");
    if (!g.ok()) return 0;
    for (const auto& [key, value] : g->metadata) touch(value, key);
    (void)g->get_string_array("tokenizer.ggml.tokens");
    (void)g->get_float_array("tokenizer.ggml.scores");
    (void)g->get_int_array("tokenizer.ggml.token_type");
    std::vector<float> out;
    for (const TensorInfo& t : g->tensors) {
        if (t.offset > size || t.nbytes > size - t.offset) fail("tensor range", t.name);
        const uint64_t n = t.numel();
        if (n > (1u << 24)) continue;  // keep memory bounded whatever -max_len is
        out.resize(n);
        const Status s = convert_to_f32(t.dtype, file.subspan(t.offset, t.nbytes), n, out.data());
        if (!s.ok() && s.code() != StatusCode::kUnsupported) fail("convert_to_f32", s.to_string());
    }
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_gguf)

// The entry functions of the fuzz targets (fuzz/fuzz_<name>.cpp), callable without libFuzzer:
// each takes one input, runs the parser and the invariant checks of its file comment, and
// aborts (std::abort) when an invariant breaks; a rejected input is not an error. The libFuzzer
// executables (fuzz/CMakeLists.txt, MP_FUZZ_MAIN defined) wrap one of them in
// LLVMFuzzerTestOneInput; tests/fuzz_corpus_test.cpp replays the committed corpus
// (fuzz/corpus/<name>/) and the crash regressions (fuzz/regressions/<name>/) through all of
// them in the ordinary test build, so CI checks that the corpus never regresses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace modelprint::fuzz {

// What every target does when an invariant breaks: name it on stderr and abort (the finding).
[[noreturn]] inline void invariant_broken(const char* target, const char* what,
                                          const std::string& detail) {
    std::fprintf(stderr, "%s invariant broken: %s: %s\n", target, what, detail.c_str());
    std::abort();
}

// A lower-case SHA-256 hex digest.
inline bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

int fuzz_gguf(const uint8_t* data, size_t size);
int fuzz_safetensors(const uint8_t* data, size_t size);
int fuzz_transcript(const uint8_t* data, size_t size);
int fuzz_probes(const uint8_t* data, size_t size);
int fuzz_tokenizer(const uint8_t* data, size_t size);
int fuzz_bundle(const uint8_t* data, size_t size);
int fuzz_spm(const uint8_t* data, size_t size);

}  // namespace modelprint::fuzz

// Defines LLVMFuzzerTestOneInput for one entry function, only in the libFuzzer executables.
#ifdef MP_FUZZ_MAIN
#define MP_FUZZ_DEFINE_MAIN(fn)                                               \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
        return modelprint::fuzz::fn(data, size);                              \
    }
#else
#define MP_FUZZ_DEFINE_MAIN(fn)
#endif

// GGUF intake benchmarks: parse_gguf on the real stories260K file and on a synthetic file with a
// Qwen-sized tokenizer (151,936 tokens, scores, types and 151,387 merges — the metadata that
// dominates parse time), and dequantisation throughput per block type (output elements/s and
// input bytes/s, single thread, 4 Mi elements from seeded random blocks with finite scales).
// Not here: correctness (tests/gguf_test.cpp, tests/quant_test.cpp).
// Run: build/bench/gguf_bench   (results: docs/benchmarks.md, "GGUF parsing and dequantisation")
#include <benchmark/benchmark.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/quant.h"
#include "fingerprint/model/gguf.h"

namespace modelprint {
namespace {

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
    const size_t n = b.size();
    b.resize(n + 4);
    std::memcpy(b.data() + n, &v, 4);
}
void put_u64(std::vector<uint8_t>& b, uint64_t v) {
    const size_t n = b.size();
    b.resize(n + 8);
    std::memcpy(b.data() + n, &v, 8);
}
void put_str(std::vector<uint8_t>& b, const std::string& s) {
    put_u64(b, s.size());
    b.insert(b.end(), s.begin(), s.end());
}

// "GGUF" v3 with 4 tokenizer arrays and no tensors.
std::vector<uint8_t> big_vocab_gguf() {
    constexpr uint64_t kTokens = 151936, kMerges = 151387;
    std::vector<uint8_t> b = {'G', 'G', 'U', 'F'};
    put_u32(b, 3);
    put_u64(b, 0);
    put_u64(b, 4);
    put_str(b, "tokenizer.ggml.tokens");
    put_u32(b, 9);
    put_u32(b, 8);
    put_u64(b, kTokens);
    for (uint64_t i = 0; i < kTokens; ++i) put_str(b, "tok" + std::to_string(i));
    put_str(b, "tokenizer.ggml.scores");
    put_u32(b, 9);
    put_u32(b, 6);
    put_u64(b, kTokens);
    for (uint64_t i = 0; i < kTokens; ++i) put_u32(b, 0);
    put_str(b, "tokenizer.ggml.token_type");
    put_u32(b, 9);
    put_u32(b, 5);
    put_u64(b, kTokens);
    for (uint64_t i = 0; i < kTokens; ++i) put_u32(b, 1);
    put_str(b, "tokenizer.ggml.merges");
    put_u32(b, 9);
    put_u32(b, 8);
    put_u64(b, kMerges);
    for (uint64_t i = 0; i < kMerges; ++i) put_str(b, "a" + std::to_string(i) + " b");
    while (b.size() % 32 != 0) b.push_back(0);
    return b;
}

void BM_ParseStories260K(benchmark::State& state) {
    // shared/ sits beside the repository: <repo>/bench/gguf_bench.cpp -> <repo>/../shared.
    const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                      "shared/models/stories260K/stories260K.gguf";
    auto text = read_file(path.string());
    if (!text.ok()) {
        state.SkipWithError(text.status().to_string().c_str());
        return;
    }
    const std::vector<uint8_t> bytes(text->begin(), text->end());
    for (auto _ : state) {
        auto g = parse_gguf(bytes, "stories260K.gguf");
        if (!g.ok()) state.SkipWithError(g.status().to_string().c_str());
        benchmark::DoNotOptimize(g);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ParseStories260K)->Unit(benchmark::kMicrosecond);

void BM_ParseQwenSizedVocab(benchmark::State& state) {
    const std::vector<uint8_t> bytes = big_vocab_gguf();
    for (auto _ : state) {
        auto g = parse_gguf(bytes, "vocab.gguf");
        if (!g.ok()) state.SkipWithError(g.status().to_string().c_str());
        benchmark::DoNotOptimize(g);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_ParseQwenSizedVocab)->Unit(benchmark::kMillisecond);

void BM_Dequantize(benchmark::State& state, DType t) {
    const DTypeInfo& info = dtype_info(t);
    const uint64_t n_blocks = (uint64_t{4} << 20) / info.block_size;
    std::vector<uint8_t> src(n_blocks * info.block_bytes);
    std::mt19937 rng(7);
    for (auto& v : src) v = static_cast<uint8_t>(rng());
    // Finite f16 scales (0x3c00 = 1.0) wherever the type keeps one; Q8_K has an f32 d.
    for (uint64_t b = 0; b < n_blocks; ++b) {
        uint8_t* p = src.data() + b * info.block_bytes;
        const uint16_t one = 0x3c00;
        const float fone = 1.0f;
        switch (t) {
            case DType::kQ4_1:
            case DType::kQ5_1:
            case DType::kQ4_K:
            case DType::kQ5_K:
                std::memcpy(p + 2, &one, 2);
                [[fallthrough]];
            case DType::kQ4_0:
            case DType::kQ5_0:
            case DType::kQ8_0:
                std::memcpy(p, &one, 2);
                break;
            case DType::kQ2_K:
                std::memcpy(p + 80, &one, 2);
                std::memcpy(p + 82, &one, 2);
                break;
            case DType::kQ3_K:
                std::memcpy(p + 108, &one, 2);
                break;
            case DType::kQ6_K:
                std::memcpy(p + 208, &one, 2);
                break;
            case DType::kQ8_K:
                std::memcpy(p, &fone, 4);
                break;
            default:
                break;
        }
    }
    std::vector<float> dst(n_blocks * info.block_size);
    for (auto _ : state) {
        const Status s = dequantize_blocks(t, src.data(), n_blocks, dst.data());
        if (!s.ok()) state.SkipWithError(s.to_string().c_str());
        benchmark::DoNotOptimize(dst.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * dst.size()));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * src.size()));
}
BENCHMARK_CAPTURE(BM_Dequantize, Q4_0, DType::kQ4_0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q4_1, DType::kQ4_1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q5_0, DType::kQ5_0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q5_1, DType::kQ5_1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q8_0, DType::kQ8_0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q2_K, DType::kQ2_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q3_K, DType::kQ3_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q4_K, DType::kQ4_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q5_K, DType::kQ5_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q6_K, DType::kQ6_K)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Dequantize, Q8_K, DType::kQ8_K)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace modelprint

BENCHMARK_MAIN();

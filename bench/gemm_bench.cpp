// The CPU engine's matrix product at the shapes of a SmolLM2-135M prefill (64 tokens, hidden 576,
// 9 query / 3 kv heads of 64, MLP 1536): the packed-panel kernels (cpu_gemm.h) against OpenBLAS
// sgemm and against packing per call, GFLOP/s = 2 N IC OC / wall time. Threads: MODELPRINT_THREADS
// (default: all cores). Not here: correctness (tests/cpu_gemm_test.cpp).
// Run: build/bench/gemm_bench   (results: docs/benchmarks.md, "CPU engine")
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>
#include <vector>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/cpu_gemm.h"
#include "fingerprint/engine/cpu_ops.h"

namespace modelprint {
namespace {

std::vector<float> randn(size_t n, uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

void set_flops(benchmark::State& state, int64_t N, int64_t IC, int64_t OC) {
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * N * IC * OC * state.iterations() / 1e9,
                                                   benchmark::Counter::kIsRate);
}

void BM_Packed(benchmark::State& state) {
    const int64_t N = state.range(0), IC = state.range(1), OC = state.range(2);
    auto x = randn(N * IC, 1), w = randn(OC * IC, 2);
    std::vector<float> out(N * OC);
    const PackedMatrix p = pack_rows(w.data(), OC, IC);
    const int threads = default_thread_count();
    for (auto _ : state) {
        packed_matmul_forward(out.data(), x.data(), p, nullptr, N, threads);
        benchmark::DoNotOptimize(out.data());
    }
    set_flops(state, N, IC, OC);
    state.SetLabel(gemm_kernel_name());
}

// OpenBLAS's own sgemm on the unpacked weights (it packs them on every call), with its own
// threads (MODELPRINT_THREADS of them).
void BM_OpenBlas(benchmark::State& state) {
    const int64_t N = state.range(0), IC = state.range(1), OC = state.range(2);
    auto x = randn(N * IC, 1), w = randn(OC * IC, 2);
    std::vector<float> out(N * OC);
    openblas_set_num_threads(default_thread_count());
    for (auto _ : state) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(N),
                    static_cast<int>(OC), static_cast<int>(IC), 1.0f, x.data(),
                    static_cast<int>(IC), w.data(), static_cast<int>(IC), 0.0f, out.data(),
                    static_cast<int>(OC));
        benchmark::DoNotOptimize(out.data());
    }
    set_flops(state, N, IC, OC);
}

// cpu_ops matmul_forward: packs the weight on every call, then the packed product (what a
// one-off product costs; the engine packs once per layer).
void BM_PackPerCall(benchmark::State& state) {
    const int64_t N = state.range(0), IC = state.range(1), OC = state.range(2);
    auto x = randn(N * IC, 1), w = randn(OC * IC, 2);
    std::vector<float> out(N * OC);
    const int threads = default_thread_count();
    for (auto _ : state) {
        matmul_forward(out.data(), x.data(), w.data(), nullptr, N, IC, OC, threads);
        benchmark::DoNotOptimize(out.data());
    }
    set_flops(state, N, IC, OC);
}

void shapes(benchmark::internal::Benchmark* b) {
    for (int64_t n : {1, 64, 512}) {
        b->Args({n, 576, 960});   // qkv
        b->Args({n, 576, 576});   // attention out
        b->Args({n, 576, 3072});  // gate + up
        b->Args({n, 1536, 576});  // down
    }
    b->Args({1, 576, 49152});  // tied head, last position
}

BENCHMARK(BM_Packed)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_OpenBlas)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PackPerCall)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace modelprint

BENCHMARK_MAIN();

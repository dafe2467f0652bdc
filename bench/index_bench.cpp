// VectorIndex at registry scale: 100,000 synthetic fingerprint vectors (Gaussian, dimension 256
// and 1024), flat (exact) vs IVF. Measures build (normalise + add, + k-means training for IVF),
// single-query search latency, top-10 recall of IVF against the exact flat result, and index
// memory. Queries are stored vectors plus noise (a near-duplicate, the registry use case) and
// pure random vectors (no relative). Results in docs/benchmarks.md; they set
// IndexOptions::ivf_threshold.
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <set>

#include "db/index.h"

namespace modelprint {
namespace {

constexpr size_t kN = 100000;

const std::vector<float>& data(int dim) {
    static std::map<int, std::vector<float>> cache;
    auto& v = cache[dim];
    if (v.empty()) {
        std::mt19937 rng(42);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        v.resize(kN * dim);
        for (float& x : v) x = nd(rng);
    }
    return v;
}

std::vector<int64_t> ids_for(size_t n) {
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(i);
    return ids;
}

std::vector<float> queries(int dim, size_t nq, bool near_dup) {
    std::mt19937 rng(7);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> q(nq * dim);
    const auto& d = data(dim);
    for (size_t i = 0; i < nq; ++i) {
        const size_t src = (i * 7919) % kN;
        for (int j = 0; j < dim; ++j) {
            q[i * dim + j] = near_dup ? d[src * dim + j] + 0.5f * nd(rng) : nd(rng);
        }
    }
    return q;
}

void BM_Build(benchmark::State& state) {
    const int dim = static_cast<int>(state.range(0));
    const bool ivf = state.range(1) != 0;
    const auto& d = data(dim);
    const auto ids = ids_for(kN);
    IndexOptions opt;
    opt.ivf_threshold = ivf ? 1 : kN + 1;
    size_t mem = 0;
    for (auto _ : state) {
        auto idx = VectorIndex::build(dim, ids, d, opt);
        if (!idx.ok()) {
            state.SkipWithError(idx.status().message().c_str());
            return;
        }
        mem = (*idx)->memory_bytes();
        benchmark::DoNotOptimize(mem);
    }
    state.counters["memory_MiB"] = static_cast<double>(mem) / (1 << 20);
    state.counters["vectors"] = kN;
}
BENCHMARK(BM_Build)->Args({256, 0})->Args({256, 1})->Args({1024, 0})->Args({1024, 1})
    ->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_Search(benchmark::State& state) {
    const int dim = static_cast<int>(state.range(0));
    const bool ivf = state.range(1) != 0;
    const bool near_dup = state.range(2) != 0;
    const auto& d = data(dim);
    const auto ids = ids_for(kN);
    IndexOptions opt;
    opt.ivf_threshold = ivf ? 1 : kN + 1;
    auto idx = VectorIndex::build(dim, ids, d, opt);
    IndexOptions flat_opt;
    flat_opt.ivf_threshold = kN + 1;
    auto exact = VectorIndex::build(dim, ids, d, flat_opt);
    if (!idx.ok() || !exact.ok()) {
        state.SkipWithError("build failed");
        return;
    }
    constexpr size_t kQ = 64;
    const auto q = queries(dim, kQ, near_dup);
    size_t i = 0;
    for (auto _ : state) {
        auto hits = (*idx)->search(std::span<const float>(&q[(i % kQ) * dim], dim), 10);
        benchmark::DoNotOptimize(hits);
        ++i;
    }
    // Recall@10 of this index against the exact one, over all queries.
    size_t found = 0, total = 0, top1 = 0;
    for (size_t j = 0; j < kQ; ++j) {
        std::span<const float> one(&q[j * dim], dim);
        auto a = (*idx)->search(one, 10);
        auto b = (*exact)->search(one, 10);
        std::set<int64_t> truth;
        for (const auto& h : *b) truth.insert(h.id);
        for (const auto& h : *a) found += truth.count(h.id);
        total += b->size();
        top1 += (!a->empty() && a->front().id == b->front().id);
    }
    state.counters["recall@10"] = static_cast<double>(found) / total;
    state.counters["top1"] = static_cast<double>(top1) / kQ;
    state.counters["nlist"] = static_cast<double>((*idx)->nlist());
}
BENCHMARK(BM_Search)
    ->ArgNames({"dim", "ivf", "near_dup"})
    ->Args({256, 0, 1})->Args({256, 1, 1})->Args({256, 1, 0})
    ->Args({1024, 0, 1})->Args({1024, 1, 1})->Args({1024, 1, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace modelprint

BENCHMARK_MAIN();

// CPU engine throughput: prefill (last-position logits, as generation uses it) and greedy
// decode with the KV cache, in tokens/s. Model from $MODELPRINT_BENCH_MODEL (default: the llama
// fixture, testdata/models/llama), prompt length $MODELPRINT_BENCH_PROMPT (default 64), new
// tokens $MODELPRINT_BENCH_NEW (default 32), threads $MODELPRINT_THREADS (default: all cores).
// Prompt ids are a fixed pseudo-random sequence (mt19937 seed 0, ids in [0, V)), the same as
// bench/engine_vs_transformers.py uses. Layer weights are cached (converted once, before timing).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/cpu_backend.h"
#include "fingerprint/model/model.h"

namespace modelprint {
namespace {

int64_t env_int(const char* name, int64_t dflt) {
    const char* v = std::getenv(name);
    return v && *v ? std::atoll(v) : dflt;
}

struct Setup {
    std::unique_ptr<Model> model;
    std::unique_ptr<CpuBackend> backend;
    std::vector<int32_t> prompt;
    int64_t n_new = 0;
    std::string error;
};

Setup& setup() {
    static Setup s = [] {
        Setup r;
        const char* m = std::getenv("MODELPRINT_BENCH_MODEL");
        const std::string path = m && *m ? m : std::string(MP_SOURCE_DIR) + "/testdata/models/llama";
        auto model = Model::open(path);
        if (!model.ok()) { r.error = model.status().to_string(); return r; }
        r.model = std::move(model).value();
        auto be = CpuBackend::create(*r.model);
        if (!be.ok()) { r.error = be.status().to_string(); return r; }
        r.backend = std::move(be).value();
        std::mt19937 g(0);
        const int64_t V = r.model->config().vocab_size;
        for (int64_t i = 0; i < env_int("MODELPRINT_BENCH_PROMPT", 64); ++i) {
            r.prompt.push_back(static_cast<int32_t>(g() % static_cast<uint32_t>(V)));
        }
        r.n_new = env_int("MODELPRINT_BENCH_NEW", 32);
        PrefillRequest warm;  // converts and caches every layer before timing
        warm.sequences = {{r.prompt[0]}};
        (void)r.backend->prefill(warm);
        return r;
    }();
    return s;
}

void BM_Prefill(benchmark::State& state) {
    Setup& s = setup();
    if (!s.error.empty()) { state.SkipWithError(s.error.c_str()); return; }
    PrefillRequest req;
    req.sequences = {s.prompt};
    req.logits = LogitsMode::kLast;
    for (auto _ : state) {
        auto r = s.backend->prefill(req);
        if (!r.ok()) { state.SkipWithError(r.status().to_string().c_str()); return; }
        benchmark::DoNotOptimize(r->outputs[0].logits.data());
    }
    state.counters["tokens_per_s"] = benchmark::Counter(
        static_cast<double>(s.prompt.size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = s.backend->threads();
}

// Prompt prefill + n_new greedy steps; the decode rate is derived by the script from the two.
void BM_Generate(benchmark::State& state) {
    Setup& s = setup();
    if (!s.error.empty()) { state.SkipWithError(s.error.c_str()); return; }
    GenerateRequest req;
    req.prompt = s.prompt;
    req.max_new_tokens = static_cast<int>(s.n_new);
    for (auto _ : state) {
        auto r = s.backend->generate(req);
        if (!r.ok()) { state.SkipWithError(r.status().to_string().c_str()); return; }
        benchmark::DoNotOptimize(r->tokens.data());
    }
    state.counters["new_tokens"] = static_cast<double>(s.n_new);
}

BENCHMARK(BM_Prefill)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace
}  // namespace modelprint

BENCHMARK_MAIN();

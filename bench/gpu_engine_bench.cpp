// GPU engine throughput: prefill tokens/s of a packed batch and greedy decode tokens/s, for the
// model in $MP_BENCH_MODEL (a directory or file Model::open accepts; bench/gpu_vs_transformers.py
// generates a 1B-shaped Llama and an SmolLM2-135M-shaped model and runs this binary on them).
// Counters: tokens/s, and for prefill the achieved TFLOP/s of the linear layers
// (2 * tokens * linear parameters, the matmul FLOPs; attention excluded) and its fraction of the
// bf16 dense peak given in $MP_BENCH_PEAK_TFLOPS (default 989.4: H100 SXM, NVIDIA datasheet).
// Batch shape: $MP_BENCH_BATCH prompts (default 8) of $MP_BENCH_PROMPT tokens (default 512),
// $MP_BENCH_DECODE new tokens (default 128). Skips with the reason when no GPU or no model.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"

namespace modelprint {
namespace {

int64_t env_int(const char* name, int64_t def) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::atoll(v) : def;
}

struct Setup {
    std::unique_ptr<Model> model;
    std::unique_ptr<Backend> backend;
    std::string error;
};

Setup& setup(bool exact) {
    static Setup s[2];
    Setup& st = s[exact ? 1 : 0];
    if (st.backend || !st.error.empty()) return st;
    const char* path = std::getenv("MP_BENCH_MODEL");
    if (path == nullptr) {
        st.error = "set MP_BENCH_MODEL to a model directory or file";
        return st;
    }
    auto m = Model::open(path);
    if (!m.ok()) {
        st.error = m.status().to_string();
        return st;
    }
    st.model = std::move(m).value();
    BackendOptions o;
    o.exact_f32 = exact;
    o.gpu_memory_cap = static_cast<uint64_t>(env_int("MP_BENCH_GPU_CAP", 0));
    auto b = make_backend(*st.model, DeviceKind::kCuda, o);
    if (!b.ok()) {
        st.error = b.status().to_string();
        return st;
    }
    st.backend = std::move(b).value();
    return st;
}

uint64_t linear_params(const Model& m) {
    uint64_t n = 0;
    for (size_t i = 0; i < m.tensors().size(); ++i) {
        const Role r = m.roles()[i].role;
        if (m.roles()[i].is_bias) continue;
        if (r == Role::kAttnQ || r == Role::kAttnK || r == Role::kAttnV || r == Role::kAttnQKV ||
            r == Role::kAttnOut || r == Role::kFfnGate || r == Role::kFfnUp || r == Role::kFfnDown ||
            r == Role::kOutput) {
            n += m.tensors()[i].numel();
        }
    }
    if (m.find_role(Role::kOutput) == nullptr) {  // tied head: the embedding is multiplied too
        const TensorInfo* e = m.find_role(Role::kTokenEmbd);
        if (e != nullptr) n += e->numel();
    }
    return n;
}

std::vector<std::vector<int32_t>> batch(int64_t V) {
    const int64_t B = env_int("MP_BENCH_BATCH", 8), T = env_int("MP_BENCH_PROMPT", 512);
    std::vector<std::vector<int32_t>> s(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t t = 0; t < T; ++t) s[b].push_back(static_cast<int32_t>((b * 7919 + t * 104729) % V));
    }
    return s;
}

void BM_Prefill(benchmark::State& state) {
    Setup& s = setup(state.range(0) != 0);
    if (!s.backend) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    PrefillRequest req;
    req.sequences = batch(s.model->config().vocab_size);
    req.logits = LogitsMode::kLast;  // as transformers' prefill benchmark: last-position logits
    int64_t tokens = 0;
    for (const auto& q : req.sequences) tokens += static_cast<int64_t>(q.size());
    for (auto _ : state) {
        auto r = s.backend->prefill(req);
        if (!r.ok()) {
            state.SkipWithError(r.status().to_string().c_str());
            return;
        }
        benchmark::DoNotOptimize(r->outputs.data());
    }
    const double peak = std::atof(std::getenv("MP_BENCH_PEAK_TFLOPS") ? std::getenv("MP_BENCH_PEAK_TFLOPS") : "989.4");
    const double flops = 2.0 * static_cast<double>(tokens) * static_cast<double>(linear_params(*s.model));
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["TFLOP/s"] = benchmark::Counter(flops / 1e12, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_TFLOP/s"] = peak;
    state.SetLabel(s.backend->name());
}

void BM_Decode(benchmark::State& state) {
    Setup& s = setup(state.range(0) != 0);
    if (!s.backend) {
        state.SkipWithError(s.error.c_str());
        return;
    }
    GenerateRequest g;
    g.prompt = batch(s.model->config().vocab_size)[0];
    g.prompt.resize(std::min<size_t>(g.prompt.size(), 32));
    g.max_new_tokens = static_cast<int>(env_int("MP_BENCH_DECODE", 128));
    int64_t tokens = 0;
    for (auto _ : state) {
        auto r = s.backend->generate(g);
        if (!r.ok()) {
            state.SkipWithError(r.status().to_string().c_str());
            return;
        }
        tokens += static_cast<int64_t>(r->tokens.size());
    }
    state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
    state.SetLabel(s.backend->name());
}

// Arg 0: default (bf16/f16 tensor cores); 1: exact f32.
BENCHMARK(BM_Prefill)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace modelprint

BENCHMARK_MAIN();

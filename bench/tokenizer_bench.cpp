// Tokenizer throughput: encode() over the golden corpus (testdata/tokenizer/corpus.jsonl, 342
// strings in many scripts) for each shared tokenizer, single-threaded, and tokenizer load time.
// Run from the repository root (or set MP_TOKENIZER_CORPUS and MP_SHARED_DIR);
// bench/tokenizer_vs_hf.py runs it next to Hugging Face `tokenizers` on the same corpus.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/tokenizer/tokenizer.h"

namespace {

std::string env_or(const char* name, const char* dflt) {
    const char* v = std::getenv(name);
    return v != nullptr && *v ? v : dflt;
}

std::vector<std::string> load_corpus() {
    std::vector<std::string> out;
    auto content =
        modelprint::read_file(env_or("MP_TOKENIZER_CORPUS", "testdata/tokenizer/corpus.jsonl"));
    if (!content.ok()) return out;
    size_t pos = 0;
    while (pos < content->size()) {
        size_t end = content->find('\n', pos);
        if (end == std::string::npos) end = content->size();
        auto j =
            modelprint::parse_json(std::string_view(*content).substr(pos, end - pos), "corpus");
        pos = end + 1;
        if (!j.ok()) continue;
        if (j->contains("hex")) {
            const auto hex = (*j)["hex"].get<std::string>();
            std::string bytes;
            for (size_t i = 0; i + 1 < hex.size(); i += 2) {
                bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
            }
            out.push_back(bytes);
        } else {
            out.push_back((*j)["text"].get<std::string>());
        }
    }
    return out;
}

std::string tokenizer_path(const std::string& name) {
    const std::string shared = env_or("MP_SHARED_DIR", "../shared");
    return name == "stories260K" ? shared + "/models/stories260K/tokenizer.json"
                                 : shared + "/tokenizers/" + name + "/tokenizer.json";
}

void BM_Encode(benchmark::State& state, std::string name) {
    static const std::vector<std::string> corpus = load_corpus();
    auto tok = modelprint::Tokenizer::from_file(tokenizer_path(name));
    if (!tok.ok() || corpus.empty()) {
        state.SkipWithError(tok.ok() ? "corpus not found" : tok.status().to_string().c_str());
        return;
    }
    int64_t bytes = 0, tokens = 0;
    for (auto _ : state) {
        for (const auto& text : corpus) {
            auto ids = (*tok)->encode(text, false);
            tokens += static_cast<int64_t>(ids->size());
            bytes += static_cast<int64_t>(text.size());
            benchmark::DoNotOptimize(ids);
        }
    }
    state.SetBytesProcessed(bytes);
    state.counters["tokens_per_s"] =
        benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

// The whole corpus as one text (separated by "\n"), encoded in one call: per-call overheads
// vanish and the pipeline itself is measured.
void BM_EncodeJoined(benchmark::State& state, std::string name) {
    static const std::string joined = [] {
        std::string all;
        for (const auto& t : load_corpus()) all += t + "\n";
        return all;
    }();
    auto tok = modelprint::Tokenizer::from_file(tokenizer_path(name));
    if (!tok.ok() || joined.empty()) {
        state.SkipWithError(tok.ok() ? "corpus not found" : tok.status().to_string().c_str());
        return;
    }
    for (auto _ : state) {
        auto ids = (*tok)->encode(joined, false);
        benchmark::DoNotOptimize(ids);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(joined.size()));
}

void BM_Load(benchmark::State& state, std::string name) {
    for (auto _ : state) {
        auto tok = modelprint::Tokenizer::from_file(tokenizer_path(name));
        if (!tok.ok()) {
            state.SkipWithError(tok.status().to_string().c_str());
            return;
        }
        benchmark::DoNotOptimize(tok);
    }
}

const int kRegistered = [] {
    for (const char* name : {"gpt2", "qwen3", "deepseek_v3", "llama3", "stories260K"}) {
        benchmark::RegisterBenchmark((std::string("BM_Encode/") + name).c_str(), BM_Encode,
                                     std::string(name))
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((std::string("BM_EncodeJoined/") + name).c_str(),
                                     BM_EncodeJoined, std::string(name))
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((std::string("BM_Load/") + name).c_str(), BM_Load,
                                     std::string(name))
            ->Unit(benchmark::kMillisecond);
    }
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();

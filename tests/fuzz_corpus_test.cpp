// Replays the committed fuzz corpus (fuzz/corpus/<target>/) and the crash regressions
// (fuzz/regressions/<target>/) through every fuzz target's entry function (fuzz/fuzz_targets.h)
// in the ordinary build, without libFuzzer or sanitizers: a parser change that makes any of
// those inputs crash, hang or break an invariant of the target fails this test. The targets
// abort on a broken invariant, which fails the test process. Each target's folder must exist
// and hold inputs, so a corpus that is lost or renamed fails too.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using testing::read_bytes;
using testing::source_dir;

struct Target {
    const char* name;
    int (*entry)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"gguf", fuzz::fuzz_gguf},
    {"safetensors", fuzz::fuzz_safetensors},
    {"transcript", fuzz::fuzz_transcript},
    {"probes", fuzz::fuzz_probes},
    {"tokenizer", fuzz::fuzz_tokenizer},
    {"bundle", fuzz::fuzz_bundle},
    {"spm", fuzz::fuzz_spm},
};

void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }

std::vector<fs::path> inputs_in(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file()) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

size_t replay(const Target& t, const fs::path& dir) {
    size_t n = 0;
    for (const fs::path& p : inputs_in(dir)) {
        SCOPED_TRACE(p.string());
        const std::vector<uint8_t> bytes = read_bytes(p);
        EXPECT_EQ(t.entry(bytes.data(), bytes.size()), 0);
        ++n;
    }
    return n;
}

class FuzzCorpus : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzCorpus, ReplaysCorpusAndRegressions) {
    const Target& t = GetParam();
    const size_t corpus = replay(t, source_dir() / "fuzz" / "corpus" / t.name);
    EXPECT_GT(corpus, 0u) << "fuzz/corpus/" << t.name << " is missing or empty";
    replay(t, source_dir() / "fuzz" / "regressions" / t.name);
}

TEST_P(FuzzCorpus, SurvivesEmptyAndTinyInputs) {
    const Target& t = GetParam();
    const uint8_t bytes[] = {'{', '}', '\n', 0, 0xff, '"', '[', 'G', 'G', 'U', 'F'};
    for (size_t n = 0; n <= sizeof(bytes); ++n) EXPECT_EQ(t.entry(bytes, n), 0);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace modelprint

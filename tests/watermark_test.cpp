// Tests of fingerprint/watermark.h and forensics/watermark*.h: torch-exact permutations and green
// lists (golden values computed with torch 2.x / transformers 5.x, see each test), key parsing
// with every malformed field, the 0600 key file, green counting with de-duplication, the exact
// binomial tail, inconclusive short texts, the engine's logits-processor hook, the KS test, and
// radioactivity on the shipped stories260K (no watermark: a null, and bad inputs).
#include "fingerprint/watermark.h"

#include <sys/stat.h>

#include <cmath>
#include <string>
#include <vector>

#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/stats.h"
#include "forensics/watermark.h"
#include "forensics/watermark_model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::stories_dir;
using ::modelprint::testing::TempDir;

constexpr const char* kKey =
    R"({"greenlist_ratio":0.25,"bias":2.0,"hashing_key":15485863,"seeding_scheme":"lefthash","context_width":1})";

WatermarkKey key_of(const std::string& json) {
    auto k = parse_watermark_key(json, "test key");
    EXPECT_TRUE(k.ok()) << k.status().to_string();
    return k.ok() ? *k : WatermarkKey{};
}

TEST(WatermarkTest, RandpermMatchesTorch) {
    // torch.Generator().manual_seed(s); torch.randperm(512, generator=g)[:8]
    EXPECT_EQ(torch_randperm_prefix(0, 512, 8),
              (std::vector<int32_t>{172, 137, 235, 159, 195, 269, 373, 115}));
    EXPECT_EQ(torch_randperm_prefix(15485863, 512, 8),
              (std::vector<int32_t>{190, 93, 181, 10, 213, 172, 475, 502}));
    // seeds above 2^32 keep their low 32 bits (at::mt19937's init)
    EXPECT_EQ(torch_randperm_prefix((uint64_t{1} << 40) + 7, 512, 4),
              (std::vector<int32_t>{175, 203, 333, 262}));
    // the selfhash table: randperm(1000003) seeded with the hashing key
    EXPECT_EQ(torch_randperm_prefix(15485863, kSelfHashTableSize, 5),
              (std::vector<int32_t>{138280, 994103, 467886, 915329, 149437}));
}

TEST(WatermarkTest, GreenListsMatchTransformers) {
    // WatermarkLogitsProcessor(vocab_size=512, hashing_key=15485863, ...)._get_greenlist_ids
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    EXPECT_EQ(L->green_size(), 128);
    const std::vector<int32_t> ctx = {1, 403};
    auto g = L->green_ids(ctx);
    ASSERT_EQ(g.size(), 128u);
    EXPECT_EQ(std::vector<int32_t>(g.begin(), g.begin() + 6),
              (std::vector<int32_t>{293, 425, 416, 302, 180, 504}));
    EXPECT_TRUE(L->is_green(ctx, 293));
    const std::string self =
        R"({"greenlist_ratio":0.25,"bias":2.0,"hashing_key":15485863,"seeding_scheme":"selfhash","context_width":3})";
    auto S = GreenLists::create(key_of(self), 512);
    ASSERT_TRUE(S.ok());
    auto gs = S->green_ids(std::vector<int32_t>{7, 403, 407});
    EXPECT_EQ(std::vector<int32_t>(gs.begin(), gs.begin() + 6),
              (std::vector<int32_t>{100, 88, 296, 383, 326, 172}));
    EXPECT_FALSE(S->is_green(std::vector<int32_t>{7, 403}, 407));
}

TEST(WatermarkTest, ApplyAddsBiasToGreenIds) {
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    std::vector<float> logits(512, 0.0f);
    const std::vector<int32_t> ids = {1, 403};
    L->apply(ids, logits);
    int biased = 0;
    for (float x : logits) biased += x == 2.0f;
    EXPECT_EQ(biased, 128);
    EXPECT_EQ(logits[293], 2.0f);
    std::vector<float> none(512, 0.0f);
    L->apply(std::vector<int32_t>{}, none);  // fewer than context_width ids: no change
    for (float x : none) EXPECT_EQ(x, 0.0f);
}

TEST(WatermarkTest, KeyParsingRejectsMalformedKeys) {
    const WatermarkKey k = key_of(kKey);
    EXPECT_EQ(k.hashing_key, 15485863u);
    EXPECT_EQ(k.seeding_scheme, SeedingScheme::kLeftHash);
    auto bad = [](const std::string& j, const std::string& msg) {
        EXPECT_THAT(parse_watermark_key(j, "k.json"), StatusIs(StatusCode::kCorruptData, msg)) << j;
    };
    bad("[1]", "must be a JSON object");
    bad("{", "k.json");
    bad(R"({"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":1})",
        "missing field \"greenlist_ratio\"");
    bad(R"({"greenlist_ratio":1.0,"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":1})",
        "greenlist_ratio 1 is not in (0, 1)");
    bad(R"({"greenlist_ratio":0.25,"bias":"x","hashing_key":1,"seeding_scheme":"lefthash","context_width":1})",
        "bias must be a number");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":-1,"seeding_scheme":"lefthash","context_width":1})",
        "hashing_key must be a non-negative integer");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":1.5,"seeding_scheme":"lefthash","context_width":1})",
        "hashing_key must be a non-negative integer");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":18446744073709551615,"seeding_scheme":"lefthash","context_width":1})",
        "exceeds 2^63 - 1");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":1,"seeding_scheme":"middlehash","context_width":1})",
        "neither lefthash nor selfhash");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":0})",
        "context_width 0 is not in [1, 64]");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":1,"vocab_size":1})",
        "vocab_size must be an integer");
    bad(R"({"greenlist_ratio":0.25,"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":1,"greenlist":3})",
        "unknown field \"greenlist\"");
    bad(R"({"greenlist_ratio":0.25,"greenlist_ratio":0.3,"bias":2,"hashing_key":1,"seeding_scheme":"lefthash","context_width":1})",
        "k.json");
}

TEST(WatermarkTest, CommitmentIsCanonicalAndKeyFileIsPrivate) {
    const WatermarkKey k = key_of(kKey);
    const WatermarkKey k2 = key_of(
        R"({ "context_width": 1, "seeding_scheme": "lefthash", "hashing_key": 15485863, "bias": 2.0, "greenlist_ratio": 0.25 })");
    EXPECT_EQ(watermark_key_commitment(k), watermark_key_commitment(k2));
    EXPECT_EQ(watermark_key_commitment(k).size(), 64u);
    EXPECT_EQ(watermark_key_json(k).find(' '), std::string::npos);
    TempDir dir;
    const std::string path = (dir / "k.json").string();
    auto fresh = generate_watermark_key(k);
    ASSERT_TRUE(fresh.ok());
    EXPECT_NE(fresh->hashing_key, k.hashing_key);
    MP_ASSERT_OK(write_watermark_key(path, *fresh, false));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_THAT(write_watermark_key(path, *fresh, false),
                StatusIs(StatusCode::kFailedPrecondition, "refusing to overwrite"));
    auto back = load_watermark_key(path);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->hashing_key, fresh->hashing_key);
}

TEST(WatermarkTest, VocabularyMismatchIsAnError) {
    WatermarkKey k = key_of(kKey);
    k.vocab_size = 512;
    EXPECT_THAT(GreenLists::create(k, 50257),
                StatusIs(StatusCode::kInvalidArgument, "bound to a vocabulary of 512 ids"));
    k.vocab_size = 0;
    k.greenlist_ratio = 0.001;
    EXPECT_THAT(GreenLists::create(k, 512),
                StatusIs(StatusCode::kInvalidArgument, "gives 0 green ids"));
    EXPECT_THAT(GreenLists::create(k, 1),
                StatusIs(StatusCode::kInvalidArgument, "vocabulary size 1"));
}

TEST(WatermarkTest, CounterDeduplicatesAndChecksIds) {
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    const std::vector<int32_t> ids = {403, 293, 403, 293, 403, 293};  // 3 distinct bigrams
    GreenCounter dedup(*L, true), all(*L, false);
    auto c = dedup.add(ids);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->scored, 2);  // (403,293) and (293,403)
    auto c2 = all.add(ids);
    ASSERT_TRUE(c2.ok());
    EXPECT_EQ(c2->scored, 5);
    auto again = dedup.add(ids);  // per response counted again, pooled not
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->scored, 2);
    EXPECT_EQ(dedup.pooled().scored, 2);
    EXPECT_THAT(dedup.add(std::vector<int32_t>{1, 600}),
                StatusIs(StatusCode::kOutOfRange, "token id 600 at position 1"));
}

TEST(WatermarkTest, BinomialTail) {
    EXPECT_NEAR(std::exp(log_binomial_sf(3, 5, 0.5)), 0.5, 1e-12);
    EXPECT_NEAR(log_binomial_sf(10, 10, 0.25), 10 * std::log(0.25), 1e-9);
    EXPECT_EQ(log_binomial_sf(0, 10, 0.25), 0.0);
    EXPECT_TRUE(std::isinf(log_binomial_sf(11, 10, 0.25)));
    // the summed and the incomplete-beta branches agree
    const double a = log_binomial_sf(26000, 100000, 0.25);
    const double b = log_beta_inc(26000.0, 100000.0 - 26000 + 1, 0.25);
    EXPECT_NEAR(a, b, 1e-6 * std::fabs(a));
    // far tail without underflow
    EXPECT_LT(log_binomial_sf(900, 1000, 0.25), -700.0);
}

TEST(WatermarkTest, ShortTextIsInconclusiveWithTokensNeeded) {
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    WatermarkOptions o;
    const int64_t need = watermark_tokens_needed(*L, o);
    EXPECT_GT(need, o.min_scored);
    EXPECT_LT(need, 200);
    GreenCount none;
    auto t = watermark_test(*L, none, o);
    EXPECT_EQ(t.verdict, WatermarkVerdict::kInconclusive);
    EXPECT_EQ(t.tokens_needed, need);
    GreenCount few{4, 3, 1};
    t = watermark_test(*L, few, o);
    EXPECT_EQ(t.verdict, WatermarkVerdict::kInconclusive);
    EXPECT_EQ(t.tokens_needed, need - 3);
    GreenCount many{400, 400, 100};
    t = watermark_test(*L, many, o);
    EXPECT_EQ(t.verdict, WatermarkVerdict::kNotDetected);
    EXPECT_NEAR(t.z, 0.0, 1e-12);
    GreenCount marked{300, 300, 150};
    t = watermark_test(*L, marked, o);
    EXPECT_EQ(t.verdict, WatermarkVerdict::kWatermarked);
    EXPECT_LT(t.p_value, 1e-6);
}

TEST(WatermarkTest, KsUniform) {
    std::vector<double> grid;
    for (int i = 0; i < 200; ++i) grid.push_back((i + 0.5) / 200.0);
    EXPECT_GT(ks_uniform(grid).p_value, 0.99);
    std::vector<double> low(200, 0.01);
    EXPECT_LT(ks_uniform(low).p_value, 1e-10);
    EXPECT_NEAR(ks_uniform(low).d, 0.99, 1e-12);
}

TEST(WatermarkTest, EngineHookWatermarksGeneration) {
    auto model = Model::open((stories_dir()).string());
    ASSERT_TRUE(model.ok());
    auto backend = make_backend(**model, DeviceKind::kCpu);
    ASSERT_TRUE(backend.ok());
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    GenerateRequest req;
    req.prompt = {1};
    req.max_new_tokens = 120;
    req.temperature = 1.0f;
    req.seed = 3;
    auto plain = (*backend)->generate(req);
    ASSERT_TRUE(plain.ok());
    int calls = 0;
    req.logits_processor = [&](std::span<const int32_t> ids, std::span<float> logits) {
        EXPECT_EQ(ids.size(), 1u + static_cast<size_t>(calls));
        ++calls;
        L->apply(ids, logits);
    };
    auto marked = (*backend)->generate(req);
    ASSERT_TRUE(marked.ok());
    EXPECT_EQ(calls, static_cast<int>(marked->tokens.size()));
    calls = 0;
    auto again = (*backend)->generate(req);  // deterministic for a seed
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->tokens, marked->tokens);
    auto score = [&](const GenerateResult& g) {
        std::vector<int32_t> ids = {1};
        ids.insert(ids.end(), g.tokens.begin(), g.tokens.end());
        GreenCounter c(*L, true);
        auto r = c.add(ids);
        EXPECT_TRUE(r.ok());
        return watermark_test(*L, *r, WatermarkOptions{});
    };
    EXPECT_LT(score(*marked).p_value, 1e-4);
    EXPECT_GT(score(*plain).p_value, 1e-3);
    // a processor forcing one id: logprobs stay the model's own
    req.logits_processor = [](std::span<const int32_t>, std::span<float> logits) {
        for (float& x : logits) x = -1e30f;
        logits[5] = 0.0f;
    };
    req.max_new_tokens = 3;
    auto forced = (*backend)->generate(req);
    ASSERT_TRUE(forced.ok());
    EXPECT_EQ(forced->tokens, (std::vector<int32_t>{5, 5, 5}));
    EXPECT_LT(forced->token_logprobs[0], -1.0f);
}

TEST(WatermarkTest, RadioactivityOfAnUnwatermarkedModelAndBadInputs) {
    auto model = Model::open(stories_dir().string());
    ASSERT_TRUE(model.ok());
    auto backend = make_backend(**model, DeviceKind::kCpu);
    ASSERT_TRUE(backend.ok());
    auto tok = Tokenizer::from_file(stories_dir().string());
    ASSERT_TRUE(tok.ok());
    auto L = GreenLists::create(key_of(kKey), 512);
    ASSERT_TRUE(L.ok());
    RadioactivityInput in;
    in.suspect = backend->get();
    in.suspect_tokenizer = tok->get();
    in.teacher_tokenizer = tok->get();
    RadioactivityOptions o;
    o.max_new_tokens = 48;
    EXPECT_THAT(watermark_radioactivity(*L, in, o),
                StatusIs(StatusCode::kInvalidArgument, "no prompts"));
    in.prompts = std::vector<std::string>(12, "");
    in.prompts.push_back("Once upon a time");
    auto data = collect_radioactivity(*L, in, o);
    ASSERT_TRUE(data.ok()) << data.status().to_string();
    EXPECT_FALSE(data->cross_tokenizer);
    auto r = evaluate_radioactivity(*L, *data, o);
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r->generation.p_value, 1e-3);
    EXPECT_GT(r->open_model.p_value, 1e-3);
    EXPECT_GT(r->open_model.contexts, 16);
    // a key of another scheme does not fit the collected data
    auto S = GreenLists::create(
        key_of(
            R"({"greenlist_ratio":0.25,"bias":2.0,"hashing_key":3,"seeding_scheme":"selfhash","context_width":1})"),
        512);
    ASSERT_TRUE(S.ok());
    EXPECT_THAT(evaluate_radioactivity(*S, *data, o),
                StatusIs(StatusCode::kInvalidArgument, "does not match"));
    // a suspect sharing almost no token strings with the teacher
    auto gpt2 = Tokenizer::from_file(
        (::modelprint::testing::shared_dir() / "tokenizers" / "gpt2").string());
    ASSERT_TRUE(gpt2.ok());
    in.teacher_tokenizer = gpt2->get();
    auto G = GreenLists::create(key_of(kKey), (*gpt2)->vocab_size());
    ASSERT_TRUE(G.ok());
    EXPECT_THAT(watermark_radioactivity(*G, in, o),
                StatusIs(StatusCode::kFailedPrecondition, "too few for a cross-tokenizer"));
}

}  // namespace
}  // namespace modelprint

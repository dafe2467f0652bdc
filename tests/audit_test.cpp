// Tests of the benchmark audit (forensics/audit*.h):
//  - statistics against scipy / 60-digit mpmath values (testdata/audit/stats_golden.json, made by
//    testdata/gen/make_audit_fixtures.py stats): Wilson 95% interval to 1e-12 absolute; binomial
//    log tails to 1e-9 relative (1e-6 relative for tails whose log is below 1e-6 in magnitude,
//    where lgamma cancellation leaves ~1e-16 absolute), including tails of 1e-182659 that
//    scipy underflows to -inf;
//  - SplitMix64 against Vigna's reference outputs and the Python permutation of the bench script;
//  - benchmark JSONL rules and every parse error, prompts, few-shot sampling, rendering and
//    controls, answer extraction;
//  - the engine path on the tiny fact models of testdata/audit (clean and leaked twins): above
//    chance, claim verdicts, contamination flagged on the leaked model and not on the clean one.
#include "forensics/audit.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fingerprint/base/mmap_file.h"
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

Json golden() {
    auto text = read_file((testdata_dir() / "audit" / "stats_golden.json").string());
    EXPECT_TRUE(text.ok());
    return Json::parse(text.ok() ? *text : "{}");
}

void expect_log_close(double got, double ref, const std::string& what) {
    if (std::isinf(ref)) {
        EXPECT_EQ(got, ref) << what;
        return;
    }
    EXPECT_LE(std::abs(got - ref), 1e-9 * std::max(1.0, std::abs(ref)))
        << what << " got " << got << " ref " << ref;
    if (std::abs(ref) < 1e-6 && ref != 0.0) {
        EXPECT_LE(std::abs(got - ref), 1e-6 * std::abs(ref))
            << what << " got " << got << " ref " << ref;
    }
}

// ---------------------------------------------------------------------------------- statistics

TEST(AuditStats, WilsonMatchesScipy) {
    const Json g = golden();
    ASSERT_GE(g["wilson"].size(), 10u);
    EXPECT_DOUBLE_EQ(kZ975, g["z_975"].get<double>());
    for (const Json& w : g["wilson"]) {
        auto iv = wilson_interval(w["k"].get<int64_t>(), w["n"].get<int64_t>());
        MP_ASSERT_OK(iv);
        EXPECT_NEAR(iv->low, w["low"].get<double>(), 1e-12) << w.dump();
        EXPECT_NEAR(iv->high, w["high"].get<double>(), 1e-12) << w.dump();
    }
}

TEST(AuditStats, BinomialTailsMatchExactReference) {
    const Json g = golden();
    ASSERT_GE(g["binom_tails"].size(), 15u);
    for (const Json& t : g["binom_tails"]) {
        const auto k = t["k"].get<int64_t>(), n = t["n"].get<int64_t>();
        const double p = t["p"].get<double>();
        auto lc = binom_log_cdf(k, n, p);
        auto ls = binom_log_sf_ge(k, n, p);
        MP_ASSERT_OK(lc);
        MP_ASSERT_OK(ls);
        expect_log_close(*lc, t["log_cdf"].get<double>(), "log_cdf " + t.dump());
        expect_log_close(*ls, t["log_sf_ge"].get<double>(), "log_sf_ge " + t.dump());
    }
}

TEST(AuditStats, BinomialEdgeCases) {
    EXPECT_EQ(*binom_log_cdf(-1, 10, 0.5), -INFINITY);
    EXPECT_EQ(*binom_log_cdf(10, 10, 0.5), 0.0);
    EXPECT_EQ(*binom_log_cdf(3, 10, 0.0), 0.0);
    EXPECT_EQ(*binom_log_cdf(3, 10, 1.0), -INFINITY);
    EXPECT_EQ(*binom_log_sf_ge(0, 10, 0.5), 0.0);
    EXPECT_EQ(*binom_log_sf_ge(11, 10, 0.5), -INFINITY);
    EXPECT_EQ(*binom_log_sf_ge(3, 10, 0.0), -INFINITY);
    EXPECT_EQ(*binom_log_sf_ge(3, 10, 1.0), 0.0);
    EXPECT_NEAR(*binom_log_cdf(0, 0, 0.3), 0.0, 0.0);
    EXPECT_THAT(binom_log_cdf(1, -1, 0.5), StatusIs(StatusCode::kInvalidArgument, "n = -1"));
    EXPECT_THAT(binom_log_sf_ge(1, 10, 1.5), StatusIs(StatusCode::kInvalidArgument, "p = 1.5"));
    EXPECT_THAT(binom_log_cdf(1, 10, NAN), StatusIs(StatusCode::kInvalidArgument, "not in [0, 1]"));
}

TEST(AuditStats, WilsonErrors) {
    EXPECT_THAT(wilson_interval(0, 0), StatusIs(StatusCode::kInvalidArgument, "n = 0"));
    EXPECT_THAT(wilson_interval(5, 4), StatusIs(StatusCode::kInvalidArgument, "k = 5"));
    EXPECT_THAT(wilson_interval(-1, 4), StatusIs(StatusCode::kInvalidArgument, "k = -1"));
    EXPECT_THAT(wilson_interval(1, 4, 0.0), StatusIs(StatusCode::kInvalidArgument, "z = 0"));
}

TEST(AuditStats, ClaimTest) {
    // 40/80 against a claim of 0.9: p = exp(-43.17...) -> not reproducible.
    auto t = test_claim(40, 80, 0.9, 0.05);
    MP_ASSERT_OK(t);
    EXPECT_FALSE(t->consistent);
    EXPECT_NEAR(t->log_p_value, -43.17194026705162, 1e-9 * 43.2);
    EXPECT_NEAR(t->log10_p_value, -43.17194026705162 / std::log(10.0), 1e-8);
    // The measured accuracy itself is consistent (P(X <= k | p = k/n) is about 1/2).
    auto m = test_claim(40, 80, 0.5, 0.05);
    MP_ASSERT_OK(m);
    EXPECT_TRUE(m->consistent);
    EXPECT_GT(m->p_value, 0.5);
    // Far below double range: the p-value underflows, its logarithm does not.
    auto x = test_claim(400, 1000, 0.99, 0.05);
    MP_ASSERT_OK(x);
    EXPECT_EQ(x->p_value, 0.0);
    EXPECT_NEAR(x->log_p_value, -2097.7633554972326, 1e-9 * 2097.8);
    EXPECT_FALSE(x->consistent);
    EXPECT_TRUE(test_claim(0, 10, 0.0, 0.05)->consistent);
    EXPECT_THAT(test_claim(40, 80, 90.0, 0.05), StatusIs(StatusCode::kInvalidArgument, "not 90"));
    EXPECT_THAT(test_claim(40, 80, 0.9, 0.0), StatusIs(StatusCode::kInvalidArgument, "alpha = 0"));
    EXPECT_THAT(test_claim(40, 0, 0.9, 0.05), StatusIs(StatusCode::kInvalidArgument, "n = 0"));
    EXPECT_THAT(test_claim(81, 80, 0.9, 0.05),
                StatusIs(StatusCode::kInvalidArgument, "81 correct"));
}

TEST(AuditStats, SignTestAndPermutationPValue) {
    EXPECT_NEAR(*sign_test_log_p(10, 0), std::log(1.0 / 1024.0), 1e-12);
    EXPECT_NEAR(*sign_test_log_p(5, 5), std::log(638.0 / 1024.0), 1e-12);
    EXPECT_EQ(*sign_test_log_p(0, 0), 0.0);
    EXPECT_THAT(sign_test_log_p(-1, 3), StatusIs(StatusCode::kInvalidArgument, "wins = -1"));
    const std::vector<double> perm = {1.0, 2.0, 3.0, 4.0};
    EXPECT_DOUBLE_EQ(permutation_p_value(5.0, perm), 1.0 / 5.0);
    EXPECT_DOUBLE_EQ(permutation_p_value(3.0, perm), 3.0 / 5.0);
    EXPECT_DOUBLE_EQ(permutation_p_value(0.0, perm), 1.0);
}

TEST(AuditStats, MinKPercent) {
    const std::vector<double> lp = {-0.1, -5.0, -0.2, -3.0, -0.3, -0.4, -0.5, -0.6, -0.7, -0.8};
    EXPECT_DOUBLE_EQ(*min_k_percent(lp, 0.2), -4.0);   // floor(10 * 0.2) = 2 lowest
    EXPECT_DOUBLE_EQ(*min_k_percent(lp, 0.05), -5.0);  // at least one token
    EXPECT_NEAR(*min_k_percent(lp, 1.0), -11.6 / 10.0, 1e-12);
    EXPECT_THAT(min_k_percent({}, 0.2), StatusIs(StatusCode::kInvalidArgument, "no scored tokens"));
    EXPECT_THAT(min_k_percent(lp, 0.0), StatusIs(StatusCode::kInvalidArgument, "ratio 0"));
    EXPECT_THAT(min_k_percent(lp, 1.5), StatusIs(StatusCode::kInvalidArgument, "ratio 1.5"));
}

TEST(AuditStats, SplitMix64AndPermutation) {
    SplitMix64 r(0);  // splitmix64.c reference outputs for seed 0
    EXPECT_EQ(r.next(), 0xE220A8397B1DCDAFULL);
    EXPECT_EQ(r.next(), 0x6E789E6AA1B965F4ULL);
    EXPECT_EQ(r.next(), 0x06C45D188009454FULL);
    // The same permutations as the Python implementation in bench/audit_vs_transformers.py.
    EXPECT_EQ(seeded_permutation(10, 1234), (std::vector<size_t>{0, 1, 8, 6, 4, 3, 7, 2, 9, 5}));
    EXPECT_EQ(seeded_permutation(5, 0), (std::vector<size_t>{2, 3, 1, 4, 0}));
    EXPECT_TRUE(seeded_permutation(0, 7).empty());
    SplitMix64 u(99);
    for (int i = 0; i < 1000; ++i) EXPECT_LT(u.uniform(7), 7u);
    EXPECT_EQ(u.uniform(1), 0u);
}

// ---------------------------------------------------------------------------------- benchmark

constexpr const char* kSmallBench =
    R"({"id": "q1", "question": "What is 2+2?", "choices": ["3", "4", "5"], "gold": 1})"
    "\n"
    R"({"query": "The sky is", "choices": ["blue", "green"], "answer": 0})"
    "\n"
    "\n"
    R"({"id": 7, "question": "How many legs has a cat?", "answer": "A cat has 4 legs.\n#### 4"})"
    "\r\n"
    R"({"prompt": "Colour of snow?", "answer": "White.", "extra": [1, 2]})"
    "\n"
    R"({"question": "Pick B", "choices": ["x", "y"], "gold": "B"})"
    "\n";

TEST(AuditBench, ParsesConventions) {
    auto b = parse_benchmark(kSmallBench, "small.jsonl");
    MP_ASSERT_OK(b);
    ASSERT_EQ(b->items.size(), 5u);
    EXPECT_EQ(b->n_multiple_choice, 3);
    EXPECT_EQ(b->n_generative, 2);
    EXPECT_EQ(b->items[0].id, "q1");
    EXPECT_EQ(b->items[0].gold, 1);
    EXPECT_EQ(b->items[1].id, "#1");
    EXPECT_TRUE(b->items[1].has_query);
    EXPECT_EQ(b->items[1].gold, 0);
    EXPECT_EQ(b->items[2].id, "7");
    EXPECT_EQ(b->items[2].kind, ItemKind::kGenerative);
    EXPECT_EQ(b->items[4].gold, 1);
    EXPECT_EQ(b->sha256.size(), 64u);
    EXPECT_EQ(item_prompt(b->items[0]), "Question: What is 2+2?\nAnswer:");
    EXPECT_EQ(item_prompt(b->items[1]), "The sky is");
    EXPECT_EQ(item_prompt(b->items[3]), "Question: Colour of snow?\nAnswer:");
    EXPECT_EQ(item_target(b->items[0]), "4");
    EXPECT_EQ(item_target(b->items[2]), "A cat has 4 legs.\n#### 4");
}

TEST(AuditBench, ParseErrors) {
    struct Case {
        const char* text;
        const char* msg;
    };
    const Case cases[] = {
        {"", "no benchmark items"},
        {"\n  \n", "no benchmark items"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 0", "b.jsonl line 1"},
        {"[1, 2]", "must be a JSON object"},
        {"{\"question\": \"q\", \"choices\": \"ab\", \"gold\": 0}", "\"choices\" is a string"},
        {"{\"question\": \"q\", \"choices\": [\"a\"], \"gold\": 0}", "has 1 entries"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \" \"], \"gold\": 0}",
         "choice 1 must be a non-empty string"},
        {"{\"question\": \"q\", \"choices\": [\"a\", 3], \"gold\": 0}", "choice 1"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": 2}",
         "\"gold\" = 2 is out of range for 2 choices"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"gold\": -1}", "\"gold\" = -1"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 1.5}",
         "\"answer\" must be a choice index"},
        {"{\"question\": \"q\", \"choices\": [\"a\", \"b\"]}", "needs \"gold\" or \"answer\""},
        {"{\"choices\": [\"a\", \"b\"], \"gold\": 0}",
         "needs \"query\", \"question\" or \"prompt\""},
        {"{\"question\": 5, \"choices\": [\"a\", \"b\"], \"gold\": 0}", "\"question\" is a number"},
        {"{\"question\": \"\", \"answer\": \"x\"}", "\"question\" is empty"},
        {"{\"query\": \"q\", \"answer\": \"x\"}", "needs \"question\" or \"prompt\""},
        {"{\"question\": \"q\"}", "needs \"answer\""},
        {"{\"question\": \"q\", \"answer\": [1]}", "\"answer\" must be a string or a number"},
        {"{\"question\": \"q\", \"answer\": \"  \"}", "\"answer\" is empty"},
        {"{\"id\": [], \"question\": \"q\", \"answer\": \"x\"}", "\"id\" must be"},
        {"{\"id\": \"a\", \"question\": \"q\", \"answer\": \"x\"}\n{\"id\": \"a\", \"question\": "
         "\"r\", \"answer\": \"y\"}",
         "line 2: duplicate item id \"a\""},
        {"{\"question\": \"q\", \"question\": \"r\", \"answer\": \"x\"}", "duplicate"},
    };
    for (const Case& c : cases) {
        EXPECT_THAT(parse_benchmark(c.text, "b.jsonl"), StatusIs(StatusCode::kCorruptData, c.msg))
            << c.text;
    }
    EXPECT_THAT(load_benchmark("/nonexistent/bench.jsonl"),
                StatusIs(StatusCode::kNotFound, "bench.jsonl"));
}

TEST(AuditBench, FewshotSampleIsFixedAndExcludesTheItem) {
    // seeded_permutation(10, 1234) starts 0, 1, 8, 6.
    EXPECT_EQ(*fewshot_indices(10, 5, 3, 1234), (std::vector<size_t>{0, 1, 8}));
    EXPECT_EQ(*fewshot_indices(10, 1, 3, 1234), (std::vector<size_t>{0, 8, 6}));
    EXPECT_TRUE(fewshot_indices(10, 1, 0, 1234)->empty());
    EXPECT_THAT(fewshot_indices(3, 0, 3, 1234),
                StatusIs(StatusCode::kInvalidArgument, "needs at least 4 items"));
    EXPECT_THAT(fewshot_indices(3, 0, -1, 1234),
                StatusIs(StatusCode::kInvalidArgument, "negative"));
    auto b = parse_benchmark(kSmallBench, "small.jsonl");
    MP_ASSERT_OK(b);
    EXPECT_EQ(fewshot_context(b->items, {1, 2}, b->items[0]),
              "The sky is blue\n\nQuestion: How many legs has a cat?\nAnswer: A cat has 4 "
              "legs.\n#### 4\n\n"
              "Question: What is 2+2?\nAnswer:");
}

TEST(AuditBench, RenderingAndControls) {
    auto b = parse_benchmark(kSmallBench, "small.jsonl");
    MP_ASSERT_OK(b);
    EXPECT_EQ(render_item_text(b->items[0]),
              "Question: What is 2+2?\nA. 3\nB. 4\nC. 5\nAnswer: B. 4");
    EXPECT_EQ(render_item_text(b->items[0], true),
              "Question: What is 2+2?\nA. 5\nB. 4\nC. 3\nAnswer: B. 4");
    EXPECT_EQ(render_item_text(b->items[1], true),
              "The sky is\nA. green\nB. blue\nAnswer: B. blue");
    EXPECT_EQ(render_item_text(b->items[3]), "Question: Colour of snow?\nAnswer: White.");
    EXPECT_EQ(render_item_text(b->items[3], true), render_item_text(b->items[3]));
}

TEST(AuditBench, AnswerExtraction) {
    EXPECT_EQ(cut_generation(" 42\n\nQuestion: next"), " 42");
    EXPECT_EQ(cut_generation(" 42 Question: x"), " 42 ");
    EXPECT_EQ(cut_generation("abc"), "abc");
    EXPECT_EQ(last_number("3 apples and 1,234.00 pears."), "1234");
    EXPECT_EQ(last_number("it is -7."), "-7");
    EXPECT_EQ(last_number("x = 3.50"), "3.50");
    EXPECT_EQ(last_number("007 and 0.5"), "0.5");
    EXPECT_EQ(last_number("007"), "7");
    EXPECT_EQ(last_number("a - 5"), "5");
    EXPECT_FALSE(last_number("no digits").has_value());

    auto b = parse_benchmark(kSmallBench, "small.jsonl");
    MP_ASSERT_OK(b);
    const BenchItem& legs = b->items[2];  // "#### 4"
    Graded g = grade_generation(legs, " A cat has 4 legs.\n#### 4\n\nQuestion: How many");
    EXPECT_TRUE(g.numeric);
    EXPECT_EQ(g.gold, "4");
    EXPECT_EQ(g.predicted, "4");
    EXPECT_TRUE(g.correct);
    EXPECT_FALSE(grade_generation(legs, " 4 legs, maybe 5").correct);  // last number wins
    EXPECT_FALSE(grade_generation(legs, " many").correct);
    EXPECT_EQ(grade_generation(legs, " many").predicted, "");
    const BenchItem& snow = b->items[3];  // text mode, gold "White."
    EXPECT_FALSE(grade_generation(snow, " ").correct);
    Graded s = grade_generation(snow, "  white.\nmore text");
    EXPECT_FALSE(s.numeric);
    EXPECT_EQ(s.gold, "white");
    EXPECT_TRUE(s.correct);
    EXPECT_FALSE(grade_generation(snow, " white snow").correct);
    auto num = parse_benchmark(R"({"question": "q", "answer": 12})", "n");
    MP_ASSERT_OK(num);
    EXPECT_TRUE(grade_generation(num->items[0], " The total is 12.").correct);
    EXPECT_TRUE(grade_generation(num->items[0], " The total is 12.").numeric);
}

// ---------------------------------------------------------------------------------- engine

struct TinyModel {
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tok;
    std::unique_ptr<Backend> backend;
};

TinyModel open_tiny(const std::string& name) {
    TinyModel t;
    const std::string dir = (testdata_dir() / "audit" / name).string();
    auto m = Model::open(dir);
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    if (!m.ok()) return t;
    t.model = std::move(m).value();
    auto tok = Tokenizer::from_file(dir);
    EXPECT_TRUE(tok.ok()) << tok.status().to_string();
    if (tok.ok()) t.tok = std::move(tok).value();
    auto be = CpuBackend::create(*t.model, BackendOptions{1, false, 0, -1});
    EXPECT_TRUE(be.ok()) << be.status().to_string();
    if (be.ok()) t.backend = std::move(be).value();
    return t;
}

AuditOptions tiny_options(const TinyModel& t) {
    AuditOptions o;
    o.context_window = t.model->config().max_position;
    if (auto e = t.tok->eos_id()) o.stop_ids.push_back(*e);
    return o;
}

Benchmark facts_bench() {
    auto b = load_benchmark((testdata_dir() / "audit" / "facts_bench.jsonl").string());
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    return b.ok() ? std::move(b).value() : Benchmark{};
}

TEST(AuditEngine, TokenLogprobsBatchingAgrees) {
    TinyModel t = open_tiny("clean");
    ASSERT_TRUE(t.backend);
    std::vector<std::vector<int32_t>> seqs;
    for (const char* s :
         {"The capital of", "Question: What is the capital of a place?\nAnswer:", "x"}) {
        auto ids = t.tok->encode(s, true);
        MP_ASSERT_OK(ids);
        seqs.push_back(*ids);
    }
    seqs.back().push_back(seqs[0][0]);
    const std::vector<size_t> from = {1, 3, 1};
    auto big = token_logprobs(*t.backend, seqs, from, int64_t{1} << 30);
    auto small = token_logprobs(*t.backend, seqs, from, 1);  // one sequence per engine call
    MP_ASSERT_OK(big);
    MP_ASSERT_OK(small);
    ASSERT_EQ(big->size(), 3u);
    EXPECT_EQ((*big)[1].size(), seqs[1].size() - 3);
    for (size_t i = 0; i < 3; ++i) {
        ASSERT_EQ((*big)[i].size(), (*small)[i].size());
        for (size_t k = 0; k < (*big)[i].size(); ++k) {
            EXPECT_NEAR((*big)[i][k], (*small)[i][k], 1e-4);  // BLAS blocking differs by batch
            EXPECT_LE((*big)[i][k], 0.0);
        }
    }
    // Against a direct prefill and a log-softmax written out here.
    PrefillRequest req;
    req.sequences = {seqs[0]};
    auto pr = t.backend->prefill(req);
    MP_ASSERT_OK(pr);
    const size_t V = static_cast<size_t>(pr->vocab_size);
    for (size_t pos = 1; pos < seqs[0].size(); ++pos) {
        const float* row = pr->outputs[0].logits.data() + (pos - 1) * V;
        double z = 0.0;
        for (size_t v = 0; v < V; ++v) z += std::exp(static_cast<double>(row[v]));
        EXPECT_NEAR((*big)[0][pos - 1], row[seqs[0][pos]] - std::log(z), 1e-9);
    }
    EXPECT_THAT(token_logprobs(*t.backend, seqs, {0, 1, 1}, 1 << 20),
                StatusIs(StatusCode::kInternal, "start 0"));
    // The log-softmax threads do not change a bit of the result.
    auto one = token_logprobs(*t.backend, seqs, from, int64_t{1} << 30, 1);
    auto three = token_logprobs(*t.backend, seqs, from, int64_t{1} << 30, 3);
    MP_ASSERT_OK(one);
    MP_ASSERT_OK(three);
    EXPECT_EQ(*one, *three);
    EXPECT_EQ(*one, *big);
    // A token id outside the vocabulary is refused with the id and the size.
    std::vector<std::vector<int32_t>> bad = {{seqs[0][0], 100000}};
    EXPECT_THAT(token_logprobs(*t.backend, bad, {1}, 1 << 20),
                StatusIs(StatusCode::kOutOfRange, "token id 100000"));
}

TEST(AuditEngine, OptionErrorsComeFirst) {
    TinyModel t = open_tiny("clean");
    ASSERT_TRUE(t.backend);
    const Benchmark b = facts_bench();
    AuditOptions o = tiny_options(t);
    o.claim = 90.0;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--claim 90"));
    o = tiny_options(t);
    o.limit = 3;
    o.fewshot = 3;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--fewshot 3 needs at least 4"));
    o = tiny_options(t);
    o.mink_ratio = 0.0;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--mink-ratio"));
    o = tiny_options(t);
    o.contamination = true;
    o.permutations = 0;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--permutations 0"));
    o = tiny_options(t);
    o.max_new_tokens = 0;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--max-new-tokens 0"));
    o = tiny_options(t);
    o.alpha = 1.0;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--alpha 1"));
    o = tiny_options(t);
    o.threads = -1;
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kInvalidArgument, "--threads -1"));
    o = tiny_options(t);
    o.max_new_tokens = 300;  // the tiny models' context is 256
    EXPECT_THAT(run_audit(*t.backend, *t.tok, nullptr, b, o),
                StatusIs(StatusCode::kOutOfRange, "--max-new-tokens 300"));
}

// Per-item MC log-likelihoods against transformers (testdata/audit/reference.json), 0- and
// 2-shot: the same choice for every item whose two best choices are more than kTieGap apart, and
// log-likelihoods within kLlTol (f32 forward passes in different summation orders).
constexpr double kLlTol = 2e-3;
constexpr double kTieGap = 1e-2;

void expect_matches_reference(const std::string& label, int fewshot) {
    TinyModel t = open_tiny(label);
    ASSERT_TRUE(t.backend);
    const Benchmark b = facts_bench();
    auto text = read_file((testdata_dir() / "audit" / "reference.json").string());
    MP_ASSERT_OK(text);
    const Json ref = Json::parse(*text)["models"][label]["fewshot_" + std::to_string(fewshot)];
    AuditOptions o = tiny_options(t);
    o.fewshot = fewshot;
    auto r = run_audit(*t.backend, *t.tok, nullptr, b, o);
    MP_ASSERT_OK(r);
    size_t k = 0, compared = 0;
    for (const ItemResult& it : r->items) {
        if (it.kind != ItemKind::kMultipleChoice) continue;
        ASSERT_LT(k, ref.size());
        const Json& row = ref[k++];
        ASSERT_EQ(row["id"].get<std::string>(), it.id);
        const auto ll = row["loglik"].get<std::vector<double>>();
        ASSERT_EQ(ll.size(), it.loglik.size());
        for (size_t c = 0; c < ll.size(); ++c)
            EXPECT_NEAR(it.loglik[c], ll[c], kLlTol) << it.id << " choice " << c;
        std::vector<double> sorted = ll;
        std::sort(sorted.rbegin(), sorted.rend());
        if (sorted[0] - sorted[1] > kTieGap) {
            const auto best = std::max_element(ll.begin(), ll.end()) - ll.begin();
            EXPECT_EQ(it.pred_acc, best) << it.id;
            ++compared;
        }
    }
    EXPECT_EQ(k, ref.size());
    EXPECT_GE(compared, ref.size() - 2);
}

TEST(AuditEngine, CleanMatchesTransformers0Shot) { expect_matches_reference("clean", 0); }
TEST(AuditEngine, CleanMatchesTransformers2Shot) { expect_matches_reference("clean", 2); }
TEST(AuditEngine, LeakedMatchesTransformers0Shot) { expect_matches_reference("leaked", 0); }

TEST(AuditEngine, CleanModelAboveChanceAndClaimVerdicts) {
    TinyModel t = open_tiny("clean");
    ASSERT_TRUE(t.backend);
    const Benchmark b = facts_bench();
    ASSERT_EQ(b.items.size(), 80u);
    AuditOptions o = tiny_options(t);
    o.claim = 0.99;
    auto r = run_audit(*t.backend, *t.tok, nullptr, b, o);
    MP_ASSERT_OK(r);
    EXPECT_EQ(r->n, 80);
    EXPECT_EQ(r->n_mc, 48);
    EXPECT_EQ(r->n_gen, 32);
    // Chance: 1/4 for the 4-choice items, ~0 for the generative ones.
    auto mc = wilson_interval(r->correct_acc, r->n_mc);
    MP_ASSERT_OK(mc);
    EXPECT_GT(mc->low, 0.5) << r->correct_acc << "/" << r->n_mc;
    EXPECT_GT(r->ci.low, 0.25);
    EXPECT_GT(r->correct_gen, 4);
    ASSERT_TRUE(r->claim.has_value());
    EXPECT_FALSE(r->claim->consistent);
    EXPECT_EQ(audit_verdict(*r), "not-reproducible");
    EXPECT_LT(r->claim->p_value, 1e-6);
    o.claim = r->accuracy;  // the measured accuracy itself
    auto same = run_audit(*t.backend, *t.tok, nullptr, b, o);
    MP_ASSERT_OK(same);
    EXPECT_EQ(same->correct, r->correct);  // deterministic
    EXPECT_EQ(audit_verdict(*same), "consistent");
    EXPECT_GT(same->claim->p_value, 0.4);
    // JSON keys of the issue.
    const Json j = Json::parse(audit_result_json(*r, b, true));
    for (const char* key : {"accuracy", "ci_low", "ci_high", "n", "claim", "p_value", "verdict",
                            "items", "conventions"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j["verdict"], "not-reproducible");
    EXPECT_EQ(j["items"].size(), 80u);
    EXPECT_EQ(j["conventions"]["chat_template"], "none");
    EXPECT_FALSE(j.contains("contamination"));
    for (const auto& it : r->items) {
        const Json d = Json::parse(item_detail_json(it));
        EXPECT_EQ(d["id"], it.id);
    }
}

struct Signals {
    double min_k_p = 1.0, exch_p = 1.0, exch_z = 0.0;
};

Signals contamination(const std::string& label) {
    Signals s;
    TinyModel t = open_tiny(label);
    EXPECT_TRUE(t.backend);
    if (!t.backend) return s;
    AuditOptions o = tiny_options(t);
    o.contamination = true;
    o.permutations = 39;
    auto r = run_audit(*t.backend, *t.tok, nullptr, facts_bench(), o);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    if (!r.ok() || !r->min_k || !r->exchangeability) return s;
    EXPECT_EQ(r->min_k->pairs, 48);
    EXPECT_EQ(r->exchangeability->permutations, 39);
    EXPECT_EQ(r->exchangeability->permuted_loglik.size(), 39u);
    EXPECT_GE(r->exchangeability->shard_items, 2);
    s.min_k_p = r->min_k->p_value;
    s.exch_p = r->exchangeability->p_value;
    s.exch_z = r->exchangeability->z;
    return s;
}

// The leaked twin is flagged by both tests, the clean one by neither (alpha 0.05). Figures of
// docs/audit.md.
TEST(AuditEngine, ContaminationFlagsLeakedNotClean) {
    const Signals leaked = contamination("leaked");
    const Signals clean = contamination("clean");
    EXPECT_LT(leaked.min_k_p, 1e-6);
    EXPECT_LT(leaked.exch_p, 0.05);
    EXPECT_GT(leaked.exch_z, 3.0);
    EXPECT_GE(clean.min_k_p, 0.05);
    EXPECT_GE(clean.exch_p, 0.05);
    EXPECT_LT(clean.exch_z, 2.0);
}

TEST(AuditEngine, ChatTemplateFewshotAndLimitAreRecorded) {
    TinyModel t = open_tiny("clean");
    ASSERT_TRUE(t.backend);
    const Benchmark b = facts_bench();
    const ChatTemplate chat(ChatFormat::kChatML, "", "<|endoftext|>");
    AuditOptions o = tiny_options(t);
    o.limit = 6;
    o.fewshot = 2;
    o.max_new_tokens = 8;
    auto r = run_audit(*t.backend, *t.tok, &chat, b, o);
    MP_ASSERT_OK(r);
    EXPECT_EQ(r->n, 6);
    EXPECT_EQ(r->items.size(), 6u);
    EXPECT_EQ(r->chat_template, "chatml");
    const Json j = Json::parse(audit_result_json(*r, b, false));
    EXPECT_EQ(j["conventions"]["chat_template"], "chatml");
    EXPECT_EQ(j["conventions"]["fewshot"], 2);
    EXPECT_EQ(j["n"], 6);
    for (const ItemResult& it : r->items) {
        if (it.kind == ItemKind::kGenerative) {
            auto ids = t.tok->encode(it.generated, false);
            MP_ASSERT_OK(ids);
            EXPECT_LE(ids->size(), 9u);
        }
    }
}

}  // namespace
}  // namespace modelprint

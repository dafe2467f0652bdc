// Idiosyncrasy test (forensics/behavior_idio.h): per-byte scores of responses under the stories260K
// model against ProbeRunner::score, and the uncertain-half win test on hand-built byte scores.
#include "forensics/behavior_idio.h"

#include <gtest/gtest.h>

#include <cmath>

#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/calibration.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::stories_dir;

// One probe's scores: entropy and log-prob density per byte.
ByteScores bytes(std::vector<float> entropy, std::vector<float> logprob) {
    ByteScores b;
    b.entropy = std::move(entropy);
    b.logprob = std::move(logprob);
    return b;
}

// Four bytes per probe: bytes 0, 1 certain (entropy 0.1), bytes 2, 3 uncertain (entropy 2).
// The candidate is best on the uncertain bytes only; background scorers best on the certain ones.
struct Panel {
    std::vector<ByteScores> cand;
    std::vector<std::vector<ByteScores>> bg;
    std::vector<const std::vector<ByteScores>*> ptrs() const {
        std::vector<const std::vector<ByteScores>*> p;
        for (const auto& b : bg) p.push_back(&b);
        return p;
    }
};

Panel uncertain_winner(int probes, int scorers) {
    Panel p;
    for (int i = 0; i < probes; ++i) {
        p.cand.push_back(bytes({0.1f, 0.1f, 2.0f, 2.0f}, {-1.0f, -1.0f, -0.5f, -0.5f}));
    }
    p.bg.resize(static_cast<size_t>(scorers));
    for (auto& b : p.bg) {
        for (int i = 0; i < probes; ++i) {
            b.push_back(bytes({0.1f, 0.1f, 2.0f, 2.0f}, {-0.1f, -0.1f, -2.0f, -2.0f}));
        }
    }
    return p;
}

TEST(Idiosyncrasy, WinsOnTheUncertainHalfOnly) {
    const Panel p = uncertain_winner(10, 3);
    auto r = idiosyncrasy_test(p.cand, p.ptrs());
    MP_ASSERT_OK(r);
    ASSERT_TRUE(r->available);
    EXPECT_EQ(r->scorers, 3u);
    EXPECT_EQ(r->probes, 10);
    EXPECT_EQ(r->wins, 10);
    // p = 1/4: z = (1 - 0.25) / sqrt(0.25 * 0.75 / 10).
    EXPECT_NEAR(r->z, 0.75 / std::sqrt(0.1875 / 10), 1e-12);
    EXPECT_NEAR(r->binom_p, std::pow(0.25, 10), 1e-15);
    // All bytes: -3 for the candidate against -4.2 for every scorer: still wins.
    auto all = idiosyncrasy_test(p.cand, p.ptrs(), IdioSelection::kAll);
    MP_ASSERT_OK(all);
    EXPECT_EQ(all->wins, 10);
    // The certain half: the scorers are better there, the candidate never wins.
    auto certain = idiosyncrasy_test(p.cand, p.ptrs(), IdioSelection::kCertain);
    MP_ASSERT_OK(certain);
    EXPECT_EQ(certain->probes, 10);
    EXPECT_EQ(certain->wins, 0);
    EXPECT_NEAR(certain->z, -0.25 / std::sqrt(0.1875 / 10), 1e-12);
}

TEST(Idiosyncrasy, TiesLoseAndShortOrMissingProbesAreSkipped) {
    Panel p = uncertain_winner(6, 2);
    // Probe 0: one scorer ties the candidate on the uncertain half (a tie is not a win).
    p.bg[0][0] = p.cand[0];
    // Probe 1: a scorer has no score (empty); probe 2: only one byte covered by the candidate.
    p.bg[1][1] = ByteScores{};
    p.cand[2] = bytes({2.0f}, {-0.5f});
    // Probe 3: every byte equally uncertain: none lies strictly above the median.
    p.cand[3] = bytes({1.0f, 1.0f, 1.0f, 1.0f}, {0, 0, 0, 0});
    for (auto& b : p.bg) b[3] = bytes({1.0f, 1.0f, 1.0f, 1.0f}, {-1, -1, -1, -1});
    auto r = idiosyncrasy_test(p.cand, p.ptrs());
    MP_ASSERT_OK(r);
    EXPECT_EQ(r->probes, 3);  // probes 0, 4, 5
    EXPECT_EQ(r->wins, 2);
    EXPECT_NEAR(r->binom_p, binomial_sf(2, 3, 1.0 / 3.0), 1e-15);
}

TEST(Idiosyncrasy, SelectionUsesTheMedianOverScorersIncludingTheCandidate) {
    // Two background scorers find byte 1 uncertain, the candidate and one more do not: the
    // median over the four scorers (0.1, 0.1, 2, 2 -> 1.05) still marks it uncertain, above the
    // per-probe median of u = (0.1, 1.05, 0.1) -> 0.1.
    std::vector<ByteScores> cand = {bytes({0.1f, 0.1f, 0.1f}, {-3.0f, -0.2f, -3.0f})};
    std::vector<std::vector<ByteScores>> bg = {{bytes({0.1f, 2.0f, 0.1f}, {-0.1f, -1.0f, -0.1f})},
                                               {bytes({0.1f, 2.0f, 0.1f}, {-0.1f, -1.0f, -0.1f})},
                                               {bytes({0.1f, 0.1f, 0.1f}, {-0.1f, -1.0f, -0.1f})}};
    std::vector<const std::vector<ByteScores>*> ptrs = {&bg[0], &bg[1], &bg[2]};
    // Only byte 1 is selected (one byte < 2): the probe is skipped, nothing is available.
    auto r = idiosyncrasy_test(cand, ptrs);
    MP_ASSERT_OK(r);
    EXPECT_FALSE(r->available);
    // Two uncertain bytes (1 and 3): the candidate wins on them although it loses overall.
    cand[0] = bytes({0.1f, 0.1f, 0.1f, 0.1f}, {-3.0f, -0.2f, -3.0f, -0.2f});
    for (auto& b : bg) {
        const float h = b[0].entropy[1];
        b[0] = bytes({0.1f, h, 0.1f, h}, {-0.1f, -1.0f, -0.1f, -1.0f});
    }
    r = idiosyncrasy_test(cand, ptrs);
    MP_ASSERT_OK(r);
    EXPECT_EQ(r->probes, 1);
    EXPECT_EQ(r->wins, 1);
    auto all = idiosyncrasy_test(cand, ptrs, IdioSelection::kAll);
    MP_ASSERT_OK(all);
    EXPECT_EQ(all->wins, 0);
}

TEST(Idiosyncrasy, Errors) {
    const Panel p = uncertain_winner(4, 2);
    std::vector<ByteScores> shorter(3);
    std::vector<const std::vector<ByteScores>*> bad = {&p.bg[0], &shorter};
    EXPECT_THAT(idiosyncrasy_test(p.cand, bad),
                StatusIs(StatusCode::kInvalidArgument, "background scorer 1 has 3 probes"));
    bad = {&p.bg[0], nullptr};
    EXPECT_THAT(idiosyncrasy_test(p.cand, bad),
                StatusIs(StatusCode::kInvalidArgument, "background scorer 1"));
    // One background scorer: no test.
    auto one = idiosyncrasy_test(p.cand, {&p.bg[0]});
    MP_ASSERT_OK(one);
    EXPECT_FALSE(one->available);
}

TEST(ResponseBytes, AgreesWithProbeRunnerScoreOnStories) {
    auto m = Model::open(stories_dir().string());
    MP_ASSERT_OK(m);
    auto tok = load_model_tokenizer(**m);
    MP_ASSERT_OK(tok);
    auto backend = make_backend(**m, DeviceKind::kCpu);
    MP_ASSERT_OK(backend);
    auto probes = parse_probe_set(
        "{\"probe_set\": \"t\", \"version\": 1}\n"
        "{\"id\": \"a\", \"category\": \"open\", \"prompt\": \"Once upon a time\", "
        "\"max_new_tokens\": 12}\n"
        "{\"id\": \"b\", \"category\": \"open\", \"prompt\": \"Lily and Ben\", "
        "\"max_new_tokens\": 6}\n"
        "{\"id\": \"c\", \"category\": \"rare\", \"prompt\": \"Zoë saw a\", "
        "\"max_new_tokens\": 6}\n",
        "small");
    MP_ASSERT_OK(probes);
    auto runner = ProbeRunner::create(**backend, **tok, (*m)->config().vocab_size);
    MP_ASSERT_OK(runner);
    auto resp = (*runner)->generate(*probes);
    MP_ASSERT_OK(resp);
    // A response with a character outside the vocabulary (byte fallback) and one not scored.
    (*resp)[2] = " a 🐶 ran.";
    const std::vector<bool> present = {true, true, true};
    const int64_t V = (*m)->config().vocab_size;
    auto sc = (*runner)->score(*probes, *resp, present);
    MP_ASSERT_OK(sc);
    auto by = score_response_bytes(**runner, *probes, *resp, present);
    MP_ASSERT_OK(by);
    ASSERT_EQ(by->size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        const ByteScores& b = (*by)[i];
        // Every response byte is covered (responses are short) and the densities are sane:
        // log p <= 0, 0 <= entropy density <= log V per byte.
        ASSERT_EQ(b.size(), (*resp)[i].size()) << i;
        double sum = 0.0;
        for (size_t j = 0; j < b.size(); ++j) {
            EXPECT_LE(b.logprob[j], 0.0f);
            EXPECT_GE(b.entropy[j], 0.0f);
            EXPECT_LE(b.entropy[j], std::log(static_cast<double>(V)) + 1e-4);
            sum += b.logprob[j];
        }
        // Probe a's response re-tokenizes to its generated tokens at the prompt's end (no token
        // crosses the seam), so the byte densities add up to the token log-likelihood.
        if (i == 0) {
            EXPECT_NEAR(sum, (*sc)[0].sum_logprob, 1e-3);
        }
        EXPECT_LT(sum, 0.0);
    }
    // max_tokens cuts the covered bytes; an absent response is not scored.
    auto cut = score_response_bytes(**runner, *probes, *resp, {true, false, true}, 2);
    MP_ASSERT_OK(cut);
    EXPECT_GT((*cut)[0].size(), 0u);
    EXPECT_LT((*cut)[0].size(), (*resp)[0].size());
    EXPECT_EQ((*cut)[1].size(), 0u);

    EXPECT_THAT(score_response_bytes(**runner, *probes, *resp, {true}),
                StatusIs(StatusCode::kInvalidArgument, "1 flags for 3 probes"));
    EXPECT_THAT(score_response_bytes(**runner, *probes, *resp, present, 0),
                StatusIs(StatusCode::kInvalidArgument, "max_tokens 0"));
    // A model vocabulary smaller than the tokenizer's ids: both scorers refuse the same way.
    auto small = ProbeRunner::create(**backend, **tok, 3);
    MP_ASSERT_OK(small);
    EXPECT_THAT(score_response_bytes(**small, *probes, *resp, present),
                StatusIs(StatusCode::kOutOfRange, "vocabulary of 3"));
    EXPECT_THAT((*small)->score(*probes, *resp, present),
                StatusIs(StatusCode::kOutOfRange, "vocabulary of 3"));
}

}  // namespace
}  // namespace modelprint

// Behaviour index vector (fingerprint/behavior_vector.h): normalisation of the text, per-response
// unit scaling, the error for nothing answered, and that answers shared by two models raise the
// cosine over answers that are not.
#include "fingerprint/behavior_vector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/util/test_util.h"

namespace modelprint {
namespace {

OutputPrint print_of(std::vector<std::string> responses) {
    OutputPrint p;
    p.source = "test";
    p.present.assign(responses.size(), true);
    p.responses = std::move(responses);
    return p;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += static_cast<double>(a[i]) * b[i];
        aa += static_cast<double>(a[i]) * a[i];
        bb += static_cast<double>(b[i]) * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

TEST(BehaviorVector, CaseAndWhitespaceDoNotMatter) {
    auto a = behavior_index_vector(print_of({"The cat sat on the mat.", "Paris is the capital."}));
    auto b =
        behavior_index_vector(print_of({"  the CAT  sat\non the mat.", "PARIS is\tthe capital."}));
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), static_cast<size_t>(kBehaviorVectorDim));
    EXPECT_EQ(*a, *b);
}

TEST(BehaviorVector, EachResponseHasUnitWeight) {
    // One response repeated ten times has the same direction and norm as once: per-response
    // vectors are unit length, so a long answer does not outweigh the others.
    auto once = behavior_index_vector(print_of({"hello world"}));
    auto many =
        behavior_index_vector(print_of({"hello world hello world hello world hello world"}));
    ASSERT_TRUE(once.ok() && many.ok());
    double n1 = 0, n2 = 0;
    for (float x : *once) n1 += static_cast<double>(x) * x;
    for (float x : *many) n2 += static_cast<double>(x) * x;
    EXPECT_NEAR(std::sqrt(n1), 1.0, 1e-6);
    EXPECT_NEAR(std::sqrt(n2), 1.0, 1e-6);
    EXPECT_GT(cosine(*once, *many), 0.9);
}

TEST(BehaviorVector, SharedAnswersAreCloserThanOtherAnswers) {
    const std::vector<std::string> teacher = {"I am a helpful assistant made by Example Labs.",
                                              "The answer is 42 because six times seven is 42.",
                                              "def add(a, b):\n    return a + b"};
    std::vector<std::string> student = teacher;
    student[1] = "The answer is 42, since six times seven is 42.";
    const std::vector<std::string> other = {"Hello! How can I help you today?",
                                            "Forty-two, I think.",
                                            "function add(x, y) { return x + y; }"};
    auto t = behavior_index_vector(print_of(teacher));
    auto s = behavior_index_vector(print_of(student));
    auto o = behavior_index_vector(print_of(other));
    ASSERT_TRUE(t.ok() && s.ok() && o.ok());
    EXPECT_GT(cosine(*t, *s), 0.9);
    EXPECT_LT(cosine(*t, *o), cosine(*t, *s) - 0.3);
}

TEST(BehaviorVector, MissingAndShortAnswersAreSkippedAndNothingIsAnError) {
    OutputPrint p = print_of({"ok", "a full answer", ""});
    p.present[1] = false;  // a transcript without this probe
    EXPECT_THAT(behavior_index_vector(p).status(),
                StatusIs(StatusCode::kFailedPrecondition, "no answered response"));
    p.present[1] = true;
    EXPECT_TRUE(behavior_index_vector(p).ok());
    EXPECT_EQ(behavior_vector_spec("abc"), "behavior-char3-512/v1:abc");
}

}  // namespace
}  // namespace modelprint

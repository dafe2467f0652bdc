// Malformed probe sets built byte by byte (hostile inputs, issue 15 item 11): rejections are
// kCorruptData (kInvalidArgument for a set with no probes) naming the source, the line and the
// field. The libFuzzer target is fuzz/fuzz_probes.cpp; its crash regressions are replayed by
// fuzz_corpus_test.
#include <string>

#include "fingerprint/probes/probe_set.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

const std::string kHeader = R"({"probe_set": "mine", "version": 1, "description": "d"})";
const std::string kProbe = R"({"id": "q1", "prompt": "Who are you?", "category": "identity"})";

std::string set_of(const std::string& line) { return kHeader + "\n" + kProbe + "\n" + line + "\n"; }

TEST(ProbesMalformed, EveryTruncationIsRejectedNamingTheLine) {
    MP_ASSERT_OK(parse_probe_set(set_of(R"({"id": "q2", "prompt": "x"})"), "p.jsonl"));
    const std::string line = R"({"id": "q2", "prompt": "x", "max_new_tokens": 12, "lang": "en"})";
    for (size_t n = 1; n < line.size(); ++n) {
        SCOPED_TRACE(n);
        EXPECT_THAT(parse_probe_set(set_of(line.substr(0, n)), "p.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "p.jsonl line 3"));
    }
    for (size_t n = 1; n < kHeader.size(); ++n) {
        SCOPED_TRACE(n);
        EXPECT_THAT(parse_probe_set(kHeader.substr(0, n) + "\n" + kProbe, "p.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "p.jsonl line 1"));
    }
}

TEST(ProbesMalformed, BadUtf8IsRejectedNamingTheLine) {
    for (const std::string& bad :
         {std::string("\x80"), std::string("\xf4\x90\x80\x80"),  // > U+10FFFF
          std::string("\xe0\x80\x80"), std::string("\xfe")}) {
        EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": ")" + bad + "\"}"), "p.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: invalid JSON"));
        EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": "a", "id": ")" + bad + "\"}"), "p.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: invalid JSON"));
    }
}

TEST(ProbesMalformed, DeepNestingIsRejected) {
    EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": "a", "x": )" + std::string(300, '[') +
                                       std::string(300, ']') + "}"),
                                "p.jsonl"),
                StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: invalid JSON: nesting deeper"));
    EXPECT_THAT(parse_probe_set(std::string(50000, '['), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData, "p.jsonl line 1"));
}

TEST(ProbesMalformed, HugeAndNonIntegralNumbersAreRejected) {
    for (const char* v : {"0", "-1", "4097", "2147483648", "4294967297", "18446744073709551615",
                          "18446744073709551616", "-9223372036854775808", "12.0", "1e2", "\"12\"",
                          "true", "null", "[12]"}) {
        SCOPED_TRACE(v);
        EXPECT_THAT(
            parse_probe_set(set_of(std::string(R"({"prompt": "a", "max_new_tokens": )") + v + "}"),
                            "p.jsonl"),
            StatusIs(StatusCode::kCorruptData,
                     "p.jsonl line 3: \"max_new_tokens\" must be an integer in 1..4096"));
    }
    // A number beyond double range is a JSON error of that line.
    EXPECT_THAT(
        parse_probe_set(set_of(R"({"prompt": "a", "max_new_tokens": 1e999})"), "p.jsonl"),
        StatusIs(
            StatusCode::kCorruptData,
            "p.jsonl line 3: invalid JSON: [json.exception.out_of_range.406] number overflow"));
    auto ok =
        parse_probe_set(set_of(R"({"id": "q2", "prompt": "a", "max_new_tokens": 4096})"), "p");
    MP_ASSERT_OK(ok);
    EXPECT_EQ(ok->probes[1].max_new_tokens, 4096);
    for (const char* v : {"-1", "1000001", "4294967296", "18446744073709551615", "1.5", "\"1\""}) {
        SCOPED_TRACE(v);
        EXPECT_THAT(
            parse_probe_set(std::string(R"({"probe_set": "x", "version": )") + v + "}\n" + kProbe,
                            "p.jsonl"),
            StatusIs(StatusCode::kCorruptData, "p.jsonl line 1: \"version\" must be an integer"));
    }
}

TEST(ProbesMalformed, WrongTypesNameTheField) {
    EXPECT_THAT(
        parse_probe_set(set_of(R"({"prompt": 7})"), "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: a probe needs a string \"prompt\""));
    EXPECT_THAT(
        parse_probe_set(set_of(R"({"prompt": "a", "id": 7})"), "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: \"id\" must be a string, got number"));
    EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": "a", "category": ["code"]})"), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData,
                         "p.jsonl line 3: \"category\" must be a string, got array"));
    EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": "a", "lang": {}})"), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData,
                         "p.jsonl line 3: \"lang\" must be a string, got object"));
    EXPECT_THAT(
        parse_probe_set(R"({"probe_set": "x", "description": 5})"
                        "\n" +
                            kProbe,
                        "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 1: \"description\" must be a string"));
    EXPECT_THAT(
        parse_probe_set(R"({"probe_set": null})"
                        "\n" +
                            kProbe,
                        "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 1: \"probe_set\" must be a string"));
    EXPECT_THAT(
        parse_probe_set(set_of(R"({"prompt": "a", "category": "Identity"})"), "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: unknown category \"Identity\""));
    EXPECT_THAT(
        parse_probe_set(set_of("\"just a string\""), "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: expected a JSON object, got string"));
}

TEST(ProbesMalformed, DuplicatesAreRejected) {
    EXPECT_THAT(parse_probe_set(set_of(R"({"prompt": "a", "prompt": "b"})"), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData,
                         "p.jsonl line 3: invalid JSON: duplicate key \"prompt\""));
    EXPECT_THAT(parse_probe_set(set_of(R"({"id": "q1", "prompt": "b"})"), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: duplicate probe id \"q1\""));
    // A default id ("p<line>") colliding with an explicit one is a duplicate too.
    EXPECT_THAT(
        parse_probe_set(set_of(R"({"prompt": "b"})") + R"({"id": "p3", "prompt": "c"})", "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 4: duplicate probe id \"p3\""));
    EXPECT_THAT(parse_probe_set(set_of(kHeader), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData,
                         "p.jsonl line 3: the \"probe_set\" header must be the first line"));
}

TEST(ProbesMalformed, MissingFieldsAndEmptySets) {
    EXPECT_THAT(parse_probe_set("", "p.jsonl"),
                StatusIs(StatusCode::kInvalidArgument, "p.jsonl: the probe set has no probes"));
    EXPECT_THAT(parse_probe_set(kHeader + "\n\n\r\n", "p.jsonl"),
                StatusIs(StatusCode::kInvalidArgument, "no probes"));
    EXPECT_THAT(
        parse_probe_set(set_of("{}"), "p.jsonl"),
        StatusIs(StatusCode::kCorruptData, "p.jsonl line 3: a probe needs a string \"prompt\""));
    EXPECT_THAT(parse_probe_set(set_of(R"({"response": "only"})"), "p.jsonl"),
                StatusIs(StatusCode::kCorruptData, "line 3: a probe needs a string \"prompt\""));
}

TEST(ProbesMalformed, TooManyProbesIsRejected) {
    std::string text;
    text.reserve((kMaxProbes + 1) * 16);
    for (size_t i = 0; i <= kMaxProbes; ++i) text += "{\"prompt\":\"\"}\n";
    EXPECT_THAT(parse_probe_set(text, "p.jsonl"),
                StatusIs(StatusCode::kCorruptData, "p.jsonl: more than 100000 probes"));
}

}  // namespace
}  // namespace modelprint

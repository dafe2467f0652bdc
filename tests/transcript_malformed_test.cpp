// Malformed transcripts built byte by byte (hostile inputs, issue 15 item 11): every rejection is
// kCorruptData (or kInvalidArgument for no entries) with a message naming the source, the line
// and the field; nothing crashes or is accepted half-read. The libFuzzer target is
// fuzz/fuzz_transcript.cpp; its crash regressions are replayed by fuzz_corpus_test.
#include <string>
#include <vector>

#include "fingerprint/transcript.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using namespace std::string_literals;

const std::string kLine = R"({"id": "q1", "prompt": "Who are you?", "response": " I am a model."})";

std::string lines(std::initializer_list<std::string> ls) {
    std::string out;
    for (const auto& l : ls) out += l + "\n";
    return out;
}

TEST(TranscriptMalformed, EveryTruncationIsRejectedNamingTheLine) {
    const std::string good = kLine + "\n";
    MP_ASSERT_OK(parse_transcript(good, "t.jsonl"));
    // The second line cut after every byte: only the complete line parses.
    for (size_t n = 1; n < kLine.size(); ++n) {
        const std::string text = good + kLine.substr(0, n);
        SCOPED_TRACE(n);
        auto t = parse_transcript(text, "t.jsonl");
        if (kLine.substr(0, n).find_first_not_of(" \t") == std::string::npos) {
            EXPECT_TRUE(t.ok());
            continue;
        }
        EXPECT_THAT(t, StatusIs(StatusCode::kCorruptData, "t.jsonl line 2"));
    }
}

TEST(TranscriptMalformed, BadUtf8IsRejectedNamingTheLine) {
    for (const std::string& bad :
         {std::string("\xff"), std::string("\xc3"), std::string("\xe4\xbd"),
          std::string("\xed\xa0\x80"),  // UTF-16 surrogate
          std::string("\xc0\xaf")}) {   // overlong '/'
        const std::string text =
            lines({kLine, R"({"prompt": "x)" + bad + R"(", "response": "y"})"});
        EXPECT_THAT(parse_transcript(text, "t.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: invalid JSON"));
    }
    // A lone surrogate escape is not UTF-8 either.
    EXPECT_THAT(parse_transcript(R"({"prompt": "\ud800", "response": "y"})", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: invalid JSON"));
    // Valid multi-byte text and escapes are kept exactly.
    auto ok = parse_transcript(R"({"prompt": "\u4f60\u597d \ud83d\ude00", "response": "é"})", "t");
    MP_ASSERT_OK(ok);
    EXPECT_EQ(ok->entries[0].prompt, "\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80");
    EXPECT_EQ(ok->entries[0].response, "\xc3\xa9");
}

TEST(TranscriptMalformed, DeepNestingIsRejected) {
    const std::string deep = std::string(200, '[') + std::string(200, ']');
    EXPECT_THAT(
        parse_transcript(lines({kLine, R"({"prompt": "a", "response": "b", "x": )" + deep + "}"}),
                         "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: invalid JSON: nesting deeper"));
    // 100000 levels must not overflow the stack either.
    const std::string very_deep = std::string(100000, '{');
    EXPECT_THAT(parse_transcript(very_deep, "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1"));
}

TEST(TranscriptMalformed, WrongTypesNameTheField) {
    EXPECT_THAT(parse_transcript(R"({"prompt": 1e999, "response": "b"})", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1"));
    EXPECT_THAT(
        parse_transcript(R"({"prompt": ["a"], "response": "b"})", "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "line 1: a transcript line needs a string \"prompt\""));
    const auto null_response = parse_transcript(R"({"prompt": "a", "response": null})", "t.jsonl");
    EXPECT_THAT(null_response, StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: "));
    EXPECT_THAT(null_response, StatusIs(StatusCode::kCorruptData, "\"response\""));
    EXPECT_THAT(parse_transcript(R"({"prompt": "a", "response": {"text": "b"}})", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "\"response\""));
    EXPECT_THAT(
        parse_transcript(
            lines({kLine, R"({"prompt": "a", "response": "b", "id": 18446744073709551616})"}),
            "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: \"id\" must be a string"));
    EXPECT_THAT(
        parse_transcript(lines({kLine, "[1, 2]"}), "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: expected a JSON object, got array"));
    EXPECT_THAT(
        parse_transcript("123456789012345678901234567890", "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: expected a JSON object, got number"));
}

TEST(TranscriptMalformed, DuplicateKeysAreRejectedNotLastWins) {
    // nlohmann alone would keep the last "response"; a hostile line could hide an answer.
    EXPECT_THAT(
        parse_transcript(lines({kLine, R"({"prompt": "a", "response": "b", "response": "c"})"}),
                         "t.jsonl"),
        StatusIs(StatusCode::kCorruptData,
                 "t.jsonl line 2: invalid JSON: duplicate key \"response\""));
    EXPECT_THAT(
        parse_transcript(R"({"prompt": "a", "response": "b", "m": {"k": 1, "k": 2}})", "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "duplicate key \"k\""));
}

TEST(TranscriptMalformed, ControlBytesAndLineEndings) {
    // A raw NUL or newline inside a string is not JSON; "\u0000" is, and is kept.
    EXPECT_THAT(parse_transcript("{\"prompt\": \"a\0b\", \"response\": \"c\"}"s, "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: invalid JSON"));
    EXPECT_THAT(parse_transcript("{\"prompt\": \"a\nb\", \"response\": \"c\"}", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1"));
    auto nul = parse_transcript(R"({"prompt": "a\u0000b", "response": "c"})", "t.jsonl");
    MP_ASSERT_OK(nul);
    EXPECT_EQ(nul->entries[0].prompt, std::string("a\0b", 3));
    // CRLF and blank lines are fine; line numbers count the blank lines.
    EXPECT_THAT(parse_transcript(kLine + "\r\n\r\n  \t\r\n{\"prompt\": 3}\r\n", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 4"));
    // A byte-order mark before the first line is not a transcript line.
    auto bom = parse_transcript("\xef\xbb\xbf" + kLine, "t.jsonl");
    if (!bom.ok()) {
        EXPECT_THAT(bom, StatusIs(StatusCode::kCorruptData, "t.jsonl line 1"));
    }
    // Trailing garbage after the object.
    EXPECT_THAT(parse_transcript(kLine + " x", "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: invalid JSON"));
    EXPECT_THAT(parse_transcript(kLine + kLine, "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "t.jsonl line 1: invalid JSON"));
}

TEST(TranscriptMalformed, MissingFieldsAndEmptyInputs) {
    EXPECT_THAT(parse_transcript("", "t.jsonl"),
                StatusIs(StatusCode::kInvalidArgument, "the transcript has no entries"));
    EXPECT_THAT(parse_transcript(" \n\t\n\r\n", "t.jsonl"),
                StatusIs(StatusCode::kInvalidArgument, "no entries"));
    EXPECT_THAT(parse_transcript(lines({kLine, "{}"}), "t.jsonl"),
                StatusIs(StatusCode::kCorruptData,
                         "t.jsonl line 2: a transcript line needs a string \"prompt\""));
    EXPECT_THAT(parse_transcript(lines({kLine, R"({"Prompt": "a", "Response": "b"})"}), "t.jsonl"),
                StatusIs(StatusCode::kCorruptData, "line 2"));
}

TEST(TranscriptMalformed, SeveralResponsesAndDuplicatePrompts) {
    auto ok = parse_transcript(lines({kLine, R"({"prompt": "b", "responses": ["1", "2", "3"]})"}),
                               "t.jsonl");
    MP_ASSERT_OK(ok);
    EXPECT_EQ(ok->entries[1].response, "1");
    EXPECT_EQ(ok->entries[1].alternatives, (std::vector<std::string>{"2", "3"}));
    EXPECT_EQ(ok->entries[1].line, 2u);
    for (const char* bad :
         {R"([])", R"("x")", R"({"a": "b"})", R"(null)", R"(["a", 1])", R"([["a"]])"}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(parse_transcript(
                        lines({kLine, std::string(R"({"prompt": "b", "responses": )") + bad + "}"}),
                        "t.jsonl"),
                    StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: \"responses\""));
    }
    EXPECT_THAT(
        parse_transcript(lines({kLine, R"({"prompt": "b", "response": "x", "responses": ["y"]})"}),
                         "t.jsonl"),
        StatusIs(StatusCode::kCorruptData,
                 "t.jsonl line 2: give \"response\" or \"responses\", not both"));
    EXPECT_THAT(
        parse_transcript(lines({kLine, "", R"({"prompt": "Who are you?", "response": "again"})"}),
                         "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 3: duplicate prompt (first on line 1)"));
    // Prompts that differ only by escapes are the same prompt once decoded.
    EXPECT_THAT(
        parse_transcript(lines({kLine, R"({"prompt": "Who are you\u003f", "response": "x"})"}),
                         "t.jsonl"),
        StatusIs(StatusCode::kCorruptData, "t.jsonl line 2: duplicate prompt"));
}

TEST(TranscriptMalformed, HugeLinesAndStringsAreReadWhole) {
    // A 1 MB response is data, not an error; its digest covers it.
    const std::string big(1 << 20, 'z');
    auto t = parse_transcript(R"({"prompt": "a", "response": ")" + big + "\"}", "t.jsonl");
    MP_ASSERT_OK(t);
    EXPECT_EQ(t->entries[0].response.size(), big.size());
    auto u = parse_transcript(R"({"prompt": "a", "response": ")" + big + "y\"}", "t.jsonl");
    MP_ASSERT_OK(u);
    EXPECT_NE(u->digest, t->digest);
}

}  // namespace
}  // namespace modelprint

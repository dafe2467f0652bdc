// Endpoint client: response shapes of OpenAI (legacy completions, chat), vLLM/SGLang and
// llama.cpp, built byte by byte; malformed and truncated bodies; request bodies per dialect;
// URL and error-body redaction; transcript lines, their round trip and the resumable appender.
#include <gtest/gtest.h>

#include <fstream>

#include "fingerprint/endpoint/endpoint_probe.h"
#include "fingerprint/endpoint/openai.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// OpenAI /v1/completions (legacy layout), as recorded from the API reference.
const char* kOpenAiLegacy =
    R"({"id":"cmpl-9","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct",)"
    R"("system_fingerprint":"fp_44709d6fcb","choices":[{"text":" a time","index":0,"logprobs":)"
    R"({"tokens":[" a"," time"],"token_logprobs":[-0.01,-0.2],"top_logprobs":[{" a":-0.01,)"
    R"(" the":-4.6},{" time":-0.2," day":-1.9}],"text_offset":[9,11]},"finish_reason":"length"}],)"
    R"("usage":{"prompt_tokens":2,"completion_tokens":2,"total_tokens":4}})";

// OpenAI /v1/chat/completions with logprobs: content layout with bytes.
const char* kOpenAiChat =
    R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",)"
    R"("system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hi!"},"logprobs":{"content":[{"token":"Hi","logprob":-0.3,"bytes":[72,105],)"
    R"("top_logprobs":[{"token":"Hi","logprob":-0.3,"bytes":[72,105]},{"token":"Hello",)"
    R"("logprob":-1.4,"bytes":[72,101,108,108,111]}]},{"token":"!","logprob":-0.05,"bytes":[33],)"
    R"("top_logprobs":[]}]},"finish_reason":"stop"}]})";

// vLLM /v1/completions: legacy layout; byte-fallback tokens; top_logprobs entries may be null.
const char* kVllm =
    R"({"id":"cmpl-abc","object":"text_completion","created":1,"model":"meta-llama/Llama-3.1-8B",)"
    R"("choices":[{"index":0,"text":" once","logprobs":{"text_offset":[0,5],"token_logprobs":)"
    R"([-1.5,-0.25],"tokens":[" once","<0x0A>"],"top_logprobs":[{" once":-1.5," upon":-2.0},null]},)"
    R"("finish_reason":"length","stop_reason":null,"prompt_logprobs":null}],"usage":{}})";

// llama.cpp server /v1/completions: content layout with ids (as recorded from xllamacpp).
const char* kLlamaCpp =
    R"({"choices":[{"text":" a time","index":0,"logprobs":{"content":[{"id":261,"token":" a",)"
    R"("bytes":[32,97],"logprob":-0.012,"top_logprobs":[{"id":261,"token":" a","bytes":[32,97],)"
    R"("logprob":-0.012},{"id":407,"token":" upon","bytes":[32,117,112,111,110],"logprob":-5.44}]},)"
    R"({"id":378,"token":" time","bytes":[32,116,105,109,101],"logprob":-0.0007,"top_logprobs":[]}]},)"
    R"("finish_reason":"length"}],"created":1796191032,"model":"stories260K",)"
    R"("system_fingerprint":"b0-unknown","object":"text_completion","id":"chatcmpl-oX"})";

TEST(EndpointParse, OpenAiLegacyCompletions) {
    auto r = parse_completion_response(kOpenAiLegacy, EndpointApi::kCompletions, "rec");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->model, "gpt-3.5-turbo-instruct");
    EXPECT_EQ(r->system_fingerprint, "fp_44709d6fcb");
    ASSERT_EQ(r->choices.size(), 1u);
    const auto& c = r->choices[0];
    EXPECT_EQ(c.text, " a time");
    EXPECT_EQ(c.finish_reason, "length");
    ASSERT_TRUE(c.has_logprobs);
    ASSERT_EQ(c.logprobs.size(), 2u);
    EXPECT_EQ(c.logprobs[1].token, " time");
    EXPECT_DOUBLE_EQ(c.logprobs[1].logprob, -0.2);
    ASSERT_EQ(c.logprobs[1].top.size(), 2u);
    EXPECT_EQ(c.logprobs[1].top[0].token, " time");  // sorted descending
    EXPECT_EQ(c.logprobs[1].top[1].token, " day");
}

TEST(EndpointParse, OpenAiChat) {
    auto r = parse_completion_response(kOpenAiChat, EndpointApi::kChat, "rec");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto& c = r->choices[0];
    EXPECT_EQ(c.text, "Hi!");
    EXPECT_EQ(c.finish_reason, "stop");
    ASSERT_EQ(c.logprobs.size(), 2u);
    EXPECT_EQ(c.logprobs[0].token, "Hi");
    EXPECT_EQ(c.logprobs[0].top[1].token, "Hello");
    EXPECT_FALSE(c.logprobs[0].id.has_value());
}

TEST(EndpointParse, VllmLegacyWithNullTop) {
    auto r = parse_completion_response(kVllm, EndpointApi::kCompletions, "rec");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto& c = r->choices[0];
    ASSERT_EQ(c.logprobs.size(), 2u);
    EXPECT_EQ(c.logprobs[1].token, "<0x0A>");
    EXPECT_TRUE(c.logprobs[1].top.empty());
    EXPECT_EQ(r->system_fingerprint, "");
}

TEST(EndpointParse, LlamaCppContentWithIds) {
    auto r = parse_completion_response(kLlamaCpp, EndpointApi::kCompletions, "rec");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    const auto& c = r->choices[0];
    ASSERT_EQ(c.logprobs.size(), 2u);
    EXPECT_EQ(c.logprobs[0].id.value_or(-1), 261);
    EXPECT_EQ(c.logprobs[1].token, " time");
    EXPECT_EQ(c.logprobs[0].top[1].token, " upon");
    EXPECT_EQ(r->model, "stories260K");
}

TEST(EndpointParse, ByteTokensKeepInvalidUtf8) {
    std::string body =
        R"({"choices":[{"text":"x","logprobs":{"content":[{"token":"\ufffd","bytes":[240,159],"logprob":-1}]}}]})";
    auto r = parse_completion_response(body, EndpointApi::kCompletions, "rec");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->choices[0].logprobs[0].token, std::string("\xF0\x9F"));
}

TEST(EndpointParse, NoLogprobsIsNotAnError) {
    std::string body = R"({"choices":[{"text":" hi","logprobs":null,"finish_reason":"stop"}]})";
    auto r = parse_completion_response(body, EndpointApi::kCompletions, "rec");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->choices[0].has_logprobs);
}

TEST(EndpointParse, MalformedBodies) {
    struct Case {
        std::string body;
        StatusCode code;
        std::string substr;
    };
    std::string full = kOpenAiLegacy;
    const std::vector<Case> cases = {
        {"<html>502 Bad Gateway</html>", StatusCode::kCorruptData, "not valid JSON"},
        {full.substr(0, full.size() / 2), StatusCode::kCorruptData, "truncated or malformed"},
        {"", StatusCode::kCorruptData, "not valid JSON"},
        {"[1,2]", StatusCode::kCorruptData, "not a JSON object"},
        {R"({"choices":[]})", StatusCode::kCorruptData, "no \"choices\""},
        {R"({"choices":[{"index":0}]})", StatusCode::kCorruptData, "no string \"text\""},
        {R"({"choices":[{"text":"a","logprobs":{"tokens":["a"],"token_logprobs":[]}}]})",
         StatusCode::kCorruptData, "of one length"},
        {R"({"choices":[{"text":"a","logprobs":{"tokens":["a"],"token_logprobs":[0.5]}}]})",
         StatusCode::kCorruptData, "is not <= 0"},
        {R"({"choices":[{"text":"a","logprobs":{"content":[{"token":"a"}]}}]})",
         StatusCode::kCorruptData, "numeric \"logprob\""},
        {R"({"choices":[{"text":"a","logprobs":{"content":[{"token":"a","logprob":-1,"bytes":[300]}]}}]})",
         StatusCode::kCorruptData, "not a byte"},
        {R"({"error":{"message":"overloaded"}})", StatusCode::kIoError, "overloaded"},
    };
    for (const auto& c : cases) {
        auto r = parse_completion_response(c.body, EndpointApi::kCompletions, "rec");
        EXPECT_THAT(r.status(), StatusIs(c.code, c.substr)) << c.body;
    }
    auto chat =
        parse_completion_response(R"({"choices":[{"text":"a"}]})", EndpointApi::kChat, "rec");
    EXPECT_THAT(chat.status(), StatusIs(StatusCode::kCorruptData, "no \"message\""));
}

TEST(EndpointParse, ModelList) {
    auto m = parse_model_list(
        R"({"object":"list","data":[{"id":"stories260K","owned_by":"llamacpp","aliases":["s"]}]})",
        "models");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->owned_by, "llamacpp");
    EXPECT_EQ(m->ids, (std::vector<std::string>{"stories260K", "s"}));
    EXPECT_EQ(dialect_from_owner(m->owned_by), ServerDialect::kLlamaCpp);
    EXPECT_EQ(dialect_from_owner("vllm"), ServerDialect::kVllm);
    EXPECT_EQ(dialect_from_owner("sglang"), ServerDialect::kSglang);
    EXPECT_EQ(dialect_from_owner("someone"), ServerDialect::kUnknown);
    EXPECT_THAT(parse_model_list("{\"data\": 3}", "models").status(),
                StatusIs(StatusCode::kCorruptData, "no \"data\""));
}

TEST(EndpointRequest, SamplingSentExplicitlyPerDialect) {
    CompletionRequest q;
    q.model = "m";
    q.prompt = "Once";
    q.sampling = {0.7, 16, 3, 42};
    std::string openai = completion_request_body(q, ServerDialect::kOpenAI);
    EXPECT_NE(openai.find("\"temperature\":0.7"), std::string::npos) << openai;
    EXPECT_NE(openai.find("\"top_p\":1.0"), std::string::npos);
    EXPECT_NE(openai.find("\"seed\":42"), std::string::npos);
    EXPECT_NE(openai.find("\"logprobs\":3"), std::string::npos);
    EXPECT_EQ(openai.find("top_k"), std::string::npos);  // OpenAI rejects unknown keys
    std::string vllm = completion_request_body(q, ServerDialect::kVllm);
    EXPECT_NE(vllm.find("\"top_k\":-1"), std::string::npos) << vllm;
    EXPECT_NE(vllm.find("\"repetition_penalty\":1.0"), std::string::npos);
    std::string lc = completion_request_body(q, ServerDialect::kLlamaCpp);
    EXPECT_NE(lc.find("\"top_k\":0"), std::string::npos) << lc;
    EXPECT_NE(lc.find("\"min_p\":0.0"), std::string::npos);
    EXPECT_NE(lc.find("\"repeat_penalty\":1.0"), std::string::npos);
    q.api = EndpointApi::kChat;
    std::string chat = completion_request_body(q, ServerDialect::kOpenAI);
    EXPECT_NE(chat.find("\"messages\":[{\"role\":\"user\",\"content\":\"Once\"}]"),
              std::string::npos)
        << chat;
    EXPECT_NE(chat.find("\"logprobs\":true"), std::string::npos);
    EXPECT_NE(chat.find("\"top_logprobs\":3"), std::string::npos);
}

TEST(EndpointSecrets, UrlAndErrorBodyRedaction) {
    EXPECT_EQ(redact_url("https://user:sk-secret@api.example.com/v1"),
              "https://***@api.example.com/v1");
    EXPECT_EQ(redact_url("http://127.0.0.1:8080/v1"), "http://127.0.0.1:8080/v1");
    std::string body = R"({"error":{"message":"Incorrect API key provided: sk-TOPSECRET-123"}})";
    std::string s = error_summary(body, "sk-TOPSECRET-123");
    EXPECT_EQ(s.find("TOPSECRET"), std::string::npos) << s;
    EXPECT_NE(s.find("Incorrect API key"), std::string::npos);
    EXPECT_EQ(parse_retry_after("12"), 12.0);
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1.0);
    EXPECT_EQ(parse_retry_after(""), -1.0);
}

TEST(EndpointClient, BadUrlsAndUnreachable) {
    EndpointOptions o;
    o.base_url = "ftp://x";
    EXPECT_THAT(EndpointClient::create(o).status(),
                StatusIs(StatusCode::kInvalidArgument, "http://"));
    o.base_url = "http://127.0.0.1:9";
    o.api_key = "a\nb";
    EXPECT_THAT(EndpointClient::create(o).status(),
                StatusIs(StatusCode::kInvalidArgument, "line break"));
    o.api_key = "sk-never-shown";
    o.http.max_retries = 1;
    o.http.backoff_initial_s = 0.01;
    o.http.connect_timeout_s = 2;
    auto c = EndpointClient::create(o);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->base_url(), "http://127.0.0.1:9/v1");
    CompletionRequest q;
    q.model = "m";
    q.prompt = "x";
    auto r = (*c)->complete(q, ServerDialect::kOpenAI);
    EXPECT_THAT(r.status(), StatusIs(StatusCode::kIoError, "unreachable"));
    EXPECT_EQ(r.status().message().find("sk-never-shown"), std::string::npos);
}

TEST(EndpointTranscript, LineRoundTripAndSeeds) {
    EndpointRecord r;
    r.id = "p1";
    r.prompt = "Once upon";
    r.served_model = "stories260K";
    r.system_fingerprint = "b0";
    EndpointSample s;
    s.text = " a time";
    s.seed = 7;
    s.has_logprobs = true;
    TokenLogprob t;
    t.token = std::string("\xE2\x96", 2);  // partial UTF-8
    t.id = 5;
    t.logprob = -0.25;
    s.logprobs.push_back(t);
    r.samples = {s, s};
    r.samples[1].text = " a day";
    EndpointProbeSettings st;
    st.model = "stories260K";
    st.sampling = {1.0, 8, 2, 3};
    st.samples = 2;
    st.endpoint = "http://127.0.0.1:1/v1";
    std::string line = endpoint_record_line(r, st);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    auto back = parse_endpoint_transcript(line + "\n", "t.jsonl");
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    ASSERT_EQ(back->records.size(), 1u);
    const auto& b = back->records[0];
    EXPECT_EQ(b.samples.size(), 2u);
    EXPECT_EQ(b.samples[1].text, " a day");
    EXPECT_EQ(b.samples[0].logprobs[0].token, t.token);  // exact bytes
    EXPECT_EQ(b.samples[0].logprobs[0].id.value_or(-1), 5);
    EXPECT_EQ(back->max_tokens, 8);
    EXPECT_EQ(b.served_model, "stories260K");
    EXPECT_EQ(sample_seed(1, "p1", 0), sample_seed(1, "p1", 0));
    EXPECT_NE(sample_seed(1, "p1", 0), sample_seed(1, "p1", 1));
    EXPECT_NE(sample_seed(1, "p1", 0), sample_seed(2, "p1", 0));
    EXPECT_LE(sample_seed(9, "x", 3), 0x7fffffffull);
    EXPECT_THAT(
        parse_endpoint_transcript(R"({"id":"a","prompt":"b","response":"c"})", "t").status(),
        StatusIs(StatusCode::kCorruptData, "samples"));
}

TEST(EndpointTranscript, AppenderCutsTornLineAndResumes) {
    TempDir dir;
    EndpointRecord r;
    r.id = "p1";
    r.prompt = "a";
    r.samples.push_back({" b", "length", 1, false, {}});
    EndpointProbeSettings st;
    std::string line = endpoint_record_line(r, st);
    std::string path = (dir / "t.jsonl").string();
    {
        std::ofstream f(path, std::ios::binary);
        f << line << "\n" << line.substr(0, line.size() / 2);  // a run killed inside a write
    }
    auto a = TranscriptAppender::open(path);
    ASSERT_TRUE(a.ok()) << a.status().to_string();
    EXPECT_TRUE((*a)->cut_torn_line());
    EXPECT_EQ((*a)->done().count("p1"), 1u);
    r.id = "p2";
    ASSERT_TRUE((*a)->append(endpoint_record_line(r, st)).ok());
    a = TranscriptAppender::open(path);
    ASSERT_TRUE(a.ok());
    EXPECT_FALSE((*a)->cut_torn_line());
    EXPECT_EQ((*a)->done().size(), 2u);
    // A corrupt whole line is an error, not silently skipped.
    {
        std::ofstream f(path, std::ios::app);
        f << "{not json}\n";
    }
    EXPECT_THAT(TranscriptAppender::open(path).status(),
                StatusIs(StatusCode::kCorruptData, "line 3"));
}

}  // namespace
}  // namespace modelprint

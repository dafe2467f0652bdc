// libFuzzer target: parse_transcript on arbitrary bytes (a hostile JSONL transcript of an API's
// answers). Invariants checked on an accepted transcript: it has entries, its digest is 64 hex
// digits, its ids and its prompts are unique, every entry records its line, response_for finds
// every entry by id or prompt, and writing it back (transcript_to_jsonl) and parsing that again
// gives the same entries (several answers included) and digest. Any violation aborts, which
// libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "fingerprint/transcript.h"
#include "fuzz/fuzz_targets.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
    modelprint::fuzz::invariant_broken("fuzz_transcript", what, detail);
}

using modelprint::fuzz::is_hex64;

}  // namespace

int modelprint::fuzz::fuzz_transcript(const uint8_t* data, size_t size) {
    using namespace modelprint;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto t = parse_transcript(text, "fuzz.jsonl");
    if (!t.ok()) {
        if (t.status().message().empty()) fail("error without a message", "");
        return 0;
    }
    if (t->entries.empty()) fail("accepted an empty transcript", t->source);
    if (!is_hex64(t->digest)) fail("digest", t->digest);
    std::set<std::string_view> ids, prompts;
    for (const TranscriptEntry& e : t->entries) {
        if (!e.id.empty() && !ids.insert(e.id).second) fail("duplicate id accepted", e.id);
        if (!prompts.insert(e.prompt).second) fail("duplicate prompt accepted", e.prompt);
        if (e.line == 0) fail("entry without its line", e.prompt);
        if (!t->response_for(e.id, e.prompt).has_value()) fail("response_for", e.prompt);
    }
    const std::string jsonl = transcript_to_jsonl(*t);
    auto again = parse_transcript(jsonl, "fuzz.jsonl (written back)");
    if (!again.ok()) fail("written transcript does not parse", again.status().to_string());
    if (again->digest != t->digest) fail("digest changed on round trip", again->digest);
    if (again->entries.size() != t->entries.size()) fail("entry count changed on round trip", "");
    for (size_t i = 0; i < t->entries.size(); ++i) {
        const TranscriptEntry &a = t->entries[i], &b = again->entries[i];
        if (a.id != b.id || a.prompt != b.prompt || a.response != b.response ||
            a.alternatives != b.alternatives) {
            fail("entry changed on round trip", a.prompt);
        }
    }
    return 0;
}

MP_FUZZ_DEFINE_MAIN(fuzz_transcript)

// Transcript parsing and writing (see transcript.h).
#include "fingerprint/transcript.h"

#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

namespace {

Json entry_json(const TranscriptEntry& e) {
    Json j = {{"prompt", e.prompt}, {"response", e.response}};
    if (!e.id.empty()) j["id"] = e.id;
    return j;
}

}  // namespace

std::optional<std::string_view> Transcript::response_for(std::string_view id,
                                                         std::string_view prompt) const {
    if (!id.empty()) {
        for (const auto& e : entries) {
            if (e.id == id) return std::string_view(e.response);
        }
    }
    for (const auto& e : entries) {
        if (e.prompt == prompt) return std::string_view(e.response);
    }
    return std::nullopt;
}

Result<Transcript> parse_transcript(std::string_view jsonl, std::string_view what) {
    Transcript t;
    t.source = std::string(what);
    std::set<std::string, std::less<>> ids;
    MP_TRY(for_each_jsonl_object(jsonl, what, [&](const Json& j, size_t line_no) -> Status {
        if (t.entries.size() >= kMaxTranscriptEntries) {
            return corrupt_data("{}: more than {} transcript entries", what,
                                kMaxTranscriptEntries);
        }
        TranscriptEntry e;
        for (const char* key : {"prompt", "response"}) {
            auto it = j.find(key);
            if (it == j.end() || !it->is_string()) {
                return corrupt_data("{} line {}: a transcript line needs a string \"{}\"", what,
                                    line_no, key);
            }
        }
        e.prompt = j["prompt"].get<std::string>();
        e.response = j["response"].get<std::string>();
        if (auto it = j.find("id"); it != j.end() && !it->is_null()) {
            if (!it->is_string()) {
                return corrupt_data("{} line {}: \"id\" must be a string", what, line_no);
            }
            e.id = it->get<std::string>();
            if (!ids.insert(e.id).second) {
                return corrupt_data("{} line {}: duplicate id \"{}\"", what, line_no, e.id);
            }
        }
        t.entries.push_back(std::move(e));
        return Status();
    }));
    if (t.entries.empty()) return invalid_argument("{}: the transcript has no entries", what);
    t.digest = sha256_hex(transcript_to_jsonl(t));
    return t;
}

Result<Transcript> load_transcript(const std::string& path) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    return parse_transcript(text, path);
}

std::string transcript_to_jsonl(const Transcript& t) {
    std::string out;
    for (const auto& e : t.entries) {
        out += canonical_json(entry_json(e));
        out += '\n';
    }
    return out;
}

bool is_transcript_path(std::string_view path) {
    return path.size() >= 6 && path.substr(path.size() - 6) == ".jsonl";
}

}  // namespace modelprint

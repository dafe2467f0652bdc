// Transcript parsing and writing (see transcript.h).
#include "fingerprint/transcript.h"

#include <map>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

namespace {

Json entry_json(const TranscriptEntry& e) {
    Json j = {{"prompt", e.prompt}};
    if (e.alternatives.empty()) {
        j["response"] = e.response;
    } else {
        Json rs = Json::array();
        rs.push_back(e.response);
        for (const auto& r : e.alternatives) rs.push_back(r);
        j["responses"] = rs;
    }
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
    std::map<std::string, size_t, std::less<>> prompts;  // prompt -> line
    MP_TRY(for_each_jsonl_object(jsonl, what, [&](const Json& j, size_t line_no) -> Status {
        if (t.entries.size() >= kMaxTranscriptEntries) {
            return corrupt_data("{}: more than {} transcript entries", what,
                                kMaxTranscriptEntries);
        }
        TranscriptEntry e;
        e.line = line_no;
        auto pit = j.find("prompt");
        if (pit == j.end() || !pit->is_string()) {
            return corrupt_data("{} line {}: a transcript line needs a string \"prompt\"", what,
                                line_no);
        }
        e.prompt = pit->get<std::string>();
        auto rit = j.find("response");
        auto rsit = j.find("responses");
        if (rit != j.end() && rsit != j.end()) {
            return corrupt_data("{} line {}: give \"response\" or \"responses\", not both", what,
                                line_no);
        }
        if (rit != j.end()) {
            if (!rit->is_string()) {
                return corrupt_data("{} line {}: \"response\" must be a string, got {}", what,
                                    line_no, rit->type_name());
            }
            e.response = rit->get<std::string>();
        } else if (rsit != j.end()) {
            if (!rsit->is_array() || rsit->empty()) {
                return corrupt_data("{} line {}: \"responses\" must be a non-empty array of "
                                    "strings", what, line_no);
            }
            for (size_t k = 0; k < rsit->size(); ++k) {
                const Json& r = (*rsit)[k];
                if (!r.is_string()) {
                    return corrupt_data("{} line {}: \"responses\"[{}] must be a string, got {}",
                                        what, line_no, k, r.type_name());
                }
                if (k == 0) e.response = r.get<std::string>();
                else e.alternatives.push_back(r.get<std::string>());
            }
        } else {
            return corrupt_data("{} line {}: a transcript line needs a string \"response\" (or "
                                "\"responses\": [...])", what, line_no);
        }
        if (auto it = j.find("id"); it != j.end() && !it->is_null()) {
            if (!it->is_string()) {
                return corrupt_data("{} line {}: \"id\" must be a string", what, line_no);
            }
            e.id = it->get<std::string>();
            if (!ids.insert(e.id).second) {
                return corrupt_data("{} line {}: duplicate id \"{}\"", what, line_no, e.id);
            }
        }
        if (auto [it, fresh] = prompts.emplace(e.prompt, line_no); !fresh) {
            return corrupt_data("{} line {}: duplicate prompt (first on line {}); give several "
                                "answers to one prompt on its line as \"responses\": [...]",
                                what, line_no, it->second);
        }
        t.entries.push_back(std::move(e));
        return Status();
    }));
    if (t.entries.empty()) {
        return invalid_argument("{}: no usable lines, the transcript has no entries (the file is "
                                "empty or blank; a transcript needs at least one {{\"prompt\", \"response\"}} line)", what);
    }
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

bool transcript_within(const Transcript& t, const std::vector<std::string>& probe_ids,
                       const std::vector<std::string>& probe_prompts) {
    std::set<std::string_view> id_set(probe_ids.begin(), probe_ids.end());
    std::set<std::string_view> prompt_set(probe_prompts.begin(), probe_prompts.end());
    for (const auto& e : t.entries) {
        const bool by_id = !e.id.empty() && id_set.count(e.id) > 0;
        if (!by_id && prompt_set.count(e.prompt) == 0) return false;
    }
    return true;
}

bool is_transcript_path(std::string_view path) {
    return path.size() >= 6 && path.substr(path.size() - 6) == ".jsonl";
}

}  // namespace modelprint

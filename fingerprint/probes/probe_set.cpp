// ProbeSet parsing, digest and the embedded default set (see probe_set.h).
#include "fingerprint/probes/probe_set.h"

#include <algorithm>
#include <array>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {

namespace {

constexpr std::string_view kDefaultText =
#include "fingerprint/probes/default_v1.inc"
    ;
constexpr std::string_view kDefaultV2Text =
#include "fingerprint/probes/default_v2.inc"
    ;

constexpr std::array<std::string_view, 9> kCategories = {
    "identity", "factual", "open", "code", "arithmetic", "reasoning", "refusal", "rare", "other"};

bool known_category(std::string_view c) {
    return std::find(kCategories.begin(), kCategories.end(), c) != kCategories.end();
}

Result<std::string> optional_string(const Json& j, const char* key, std::string_view what,
                                    size_t line) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) {
        return corrupt_data("{} line {}: \"{}\" must be a string, got {}", what, line, key,
                            it->type_name());
    }
    return it->get<std::string>();
}

bool valid_subset_name(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::vector<std::string> ProbeSet::subsets() const {
    std::vector<std::string> out;
    for (const Probe& p : probes) {
        if (std::find(out.begin(), out.end(), p.subset_name()) == out.end()) {
            out.push_back(p.subset_name());
        }
    }
    return out;
}

std::vector<size_t> ProbeSet::indices_of(std::string_view category) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < probes.size(); ++i) {
        if (probes[i].category == category) out.push_back(i);
    }
    return out;
}

int64_t ProbeSet::find(std::string_view id) const {
    for (size_t i = 0; i < probes.size(); ++i) {
        if (probes[i].id == id) return static_cast<int64_t>(i);
    }
    return -1;
}

std::string probe_set_digest(const ProbeSet& set) {
    Sha256 h;
    Json head = {{"probe_set", set.name}, {"version", set.version},
                 {"description", set.description}};
    h.update(canonical_json(head));
    h.update(std::string_view("\n"));
    for (const Probe& p : set.probes) {
        Json j = {{"id", p.id},         {"category", p.category},
                  {"lang", p.lang},     {"prompt", p.prompt},
                  {"max_new_tokens", p.max_new_tokens}};
        if (!p.subset.empty()) j["subset"] = p.subset;
        h.update(canonical_json(j));
        h.update(std::string_view("\n"));
    }
    Digest d = h.finish();
    return to_hex(d);
}

Result<ProbeSet> parse_probe_set(std::string_view jsonl, std::string_view what) {
    ProbeSet set;
    std::set<std::string, std::less<>> ids;
    bool first_content = true;
    MP_TRY(for_each_jsonl_object(jsonl, what, [&](const Json& j, size_t line_no) -> Status {
        const bool header = j.contains("probe_set");
        if (header) {
            if (!first_content) {
                return corrupt_data("{} line {}: the \"probe_set\" header must be the first line",
                                    what, line_no);
            }
            first_content = false;
            if (!j["probe_set"].is_string()) {
                return corrupt_data("{} line {}: \"probe_set\" must be a string", what, line_no);
            }
            set.name = j["probe_set"].get<std::string>();
            if (j.contains("version")) {
                if (!j["version"].is_number_integer() || j["version"].get<int64_t>() < 0 ||
                    j["version"].get<int64_t>() > 1000000) {
                    return corrupt_data("{} line {}: \"version\" must be an integer in 0..1000000",
                                        what, line_no);
                }
                set.version = j["version"].get<int>();
            }
            MP_ASSIGN_OR_RETURN(set.description, optional_string(j, "description", what, line_no));
            return Status();
        }
        first_content = false;
        if (set.probes.size() >= kMaxProbes) {
            return corrupt_data("{}: more than {} probes", what, kMaxProbes);
        }
        Probe p;
        auto it = j.find("prompt");
        if (it == j.end() || !it->is_string()) {
            return corrupt_data("{} line {}: a probe needs a string \"prompt\"", what, line_no);
        }
        p.prompt = it->get<std::string>();
        MP_ASSIGN_OR_RETURN(p.id, optional_string(j, "id", what, line_no));
        if (p.id.empty()) p.id = fmt::format("p{}", line_no);
        MP_ASSIGN_OR_RETURN(p.category, optional_string(j, "category", what, line_no));
        if (p.category.empty()) p.category = "other";
        if (!known_category(p.category)) {
            return corrupt_data(
                "{} line {}: unknown category \"{}\" (known: identity, factual, open, code, "
                "arithmetic, reasoning, refusal, rare, other)",
                what, line_no, p.category);
        }
        MP_ASSIGN_OR_RETURN(p.lang, optional_string(j, "lang", what, line_no));
        MP_ASSIGN_OR_RETURN(p.subset, optional_string(j, "subset", what, line_no));
        if (!p.subset.empty() && !valid_subset_name(p.subset)) {
            return corrupt_data(
                "{} line {}: subset \"{}\" must be 1..64 letters, digits, '-' or '_'", what,
                line_no, p.subset);
        }
        if (auto m = j.find("max_new_tokens"); m != j.end()) {
            if (!m->is_number_integer() || m->get<int64_t>() < 1 ||
                m->get<int64_t>() > kMaxProbeNewTokens) {
                return corrupt_data("{} line {}: \"max_new_tokens\" must be an integer in 1..{}",
                                    what, line_no, kMaxProbeNewTokens);
            }
            p.max_new_tokens = m->get<int>();
        }
        if (!ids.insert(p.id).second) {
            return corrupt_data("{} line {}: duplicate probe id \"{}\"", what, line_no, p.id);
        }
        set.probes.push_back(std::move(p));
        return Status();
    }));
    if (set.probes.empty()) return invalid_argument("{}: the probe set has no probes", what);
    set.digest = probe_set_digest(set);
    return set;
}

std::string_view default_probe_set_text() { return kDefaultText; }
std::string_view default_v2_probe_set_text() { return kDefaultV2Text; }

Result<ProbeSet> select_probe_subsets(const ProbeSet& set, std::string_view spec) {
    const std::vector<std::string> known = set.subsets();
    std::set<std::string, std::less<>> wanted;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string_view::npos) end = spec.size();
        std::string_view one = spec.substr(start, end - start);
        if (one.empty()) {
            return invalid_argument("probe set {}: empty subset name in \"{}\" (subsets: {})",
                                    set.name, spec, fmt::join(known, ", "));
        }
        if (std::find(known.begin(), known.end(), one) == known.end()) {
            return invalid_argument("probe set {}: no subset \"{}\" (subsets: {})", set.name, one,
                                    fmt::join(known, ", "));
        }
        wanted.insert(std::string(one));
        start = end + 1;
    }
    ProbeSet out;
    out.version = set.version;
    out.description = set.description;
    std::vector<std::string> order;
    for (const std::string& s : known) {
        if (wanted.count(s)) order.push_back(s);
    }
    out.name = fmt::format("{}:{}", set.name, fmt::join(order, ","));
    for (const Probe& p : set.probes) {
        if (wanted.count(p.subset_name())) out.probes.push_back(p);
    }
    out.digest = probe_set_digest(out);
    return out;
}

Result<ProbeSet> load_probe_set(const std::string& name_or_path) {
    const size_t colon = name_or_path.find(':');
    const std::string base = name_or_path.substr(0, colon);
    std::string_view text;
    std::string what;
    if (base == "default" || base == "default_v1") {
        text = kDefaultText;
        what = "built-in probe set default_v1";
    } else if (base == "default-v2" || base == "default_v2") {
        text = kDefaultV2Text;
        what = "built-in probe set default-v2";
    }
    if (text.empty()) {
        MP_ASSIGN_OR_RETURN(std::string file, read_file(name_or_path));
        return parse_probe_set(file, name_or_path);
    }
    MP_ASSIGN_OR_RETURN(ProbeSet set, parse_probe_set(text, what));
    if (colon == std::string::npos) return set;
    return select_probe_subsets(set, std::string_view(name_or_path).substr(colon + 1));
}

}  // namespace modelprint

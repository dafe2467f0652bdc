// Benchmark JSONL loading and the item text rules of the audit (see audit_bench.h).
#include "forensics/audit_bench.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "forensics/audit_stats.h"

namespace modelprint {
namespace {

constexpr std::string_view kTargetDelimiter = " ";
constexpr std::string_view kFewshotDelimiter = "\n\n";

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A string field that must be a non-empty string when present; nullopt when absent.
Result<std::optional<std::string>> string_field(const Json& j, const char* key,
                                                std::string_view where) {
    if (!j.contains(key)) return std::optional<std::string>();
    const Json& v = j[key];
    if (!v.is_string())
        return corrupt_data("{}: \"{}\" is a {}, not a string", where, key, v.type_name());
    std::string s = v.get<std::string>();
    if (trim(s).empty()) return corrupt_data("{}: \"{}\" is empty", where, key);
    return std::optional<std::string>(std::move(s));
}

Result<int> gold_index(const Json& v, const char* key, size_t n_choices, std::string_view where) {
    int64_t g = -1;
    if (v.is_number_integer()) {
        g = v.get<int64_t>();
    } else if (v.is_string() && v.get<std::string>().size() == 1 &&
               v.get<std::string>()[0] >= 'A' && v.get<std::string>()[0] <= 'Z') {
        g = v.get<std::string>()[0] - 'A';
    } else {
        return corrupt_data("{}: \"{}\" must be a choice index (integer) or a letter A-Z, got {}",
                            where, key, v.dump());
    }
    if (g < 0 || static_cast<size_t>(g) >= n_choices) {
        return corrupt_data("{}: \"{}\" = {} is out of range for {} choices", where, key, g,
                            n_choices);
    }
    return static_cast<int>(g);
}

Result<BenchItem> parse_item(const Json& j, size_t index, std::string_view where) {
    if (!j.is_object())
        return corrupt_data("{}: a benchmark item must be a JSON object, got {}", where,
                            j.type_name());
    BenchItem it;
    if (j.contains("id")) {
        const Json& id = j["id"];
        if (id.is_string() && !id.get<std::string>().empty())
            it.id = id.get<std::string>();
        else if (id.is_number_integer())
            it.id = std::to_string(id.get<int64_t>());
        else
            return corrupt_data("{}: \"id\" must be a non-empty string or an integer, got {}",
                                where, id.dump());
    } else {
        it.id = "#" + std::to_string(index);
    }
    MP_ASSIGN_OR_RETURN(auto query, string_field(j, "query", where));
    MP_ASSIGN_OR_RETURN(auto question, string_field(j, "question", where));
    MP_ASSIGN_OR_RETURN(auto prompt, string_field(j, "prompt", where));
    if (j.contains("choices")) {
        it.kind = ItemKind::kMultipleChoice;
        const Json& ch = j["choices"];
        if (!ch.is_array())
            return corrupt_data("{}: \"choices\" is a {}, not an array", where, ch.type_name());
        if (ch.size() < 2)
            return corrupt_data("{}: \"choices\" has {} entries (need at least 2)", where,
                                ch.size());
        for (size_t c = 0; c < ch.size(); ++c) {
            if (!ch[c].is_string() || trim(ch[c].get<std::string>()).empty()) {
                return corrupt_data("{}: choice {} must be a non-empty string, got {}", where, c,
                                    ch[c].dump());
            }
            it.choices.push_back(ch[c].get<std::string>());
        }
        if (query) {
            it.has_query = true;
            it.text = *query;
        } else if (question || prompt) {
            it.text = question ? *question : *prompt;
        } else {
            return corrupt_data(
                "{}: a multiple-choice item needs \"query\", \"question\" or \"prompt\"", where);
        }
        const char* key = j.contains("gold") ? "gold" : j.contains("answer") ? "answer" : nullptr;
        if (key == nullptr)
            return corrupt_data(
                "{}: a multiple-choice item needs \"gold\" or \"answer\" (the index of the correct "
                "choice)",
                where);
        MP_ASSIGN_OR_RETURN(it.gold, gold_index(j[key], key, it.choices.size(), where));
        return it;
    }
    it.kind = ItemKind::kGenerative;
    if (!question && !prompt) {
        return corrupt_data(
            "{}: a generative item needs \"question\" or \"prompt\" (or \"choices\" for multiple "
            "choice)",
            where);
    }
    it.text = question ? *question : *prompt;
    if (!j.contains("answer")) return corrupt_data("{}: a generative item needs \"answer\"", where);
    const Json& a = j["answer"];
    if (a.is_string())
        it.answer = a.get<std::string>();
    else if (a.is_number_integer())
        it.answer = std::to_string(a.get<int64_t>());
    else if (a.is_number())
        it.answer = a.dump();
    else
        return corrupt_data("{}: \"answer\" must be a string or a number, got {}", where,
                            a.type_name());
    if (trim(it.answer).empty()) return corrupt_data("{}: \"answer\" is empty", where);
    return it;
}

// Digits with commas removed, leading zeros and an all-zero fraction dropped: "1,000.00" -> "1000".
std::string normalise_number(std::string_view s) {
    std::string out;
    bool neg = false;
    size_t i = 0;
    if (!s.empty() && s[0] == '-') {
        neg = true;
        i = 1;
    }
    for (; i < s.size(); ++i) {
        if (s[i] != ',') out.push_back(s[i]);
    }
    const auto dot = out.find('.');
    if (dot != std::string::npos && out.find_first_not_of('0', dot + 1) == std::string::npos) {
        out.resize(dot);
    }
    const auto nz = out.find_first_not_of('0');
    if (nz == std::string::npos)
        out = "0";
    else if (out[nz] == '.')
        out = out.substr(nz - 1);
    else
        out = out.substr(nz);
    if (neg && out != "0") out = "-" + out;
    return out;
}

std::string normalise_text(std::string_view s) {
    s = trim(s);
    const auto nl = s.find('\n');
    if (nl != std::string_view::npos) s = trim(s.substr(0, nl));
    std::string out(s);
    if (!out.empty() && out.back() == '.') out.pop_back();
    out = std::string(trim(out));
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

Result<Benchmark> parse_benchmark(std::string_view text, std::string_view what) {
    Benchmark b;
    std::set<std::string> ids;
    size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (trim(line).empty()) continue;
        const std::string where = fmt::format("{} line {}", what, line_no);
        auto j = parse_json(line, where);
        if (!j.ok()) return corrupt_data("{}", j.status().message());
        MP_ASSIGN_OR_RETURN(BenchItem it, parse_item(*j, b.items.size(), where));
        if (!ids.insert(it.id).second)
            return corrupt_data("{}: duplicate item id \"{}\"", where, it.id);
        (it.kind == ItemKind::kMultipleChoice ? b.n_multiple_choice : b.n_generative) += 1;
        b.items.push_back(std::move(it));
    }
    if (b.items.empty())
        return corrupt_data("{}: no benchmark items (empty file or only blank lines)", what);
    b.sha256 = sha256_hex(text);
    return b;
}

Result<Benchmark> load_benchmark(const std::string& path) {
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    MP_ASSIGN_OR_RETURN(Benchmark b, parse_benchmark(text, path));
    b.path = path;
    b.name = std::filesystem::path(path).stem().string();
    return b;
}

std::string item_prompt(const BenchItem& item) {
    if (item.has_query) return item.text;
    return "Question: " + item.text + "\nAnswer:";
}

std::string item_target(const BenchItem& item) {
    if (item.kind == ItemKind::kMultipleChoice) return item.choices[static_cast<size_t>(item.gold)];
    return item.answer;
}

Result<std::vector<size_t>> fewshot_indices(size_t n, size_t index, int k, uint64_t seed) {
    if (k < 0) return invalid_argument("--fewshot {} is negative", k);
    std::vector<size_t> shots;
    if (k == 0) return shots;
    if (n < static_cast<size_t>(k) + 1) {
        return invalid_argument("--fewshot {} needs at least {} items; the benchmark has {}", k,
                                k + 1, n);
    }
    const std::vector<size_t> perm = seeded_permutation(n, seed);
    for (size_t i = 0; i <= static_cast<size_t>(k) && shots.size() < static_cast<size_t>(k); ++i) {
        if (perm[i] != index) shots.push_back(perm[i]);
    }
    return shots;
}

std::string fewshot_context(const std::vector<BenchItem>& items, const std::vector<size_t>& shots,
                            const BenchItem& item) {
    std::string s;
    for (size_t i : shots) {
        s += item_prompt(items[i]);
        s += kTargetDelimiter;
        s += item_target(items[i]);
        s += kFewshotDelimiter;
    }
    s += item_prompt(item);
    return s;
}

std::string render_item_text(const BenchItem& item, bool reversed_choices) {
    std::string head = item.has_query ? item.text : "Question: " + item.text;
    if (item.kind == ItemKind::kGenerative) return head + "\nAnswer: " + item.answer;
    const size_t n = item.choices.size();
    std::string s = head;
    size_t gold_pos = 0;
    for (size_t p = 0; p < n; ++p) {
        const size_t c = reversed_choices ? n - 1 - p : p;
        if (c == static_cast<size_t>(item.gold)) gold_pos = p;
        s += fmt::format("\n{}. {}", static_cast<char>('A' + p), item.choices[c]);
    }
    s += fmt::format("\nAnswer: {}. {}", static_cast<char>('A' + gold_pos),
                     item.choices[static_cast<size_t>(item.gold)]);
    return s;
}

std::string cut_generation(std::string_view generated) {
    size_t cut = generated.size();
    for (std::string_view stop : {std::string_view("\n\n"), std::string_view("Question:")}) {
        cut = std::min(cut, generated.find(stop) == std::string_view::npos ? generated.size()
                                                                           : generated.find(stop));
    }
    return std::string(generated.substr(0, cut));
}

std::optional<std::string> last_number(std::string_view text) {
    std::optional<std::string> last;
    size_t i = 0;
    while (i < text.size()) {
        const bool neg = text[i] == '-' && i + 1 < text.size() && is_digit(text[i + 1]);
        if (!neg && !is_digit(text[i])) {
            ++i;
            continue;
        }
        size_t j = neg ? i + 1 : i;
        while (j < text.size() && (is_digit(text[j]) || text[j] == ',')) ++j;
        if (j + 1 < text.size() && text[j] == '.' && is_digit(text[j + 1])) {
            ++j;
            while (j < text.size() && is_digit(text[j])) ++j;
        }
        last = normalise_number(text.substr(i, j - i));
        i = j;
    }
    return last;
}

Graded grade_generation(const BenchItem& item, std::string_view generated) {
    Graded g;
    const std::string cut = cut_generation(generated);
    std::string_view gold = item.answer;
    const auto hashes = gold.rfind("####");
    std::optional<std::string> gold_num;
    if (hashes != std::string_view::npos) {
        const std::string_view tail = trim(gold.substr(hashes + 4));
        gold_num = last_number(tail);
        if (!gold_num) gold_num = std::string(tail);
    } else {
        const std::string_view t = trim(gold);
        auto n = last_number(t);
        // numeric only when the whole answer is one number
        if (n && !t.empty() && (is_digit(t[0]) || t[0] == '-') &&
            t.find_first_not_of("-0123456789,.") == std::string_view::npos) {
            gold_num = n;
        }
    }
    if (gold_num) {
        g.numeric = true;
        g.gold = *gold_num;
        g.predicted = last_number(cut).value_or("");
    } else {
        g.gold = normalise_text(gold);
        g.predicted = normalise_text(cut);
    }
    g.correct = !g.predicted.empty() && g.predicted == g.gold;
    return g;
}

}  // namespace modelprint

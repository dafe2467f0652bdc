// nlohmann::json adapter: exceptions -> Status, duplicate keys and excessive nesting rejected.
#include "fingerprint/base/json.h"

#include <set>
#include <string>
#include <vector>

namespace modelprint {
namespace {

struct JsonReject {
    std::string why;
};

template <typename J>
Result<J> parse_impl(std::string_view text, std::string_view what, JsonParseOptions opt) {
    std::vector<std::set<std::string>> keys;
    auto cb = [&](int depth, typename J::parse_event_t event, J& parsed) -> bool {
        using E = typename J::parse_event_t;
        if (depth > opt.max_depth) {
            throw JsonReject{fmt::format("nesting deeper than {} levels", opt.max_depth)};
        }
        if (event == E::object_start) {
            keys.emplace_back();
        } else if (event == E::object_end) {
            if (!keys.empty()) keys.pop_back();
        } else if (event == E::key && opt.reject_duplicate_keys && !keys.empty()) {
            const std::string& k = parsed.template get_ref<const std::string&>();
            if (!keys.back().insert(k).second) {
                throw JsonReject{fmt::format("duplicate key \"{}\"", k)};
            }
        }
        return true;
    };
    try {
        return J::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true);
    } catch (const JsonReject& r) {
        return corrupt_data("{}: invalid JSON: {}", what, r.why);
    } catch (const std::exception& e) {
        return corrupt_data("{}: invalid JSON: {}", what, e.what());
    }
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what, JsonParseOptions options) {
    return parse_impl<Json>(text, what, options);
}

Result<OrderedJson> parse_json_ordered(std::string_view text, std::string_view what,
                                       JsonParseOptions options) {
    return parse_impl<OrderedJson>(text, what, options);
}

std::string canonical_json(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::strict);
}

Status for_each_jsonl_object(std::string_view text, std::string_view what,
                             const std::function<Status(const Json&, size_t)>& fn) {
    size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        MP_ASSIGN_OR_RETURN(Json j, parse_json(line, fmt::format("{} line {}", what, line_no)));
        if (!j.is_object()) {
            return corrupt_data("{} line {}: expected a JSON object, got {}", what, line_no,
                                j.type_name());
        }
        MP_TRY(fn(j, line_no));
    }
    return Status();
}

}  // namespace modelprint

// JSON adapter over nlohmann::json. PRIVATE HEADER: include only from .cpp files, never from
// another header (third-party types stay out of modelprint's public headers).
// parse_json() turns every parser exception into a Status and, when strict, rejects duplicate
// object keys (nlohmann keeps the last; a hostile header could hide a tensor that way).
#pragma once

#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fingerprint/base/status.h"

namespace modelprint {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

struct JsonParseOptions {
    bool reject_duplicate_keys = true;
    int max_depth = 128;
};

// `what` names the document in error messages ("model.safetensors header").
Result<Json> parse_json(std::string_view text, std::string_view what,
                        JsonParseOptions options = {});
Result<OrderedJson> parse_json_ordered(std::string_view text, std::string_view what,
                                       JsonParseOptions options = {});

// JSON Lines: fn(object, line number from 1) for every non-blank line (a trailing '\r' is
// dropped). A line that is not JSON, or not an object, is kCorruptData naming `what` and the line;
// the first error of fn stops the walk and is returned.
Status for_each_jsonl_object(std::string_view text, std::string_view what,
                             const std::function<Status(const Json&, size_t)>& fn);

// Serialise with sorted keys, no whitespace, UTF-8 kept: the canonical form used for digests
// of reports (keys sorted because nlohmann::json stores objects in a std::map).
std::string canonical_json(const Json& j);

}  // namespace modelprint

// Shared JSON/text helpers for commands that describe a model (inspect, hash, compare, ...).
// Private to cli/: includes the JSON adapter (nlohmann) and is included only from cli/*.cpp.
#pragma once

#include <string>

#include "fingerprint/base/json.h"
#include "fingerprint/model/model.h"

namespace modelprint::cli {

// {"arch", "model_type", "vocab_size", "hidden_size", ...} of a ModelConfig.
Json config_to_json(const ModelConfig& c);
// The layer plan: {"moe_layers", "layers": [{"layer", "attention": {...}, "norm", "mlp": {...}}]}
// (fingerprint/model/plan.h), or {"error": message} when the model has none.
Json plan_to_json(const Model& m);
// Thousands separators: 1234567 -> "1,234,567".
std::string group_digits(uint64_t v);
std::string shape_string(const std::vector<int64_t>& shape);  // "[512, 64]"
// Print JSON to stdout (pretty, 2 spaces) followed by a newline.
void print_json(const Json& j);

}  // namespace modelprint::cli

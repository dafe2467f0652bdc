// Behaviour evidence for `modelprint compare` from paths, and its merge into the comparison
// document (see behavior_run.h).
#include "forensics/behavior_run.h"

#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/probes/probe_set.h"

namespace modelprint {

// compare_behavior_paths: forensics/behavior_paths.cpp.

std::string combined_relation(const std::string& weight_relation, const BehaviorEvidence& e) {
    if (weight_relation == "identical" || weight_relation == "derived") return weight_relation;
    if (e.relation == "distilled") return "distilled";
    if (weight_relation.empty()) return e.relation;
    return weight_relation;
}

double behavior_confidence(const BehaviorEvidence& e) {
    if (e.confidence == "high") return 0.9;
    if (e.confidence == "medium") return 0.7;
    return 0.3;
}

namespace {

Json evidence_json(const BehaviorEvidence& e) {
    // behavior_evidence_json is our own well-formed output: parsing cannot fail.
    auto j = parse_json(behavior_evidence_json(e), "behaviour evidence");
    return j.ok() ? std::move(j).value() : Json::object();
}

std::string behavior_reason(const BehaviorEvidence& e) {
    return fmt::format("behaviour: {} ({}); background {} participants, {} independent pairs",
                       e.reason, e.decisive.empty() ? "no statistic" : e.decisive,
                       e.background.size(), e.null_pairs);
}

}  // namespace

Status merge_behavior(std::string& document, std::string& text, const BehaviorEvidence& e) {
    MP_ASSIGN_OR_RETURN(Json doc, parse_json(document, "comparison document"));
    if (!doc.is_object() || !doc.contains("verdict") || !doc["verdict"].is_object()) {
        return invalid_argument("comparison document has no verdict object to merge behaviour "
                                "evidence into");
    }
    Json& v = doc["verdict"];
    const std::string weight_rel = v.value("relation", std::string());
    const std::string rel = combined_relation(weight_rel, e);
    if (rel != weight_rel) {
        v["relation"] = rel;
        v["subtype"] = nullptr;
        v["confidence"] = behavior_confidence(e);
        v["decisive"] = fmt::format("behavior.{} (p = {:.3g})", e.decisive, e.p_value);
        v["reason"] = fmt::format("weights: {}; {}", weight_rel.empty() ? "unavailable" : weight_rel,
                                  behavior_reason(e));
    }
    v["scope"] = "weights+behavior";
    v["behavior_relation"] = e.relation;
    doc["evidence"]["behavior"] = evidence_json(e);
    document = doc.dump();
    text += "\n" + behavior_evidence_text(e);
    if (rel != weight_rel) {
        text += fmt::format("verdict after behaviour: {} (weights said {})\n", rel,
                            weight_rel.empty() ? "nothing" : weight_rel);
    }
    return Status();
}

std::string behavior_only_document(const BehaviorEvidence& e) {
    Json j;
    j["schema"] = "modelprint.comparison/v1";
    j["a"] = {{"path", e.a}, {"kind", e.kind_a}};
    j["b"] = {{"path", e.b}, {"kind", e.kind_b}};
    j["verdict"] = {{"relation", combined_relation("", e)},
                    {"subtype", nullptr},
                    {"confidence", behavior_confidence(e)},
                    {"decisive", e.decisive.empty() ? std::string() : "behavior." + e.decisive},
                    {"reason", behavior_reason(e)},
                    {"scope", "behavior"}};
    j["evidence"] = {{"behavior", evidence_json(e)}};
    return j.dump();
}

std::string behavior_only_text(const BehaviorEvidence& e) {
    std::string out = fmt::format("verdict      {}  (behaviour only; confidence {})\n",
                                  combined_relation("", e), e.confidence);
    out += fmt::format("A            {} ({})\nB            {} ({})\n\n", e.a, e.kind_a, e.b,
                       e.kind_b);
    return out + behavior_evidence_text(e);
}

}  // namespace modelprint

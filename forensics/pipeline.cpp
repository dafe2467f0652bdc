// The comparison pipeline (see pipeline.h): open -> run sections -> decide -> render.
#include "forensics/pipeline.h"

#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/transcript.h"
#include "forensics/behavior_section.h"
#include "forensics/watermark_section.h"
#include "forensics/endpoint_section.h"
#include "forensics/weights_section.h"

namespace modelprint {
namespace {

// The sections a comparison can run, in the order they run and render. Adding a kind of
// evidence: one row here (and its precedence rows in evidence.cpp).
struct SectionRunner {
    SectionKind kind;
    bool (*applies)(const PairContext&);
    Result<std::unique_ptr<EvidenceSection>> (*run)(PairContext&);
};
const SectionRunner kRunners[] = {
    {SectionKind::kWeights, weights_section_applies, run_weights_section},
    {SectionKind::kBehavior, behavior_section_applies, run_behavior_section},
    {SectionKind::kWatermark, watermark_section_applies, run_watermark_section},
    {SectionKind::kEndpoint, endpoint_section_applies, run_endpoint_section},
};

Json finite(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json side_json(const SideInfo& s) {
    Json j = {{"path", s.path}, {"kind", s.kind}};
    if (s.kind == "model") {
        j["root_digest"] = s.model.root_digest;
        j["arch"] = s.model.arch;
        j["parameters"] = s.model.parameters;
        j["dtype"] = s.model.dtype;
    }
    if (s.kind == "endpoint") {
        j["model"] = s.endpoint_model;
        j["endpoint_digest"] = s.model.root_digest;
    }
    return j;
}

std::string scope_of(const ComparisonResult& r) {
    std::string s;
    for (const auto& sec : r.sections) {
        if (sec->ran()) s += (s.empty() ? "" : "+") + std::string(sec->name());
    }
    return s.empty() ? "none" : s;
}

std::string decisive_text(const CombinedVerdict& v) {
    return v.decisive ? v.decisive->text : std::string("none");
}

Json verdict_json(const ComparisonResult& r) {
    const CombinedVerdict& v = r.verdict;
    Json j = {{"relation", std::string(relation_name(v.relation))},
              {"subtype", v.subtype.empty() ? Json(nullptr) : Json(v.subtype)},
              {"confidence", v.strength},
              {"confidence_level", std::string(confidence_name(v.confidence))},
              {"basis", std::string(basis_name(v.basis))},
              {"decided_by",
               v.decided_by ? Json(std::string(section_kind_name(*v.decided_by))) : Json(nullptr)},
              {"decisive", decisive_text(v)},
              {"reason", v.reason},
              {"scope", scope_of(r)},
              {"rule", v.rule >= 0 ? Json(precedence_table()[v.rule].rule) : Json(nullptr)},
              {"notes", v.notes}};
    if (v.decisive) {
        j["statistic"] = std::string(statistic_name(v.decisive->statistic));
        j["p_value"] = finite(v.decisive->p_value);
        j["log10_p_value"] = finite(v.decisive->log10_p);
    }
    return j;
}

Json document_json(const ComparisonResult& r) {
    Json j;
    j["schema"] = "modelprint.comparison/v1";
    j["methods_version"] = std::string(kMethodsVersion);
    j["a"] = side_json(r.a);
    j["b"] = side_json(r.b);
    j["verdict"] = verdict_json(r);
    Json ev = Json::object();
    for (const auto& s : r.sections) {
        // Each section renders its own object; it is placed, never edited.
        auto part = parse_json(s->json(), "evidence section");
        ev[std::string(s->name())] = part.ok() ? std::move(part).value() : Json::object();
    }
    j["evidence"] = ev;
    j["store"] = {{"reused", r.store.reused}, {"key", r.store.key}};
    return j;
}

}  // namespace

const EvidenceSection* ComparisonResult::section(SectionKind kind) const {
    for (const auto& s : sections) {
        if (s->kind() == kind) return s.get();
    }
    return nullptr;
}

std::vector<const EvidenceSection*> ComparisonResult::views() const {
    std::vector<const EvidenceSection*> v;
    for (const auto& s : sections) v.push_back(s.get());
    return v;
}

Result<PairContext> open_comparison(const CompareRequest& req, OpenedPair* storage, bool hash) {
    if (req.endpoint_check != nullptr) return open_endpoint_comparison(req, hash);
    if (req.weights_only && req.behavior_only) {
        return invalid_argument("--weights-only and --behavior-only exclude each other");
    }
    const bool ta = is_transcript_path(req.a), tb = is_transcript_path(req.b);
    if (req.weights_only && (ta || tb)) {
        return invalid_argument("--weights-only needs two models; {} is a transcript",
                                ta ? req.a : req.b);
    }
    PairContext c;
    c.request = &req;
    c.a = {req.a, ta ? "transcript" : "model", {}, {}};
    c.b = {req.b, tb ? "transcript" : "model", {}, {}};
    c.a.model.path = req.a;
    c.b.model.path = req.b;
    if (!ta && !tb) {
        CompareOptions o = req.weights;
        o.hash_on_open = hash;
        MP_ASSIGN_OR_RETURN(*storage, open_pair(req.a, req.b, o));
        c.pair = storage;
        c.a.model = storage->a;
        c.b.model = storage->b;
    }
    return c;
}

Result<ComparisonResult> run_sections(PairContext& c) {
    ComparisonResult r;
    for (const SectionRunner& runner : kRunners) {
        if (!runner.applies(c)) continue;
        MP_ASSIGN_OR_RETURN(std::unique_ptr<EvidenceSection> s, runner.run(c));
        r.sections.push_back(std::move(s));
    }
    r.a = c.a;
    r.b = c.b;
    r.verdict = decide(r.views());
    return r;
}

Result<ComparisonResult> run_comparison(const CompareRequest& request) {
    OpenedPair pair;
    MP_ASSIGN_OR_RETURN(PairContext c, open_comparison(request, &pair, false));
    return run_sections(c);
}

std::string comparison_document(const ComparisonResult& r, int indent) {
    return document_json(r).dump(indent);
}

std::string comparison_text_of(const ComparisonResult& r) {
    const CombinedVerdict& v = r.verdict;
    std::string out = fmt::format(
        "verdict      {}{}  (confidence {:.2f}, {})\n", relation_name(v.relation),
        v.subtype.empty() ? "" : " / " + v.subtype, v.strength, confidence_name(v.confidence));
    out += fmt::format("basis        {}{}\n", basis_name(v.basis),
                       v.decided_by
                           ? fmt::format(" (the {} section)", section_kind_name(*v.decided_by))
                           : std::string());
    out += fmt::format("decided by   {}\n", decisive_text(v));
    out += fmt::format("why          {}\n", v.reason);
    for (const std::string& n : v.notes) out += "note         " + n + "\n";
    if (r.store.reused) {
        out += fmt::format(
            "store        reused stored comparison {} (key {}); --recompute to "
            "compute again\n",
            r.store.id ? std::to_string(*r.store.id) : "?", r.store.key.substr(0, 16));
    }
    out += "\n";
    for (const SideInfo* s : {&r.a, &r.b}) {
        const char* label = s == &r.a ? "A" : "B";
        if (s->kind == "model") {
            out += fmt::format("{}  {}  {}  {} params  {}  root {}\n", label, s->path,
                               s->model.arch, s->model.parameters, s->model.dtype,
                               s->model.root_digest.substr(0, 16));
        } else if (s->kind == "endpoint") {
            out += fmt::format("{}  {}  (endpoint, model \"{}\")\n", label, s->path,
                               s->endpoint_model);
        } else {
            out += fmt::format("{}  {}  ({})\n", label, s->path, s->kind);
        }
    }
    for (const auto& s : r.sections) out += "\n" + s->text();
    return out;
}

std::string comparison_predicate_of(const ComparisonResult& r) {
    const CombinedVerdict& v = r.verdict;
    Json p;
    p["verdict"] = {
        {"label", std::string(relation_name(v.relation))},
        {"subtype", v.subtype},
        {"confidence", fmt::format("{:.6g} ({})", v.strength, confidence_name(v.confidence))},
        {"basis", std::string(basis_name(v.basis))},
        {"decided_by", decisive_text(v)},
        {"summary", v.reason}};
    Json models = Json::array();
    for (const SideInfo* s : {&r.a, &r.b}) {
        models.push_back({{"role", s == &r.a ? "A" : "B"},
                          {"name", s->kind == "endpoint"
                                       ? fmt::format("{} (model \"{}\")", s->path,
                                                     s->endpoint_model)
                                       : s->path},
                          {"root_digest", s->model.root_digest},
                          {"architecture", s->kind == "model" ? s->model.arch : s->kind},
                          {"parameters", std::to_string(s->model.parameters)},
                          {"path", s->path}});
    }
    p["models"] = models;
    // The sections' votes and the precedence rule that fired.
    ReportParts parts;
    ReportTable votes;
    votes.title = "Evidence sections and the verdict precedence";
    votes.text = v.rule >= 0
                     ? fmt::format("rule {}: {}", v.rule + 1, precedence_table()[v.rule].rule)
                     : "no precedence rule fired: unknown";
    for (const std::string& n : v.notes) votes.text += "; " + n;
    votes.columns = {"section", "ran", "vote", "confidence", "decisive statistic", "p-value"};
    for (const auto& s : r.sections) {
        const Vote vote = s->vote();
        const auto d = s->decisive();
        votes.rows.push_back({std::string(s->name()), s->ran() ? "yes" : "no: " + vote.reason,
                              std::string(relation_name(vote.relation)),
                              std::string(confidence_name(vote.confidence)),
                              d ? std::string(statistic_name(d->statistic)) : "-",
                              d ? fmt::format("{:.3g}", d->p_value) : "-"});
    }
    parts.tables.push_back(std::move(votes));
    for (const auto& s : r.sections) s->report(parts);
    auto pj = parse_json(report_parts_json(parts), "report parts");
    if (pj.ok()) {
        for (auto it = pj->begin(); it != pj->end(); ++it) p[it.key()] = it.value();
    }
    p["comparison"] = document_json(r);
    return canonical_json(p);
}

namespace {
Result<Json> stored_document(std::string_view stored) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(stored, "stored comparison"));
    if (!j.is_object() || !j.contains("verdict") || !j["verdict"].is_object()) {
        return corrupt_data("stored comparison has no verdict object");
    }
    return j;
}
}  // namespace

Result<std::string> reused_comparison_document(std::string_view stored, const StoreInfo& store,
                                               int indent) {
    MP_ASSIGN_OR_RETURN(Json doc, stored_document(stored));
    Json out = Json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (it.key() != "store") out[it.key()] = it.value();
    }
    out["store"] = {
        {"reused", true}, {"key", store.key}, {"id", store.id ? Json(*store.id) : Json(nullptr)}};
    return out.dump(indent);
}

Result<std::string> reused_comparison_text(std::string_view stored, const StoreInfo& store,
                                           std::string_view created_at) {
    MP_ASSIGN_OR_RETURN(Json doc, stored_document(stored));
    const Json& v = doc["verdict"];
    auto str = [&](const char* k) {
        return v.contains(k) && v[k].is_string() ? v[k].get<std::string>() : std::string();
    };
    const std::string sub = str("subtype");
    const double conf = v.contains("confidence") && v["confidence"].is_number()
                            ? v["confidence"].get<double>()
                            : 0.0;
    return fmt::format(
        "verdict      {}{}  (confidence {:.2f}, {})\nbasis        {}\ndecided by   {}\n"
        "why          {}\nstore        reused stored comparison {} of {} (key {}): every input "
        "of the question matched; --recompute for the full evidence\n",
        str("relation"), sub.empty() ? "" : " / " + sub, conf, str("confidence_level"),
        str("basis"), str("decisive"), str("reason"), store.id ? std::to_string(*store.id) : "?",
        created_at, store.key.substr(0, 16));
}

}  // namespace modelprint

// `compare A B` as a pipeline: open both sides -> run the evidence sections that apply (the
// runner table in pipeline.cpp) -> decide (evidence.h) -> render (JSON document, text, report
// predicate). The command (cli/cmd_compare.cpp) adds the store (key, reuse, record) and signing.
// JSON document:
//   {"schema": "modelprint.comparison/v2", "methods_version": kMethodsVersion,
//    "a"/"b": {"path", "kind", "root_digest", "arch", "parameters", "dtype"}  (model sides),
//             {"path": URL, "kind": "endpoint", "model", "endpoint_digest"}  (endpoint sides),
//    "verdict": {"relation", "subtype", "confidence", "confidence_level", "basis", "decided_by",
//                "decisive", "statistic", "p_value", "reason", "scope", "rule", "notes"},
//    "evidence": {<section name>: <that section's json()>, ...},
//    "store": {"reused": bool, "key": str}}       (the command fills "store")
// `scope` names the sections that ran ("weights", "behavior", "weights+behavior"); `basis` what
// the verdict rests on (bytes | values | weights | behavior | watermark | endpoint | none).
// Does not: open the store or sign (the command does; forensics/report.h signs).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "forensics/behavior_paths.h"
#include "forensics/behavior_run.h"
#include "forensics/compare.h"
#include "forensics/evidence.h"
#include "forensics/watermark_section.h"

namespace modelprint {

class EndpointClient;         // fingerprint/endpoint/openai.h
struct EndpointCheckRequest;  // forensics/endpoint_run.h

// Bump when any method, threshold or decision rule changes: stored results computed under
// another version are not reused (store key).
inline constexpr std::string_view kMethodsVersion = "2026-12-02.2";

// The probe set and background resolved before anything runs (cli/behavior_source.h
// behavior_inputs: store members and --background); the store key is built from them.
struct ResolvedBehaviorInputs {
    ComparisonProbes probes;
    BackgroundPlan plan;
};

struct CompareRequest {
    std::string a, b;  // model directory/file, or a .jsonl transcript
    bool weights_only = false;
    bool behavior_only = false;
    CompareOptions weights;       // compare.h (threads, progress, max_units)
    BehaviorRunOptions behavior;  // probes, device, background (behavior_run.h)
    // Set: the behaviour section runs on exactly these; unset: the probes and --background
    // paths of `behavior` (no store).
    std::optional<ResolvedBehaviorInputs> behavior_inputs;
    // Set: the watermark section runs (A the teacher whose outputs carry this key). The key is a
    // secret: nothing renders it; the section and the store key use its commitment only.
    std::optional<WatermarkKey> watermark_key;
    WatermarkSectionOptions watermark;
    // Set: B is an API endpoint and A the model it claims to serve (`endpoint check`): the
    // sides are opened by open_endpoint_comparison and only the endpoint section runs
    // (forensics/endpoint_section.h). The client may be null when a transcript holds every
    // endpoint sample. Neither is owned.
    const EndpointCheckRequest* endpoint_check = nullptr;
    const EndpointClient* endpoint_client = nullptr;
};

// One side as the pipeline knows it.
struct SideInfo {
    std::string path;
    std::string kind;  // "model" | "transcript" | "endpoint"
    ModelSide model;   // model sides: root digest, arch, parameters, dtype; endpoint sides:
                       // root_digest = endpoint_side_digest (endpoint_section.h), arch "endpoint"
    std::string endpoint_model;  // endpoint sides: the model name asked for (path = the URL)
};

// What a section runner may read (filled by run_comparison before the runners run).
struct PairContext {
    const CompareRequest* request = nullptr;
    OpenedPair* pair = nullptr;  // both sides models; null otherwise
    SideInfo a, b;
};

struct StoreInfo {
    bool reused = false;
    std::string key;
    std::optional<int64_t> id;
};

struct ComparisonResult {
    SideInfo a, b;
    std::vector<std::unique_ptr<EvidenceSection>> sections;  // in runner-table order
    CombinedVerdict verdict;
    StoreInfo store;

    const EvidenceSection* section(SectionKind kind) const;  // null when absent
    std::vector<const EvidenceSection*> views() const;
};

// Opens the sides (models hashed only when `hash` is set: the store key needs root digests
// before any evidence), without running anything.
Result<PairContext> open_comparison(const CompareRequest& request, OpenedPair* storage, bool hash);
// Runs every section whose runner applies, then decide(). A section that fails with an input
// error of its own (a model that cannot be probed) becomes a SkippedSection with the reason;
// flag errors (kInvalidArgument) are returned.
Result<ComparisonResult> run_sections(PairContext& context);
// open_comparison + run_sections (no store).
Result<ComparisonResult> run_comparison(const CompareRequest& request);

// Renderings of the whole result.
std::string comparison_document(const ComparisonResult& r, int indent = 2);
std::string comparison_text_of(const ComparisonResult& r);
// The report predicate: verdict, models, every section's tables / heatmaps / distributions,
// and the comparison document under "comparison" (canonical JSON).
std::string comparison_predicate_of(const ComparisonResult& r);

// A result read back from the store (the document comparison_document wrote): the document
// with "store" {"reused": true, "key", "id"}, and its text (verdict lines and the store line;
// --recompute gives the evidence blocks). kCorruptData when the stored text is not a document.
Result<std::string> reused_comparison_document(std::string_view stored, const StoreInfo& store,
                                               int indent = 2);
Result<std::string> reused_comparison_text(std::string_view stored, const StoreInfo& store,
                                           std::string_view created_at);

}  // namespace modelprint

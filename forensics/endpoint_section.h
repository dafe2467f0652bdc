// The endpoint evidence section of the pipeline (forensics/evidence.h): "is the API endpoint B
// serving the weights of the local model A it claims to serve?" (forensics/endpoint_check.h:
// MMD, rank and log-probability tests) as a vote, its decisive statistic with the null it used,
// the statistics table (every test's statistic and p-value), the queries spent and the queries
// a decisive answer would need, and its renderings.
// Vote (docs/methods.md § 7a, docs/endpoints.md "Verdict"):
//   endpoint same                         -> serves-claimed, subtype same
//   endpoint same-weights-other-precision -> serves-claimed, subtype other-precision (nearest
//                                            re-encoding named in the reason)
//   endpoint different                    -> not-claimed
//   endpoint inconclusive                 -> unknown, can_judge false, the queries needed
// Samples and log-probabilities never show weights, so the section never votes identical or
// derived (those rest on weights alone). Basis `endpoint`.
// Runs only when B is an endpoint (CompareRequest::endpoint_check set); then it is the only
// section. Not here: the tests (endpoint_check.cpp), HTTP and local sampling (endpoint_run.cpp).
#pragma once

#include <memory>

#include "forensics/endpoint_check.h"
#include "forensics/evidence.h"

namespace modelprint {

struct PairContext;
struct CompareRequest;
struct OpenedPair;

class EndpointSection : public EvidenceSection {
public:
    explicit EndpointSection(EndpointCheckResult result);
    const EndpointCheckResult& result() const { return r_; }
    SectionKind kind() const override { return SectionKind::kEndpoint; }
    Vote vote() const override;
    std::optional<DecisiveStatistic> decisive() const override;
    std::vector<StatisticRow> statistics() const override;
    std::optional<NullDistribution> null_distribution() const override;
    std::string text() const override;
    std::string json() const override;
    void report(ReportParts& parts) const override;

private:
    EndpointCheckResult r_;
};

// The identity of an endpoint side: SHA-256 of "modelprint.endpoint/1;url=URL;model=NAME" (the
// URL without user-info). It stands where a model has its root digest (store records, report
// subjects): nobody outside can digest the weights an API serves.
std::string endpoint_side_digest(std::string_view url, std::string_view model);

// The sides of an endpoint question: A the claim (opened; root digest when `hash`), B the
// endpoint (kind "endpoint": shown URL and the model name asked for, never the API key).
Result<PairContext> open_endpoint_comparison(const CompareRequest& request, bool hash);

bool endpoint_section_applies(const PairContext& context);
Result<std::unique_ptr<EvidenceSection>> run_endpoint_section(PairContext& context);

}  // namespace modelprint

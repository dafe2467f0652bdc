// Idiosyncrasy test of behaviour evidence: does candidate c reproduce reference r's SPECIFIC
// choices where the data leave the choice open? (docs/behavior.md, "Idiosyncrasy test").
//
// Why: the answer-level cross-likelihood tests (behavior_compare.h) cannot tell a student of r
// from a model that shares r's training data or prompt set: both find r's answers likely. What
// only distillation transfers is r's choice at positions no training text determines. Where the
// scorers' predictive distributions are high-entropy, a student of r still puts r's actual token
// high (it learned r's argmax); a model that merely shares r's data does not.
//
// Per-byte scores (tokenizers differ between models, so everything meets on the response's
// bytes): a scorer s tokenizes prompt + response exactly as ProbeRunner::score does (same
// formatting, same seam rule, same max_tokens cut); token t with log-probability lp_t and
// predictive entropy H_t (nats, full vocabulary) covering n_t bytes gives each of its response
// bytes the densities lp_t / n_t and H_t / n_t (nats per byte; a token crossing the prompt seam
// keeps its full n_t, so only its response bytes carry it).
//
// Test (per direction c <- r, background scorers x_1..x_k that can score, c and r excluded):
// per probe i, on the response bytes j < L_i that every scorer covers,
//   u_j    = median over the k+1 scorers (c included) of the entropy density at j,
//   S_i    = { j : u_j > median_j u_j }            (the uncertain half of r's answer),
//   T_s(i) = sum over j in S_i of s's log-prob density at j,
//   c wins probe i when T_c(i) > T_x(i) for every x (strictly; ties lose).
// The selection is a symmetric function of the k+1 scorers, so under
//   H0: c is exchangeable with the background scorers (in how it scores r's text),
// c's rank among them is uniform and wins W ~ Binomial(n, 1/(k+1)):
//   z = (W/n - p) / sqrt(p (1 - p) / n),  p = 1/(k+1),  exact tail binomial_sf(W, n, p).
// Like the other tests, the z is then calibrated against independent pairs (calibration.h):
// H0 is false for scorers of another domain, and the null pairs carry the same bias.
// Not here: the decision (behavior_compare.cpp), the panel cache.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/probes/probe_set.h"

namespace modelprint {

class ProbeRunner;

// One response under one scorer; both vectors have one entry per covered response byte (the
// first L bytes; scoring stops after max_tokens tokens). Empty: not scored.
struct ByteScores {
    std::vector<float> logprob;  // (L) log-probability density, nats/byte
    std::vector<float> entropy;  // (L) predictive entropy density, nats/byte
    size_t size() const { return logprob.size(); }
};

// Which bytes of r's answer the test uses (kUncertain is the test; the others are reported as
// diagnostics only: all bytes, and the certain half u_j <= median).
enum class IdioSelection : uint8_t { kUncertain, kAll, kCertain };

struct IdiosyncrasyResult {
    bool available = false;
    size_t scorers = 0;  // background scorers (k)
    int64_t probes = 0;  // probes every scorer covers with at least 2 selected bytes (n)
    int64_t wins = 0;    // W
    double z = 0.0;
    double binom_p = 1.0;  // P(Binomial(n, 1/(k+1)) >= W)
};

// Per-byte scores of responses[i] after probe i's prompt under the runner's model (present[i]
// and non-empty only), on the sequences ProbeRunner::score scores (response_sequence). A
// response whose text the token bytes do not end with (a tokenizer that normalises the text)
// gets empty scores. kInvalidArgument for size mismatches or max_tokens/batch < 1; kOutOfRange
// for a token id outside the model's vocabulary.
Result<std::vector<ByteScores>> score_response_bytes(const ProbeRunner& runner,
                                                     const ProbeSet& probes,
                                                     const std::vector<std::string>& responses,
                                                     const std::vector<bool>& present,
                                                     int max_tokens = 256, int batch = 8);

// The test of the file comment. candidate and every background entry are per-probe scores of
// the same reference answers (equal lengths; kInvalidArgument otherwise). Unavailable with
// fewer than 2 background scorers or no usable probe.
Result<IdiosyncrasyResult> idiosyncrasy_test(
    const std::vector<ByteScores>& candidate,
    const std::vector<const std::vector<ByteScores>*>& background,
    IdioSelection selection = IdioSelection::kUncertain);

}  // namespace modelprint

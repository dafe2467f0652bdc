// Idiosyncrasy test: per-byte scores of responses and the uncertain-half win test
// (see behavior_idio.h for the definitions, the null and why).
#include "forensics/behavior_idio.h"

#include <algorithm>
#include <cmath>

#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/calibration.h"

namespace modelprint {

namespace {

// log sum exp and entropy of softmax(row), in double (row: V logits).
void softmax_stats(const float* row, int64_t V, double* lse, double* entropy) {
    double mx = row[0];
    for (int64_t v = 1; v < V; ++v) mx = std::max(mx, static_cast<double>(row[v]));
    double z = 0.0, zx = 0.0;
    for (int64_t v = 0; v < V; ++v) {
        const double x = static_cast<double>(row[v]) - mx;
        const double e = std::exp(x);
        z += e;
        zx += e * x;
    }
    *lse = mx + std::log(z);
    // H = log Z - E[x] with x shifted by mx: H = log z - zx / z.
    *entropy = std::log(z) - zx / z;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

double median_of(std::vector<double>& v) {
    const size_t n = v.size();
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
    const double hi = v[n / 2];
    if (n % 2 == 1) return hi;
    const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2));
    return 0.5 * (lo + hi);
}

}  // namespace

Result<std::vector<ByteScores>> score_response_bytes(const ProbeRunner& runner,
                                                     const ProbeSet& probes,
                                                     const std::vector<std::string>& responses,
                                                     const std::vector<bool>& present,
                                                     int max_tokens, int batch) {
    const size_t P = probes.probes.size();
    if (responses.size() != P || present.size() != P) {
        return invalid_argument("byte scores: {} responses and {} flags for {} probes",
                                responses.size(), present.size(), P);
    }
    if (max_tokens < 1 || batch < 1) {
        return invalid_argument("byte scores: max_tokens {} and batch {} must be at least 1",
                                max_tokens, batch);
    }
    const Tokenizer& tok = runner.tokenizer();
    struct Job {
        size_t probe;
        std::vector<int32_t> ids;
        size_t first;                 // first scored token
        std::vector<int64_t> start;   // (T) token t's first byte in the response (may be < 0)
        std::vector<int64_t> length;  // (T) token t's bytes
        size_t covered = 0;           // response bytes covered by the scored tokens
    };
    std::vector<Job> jobs;
    for (size_t i = 0; i < P; ++i) {
        if (!present[i] || responses[i].empty()) continue;
        const Probe& p = probes.probes[i];
        MP_ASSIGN_OR_RETURN(auto seq, runner.response_sequence(p.id, p.prompt, responses[i]));
        if (!seq) continue;
        std::vector<int32_t>& full = seq->ids;
        const size_t first = seq->first;
        // Byte spans from the tokens' raw bytes over the whole sequence; the response is the
        // suffix of their concatenation (else the tokenizer normalised it: not scored).
        std::string all;
        std::vector<int64_t> tok_begin(full.size()), len(full.size());
        for (size_t t = 0; t < full.size(); ++t) {
            const auto b =
                tok.is_special(full[t]) ? std::optional<std::string>() : tok.token_bytes(full[t]);
            tok_begin[t] = static_cast<int64_t>(all.size());
            len[t] = b ? static_cast<int64_t>(b->size()) : 0;
            if (b) all += *b;
        }
        if (!ends_with(all, responses[i])) continue;
        const int64_t off = static_cast<int64_t>(all.size() - responses[i].size());
        const size_t end = std::min(full.size(), first + static_cast<size_t>(max_tokens));
        Job job{i, std::move(full), first, {}, {}, 0};
        job.ids.resize(end);
        job.start.resize(end);
        job.length.resize(end);
        for (size_t t = 0; t < end; ++t) {
            job.start[t] = tok_begin[t] - off;
            job.length[t] = len[t];
        }
        const int64_t last = tok_begin[end - 1] + len[end - 1] - off;
        job.covered = last > 0 ? static_cast<size_t>(last) : 0;
        if (job.covered == 0) continue;
        jobs.push_back(std::move(job));
    }
    std::vector<ByteScores> out(P);
    MP_TRY(prefill_all_logits(
        runner.backend(), jobs.size(), batch,
        [&](size_t j) -> const std::vector<int32_t>& { return jobs[j].ids; },
        [&](size_t j, const float* logits, int64_t V) {
            const Job& job = jobs[j];
            ByteScores s;
            s.logprob.assign(job.covered, 0.0f);
            s.entropy.assign(job.covered, 0.0f);
            for (size_t t = job.first; t < job.ids.size(); ++t) {
                if (job.length[t] == 0) continue;
                double lse = 0.0, h = 0.0;
                softmax_stats(logits + (t - 1) * V, V, &lse, &h);
                const double lp = static_cast<double>(logits[(t - 1) * V + job.ids[t]]) - lse;
                const double n = static_cast<double>(job.length[t]);
                const int64_t b0 = std::max<int64_t>(job.start[t], 0);
                const int64_t b1 = std::min<int64_t>(job.start[t] + job.length[t],
                                                     static_cast<int64_t>(job.covered));
                for (int64_t b = b0; b < b1; ++b) {
                    s.logprob[static_cast<size_t>(b)] = static_cast<float>(lp / n);
                    s.entropy[static_cast<size_t>(b)] = static_cast<float>(h / n);
                }
            }
            out[job.probe] = std::move(s);
        }));
    return out;
}

Result<IdiosyncrasyResult> idiosyncrasy_test(
    const std::vector<ByteScores>& candidate,
    const std::vector<const std::vector<ByteScores>*>& background, IdioSelection selection) {
    IdiosyncrasyResult r;
    r.scorers = background.size();
    for (size_t x = 0; x < background.size(); ++x) {
        if (background[x] == nullptr || background[x]->size() != candidate.size()) {
            return invalid_argument(
                "idiosyncrasy test: background scorer {} has {} probes, the "
                "candidate {}",
                x, background[x] == nullptr ? 0 : background[x]->size(), candidate.size());
        }
    }
    if (background.size() < 2) return r;
    const size_t S = background.size() + 1;  // scorers, the candidate first
    auto at = [&](size_t s, size_t i) -> const ByteScores& {
        return s == 0 ? candidate[i] : (*background[s - 1])[i];
    };
    int64_t n = 0, w = 0;
    std::vector<double> col(S), u, t(S);
    for (size_t i = 0; i < candidate.size(); ++i) {
        size_t L = at(0, i).size();
        for (size_t s = 1; s < S; ++s) L = std::min(L, at(s, i).size());
        if (L < 2) continue;
        u.resize(L);
        for (size_t j = 0; j < L; ++j) {
            for (size_t s = 0; s < S; ++s) col[s] = at(s, i).entropy[j];
            u[j] = median_of(col);
        }
        std::vector<double> us = u;
        const double m = median_of(us);
        std::fill(t.begin(), t.end(), 0.0);
        int64_t selected = 0;
        for (size_t j = 0; j < L; ++j) {
            const bool take = selection == IdioSelection::kAll ||
                              (selection == IdioSelection::kUncertain ? u[j] > m : u[j] <= m);
            if (!take) continue;
            ++selected;
            for (size_t s = 0; s < S; ++s) t[s] += at(s, i).logprob[j];
        }
        if (selected < 2) continue;
        ++n;
        bool win = true;
        for (size_t s = 1; s < S; ++s) win = win && t[0] > t[s];
        w += win ? 1 : 0;
    }
    if (n == 0) return r;
    const double p = 1.0 / static_cast<double>(S);
    r.available = true;
    r.probes = n;
    r.wins = w;
    r.z = (static_cast<double>(w) / static_cast<double>(n) - p) /
          std::sqrt(p * (1 - p) / static_cast<double>(n));
    r.binom_p = binomial_sf(w, n, p);
    return r;
}

}  // namespace modelprint

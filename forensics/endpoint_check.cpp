// Endpoint-equality statistics, verdict and rendering (see endpoint_check.h).
#include "forensics/endpoint_check.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "fingerprint/base/json.h"
#include "forensics/stats.h"

namespace modelprint {

namespace {

// Hamming similarity of the first L bytes, both padded with a value no byte has.
double hamming_kernel(const std::string& a, const std::string& b, int L) {
    int same = 0;
    for (int l = 0; l < L; ++l) {
        int x = l < static_cast<int>(a.size()) ? static_cast<unsigned char>(a[l]) : 256;
        int y = l < static_cast<int>(b.size()) ? static_cast<unsigned char>(b[l]) : 256;
        same += x == y;
    }
    return static_cast<double>(same) / L;
}

double two_sided_normal_p(double z) {
    double lp = log_normal_sf(std::fabs(z)) + std::log(2.0);
    return std::min(1.0, std::exp(lp));
}

// z with two-sided normal p-value `p` (bisection on the tail).
double two_sided_critical_z(double p) {
    double lo = 0, hi = 40;
    for (int i = 0; i < 200; ++i) {
        double mid = 0.5 * (lo + hi);
        if (two_sided_normal_p(mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

// P(Bin(n, 1/2) >= k).
double binomial_upper_half(int64_t k, int64_t n) {
    if (k <= 0) return 1.0;
    if (k > n) return 0.0;
    return std::min(
        1.0, std::exp(log_beta_inc(static_cast<double>(k), static_cast<double>(n - k + 1), 0.5)));
}

}  // namespace

std::string_view endpoint_verdict_name(EndpointVerdict v) {
    switch (v) {
        case EndpointVerdict::kSame:
            return "same";
        case EndpointVerdict::kSameWeightsOtherPrecision:
            return "same-weights-other-precision";
        case EndpointVerdict::kDifferent:
            return "different";
        case EndpointVerdict::kInconclusive:
            return "inconclusive";
    }
    return "inconclusive";
}

Result<EndpointTest> mmd_hamming_test(const std::vector<EndpointPromptData>& prompts, int L,
                                      int permutations, uint64_t seed) {
    if (L < 1 || L > 1 << 16) return invalid_argument("Hamming length {} outside 1..65536", L);
    if (permutations < 1) return invalid_argument("permutations {} < 1", permutations);
    struct Block {
        int nx = 0, n = 0;
        std::vector<double> K;  // (n, n)
    };
    std::vector<Block> blocks;
    int64_t NX = 0, NY = 0;
    for (const auto& p : prompts) {
        if (p.endpoint.empty() && p.local.empty()) continue;
        Block b;
        b.nx = static_cast<int>(p.endpoint.size());
        b.n = b.nx + static_cast<int>(p.local.size());
        b.K.assign(static_cast<size_t>(b.n) * b.n, 0.0);
        auto s = [&](int i) -> const std::string& {
            return i < b.nx ? p.endpoint[i] : p.local[i - b.nx];
        };
        for (int i = 0; i < b.n; ++i) {
            for (int j = i + 1; j < b.n; ++j) {
                double k = hamming_kernel(s(i), s(j), L);
                b.K[static_cast<size_t>(i) * b.n + j] = k;
                b.K[static_cast<size_t>(j) * b.n + i] = k;
            }
        }
        NX += b.nx;
        NY += b.n - b.nx;
        blocks.push_back(std::move(b));
    }
    if (NX < 2 || NY < 2) {
        return invalid_argument(
            "MMD needs at least 2 endpoint and 2 local samples (have {} and {})", NX, NY);
    }
    // label[i] = true for "endpoint" within each block.
    auto stat = [&](const std::vector<std::vector<char>>& labels) {
        double sxx = 0, syy = 0, sxy = 0;
        for (size_t bi = 0; bi < blocks.size(); ++bi) {
            const Block& b = blocks[bi];
            const auto& lab = labels[bi];
            for (int i = 0; i < b.n; ++i) {
                for (int j = i + 1; j < b.n; ++j) {
                    double k = b.K[static_cast<size_t>(i) * b.n + j];
                    if (lab[i] && lab[j])
                        sxx += 2 * k;
                    else if (!lab[i] && !lab[j])
                        syy += 2 * k;
                    else
                        sxy += k;
                }
            }
        }
        double nx = static_cast<double>(NX), ny = static_cast<double>(NY);
        return sxx / (nx * (nx - 1)) + syy / (ny * (ny - 1)) - 2 * sxy / (nx * ny);
    };
    std::vector<std::vector<char>> labels(blocks.size());
    for (size_t bi = 0; bi < blocks.size(); ++bi) {
        labels[bi].assign(blocks[bi].n, 0);
        std::fill(labels[bi].begin(), labels[bi].begin() + blocks[bi].nx, 1);
    }
    double observed = stat(labels);
    std::mt19937_64 rng(seed ^ 0x6d6d64ull);
    int64_t ge = 0;
    EndpointTest t;
    t.null_values.reserve(static_cast<size_t>(permutations));
    for (int b = 0; b < permutations; ++b) {
        for (auto& lab : labels) std::shuffle(lab.begin(), lab.end(), rng);
        const double v = stat(labels);
        t.null_values.push_back(v);
        if (v >= observed - 1e-12) ++ge;
    }
    t.ran = true;
    t.statistic = observed;
    t.p_value = static_cast<double>(1 + ge) / static_cast<double>(1 + permutations);
    t.n = static_cast<int64_t>(blocks.size());
    t.note = fmt::format("{} endpoint and {} local samples, L = {} bytes, {} permutations", NX, NY,
                         L, permutations);
    return t;
}

EndpointTest rank_test(const std::vector<EndpointPromptData>& prompts, uint64_t seed) {
    EndpointTest t;
    std::mt19937_64 rng(seed ^ 0x72616e6bull);
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    double sum = 0;
    int64_t n = 0;
    for (const auto& p : prompts) {
        if (!p.has_ll || p.local_ll.empty()) continue;
        int64_t below = 0, ties = 0;
        for (double l : p.local_ll) {
            if (l < p.endpoint_ll)
                ++below;
            else if (l == p.endpoint_ll)
                ++ties;
        }
        double u = (static_cast<double>(below) + unif(rng) * static_cast<double>(ties + 1)) /
                   static_cast<double>(p.local_ll.size() + 1);
        sum += u;
        ++n;
    }
    if (n < 2) {
        t.note = "fewer than 2 prompts with scored completions";
        return t;
    }
    t.ran = true;
    t.n = n;
    t.statistic = (sum - 0.5 * n) / std::sqrt(n / 12.0);
    t.p_value = two_sided_normal_p(t.statistic);
    t.note = fmt::format(
        "mean rank {:.3f} (0.5 under H0; lower: the claim finds the endpoint's "
        "text less likely than its own)",
        sum / n);
    return t;
}

EndpointTest logprob_test(const std::vector<EndpointPromptData>& prompts,
                          const std::vector<std::string>& names, double margin,
                          std::vector<PrecisionLevel>* levels, std::string* nearest,
                          double* p_precision) {
    EndpointTest t;
    levels->clear();
    nearest->clear();
    *p_precision = 1.0;
    std::vector<const EndpointPromptData*> use;
    for (const auto& p : prompts) {
        if (p.has_lp && p.lp_tokens > 0 && p.lp_calibration.size() == names.size() &&
            p.lp_to_level.size() == names.size()) {
            use.push_back(&p);
        }
    }
    if (use.empty()) {
        t.note = "no log-probabilities from the endpoint";
        return t;
    }
    const double n = static_cast<double>(use.size());
    double mean_d = 0;
    for (const auto* p : use) mean_d += p->lp_delta;
    mean_d /= n;
    t.statistic = mean_d;
    t.n = static_cast<int64_t>(use.size());
    if (names.empty()) {
        t.note =
            fmt::format("mean |delta log p| {:.3g}; not calibrated (no --calibrate files)", mean_d);
        return t;
    }
    // p*: the claim (-1) or the re-encoding the endpoint is closest to, on average.
    int best = -1;
    double best_e = mean_d;
    for (size_t l = 0; l < names.size(); ++l) {
        double m = 0, e = 0;
        for (const auto* p : use) {
            m += p->lp_calibration[l];
            e += p->lp_to_level[l];
        }
        levels->push_back({names[l], m / n, e / n});
        if (e / n < best_e) best_e = e / n, best = static_cast<int>(l);
    }
    auto e_of = [&](const EndpointPromptData* p) {
        return best < 0 ? p->lp_delta : p->lp_to_level[best];
    };
    // Noise allowance per prompt: the median calibrated precision change (engines that run
    // quantised weights also quantise activations, which moves them about one precision step).
    int64_t k = 0, closer = 0;
    for (const auto* p : use) {
        std::vector<double> c = p->lp_calibration;
        std::sort(c.begin(), c.end());
        double noise = c[(c.size() - 1) / 2];
        k += e_of(p) > margin * noise;
        closer += best >= 0 && p->lp_to_level[best] < p->lp_delta;
    }
    t.ran = true;
    t.p_value = binomial_upper_half(k, t.n);
    if (best >= 0) {
        *nearest = names[best];
        *p_precision = binomial_upper_half(closer, t.n);
    }
    t.note = fmt::format(
        "mean |delta log p| {:.3g} to the claim; nearest: {} ({:.3g}); {} of {} "
        "prompts beyond {} x the median calibrated precision change",
        mean_d, best < 0 ? std::string("the claim") : names[best], best_e, k, t.n, margin);
    std::stable_sort(levels->begin(), levels->end(),
                     [](const PrecisionLevel& a, const PrecisionLevel& b) {
                         return a.mean_delta < b.mean_delta;
                     });
    return t;
}

Result<EndpointCheckResult> evaluate_endpoint_check(const std::vector<EndpointPromptData>& prompts,
                                                    const std::vector<std::string>& level_names,
                                                    int64_t queries,
                                                    const EndpointCheckOptions& o) {
    if (!(o.alpha > 0 && o.alpha < 1)) return invalid_argument("alpha {} outside (0, 1)", o.alpha);
    EndpointCheckResult r;
    r.options = o;
    r.queries = queries;
    r.prompts = static_cast<int64_t>(prompts.size());
    auto mmd = mmd_hamming_test(prompts, o.hamming_bytes, o.permutations, o.seed);
    if (mmd.ok())
        r.mmd = *mmd;
    else
        r.mmd.note = mmd.status().message();
    r.rank = rank_test(prompts, o.seed);
    std::string nearest;
    double p_precision = 1.0;
    r.logprob =
        logprob_test(prompts, level_names, o.precision_margin, &r.levels, &nearest, &p_precision);
    if (!nearest.empty()) {
        r.precision.ran = true;
        r.precision.p_value = p_precision;
        r.precision.n = r.logprob.n;
        for (const auto& l : r.levels) {
            if (l.name == nearest) r.precision.statistic = l.endpoint_delta;
        }
        r.precision.note = fmt::format(
            "closer to {} than to the claim on most prompts? (one-sided sign test)", nearest);
    }
    double p_samples = 1.0;
    if (r.mmd.ran) p_samples = std::min(p_samples, r.mmd.p_value);
    if (r.rank.ran) p_samples = std::min(p_samples, r.rank.p_value);
    // Family-wise level alpha: with the logprob test, alpha/2 for it and alpha/4 for each sample
    // test; without it, alpha/2 for each sample test (Bonferroni).
    const double sample_alpha = r.logprob.ran ? o.alpha / 4 : o.alpha / 2;
    bool sample_reject = p_samples < sample_alpha;
    if (r.logprob.ran) {
        if (r.logprob.p_value < o.alpha / 2) {
            r.verdict = EndpointVerdict::kDifferent;
            r.reason = fmt::format(
                "log-probabilities are farther from the claim and from every "
                "re-encoding of it than {} x the median precision change "
                "(sign test p = {:.3g})",
                o.precision_margin, r.logprob.p_value);
        } else if (!nearest.empty() && p_precision < o.alpha) {
            r.verdict = EndpointVerdict::kSameWeightsOtherPrecision;
            r.nearest_level = nearest;
            r.reason = fmt::format(
                "log-probabilities match the re-encoding {} better than the claim "
                "on most prompts (sign test p = {:.3g})",
                nearest, p_precision);
        } else if (sample_reject) {
            r.verdict = EndpointVerdict::kDifferent;
            r.reason = fmt::format(
                "log-probabilities match the claim, but the sampled completions "
                "differ (p = {:.3g} < {:.3g}): the sampling is not the claimed one",
                p_samples, sample_alpha);
        } else {
            r.verdict = EndpointVerdict::kSame;
            r.reason = fmt::format(
                "log-probabilities match the claim within engine noise (mean "
                "|delta| {:.3g}; no re-encoding matches better) and the samples agree",
                r.logprob.statistic);
        }
        return r;
    }
    if (!r.mmd.ran && !r.rank.ran) {
        r.verdict = EndpointVerdict::kInconclusive;
        r.queries_needed = o.min_queries_for_same;
        r.reason = "no test could run (too few samples)";
        return r;
    }
    if (sample_reject) {
        r.verdict = EndpointVerdict::kDifferent;
        r.reason = fmt::format(
            "the sampled completions differ from the claim's (min p = {:.3g} < "
            "alpha/2 = {:.3g})",
            p_samples, o.alpha / 2);
    } else if (queries >= o.min_queries_for_same) {
        r.verdict = EndpointVerdict::kSame;
        r.reason = fmt::format("no test rejects at alpha/2 = {:.3g} after {} queries", o.alpha / 2,
                               queries);
    } else {
        r.verdict = EndpointVerdict::kInconclusive;
        r.queries_needed = o.min_queries_for_same;
        if (r.rank.ran && std::fabs(r.rank.statistic) > 1.0) {
            // The observed rank effect extrapolated to significance at alpha/2 (z ~ sqrt(n)).
            double zc = two_sided_critical_z(o.alpha / 2);
            double need = std::ceil(static_cast<double>(r.rank.n) *
                                    std::pow(zc / std::fabs(r.rank.statistic), 2));
            int64_t per_prompt = r.prompts > 0 ? std::max<int64_t>(1, queries / r.prompts) : 1;
            r.queries_needed =
                std::min<int64_t>(r.queries_needed, static_cast<int64_t>(need) * per_prompt);
            r.queries_needed = std::max<int64_t>(r.queries_needed, queries + 1);
        }
        r.reason = fmt::format(
            "no test rejects, but {} queries are fewer than the {} that "
            "detected a fine-tune with >= 90% power (docs/endpoints.md)",
            queries, o.min_queries_for_same);
    }
    return r;
}

namespace {

Json test_json(const EndpointTest& t) {
    Json j = {{"ran", t.ran}, {"n", t.n}, {"note", t.note}};
    j["statistic"] = t.statistic;
    if (t.ran) j["p_value"] = t.p_value;
    return j;
}

}  // namespace

std::string endpoint_check_json(const EndpointCheckResult& r) {
    OrderedJson j;
    j["verdict"] = std::string(endpoint_verdict_name(r.verdict));
    j["reason"] = r.reason;
    if (!r.nearest_level.empty()) j["nearest_precision"] = r.nearest_level;
    j["endpoint"] = r.endpoint;
    j["model"] = r.model;
    j["served_model"] = r.served_model;
    if (!r.system_fingerprint.empty()) j["system_fingerprint"] = r.system_fingerprint;
    j["claim"] = r.claim;
    j["prompts"] = r.prompts;
    j["queries"] = r.queries;
    if (r.verdict == EndpointVerdict::kInconclusive) j["queries_needed"] = r.queries_needed;
    j["sampling"] = {
        {"temperature", r.temperature}, {"top_p", 1.0},         {"top_k", 0},
        {"max_tokens", r.max_tokens},   {"samples", r.samples}, {"local_samples", r.local_samples}};
    OrderedJson tests;
    tests["mmd_hamming"] = test_json(r.mmd);
    tests["rank"] = test_json(r.rank);
    Json lp = test_json(r.logprob);
    Json levels = Json::array();
    for (const auto& l : r.levels) {
        levels.push_back({{"file", l.name},
                          {"claim_delta", l.mean_delta},
                          {"endpoint_delta", l.endpoint_delta}});
    }
    lp["calibration"] = levels;
    tests["logprob"] = lp;
    tests["precision"] = test_json(r.precision);
    j["tests"] = tests;
    j["options"] = {{"alpha", r.options.alpha},
                    {"permutations", r.options.permutations},
                    {"hamming_bytes", r.options.hamming_bytes},
                    {"precision_margin", r.options.precision_margin},
                    {"min_queries_for_same", r.options.min_queries_for_same},
                    {"seed", r.options.seed}};
    return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
}

std::string endpoint_check_text(const EndpointCheckResult& r) {
    std::string s;
    s += fmt::format("endpoint   {} (model \"{}\", served as \"{}\")\n", r.endpoint, r.model,
                     r.served_model);
    s += fmt::format("claim      {}\n", r.claim);
    s += fmt::format("verdict    {}", endpoint_verdict_name(r.verdict));
    if (!r.nearest_level.empty()) s += fmt::format(" (nearest: {})", r.nearest_level);
    s += fmt::format("\nreason     {}\n", r.reason);
    s += fmt::format(
        "queries    {} on {} prompts ({} samples each, {} local; temperature {}, "
        "max {} tokens)\n",
        r.queries, r.prompts, r.samples, r.local_samples, r.temperature, r.max_tokens);
    if (r.verdict == EndpointVerdict::kInconclusive) {
        s += fmt::format("needed     about {} queries for a decisive answer\n", r.queries_needed);
    }
    auto line = [&](const char* name, const EndpointTest& t) {
        if (t.ran) {
            s += fmt::format("  {:<8} statistic {:>10.4g}  p {:>9.3g}  n {:>4}  {}\n", name,
                             t.statistic, t.p_value, t.n, t.note);
        } else {
            s += fmt::format("  {:<8} not run: {}\n", name, t.note);
        }
    };
    s += "tests\n";
    line("mmd", r.mmd);
    line("rank", r.rank);
    line("logprob", r.logprob);
    for (const auto& l : r.levels) {
        s += fmt::format("    calibration {:<40} |claim - it| {:.3g}  |endpoint - it| {:.3g}\n",
                         l.name, l.mean_delta, l.endpoint_delta);
    }
    return s;
}

}  // namespace modelprint

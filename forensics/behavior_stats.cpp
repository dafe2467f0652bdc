// Pairwise behaviour statistics (see behavior_stats.h for definitions and sources).
#include "forensics/behavior_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_map>

namespace modelprint {

namespace {

// Average ranks (1-based) with ties sharing the mean rank.
std::vector<double> average_ranks(std::span<const double> x) {
    const size_t n = x.size();
    std::vector<size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> r(n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) ++j;
        const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
        i = j + 1;
    }
    return r;
}

double pearson(std::span<const double> x, std::span<const double> y) {
    const size_t n = x.size();
    if (n < 2) return std::numeric_limits<double>::quiet_NaN();
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
    return sxy / std::sqrt(sxx * syy);
}

// Probabilities of `list` over `universe` (indices into the union), plus an "other" bucket
// at the end (see compare_topk in the header).
std::vector<double> spread(const TopkList& list, const std::vector<std::string_view>& universe,
                           const std::unordered_map<std::string_view, size_t>& pos) {
    std::vector<double> p(universe.size() + 1, 0.0);
    std::vector<bool> listed(universe.size(), false);
    double mass = 0.0, min_p = 1.0;
    for (size_t k = 0; k < list.tokens.size(); ++k) {
        const size_t u = pos.at(list.tokens[k]);
        const double v = std::exp(static_cast<double>(list.logprobs[k]));
        p[u] += v;  // (the same bytes twice in one list: masses add)
        listed[u] = true;
        mass += v;
        min_p = std::min(min_p, v);
    }
    double rest = std::max(0.0, 1.0 - mass);
    size_t missing = 0;
    for (bool l : listed) missing += l ? 0 : 1;
    if (missing > 0) {
        const double each = std::min(min_p, rest / static_cast<double>(missing + 1));
        for (size_t u = 0; u < universe.size(); ++u) {
            if (!listed[u]) p[u] = each;
        }
        rest -= each * static_cast<double>(missing);
    }
    p.back() = std::max(0.0, rest);
    double s = std::accumulate(p.begin(), p.end(), 0.0);
    if (s > 0) {
        for (double& v : p) v /= s;
    }
    return p;
}

// UTF-8 to code points; an invalid byte becomes 0x110000 + byte (never a real code point).
std::vector<uint32_t> code_points(std::string_view s, size_t limit) {
    std::vector<uint32_t> out;
    size_t i = 0;
    while (i < s.size() && out.size() < limit) {
        const auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + static_cast<size_t>(len) <= s.size();
        uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; ok && k < len; ++k) {
            const auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((d & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if (!ok) {
            out.push_back(0x110000u + c);
            ++i;
        } else {
            out.push_back(cp);
            i += static_cast<size_t>(len);
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Unbiased HSIC of two centred-free Gram matrices (n, n) (Song et al. 2012, eq. 5).
double hsic_unbiased(const std::vector<double>& K, const std::vector<double>& L, int64_t n) {
    // K~, L~: diagonals zeroed.
    double tr = 0, sk = 0, sl = 0, skl = 0;
    std::vector<double> row_l(static_cast<size_t>(n), 0.0);  // L~ 1
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            if (i != j) row_l[i] += L[i * n + j];
        }
    }
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            if (i == j) continue;
            const double k = K[i * n + j], l = L[i * n + j];
            tr += k * l;  // tr(K~ L~) = sum_ij K~_ij L~_ji (symmetric)
            sk += k;
            sl += l;
            skl += k * row_l[j];  // 1' K~ L~ 1 = sum_ij K~_ij (L~ 1)_j
        }
    }
    const double nd = static_cast<double>(n);
    return (tr + sk * sl / ((nd - 1) * (nd - 2)) - 2.0 / (nd - 2) * skl) / (nd * (nd - 3));
}

std::vector<double> gram(std::span<const float> X, int64_t n, int64_t p) {
    std::vector<double> G(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = i; j < n; ++j) {
            double s = 0;
            for (int64_t k = 0; k < p; ++k) {
                s += static_cast<double>(X[i * p + k]) * static_cast<double>(X[j * p + k]);
            }
            G[i * n + j] = G[j * n + i] = s;
        }
    }
    return G;
}

double cka_from_grams(const std::vector<double>& K, const std::vector<double>& L, double hkk,
                      double hll, int64_t n) {
    if (!(hkk > 0) || !(hll > 0)) return std::numeric_limits<double>::quiet_NaN();
    return hsic_unbiased(K, L, n) / std::sqrt(hkk * hll);
}

}  // namespace

double js_divergence(std::span<const double> p, std::span<const double> q) {
    double js = 0.0;
    for (size_t i = 0; i < p.size() && i < q.size(); ++i) {
        const double m = 0.5 * (p[i] + q[i]);
        if (p[i] > 0) js += 0.5 * p[i] * std::log2(p[i] / m);
        if (q[i] > 0) js += 0.5 * q[i] * std::log2(q[i] / m);
    }
    return std::clamp(js, 0.0, 1.0);
}

double spearman(std::span<const double> x, std::span<const double> y) {
    if (x.size() != y.size()) return std::numeric_limits<double>::quiet_NaN();
    const auto rx = average_ranks(x), ry = average_ranks(y);
    return pearson(rx, ry);
}

TopkAgreement compare_topk(const TopkList& a, const TopkList& b) {
    std::vector<std::string_view> universe;
    std::unordered_map<std::string_view, size_t> pos;
    for (const TopkList* l : {&a, &b}) {
        for (auto t : l->tokens) {
            if (pos.emplace(t, universe.size()).second) universe.push_back(t);
        }
    }
    TopkAgreement r;
    const auto p = spread(a, universe, pos), q = spread(b, universe, pos);
    r.js = js_divergence(p, q);
    size_t common = 0;
    for (auto t : a.tokens) {
        if (std::find(b.tokens.begin(), b.tokens.end(), t) != b.tokens.end()) ++common;
    }
    const size_t k = std::min(a.tokens.size(), b.tokens.size());
    r.overlap = k > 0 ? static_cast<double>(common) / static_cast<double>(k) : 0.0;
    const std::vector<double> pu(p.begin(), p.end() - 1), qu(q.begin(), q.end() - 1);
    const double s = spearman(pu, qu);
    r.spearman = std::isnan(s) ? 0.0 : s;
    return r;
}

LogitSimilarity logit_similarity(const LogitPrint& a, const LogitPrint& b) {
    LogitSimilarity out;
    const size_t P = std::min(a.probes.size(), b.probes.size());
    const size_t Ka = static_cast<size_t>(std::max(a.top_k, 0));
    const size_t Kb = static_cast<size_t>(std::max(b.top_k, 0));
    if (Ka == 0 || Kb == 0) return out;
    for (size_t i = 0; i < P; ++i) {
        const ProbeTrace& ta = a.probes[i];
        const ProbeTrace& tb = b.probes[i];
        if (ta.prompt_text != tb.prompt_text) continue;
        // Several positions can cover the same text (a token that decodes to nothing, such as
        // a lone SentencePiece space); the last of them has seen the most tokens: use it.
        std::map<uint32_t, size_t> at_a, at_b;
        for (size_t t = 0; t < ta.boundary.size(); ++t) {
            if (ta.boundary[t] != kNoBoundary) at_a[ta.boundary[t]] = t;
        }
        for (size_t t = 0; t < tb.boundary.size(); ++t) {
            if (tb.boundary[t] != kNoBoundary) at_b[tb.boundary[t]] = t;
        }
        bool used = false;
        for (const auto& [bound, t] : at_a) {
            auto it = at_b.find(bound);
            if (it == at_b.end()) continue;
            TopkList la, lb;
            for (size_t k = 0; k < Ka; ++k) {
                la.tokens.push_back(a.tokens[ta.topk_token[t * Ka + k]]);
                la.logprobs.push_back(ta.topk_logprob[t * Ka + k]);
            }
            const size_t u = it->second;
            for (size_t k = 0; k < Kb; ++k) {
                lb.tokens.push_back(b.tokens[tb.topk_token[u * Kb + k]]);
                lb.logprobs.push_back(tb.topk_logprob[u * Kb + k]);
            }
            const TopkAgreement g = compare_topk(la, lb);
            out.js += g.js;
            out.overlap += g.overlap;
            out.spearman += g.spearman;
            ++out.positions;
            used = true;
        }
        out.probes += used ? 1 : 0;
    }
    if (out.positions > 0) {
        const double n = static_cast<double>(out.positions);
        out.js /= n;
        out.overlap /= n;
        out.spearman /= n;
    }
    return out;
}

double linear_cka_unbiased(std::span<const float> X, std::span<const float> Y, int64_t n,
                           int64_t p, int64_t q) {
    if (n < 4 || static_cast<int64_t>(X.size()) < n * p || static_cast<int64_t>(Y.size()) < n * q) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const auto K = gram(X, n, p), L = gram(Y, n, q);
    return cka_from_grams(K, L, hsic_unbiased(K, K, n), hsic_unbiased(L, L, n), n);
}

Result<CkaMatrix> cka_matrix(const LogitPrint& a, const LogitPrint& b) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < std::min(a.probes.size(), b.probes.size()); ++i) {
        if (!a.probes[i].hidden_mean.empty() && !b.probes[i].hidden_mean.empty()) rows.push_back(i);
    }
    if (rows.size() < 4 || a.layers < 1 || b.layers < 1) {
        return invalid_argument("CKA needs hidden means of at least 4 probes in both fingerprints "
                                "({} probes have them, layers {} and {})",
                                rows.size(), a.layers, b.layers);
    }
    const int64_t n = static_cast<int64_t>(rows.size());
    auto grams = [&](const LogitPrint& lp) {
        std::vector<std::vector<double>> G;
        std::vector<double> self;
        const int64_t C = lp.hidden_size;
        for (int64_t l = 0; l < lp.layers; ++l) {
            std::vector<float> X(static_cast<size_t>(n * C));
            for (int64_t r = 0; r < n; ++r) {
                const auto& h = lp.probes[rows[r]].hidden_mean;
                std::copy(h.begin() + l * C, h.begin() + (l + 1) * C, X.begin() + r * C);
            }
            G.push_back(gram(X, n, C));
            self.push_back(hsic_unbiased(G.back(), G.back(), n));
        }
        return std::make_pair(G, self);
    };
    for (const LogitPrint* lp : {&a, &b}) {
        for (size_t r : rows) {
            if (static_cast<int64_t>(lp->probes[r].hidden_mean.size()) != lp->layers * lp->hidden_size) {
                return invalid_argument("probe {}: hidden means have {} values, expected {} x {}", r,
                                        lp->probes[r].hidden_mean.size(), lp->layers,
                                        lp->hidden_size);
            }
        }
    }
    const auto [Ga, sa] = grams(a);
    const auto [Gb, sb] = grams(b);
    CkaMatrix m;
    m.layers_a = a.layers;
    m.layers_b = b.layers;
    m.probes = n;
    m.cka.resize(static_cast<size_t>(a.layers * b.layers));
    for (int64_t i = 0; i < a.layers; ++i) {
        for (int64_t j = 0; j < b.layers; ++j) {
            m.cka[i * b.layers + j] = cka_from_grams(Ga[i], Gb[j], sa[i], sb[j], n);
        }
    }
    double sum = 0;
    int64_t cnt = 0;
    for (int64_t i = a.layers > 1 ? 1 : 0; i < a.layers; ++i) {
        double best = -std::numeric_limits<double>::infinity();
        for (int64_t j = b.layers > 1 ? 1 : 0; j < b.layers; ++j) {
            const double v = m.cka[i * b.layers + j];
            if (!std::isnan(v)) best = std::max(best, v);
        }
        if (std::isfinite(best)) {
            sum += best;
            ++cnt;
        }
    }
    m.best_match_mean = cnt > 0 ? sum / static_cast<double>(cnt) : 0.0;
    return m;
}

TextOverlap text_overlap(std::string_view a, std::string_view b) {
    TextOverlap o;
    a = trim(a);
    b = trim(b);
    o.exact = a == b ? 1.0 : 0.0;
    const auto ca = code_points(a, kMaxLcsChars), cb = code_points(b, kMaxLcsChars);
    if (ca.empty() && cb.empty()) {
        o.ngram = o.lcs = 1.0;
        return o;
    }
    // Character trigram multisets, Dice coefficient; texts shorter than 3 use themselves.
    auto grams = [](const std::vector<uint32_t>& c) {
        std::map<std::vector<uint32_t>, int> g;
        if (c.size() < 3) {
            if (!c.empty()) g[c] = 1;
            return g;
        }
        for (size_t i = 0; i + 3 <= c.size(); ++i) g[{c[i], c[i + 1], c[i + 2]}] += 1;
        return g;
    };
    const auto ga = grams(ca), gb = grams(cb);
    int64_t common = 0, na = 0, nb = 0;
    for (const auto& [k, v] : ga) {
        na += v;
        auto it = gb.find(k);
        if (it != gb.end()) common += std::min(v, it->second);
    }
    for (const auto& [k, v] : gb) nb += v;
    o.ngram = na + nb > 0 ? 2.0 * static_cast<double>(common) / static_cast<double>(na + nb) : 0.0;
    // LCS by the classic O(|a| |b|) dynamic programme, two rows.
    std::vector<int32_t> prev(cb.size() + 1, 0), cur(cb.size() + 1, 0);
    for (size_t i = 1; i <= ca.size(); ++i) {
        for (size_t j = 1; j <= cb.size(); ++j) {
            cur[j] = ca[i - 1] == cb[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
        }
        std::swap(prev, cur);
    }
    o.lcs = 2.0 * prev[cb.size()] / static_cast<double>(ca.size() + cb.size());
    return o;
}

OutputSimilarity output_similarity(const OutputPrint& a, const OutputPrint& b) {
    OutputSimilarity s;
    const size_t P = std::min(a.responses.size(), b.responses.size());
    for (size_t i = 0; i < P; ++i) {
        if (i >= a.present.size() || i >= b.present.size() || !a.present[i] || !b.present[i]) continue;
        const TextOverlap o = text_overlap(a.responses[i], b.responses[i]);
        s.exact += o.exact;
        s.ngram += o.ngram;
        s.lcs += o.lcs;
        ++s.probes;
    }
    if (s.probes > 0) {
        const double n = static_cast<double>(s.probes);
        s.exact /= n;
        s.ngram /= n;
        s.lcs /= n;
    }
    return s;
}

}  // namespace modelprint

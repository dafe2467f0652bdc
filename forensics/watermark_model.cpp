// Watermark radioactivity of a model (see watermark_model.h for the tests and their sources).
#include "forensics/watermark_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <unordered_map>

#include "fingerprint/engine/backend.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/stats.h"

namespace modelprint {

namespace {

// One context of open-model positions while collecting: summed distributions by teacher id.
struct Group {
    std::vector<int32_t> window;
    int64_t n = 0;
    std::unordered_map<int32_t, double> ref, plain, logratio;
};

// (suspect position, teacher position) pairs that end at the same byte of the text.
std::vector<std::pair<size_t, size_t>> align_positions(const Tokenizer& S,
                                                       const std::vector<int32_t>& s_ids,
                                                       const Tokenizer& T,
                                                       const std::vector<int32_t>& t_ids) {
    auto remaining = [](const Tokenizer& tok, const std::vector<int32_t>& ids) {
        std::vector<int64_t> len(ids.size());
        int64_t total = 0;
        for (size_t j = 0; j < ids.size(); ++j) {
            auto b = tok.token_bytes(ids[j]);
            len[j] = (b && !tok.is_special(ids[j])) ? static_cast<int64_t>(b->size()) : 0;
            total += len[j];
        }
        std::vector<int64_t> rem(ids.size());
        int64_t cum = 0;
        for (size_t j = 0; j < ids.size(); ++j) {
            cum += len[j];
            rem[j] = total - cum;  // bytes after token j (both sides end at the text's end)
        }
        return rem;
    };
    const auto rs = remaining(S, s_ids), rt = remaining(T, t_ids);
    std::vector<std::pair<size_t, size_t>> out;
    size_t a = 0, b = 0;
    while (a < rs.size() && b < rt.size()) {
        if (rs[a] == rt[b]) {
            // the last of a run of equal remainders (after zero-length special tokens)
            while (a + 1 < rs.size() && rs[a + 1] == rs[a]) ++a;
            while (b + 1 < rt.size() && rt[b + 1] == rt[b]) ++b;
            out.emplace_back(a, b);
            ++a;
            ++b;
        } else if (rs[a] > rt[b]) {
            ++a;
        } else {
            ++b;
        }
    }
    return out;
}

// Softmax of a logits row in double.
void softmax(const float* logits, int64_t n, std::vector<double>& p) {
    p.resize(static_cast<size_t>(n));
    double mx = -INFINITY;
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += (p[i] = std::exp(static_cast<double>(logits[i]) - mx));
    for (int64_t i = 0; i < n; ++i) p[i] /= sum;
}

// The top `k` ids of p (all when k >= size), appended to `out`.
void top_ids(const std::vector<double>& p, int64_t k, std::vector<int32_t>& out) {
    std::vector<int32_t> idx(p.size());
    std::iota(idx.begin(), idx.end(), 0);
    if (k < static_cast<int64_t>(p.size())) {
        std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
            return p[a] > p[b] || (p[a] == p[b] && a < b);
        });
        idx.resize(static_cast<size_t>(k));
    }
    out.insert(out.end(), idx.begin(), idx.end());
}

enum class MassKind : uint8_t { kPlain, kReference, kLogRatio };

GreenMassTest green_mass_test(const GreenLists& L, const RadioactivityData& d, MassKind kind,
                              ContextWeights weights, int64_t min_contexts) {
    GreenMassTest t;
    t.reference = kind != MassKind::kPlain;
    t.log_ratio = kind == MassKind::kLogRatio;
    t.weights = weights;
    t.positions = d.positions;
    t.expected = L.gamma();
    const double pi = L.gamma(), V = static_cast<double>(L.vocab_size());
    const bool self = L.key().seeding_scheme == SeedingScheme::kSelfHash;
    double zsum = 0.0, wsum2 = 0.0, mass = 0.0;
    int64_t H = 0;
    std::vector<char> mask, green_plain;
    for (const auto& c : d.contexts) {
        const auto& X = kind == MassKind::kPlain       ? c.plain
                        : kind == MassKind::kReference ? c.ref
                                                       : c.logratio;
        double S = 0.0, P = 0.0, sx = 0.0, sxx = 0.0;
        if (!self) {
            mask.assign(static_cast<size_t>(L.vocab_size()), 0);
            for (int32_t id : L.green_ids(c.window)) mask[static_cast<size_t>(id)] = 1;
        }
        auto green = [&](int32_t id) {
            return self ? L.is_green(c.window, id) : mask[static_cast<size_t>(id)] != 0;
        };
        for (const auto& [id, x] : X) {  // sorted by id: a fixed summation order
            sx += x;
            sxx += x * x;
            if (green(id)) S += x;
        }
        for (const auto& [id, x] : c.plain) {
            if (green(id)) P += x;
        }
        const double mean = pi * sx;
        const double var =
            self ? pi * (1 - pi) * sxx : pi * (1 - pi) * (sxx - (sx * sx - sxx) / (V - 1.0));
        mass += P / static_cast<double>(c.n);
        if (var > 1e-300) {
            // Weighted Stouffer (Lipták 1958; Whitlock 2005): the weights depend only on the
            // key-independent positions, so Z stays N(0, 1) under the null.
            const double w = weights == ContextWeights::kSqrtPositions
                                 ? std::sqrt(static_cast<double>(c.n))
                                 : 1.0;
            zsum += w * (S - mean) / std::sqrt(var);
            wsum2 += w * w;
            ++H;
        }
    }
    t.contexts = H;
    t.green_mass = d.contexts.empty() ? 0.0 : mass / static_cast<double>(d.contexts.size());
    t.z = H > 0 ? zsum / std::sqrt(wsum2) : 0.0;
    t.log_p = H > 0 ? log_normal_sf(t.z) : 0.0;
    t.p_value = std::exp(t.log_p);
    t.conclusive = H >= min_contexts;
    return t;
}

}  // namespace

std::vector<std::string> default_radioactivity_prompts(int samples) {
    static const char* const kStarts[] = {
        "", "", "", "", "Once upon a time", "One day", "Lily wanted", "The little dog"};
    std::vector<std::string> out;
    for (int r = 0; r < samples; ++r) out.emplace_back(kStarts[r % 8]);
    return out;
}

Result<RadioactivityData> collect_radioactivity(const GreenLists& L, const RadioactivityInput& in,
                                                const RadioactivityOptions& o) {
    if (!in.suspect || !in.suspect_tokenizer || !in.teacher_tokenizer) {
        return invalid_argument(
            "watermark radioactivity needs a suspect, its tokenizer and the "
            "teacher's tokenizer");
    }
    if (in.prompts.empty()) return invalid_argument("watermark radioactivity: no prompts");
    if (o.max_new_tokens < 1)
        return invalid_argument("watermark radioactivity: max_new_tokens < 1");
    const Tokenizer& S = *in.suspect_tokenizer;
    const Tokenizer& T = *in.teacher_tokenizer;
    const int64_t V = L.vocab_size();
    RadioactivityData res;
    res.vocab = V;
    res.scheme = L.key().seeding_scheme;
    res.context_width = L.context_width();

    // Teacher id -> suspect id of the same bytes (identity for the same vocabulary).
    bool same = S.vocab_size() == T.vocab_size();
    for (int32_t i = 0; same && i < S.vocab_size(); ++i)
        same = S.token_bytes(i) == T.token_bytes(i);
    std::vector<int32_t> t2s(static_cast<size_t>(V), -1);
    if (same) {
        for (int64_t a = 0; a < std::min(V, S.vocab_size()); ++a) t2s[a] = static_cast<int32_t>(a);
    } else {
        for (const auto& [a, b] : map_vocabularies(T, S).pairs) {
            if (a >= 0 && a < V && t2s[a] < 0) t2s[a] = b;
        }
    }
    for (int64_t a = 0; a < V; ++a) {
        if (t2s[a] >= 0 && !T.is_special(static_cast<int32_t>(a))) ++res.shared_tokens;
    }
    res.cross_tokenizer = !same;
    if (!same &&
        static_cast<double>(res.shared_tokens) < o.min_shared_fraction * static_cast<double>(V)) {
        return failed_precondition(
            "the suspect's vocabulary shares {} token strings with the teacher's {} (fewer than "
            "{:.0f}%): too few for a cross-tokenizer watermark test",
            res.shared_tokens, V, 100 * o.min_shared_fraction);
    }

    // (a) the suspect generates; its text is kept in the teacher's tokenisation.
    std::vector<std::vector<int32_t>> s_full, t_full;
    for (size_t i = 0; i < in.prompts.size(); ++i) {
        const std::string& prompt = in.prompts[i];
        GenerateRequest req;
        if (!prompt.empty()) {
            MP_ASSIGN_OR_RETURN(req.prompt, S.encode(prompt, true));
        }
        if (req.prompt.empty() ||
            (S.config_adds_bos() && S.bos_id() && req.prompt[0] != *S.bos_id())) {
            if (auto b = S.bos_id()) req.prompt.insert(req.prompt.begin(), *b);
        }
        if (req.prompt.empty()) {
            return invalid_argument("prompt {} is empty and the suspect's tokenizer has no BOS", i);
        }
        req.max_new_tokens = o.max_new_tokens;
        req.temperature = o.temperature;
        req.seed = o.seed + i;
        if (auto e = S.eos_id()) req.stop_ids.push_back(*e);
        MP_ASSIGN_OR_RETURN(GenerateResult g, in.suspect->generate(req));
        if (g.stopped && !g.tokens.empty()) g.tokens.pop_back();
        std::vector<int32_t> s_ids = req.prompt;
        s_ids.insert(s_ids.end(), g.tokens.begin(), g.tokens.end());
        std::vector<int32_t> t_ids;
        size_t start = 0;
        if (same) {
            t_ids = s_ids;
            start = req.prompt.size();
        } else {
            MP_ASSIGN_OR_RETURN(std::string text, S.decode(g.tokens, true));
            if (!prompt.empty()) {
                MP_ASSIGN_OR_RETURN(t_ids, T.encode(prompt, true));
            } else if (auto b = T.bos_id()) {
                t_ids.push_back(*b);
            }
            start = t_ids.size();
            MP_ASSIGN_OR_RETURN(std::vector<int32_t> r, T.encode(text, false));
            t_ids.insert(t_ids.end(), r.begin(), r.end());
        }
        for (int32_t& id : t_ids) {
            if (id >= V)
                return out_of_range("teacher token id {} >= the key's vocabulary {}", id, V);
        }
        res.samples.push_back({t_ids, start});
        s_full.push_back(std::move(s_ids));
        t_full.push_back(std::move(t_ids));
    }

    // (b) open-model: distributions after every aligned prefix, summed per seed group.
    const size_t cw = static_cast<size_t>(L.context_width());
    const bool self = L.key().seeding_scheme == SeedingScheme::kSelfHash;
    const bool ref = in.teacher != nullptr;
    res.reference = ref;
    std::map<std::vector<int32_t>, Group> groups;
    int64_t positions = 0;
    std::vector<double> ps, pt, qs, qt;
    std::vector<int32_t> cand;
    const size_t step = static_cast<size_t>(std::max(1, o.batch));
    for (size_t j0 = 0; j0 < s_full.size(); j0 += step) {
        const size_t j1 = std::min(s_full.size(), j0 + step);
        PrefillRequest rs, rt;
        for (size_t j = j0; j < j1; ++j) {
            rs.sequences.push_back(s_full[j]);
            rt.sequences.push_back(t_full[j]);
        }
        MP_ASSIGN_OR_RETURN(PrefillResult out_s, in.suspect->prefill(rs));
        PrefillResult out_t;
        if (ref) {
            MP_ASSIGN_OR_RETURN(out_t, in.teacher->prefill(rt));
        }
        for (size_t j = j0; j < j1; ++j) {
            const auto& sids = s_full[j];
            const auto& tids = t_full[j];
            std::vector<std::pair<size_t, size_t>> pairs;
            if (same) {
                for (size_t k = 0; k < sids.size(); ++k) pairs.emplace_back(k, k);
            } else {
                pairs = align_positions(S, sids, T, tids);
            }
            const int64_t Vs = out_s.vocab_size, Vt = ref ? out_t.vocab_size : 0;
            for (const auto& [js, jt] : pairs) {
                if (jt + 1 < (self ? cw - 1 : cw)) continue;
                softmax(out_s.outputs[j - j0].logits.data() + static_cast<int64_t>(js) * Vs, Vs,
                        ps);
                // Suspect mass on the teacher's ids, renormalised over the shared ones.
                qs.assign(static_cast<size_t>(V), 0.0);
                double zs = 0.0;
                for (int64_t a = 0; a < V; ++a) {
                    if (t2s[a] >= 0 && t2s[a] < Vs) zs += (qs[a] = ps[t2s[a]]);
                }
                if (zs <= 0) continue;
                for (double& x : qs) x /= zs;
                qt.assign(static_cast<size_t>(V), 0.0);
                if (ref) {
                    softmax(out_t.outputs[j - j0].logits.data() + static_cast<int64_t>(jt) * Vt, Vt,
                            pt);
                    double zt = 0.0;
                    for (int64_t a = 0; a < std::min(V, Vt); ++a) {
                        if (t2s[a] >= 0) zt += (qt[a] = pt[a]);
                    }
                    if (zt > 0) {
                        for (double& x : qt) x /= zt;
                    }
                }
                cand.clear();
                top_ids(qs, o.max_candidates, cand);
                if (ref) top_ids(qt, o.max_candidates, cand);
                std::sort(cand.begin(), cand.end());
                cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
                // The context: lefthash the cw tokens before (only the last seeds the list),
                // selfhash the cw - 1 tokens before the candidate.
                const size_t w = self ? cw - 1 : cw;
                std::vector<int32_t> key(tids.begin() + static_cast<std::ptrdiff_t>(jt + 1 - w),
                                         tids.begin() + static_cast<std::ptrdiff_t>(jt + 1));
                if (!self) key.erase(key.begin(), key.end() - 1);  // same seed, same list
                Group& g = groups[key];
                if (g.n == 0) g.window = key;
                ++g.n;
                for (int32_t a : cand) {
                    g.plain[a] += qs[a];
                    if (ref) {
                        g.ref[a] += qs[a] - qt[a];
                        if (qs[a] > 0 && qt[a] > 0) g.logratio[a] += std::log(qs[a] / qt[a]);
                    }
                }
                ++positions;
            }
        }
    }
    res.positions = positions;
    for (auto& [k, g] : groups) {
        RadioactivityData::Context c;
        c.window = g.window;
        c.n = g.n;
        c.plain.assign(g.plain.begin(), g.plain.end());
        c.ref.assign(g.ref.begin(), g.ref.end());
        c.logratio.assign(g.logratio.begin(), g.logratio.end());
        std::sort(c.plain.begin(), c.plain.end());
        std::sort(c.ref.begin(), c.ref.end());
        std::sort(c.logratio.begin(), c.logratio.end());
        res.contexts.push_back(std::move(c));
    }
    return res;
}

Result<RadioactivityResult> evaluate_radioactivity(const GreenLists& L, const RadioactivityData& d,
                                                   const RadioactivityOptions& o) {
    if (L.key().seeding_scheme != d.scheme || L.context_width() != d.context_width ||
        L.vocab_size() != d.vocab) {
        return invalid_argument(
            "watermark key ({}, width {}, {} ids) does not match the collected "
            "data ({}, width {}, {} ids)",
            seeding_scheme_name(L.key().seeding_scheme), L.context_width(), L.vocab_size(),
            seeding_scheme_name(d.scheme), d.context_width, d.vocab);
    }
    RadioactivityResult r;
    r.teacher_vocab = d.vocab;
    r.cross_tokenizer = d.cross_tokenizer;
    r.shared_tokens = d.shared_tokens;
    r.responses = static_cast<int64_t>(d.samples.size());
    GreenCounter counter(L, o.text.dedup);
    for (const auto& s : d.samples) MP_TRY(counter.add(s.ids, s.start).status());
    r.generation = watermark_test(L, counter.pooled(), o.text);
    const ContextWeights w = o.weights;
    r.open_model_plain = green_mass_test(L, d, MassKind::kPlain, w, o.min_contexts);
    if (d.reference) {
        r.open_model = green_mass_test(L, d, MassKind::kReference, w, o.min_contexts);
        r.open_model_logratio = green_mass_test(L, d, MassKind::kLogRatio, w, o.min_contexts);
        r.open_model_equal =
            green_mass_test(L, d, MassKind::kReference, ContextWeights::kEqual, o.min_contexts);
    } else {
        r.open_model = r.open_model_logratio = r.open_model_plain;
        r.open_model_equal =
            green_mass_test(L, d, MassKind::kPlain, ContextWeights::kEqual, o.min_contexts);
    }
    return r;
}

Result<RadioactivityResult> watermark_radioactivity(const GreenLists& L,
                                                    const RadioactivityInput& in,
                                                    const RadioactivityOptions& o) {
    MP_ASSIGN_OR_RETURN(RadioactivityData d, collect_radioactivity(L, in, o));
    return evaluate_radioactivity(L, d, o);
}

}  // namespace modelprint

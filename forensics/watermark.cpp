// Watermark detection in text (see watermark.h).
#include "forensics/watermark.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"
#include "forensics/stats.h"

namespace modelprint {

std::string_view watermark_verdict_name(WatermarkVerdict v) {
    switch (v) {
        case WatermarkVerdict::kWatermarked:
            return "watermarked";
        case WatermarkVerdict::kNotDetected:
            return "not-detected";
        case WatermarkVerdict::kInconclusive:
            break;
    }
    return "inconclusive";
}

Result<GreenCount> GreenCounter::add(std::span<const int32_t> ids, size_t start) {
    const GreenLists& L = *lists_;
    const size_t cw = static_cast<size_t>(L.context_width());
    const bool self = L.key().seeding_scheme == SeedingScheme::kSelfHash;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0 || ids[i] >= L.vocab_size()) {
            return out_of_range(
                "token id {} at position {} is outside the watermark key's "
                "vocabulary of {} ids",
                ids[i], i, L.vocab_size());
        }
    }
    GreenCount c;
    c.tokens = static_cast<int64_t>(ids.size() > start ? ids.size() - start : 0);
    std::set<std::vector<int32_t>> local;
    // Memo of green decisions by n-gram: repeated windows are decided once.
    std::map<std::vector<int32_t>, bool> memo;
    // Tokens before the first scored one: lefthash cw (its context), selfhash cw - 1 (the
    // window of cw tokens ends with the scored token).
    const size_t before = self ? cw - 1 : cw;
    for (size_t i = std::max(start, before); i < ids.size(); ++i) {
        // transformers' n-gram: lefthash ids[i-cw..i] (context + token), selfhash ids[i-cw+1..i].
        const size_t from = self ? i + 1 - cw : i - cw;
        std::vector<int32_t> gram(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                  ids.begin() + static_cast<std::ptrdiff_t>(i + 1));
        bool green = false;
        if (auto it = memo.find(gram); it != memo.end()) {
            green = it->second;
        } else {
            const std::span<const int32_t> ctx(gram.data(), gram.size() - 1);
            green = L.is_green(ctx, ids[i]);
            memo.emplace(gram, green);
        }
        if (!dedup_ || local.insert(gram).second) {
            ++c.scored;
            c.green += green;
        }
        if (!dedup_ || seen_.insert(gram).second) {
            ++pooled_.scored;
            pooled_.green += green;
        }
    }
    pooled_.tokens += c.tokens;
    return c;
}

int64_t watermark_tokens_needed(const GreenLists& lists, const WatermarkOptions& o) {
    const double g = lists.gamma(), e = std::exp(lists.key().bias);
    const double f = g * e / (1.0 - g + g * e);  // green fraction on a flat distribution
    const double log_alpha = std::log(o.alpha);
    if (f <= g) return INT64_MAX;  // a non-positive bias leaves nothing to detect
    for (int64_t n = std::max<int64_t>(1, o.min_scored); n < 100000000; n = n + 1 + n / 16) {
        const auto k = static_cast<int64_t>(std::ceil(f * static_cast<double>(n)));
        if (log_binomial_sf(k, n, g) < log_alpha) {
            // refine downwards linearly inside the last step
            int64_t m = n;
            while (m > o.min_scored) {
                const auto km = static_cast<int64_t>(std::ceil(f * static_cast<double>(m - 1)));
                if (!(log_binomial_sf(km, m - 1, g) < log_alpha)) break;
                --m;
            }
            return m;
        }
    }
    return INT64_MAX;
}

WatermarkTest watermark_test(const GreenLists& lists, const GreenCount& c,
                             const WatermarkOptions& o) {
    WatermarkTest t;
    t.count = c;
    const double r = lists.key().greenlist_ratio;
    const auto n = static_cast<double>(c.scored), k = static_cast<double>(c.green);
    if (c.scored > 0) {
        t.green_fraction = k / n;
        t.z = (k - r * n) / std::sqrt(n * r * (1.0 - r));
    }
    t.log_p = log_binomial_sf(c.green, c.scored, lists.gamma());
    t.p_value = std::exp(t.log_p);
    const int64_t need = watermark_tokens_needed(lists, o);
    if (t.log_p < std::log(o.alpha)) {
        t.verdict = WatermarkVerdict::kWatermarked;  // significant however short
    } else if (c.scored < need) {
        t.verdict = WatermarkVerdict::kInconclusive;
        t.tokens_needed = need == INT64_MAX ? INT64_MAX : need - c.scored;
    } else {
        t.verdict = WatermarkVerdict::kNotDetected;
    }
    return t;
}

Result<std::vector<ScoredSequence>> transcript_sequences(const Transcript& t,
                                                         const Tokenizer& tok) {
    std::vector<ScoredSequence> out;
    for (size_t i = 0; i < t.entries.size(); ++i) {
        const auto& e = t.entries[i];
        std::vector<int32_t> ctx;
        if (!e.prompt.empty()) {
            MP_ASSIGN_OR_RETURN(ctx, tok.encode(e.prompt, true));
        } else if (auto b = tok.bos_id()) {
            ctx.push_back(*b);  // a response from BOS: BOS seeds its first token's list
        }
        // Every answer of the line is a response (the first and the alternatives).
        std::vector<const std::string*> answers = {&e.response};
        for (const auto& alt : e.alternatives) answers.push_back(&alt);
        const std::string base = e.id.empty() ? std::to_string(i) : e.id;
        for (size_t k = 0; k < answers.size(); ++k) {
            ScoredSequence s;
            s.id = answers.size() > 1 ? base + "#" + std::to_string(k) : base;
            s.ids = ctx;
            MP_ASSIGN_OR_RETURN(std::vector<int32_t> r, tok.encode(*answers[k], false));
            s.ids.insert(s.ids.end(), r.begin(), r.end());
            s.start = ctx.size();
            out.push_back(std::move(s));
        }
    }
    return out;
}

Result<TextDetection> detect_sequences(const GreenLists& lists,
                                       const std::vector<ScoredSequence>& sequences,
                                       const WatermarkOptions& o) {
    TextDetection d;
    GreenCounter counter(lists, o.dedup);
    for (const ScoredSequence& s : sequences) {
        MP_ASSIGN_OR_RETURN(GreenCount c, counter.add(s.ids, s.start));
        d.responses.emplace_back(s.id, watermark_test(lists, c, o));
    }
    d.pooled = watermark_test(lists, counter.pooled(), o);
    return d;
}

std::vector<WatermarkKey> null_watermark_keys(const WatermarkKey& key, int n, uint64_t seed) {
    std::vector<WatermarkKey> out;
    std::mt19937_64 rng(seed ^ 0x6e756c6c6b657973ull);  // "nullkeys"
    while (static_cast<int>(out.size()) < n) {
        WatermarkKey k = key;
        k.hashing_key = rng() >> 1;  // [0, 2^63) as keygen's
        if (k.hashing_key == key.hashing_key) continue;
        out.push_back(k);
    }
    return out;
}

}  // namespace modelprint

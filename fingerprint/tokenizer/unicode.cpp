// UTF-8 validation/sanitising, the GPT-2 byte-level alphabet and NFC (see unicode.h).
// NFC follows UAX #15 §§ 1.3 and the sample code of "Unicode Normalization Forms": full
// canonical decomposition (recursive, Hangul algorithmic), canonical ordering by combining class
// (stable), then canonical composition with blocking. Not here: NFD/NFKC/NFKD.
#include "fingerprint/tokenizer/unicode.h"

#include <algorithm>
#include <vector>

namespace modelprint::tok {

namespace {
#include "fingerprint/tokenizer/nfc_tables.inc"

// Length of the well-formed sequence starting at s[i], or 0 when ill-formed; `bad` then holds
// the length of the maximal subpart to replace (Unicode Table 3-7).
size_t well_formed_len(std::string_view s, size_t i, size_t& bad) {
    const auto b = [&](size_t k) -> int {
        return i + k < s.size() ? static_cast<uint8_t>(s[i + k]) : -1;
    };
    const int b0 = b(0);
    bad = 1;
    if (b0 < 0x80) return 1;
    int need = 0, lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;  // 80..C1, F5..FF: a lone byte
    }
    for (int k = 1; k <= need; ++k) {
        const int c = b(k);
        const int l = k == 1 ? lo : 0x80;
        const int h = k == 1 ? hi : 0xBF;
        if (c < l || c > h) {
            bad = static_cast<size_t>(k);
            return 0;
        }
    }
    return static_cast<size_t>(need) + 1;
}
}  // namespace

bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (static_cast<uint8_t>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t bad = 0;
        const size_t n = well_formed_len(s, i, bad);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string sanitize_utf8(std::string_view s) {
    if (is_valid_utf8(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    size_t i = 0;
    while (i < s.size()) {
        size_t bad = 0;
        const size_t n = well_formed_len(s, i, bad);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append("\xEF\xBF\xBD");
            i += bad;
        }
    }
    return out;
}

uint32_t next_code_point(std::string_view s, size_t& i) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    const size_t n = std::min(utf8_len(b0), s.size() - i);
    uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    i += n;
    return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// ---- byte-level alphabet (openai/gpt-2 src/encoder.py bytes_to_unicode)

const std::array<uint32_t, 256>& byte_to_code_point() {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
            t[b] = printable ? b : next++;
        }
        return t;
    }();
    return table;
}

int byte_from_code_point(uint32_t cp) {
    static const std::array<int16_t, 324> inverse = [] {
        std::array<int16_t, 324> inv{};
        inv.fill(-1);
        const auto& fwd = byte_to_code_point();
        for (int b = 0; b < 256; ++b) inv[fwd[b]] = static_cast<int16_t>(b);
        return inv;
    }();
    return cp < inverse.size() ? inverse[cp] : -1;
}

void byte_level_encode(std::string_view bytes, std::string& out) {
    const auto& t = byte_to_code_point();
    out.clear();
    out.reserve(bytes.size() * 2);
    for (char c : bytes) append_utf8(out, t[static_cast<uint8_t>(c)]);
}

bool byte_level_decode(std::string_view text, std::string& out) {
    out.clear();
    size_t i = 0;
    while (i < text.size()) {
        const int b = byte_from_code_point(next_code_point(text, i));
        if (b < 0) return false;
        out.push_back(static_cast<char>(b));
    }
    return true;
}

// ---- NFC

namespace {
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount;
constexpr uint32_t kSCount = kLCount * kNCount;

uint8_t ccc_of(uint32_t cp) {
    if (cp < 0x300) return 0;
    const auto* end = std::end(kCcc);
    const auto* it = std::lower_bound(
        std::begin(kCcc), end, cp, [](const uint32_t(&row)[2], uint32_t v) { return row[0] < v; });
    return (it != end && (*it)[0] == cp) ? static_cast<uint8_t>((*it)[1]) : 0;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
    if (cp >= kSBase && cp < kSBase + kSCount) {
        const uint32_t s = cp - kSBase;
        out.push_back(kLBase + s / kNCount);
        out.push_back(kVBase + (s % kNCount) / kTCount);
        if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
        return;
    }
    if (cp >= 0xC0) {
        const auto* end = std::end(kDecomp);
        const auto* it =
            std::lower_bound(std::begin(kDecomp), end, cp,
                             [](const uint32_t(&row)[3], uint32_t v) { return row[0] < v; });
        if (it != end && (*it)[0] == cp) {
            decompose((*it)[1], out);
            if ((*it)[2] != 0) decompose((*it)[2], out);
            return;
        }
    }
    out.push_back(cp);
}

// Primary composite of (a, b), or 0.
uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
        return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
    }
    if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
        b < kTBase + kTCount) {
        return a + (b - kTBase);
    }
    const auto* end = std::end(kCompose);
    const auto* it =
        std::lower_bound(std::begin(kCompose), end, std::pair<uint32_t, uint32_t>{a, b},
                         [](const uint32_t(&row)[3], std::pair<uint32_t, uint32_t> v) {
                             return row[0] != v.first ? row[0] < v.first : row[1] < v.second;
                         });
    return (it != end && (*it)[0] == a && (*it)[1] == b) ? (*it)[2] : 0;
}
}  // namespace

std::string nfc(std::string_view s) {
    // Fast path: code points below U+0300 are all NFC-stable (no decompositions compose into
    // anything else there and no combining marks), so Latin-1 text is unchanged.
    bool simple = true;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<uint8_t>(s[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xCC) {  // lead bytes of U+0300 and above
            simple = false;
            break;
        }
        i += utf8_len(b);
    }
    if (simple) return std::string(s);

    std::vector<uint32_t> cps;
    cps.reserve(s.size());
    for (size_t i = 0; i < s.size();) decompose(next_code_point(s, i), cps);
    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (size_t i = 0; i < cps.size();) {
        if (ccc_of(cps[i]) == 0) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < cps.size() && ccc_of(cps[j]) != 0) ++j;
        std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i),
                         cps.begin() + static_cast<std::ptrdiff_t>(j),
                         [](uint32_t x, uint32_t y) { return ccc_of(x) < ccc_of(y); });
        i = j;
    }
    // Canonical composition (UAX #15 sample code).
    if (!cps.empty()) {
        size_t starter = 0;
        int last_class = ccc_of(cps[0]) == 0 ? 0 : 256;
        size_t out_len = 1;
        for (size_t i = 1; i < cps.size(); ++i) {
            const uint32_t ch = cps[i];
            const int cls = ccc_of(ch);
            const uint32_t comp = last_class == 256 ? 0 : compose(cps[starter], ch);
            if (comp != 0 && (last_class < cls || last_class == 0)) {
                cps[starter] = comp;
                continue;
            }
            if (cls == 0) starter = out_len;
            last_class = cls;
            cps[out_len++] = ch;
        }
        cps.resize(out_len);
    }
    std::string out;
    out.reserve(s.size());
    for (uint32_t cp : cps) append_utf8(out, cp);
    return out;
}

}  // namespace modelprint::tok

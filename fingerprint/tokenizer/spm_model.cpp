// SentencePiece encoding and decoding, byte-exact with the `sentencepiece` library (see
// spm_model.h). Each step names the function of google/sentencepiece it reproduces:
//   Normalizer::Normalize / NormalizePrefix (normalizer.cc): user-defined pieces are copied
//     unnormalized; otherwise the longest precompiled-charsmap rule (a Darts double-array trie
//     over the input bytes, then a NUL-terminated replacement in the string blob), else one
//     UTF-8 character; leading, trailing and repeated spaces removed when
//     remove_extra_whitespaces; "▁" prepended when add_dummy_prefix; ' ' -> "▁" when
//     escape_whitespaces.
//   unigram::Model::EncodeOptimized (unigram_model.cc): Viterbi over the lattice of pieces,
//     float path scores (pieces added in double), user-defined pieces scored
//     0.1 * bytes - 0.1 (measured on the library), one
//     unknown node of score min_score - 10 per character no single-character piece covers;
//     ties keep the first candidate.
//   bpe::Model::Encode (bpe_model.cc): characters (user-defined pieces frozen), then the
//     adjacent pair whose concatenation is a piece with the highest score (leftmost on ties) is
//     merged until none is left; UNUSED pieces are re-split into the pair that formed them.
//   SentencePieceProcessor::PopulateSentencePieceText: runs of unknown pieces become one unknown
//     id, or each of their bytes a <0xXX> piece with byte_fallback.
//   SentencePieceProcessor::Decode: ids -> pieces -> ids (PieceToId), control pieces vanish,
//     unknown -> unk_surface, runs of byte pieces joined (invalid UTF-8 -> U+FFFD per byte), the
//     first "▁" dropped (every leading one when remove_extra_whitespaces), "▁" -> ' '.
// Hostile models: every trie index and blob offset is bounds-checked (an entry outside is
// kCorruptData from encode); no recursion depends on the input.
#include "fingerprint/tokenizer/spm_model.h"

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <queue>

#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁" U+2581
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";
constexpr float kUnkPenalty = 10.0f;       // unigram_model.h
constexpr double kUserDefinedBonus = 0.1;  // per byte of a user-defined piece (see below)

// string_util::OneCharLen: the length the lead byte announces (1 for continuation bytes).
size_t one_char_len(char c) {
    static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLen[static_cast<uint8_t>(c) >> 4];
}

// string_util::DecodeUTF8 + IsValidDecodeUTF8: true and the length of a well-formed character
// at the start of s; false and length 1 otherwise.
bool valid_utf8_char(std::string_view s, size_t& len) {
    const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
    const auto trail = [&](size_t i) { return (b(i) & 0xC0) == 0x80; };
    const auto ok_cp = [](uint32_t c) { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); };
    len = 1;
    if (s.empty()) return false;
    if (b(0) < 0x80) return true;
    if (s.size() >= 2 && (b(0) & 0xE0) == 0xC0) {
        const uint32_t c = ((b(0) & 0x1Fu) << 6) | (b(1) & 0x3Fu);
        if (trail(1) && c >= 0x80 && ok_cp(c)) return len = 2, true;
    } else if (s.size() >= 3 && (b(0) & 0xF0) == 0xE0) {
        const uint32_t c = ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
        if (trail(1) && trail(2) && c >= 0x800 && ok_cp(c)) return len = 3, true;
    } else if (s.size() >= 4 && (b(0) & 0xF8) == 0xF0) {
        const uint32_t c = ((b(0) & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) |
                           (b(3) & 0x3Fu);
        if (trail(1) && trail(2) && trail(3) && c >= 0x10000 && ok_cp(c)) return len = 4, true;
    }
    return false;
}

// "<0xXX>" with upper-case hex (ByteToPiece's "%02X"), else -1.
int piece_to_byte(std::string_view p) {
    if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    const int hi = hex(p[3]), lo = hex(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace

// A byte trie over piece strings: edges sorted by (node, byte) for binary search.
struct SpmModel::Trie {
    std::vector<int32_t> value{-1};                   // node -> piece id, -1 for none
    std::vector<std::pair<uint64_t, int32_t>> edges;  // (node << 8 | byte) -> child, sorted

    static std::unique_ptr<Trie> build(
        const std::vector<std::pair<std::string_view, int32_t>>& keys) {
        auto t = std::make_unique<Trie>();
        std::unordered_map<uint64_t, int32_t> tmp;
        for (const auto& [key, id] : keys) {
            int32_t node = 0;
            for (char c : key) {
                const uint64_t k = (uint64_t(uint32_t(node)) << 8) | uint8_t(c);
                auto [it, fresh] = tmp.emplace(k, static_cast<int32_t>(t->value.size()));
                if (fresh) t->value.push_back(-1);
                node = it->second;
            }
            t->value[static_cast<size_t>(node)] = id;
        }
        t->edges.assign(tmp.begin(), tmp.end());
        std::sort(t->edges.begin(), t->edges.end());
        return t;
    }
    int32_t child(int32_t node, uint8_t c) const {
        const uint64_t k = (uint64_t(uint32_t(node)) << 8) | c;
        const auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(k, INT32_MIN));
        return it != edges.end() && it->first == k ? it->second : -1;
    }
    // fn(length, id) for every key that is a prefix of `s`, shortest first.
    template <class F>
    void prefixes(std::string_view s, F&& fn) const {
        int32_t node = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            node = child(node, static_cast<uint8_t>(s[i]));
            if (node < 0) return;
            if (value[static_cast<size_t>(node)] >= 0) fn(i + 1, value[static_cast<size_t>(node)]);
        }
    }
    // PrefixMatcher::PrefixMatch: length of the longest key at the start of s (0: none).
    size_t longest(std::string_view s) const {
        size_t best = 0;
        prefixes(s, [&](size_t len, int32_t) { best = len; });
        return best;
    }
};

class SpmModel::Normalizer {
public:
    static Result<std::unique_ptr<Normalizer>> build(const SpmModelProto& m, const Trie* user,
                                                     std::string_view what) {
        auto n = std::unique_ptr<Normalizer>(new Normalizer());
        n->user_ = user;
        n->what_ = std::string(what);
        n->add_dummy_prefix_ = m.add_dummy_prefix;
        n->remove_extra_ = m.remove_extra_whitespaces;
        n->escape_ = m.escape_whitespaces;
        const std::string& blob = m.precompiled_charsmap;
        if (blob.empty()) return n;  // identity
        // DecodePrecompiledCharsMap: uint32 LE trie size in bytes, the trie, then the strings.
        if (blob.size() <= 4) {
            return corrupt_data("{}: precompiled_charsmap of {} bytes is too short", what,
                                blob.size());
        }
        const uint32_t trie_bytes = uint32_t(uint8_t(blob[0])) | uint32_t(uint8_t(blob[1])) << 8 |
                                    uint32_t(uint8_t(blob[2])) << 16 |
                                    uint32_t(uint8_t(blob[3])) << 24;
        // As the library: the trie is a whole number of 256-unit blocks, and a non-empty,
        // NUL-terminated string blob follows it.
        if (trie_bytes == 0 || trie_bytes % 1024 != 0) {
            return corrupt_data(
                "{}: precompiled_charsmap: trie size {} is not a positive "
                "multiple of 1024 bytes",
                what, trie_bytes);
        }
        if (trie_bytes >= blob.size() - 4) {
            return corrupt_data(
                "{}: precompiled_charsmap: trie size {} leaves no string blob in "
                "the {} bytes after its header",
                what, trie_bytes, blob.size() - 4);
        }
        n->units_.resize(trie_bytes / 4);
        for (size_t i = 0; i < n->units_.size(); ++i) {
            const char* p = blob.data() + 4 + 4 * i;
            n->units_[i] = uint32_t(uint8_t(p[0])) | uint32_t(uint8_t(p[1])) << 8 |
                           uint32_t(uint8_t(p[2])) << 16 | uint32_t(uint8_t(p[3])) << 24;
        }
        n->strings_ = blob.substr(4 + trie_bytes);
        if (n->strings_.back() != '\0') {
            return corrupt_data("{}: precompiled_charsmap: the string blob is not NUL-terminated",
                                what);
        }
        MP_TRY(n->validate_trie());
        return n;
    }

    Result<std::string> normalize(std::string_view input) const {
        std::string out;
        // Heading spaces.
        if (remove_extra_) {
            while (!input.empty()) {
                MP_ASSIGN_OR_RETURN(const auto p, prefix(input));
                if (p.first != " ") break;
                input.remove_prefix(p.second);
            }
        }
        if (input.empty()) return out;
        out.reserve(input.size() * 3 + 3);
        const auto add_ws = [&] { out += escape_ ? kSpaceSymbol : std::string_view(" "); };
        if (add_dummy_prefix_) add_ws();
        bool prev_space = remove_extra_;
        while (!input.empty()) {
            MP_ASSIGN_OR_RETURN(const auto p, prefix(input));
            std::string_view sp = p.first;
            while (prev_space && !sp.empty() && sp.front() == ' ') sp.remove_prefix(1);
            if (!sp.empty()) {
                for (char c : sp) {
                    if (escape_ && c == ' ') {
                        out += kSpaceSymbol;
                    } else {
                        out += c;
                    }
                }
                prev_space = sp.back() == ' ';
            }
            input.remove_prefix(p.second);
            if (!remove_extra_) prev_space = false;
        }
        if (remove_extra_) {
            const std::string_view space = escape_ ? kSpaceSymbol : std::string_view(" ");
            while (out.size() >= space.size() &&
                   std::string_view(out).substr(out.size() - space.size()) == space) {
                out.resize(out.size() - space.size());
            }
        }
        return out;
    }

private:
    Normalizer() = default;
    static uint32_t offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
    static uint32_t label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
    static bool has_leaf(uint32_t u) { return ((u >> 8) & 1u) != 0; }
    static uint32_t value(uint32_t u) { return u & ((1u << 31) - 1); }

    // Every node reachable from the root has its children and its value unit inside the array
    // and its value inside the string blob (each base visited once: O(256 x units)).
    Status validate_trie() const {
        const size_t n = units_.size();
        std::vector<bool> seen(n, false);
        std::vector<uint32_t> todo{offset(units_[0])};
        while (!todo.empty()) {
            const uint32_t base = todo.back();
            todo.pop_back();
            if (base >= n) {
                return corrupt_data(
                    "{}: precompiled_charsmap: trie node base {} is outside its "
                    "{} units",
                    what_, base, n);
            }
            if (seen[base]) continue;
            seen[base] = true;
            for (uint32_t c = 0; c < 256; ++c) {
                const uint32_t child = base ^ c;
                if (child >= n || label(units_[child]) != c) continue;
                const uint32_t next = child ^ offset(units_[child]);
                if (next >= n) {
                    return corrupt_data(
                        "{}: precompiled_charsmap: trie index {} is outside its "
                        "{} units",
                        what_, next, n);
                }
                if (has_leaf(units_[child]) && value(units_[next]) >= strings_.size()) {
                    return corrupt_data(
                        "{}: precompiled_charsmap: replacement offset {} is "
                        "outside its {}-byte string blob",
                        what_, value(units_[next]), strings_.size());
                }
                todo.push_back(next);
            }
        }
        return Status::ok_status();
    }

    // NormalizePrefix: (replacement, bytes consumed) for the start of a non-empty input.
    Result<std::pair<std::string_view, size_t>> prefix(std::string_view in) const {
        if (user_ != nullptr) {
            if (const size_t n = user_->longest(in); n > 0)
                return std::make_pair(in.substr(0, n), n);
        }
        size_t longest_len = 0;
        uint32_t longest_value = 0;
        if (!units_.empty()) {
            // Darts::DoubleArray::commonPrefixSearch, with every index checked (again: the
            // trie was validated on load).
            uint32_t pos = offset(units_[0]);
            for (size_t i = 0; i < in.size(); ++i) {
                const uint8_t c = static_cast<uint8_t>(in[i]);
                pos ^= c;
                if (pos >= units_.size()) break;
                const uint32_t u = units_[pos];
                if (label(u) != c) break;
                pos ^= offset(u);
                if (has_leaf(u)) {
                    if (pos >= units_.size()) {
                        return corrupt_data(
                            "{}: precompiled_charsmap: trie index {} is outside "
                            "its {} units",
                            what_, pos, units_.size());
                    }
                    longest_len = i + 1;
                    longest_value = value(units_[pos]);
                }
            }
        }
        if (longest_len == 0) {
            size_t len = 1;
            if (!valid_utf8_char(in, len)) return std::make_pair(kReplacementChar, size_t{1});
            return std::make_pair(in.substr(0, len), len);
        }
        if (longest_value >= strings_.size()) {
            return corrupt_data(
                "{}: precompiled_charsmap: replacement offset {} is outside its "
                "{}-byte string blob",
                what_, longest_value, strings_.size());
        }
        const size_t end = strings_.find('\0', longest_value);
        if (end == std::string::npos) {
            return corrupt_data(
                "{}: precompiled_charsmap: replacement at offset {} has no NUL "
                "terminator",
                what_, longest_value);
        }
        return std::make_pair(std::string_view(strings_).substr(longest_value, end - longest_value),
                              longest_len);
    }

    const Trie* user_ = nullptr;
    std::string what_;
    bool add_dummy_prefix_ = true, remove_extra_ = true, escape_ = true;
    std::vector<uint32_t> units_;
    std::string strings_;
};

SpmModel::~SpmModel() = default;

Result<std::unique_ptr<SpmModel>> SpmModel::build(SpmModelProto proto, std::string_view what) {
    if (proto.model_type == SpmModelType::kWord || proto.model_type == SpmModelType::kChar) {
        return unsupported("{}: SentencePiece model_type {} is not supported (UNIGRAM and BPE are)",
                           what, proto.model_type == SpmModelType::kWord ? "WORD" : "CHAR");
    }
    if (proto.treat_whitespace_as_suffix) {
        return unsupported("{}: SentencePiece option treat_whitespace_as_suffix is not supported",
                           what);
    }
    if (proto.denormalizer_has_charsmap) {
        return unsupported(
            "{}: SentencePiece denormalizer_spec with a precompiled_charsmap is not "
            "supported",
            what);
    }
    auto m = std::unique_ptr<SpmModel>(new SpmModel());
    m->what_ = what;
    std::fill(std::begin(m->byte_ids_), std::end(m->byte_ids_), -1);
    std::vector<std::pair<std::string_view, int32_t>> normal, user;
    m->min_score_ = FLT_MAX;
    for (size_t i = 0; i < proto.pieces.size(); ++i) {
        const SpmPiece& p = proto.pieces[i];
        const auto id = static_cast<int32_t>(i);
        const bool is_normal = p.type == SpmPieceType::kNormal ||
                               p.type == SpmPieceType::kUserDefined ||
                               p.type == SpmPieceType::kUnused;
        Map& map = is_normal ? m->normal_ : m->reserved_;
        if (auto [it, fresh] = map.emplace(p.piece, id); !fresh) {
            return corrupt_data("{}: piece {} \"{}\" is already defined as piece {}", what, i,
                                p.piece, it->second);
        }
        if (is_normal) normal.emplace_back(p.piece, id);
        if (p.type == SpmPieceType::kUserDefined) user.emplace_back(p.piece, id);
        if (p.type == SpmPieceType::kNormal) {
            m->min_score_ = std::min(m->min_score_, p.score);
        }
        if (p.type == SpmPieceType::kUnknown) {
            if (m->unk_id_ >= 0) {
                return corrupt_data("{}: pieces {} and {} are both UNKNOWN", what, m->unk_id_, i);
            }
            m->unk_id_ = id;
        }
        if (p.type == SpmPieceType::kByte) {
            if (!proto.byte_fallback) {
                return corrupt_data("{}: byte piece {} \"{}\" although byte_fallback is false",
                                    what, i, p.piece);
            }
            const int b = piece_to_byte(p.piece);
            if (b < 0) {
                return corrupt_data("{}: byte piece {} \"{}\" is not of the form <0xXX>", what, i,
                                    p.piece);
            }
            m->byte_ids_[b] = id;
        }
    }
    if (m->unk_id_ < 0) return corrupt_data("{}: no UNKNOWN piece", what);
    if (proto.byte_fallback) {
        for (int b = 0; b < 256; ++b) {
            if (m->byte_ids_[b] < 0) {
                return corrupt_data(
                    "{}: byte_fallback is true but the byte piece <0x{:02X}> is "
                    "missing",
                    what, b);
            }
        }
    }
    m->proto_ = std::move(proto);
    // The views above point into strings that moved with proto_: rebuild them from proto_.
    normal.clear();
    user.clear();
    for (size_t i = 0; i < m->proto_.pieces.size(); ++i) {
        const SpmPiece& p = m->proto_.pieces[i];
        const auto id = static_cast<int32_t>(i);
        if (p.type == SpmPieceType::kNormal || p.type == SpmPieceType::kUserDefined ||
            p.type == SpmPieceType::kUnused) {
            normal.emplace_back(p.piece, id);
        }
        if (p.type == SpmPieceType::kUserDefined) user.emplace_back(p.piece, id);
    }
    if (m->proto_.model_type == SpmModelType::kUnigram) m->pieces_trie_ = Trie::build(normal);
    if (!user.empty()) m->user_defined_trie_ = Trie::build(user);
    MP_ASSIGN_OR_RETURN(m->normalizer_,
                        Normalizer::build(m->proto_, m->user_defined_trie_.get(), what));
    return m;
}

int32_t SpmModel::lookup(std::string_view piece) const {
    if (const auto it = reserved_.find(piece); it != reserved_.end()) return it->second;
    if (const auto it = normal_.find(piece); it != normal_.end()) return it->second;
    return unk_id_;
}

std::optional<int32_t> SpmModel::piece_to_id(std::string_view piece) const {
    if (const auto it = reserved_.find(piece); it != reserved_.end()) return it->second;
    if (const auto it = normal_.find(piece); it != normal_.end()) return it->second;
    return std::nullopt;
}

std::optional<int32_t> SpmModel::control_id(const std::string& p) const {
    const auto id = piece_to_id(p);
    if (id && piece(*id).type == SpmPieceType::kControl) return id;
    return std::nullopt;
}

std::optional<uint8_t> SpmModel::byte_of(int32_t id) const {
    if (!valid_id(id) || piece(id).type != SpmPieceType::kByte) return std::nullopt;
    return static_cast<uint8_t>(piece_to_byte(piece(id).piece));
}

void SpmModel::encode_unigram(std::string_view s,
                              std::vector<std::pair<std::string_view, int32_t>>& out) const {
    struct Best {
        int32_t id = -1;
        float score = 0.0f;
        int64_t start = -1;
    };
    const size_t n = s.size();
    const float unk_score = min_score_ - kUnkPenalty;
    std::vector<Best> best(n + 1);
    size_t start = 0;
    while (start < n) {
        const float till_here = best[start].score;
        bool has_single = false;
        const size_t mblen = std::min(one_char_len(s[start]), n - start);
        pieces_trie_->prefixes(s.substr(start), [&](size_t len, int32_t id) {
            const SpmPiece& p = piece(id);
            if (p.type == SpmPieceType::kUnused) return;
            Best& t = best[start + len];
            // A user-defined piece of `len` bytes scores 0.1 * len - 0.1, whatever the scores
            // of the model: measured on the reference library (sentencepiece 0.2.3) by
            // bisection on hand-built models (docs/tokenizers.md), where older published
            // sources read `length * max_score - 0.1`. The expression has type double, so
            // every lattice candidate is summed and compared in double, then stored as float;
            // the unknown node stays float.
            const double score = p.type == SpmPieceType::kUserDefined
                                     ? static_cast<double>(len) * kUserDefinedBonus - 0.1
                                     : static_cast<double>(p.score);
            const double cand = score + till_here;
            if (t.start == -1 || cand > t.score) {
                t.score = static_cast<float>(cand);
                t.start = static_cast<int64_t>(start);
                t.id = id;
            }
            if (!has_single && len == mblen) has_single = true;
        });
        if (!has_single) {
            Best& t = best[start + mblen];
            const float cand = unk_score + till_here;
            if (t.start == -1 || cand > t.score) {
                t.score = cand;
                t.start = static_cast<int64_t>(start);
                t.id = unk_id_;
            }
        }
        start += mblen;
    }
    const size_t first = out.size();
    for (size_t end = n; end > 0;) {
        const Best& b = best[end];
        const auto st = static_cast<size_t>(b.start);  // every character boundary is reached
        out.emplace_back(s.substr(st, end - st), b.id);
        end = st;
    }
    std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

void SpmModel::encode_bpe(std::string_view s,
                          std::vector<std::pair<std::string_view, int32_t>>& out) const {
    struct Symbol {
        int prev, next;
        bool freeze;
        std::string_view piece;
    };
    struct Pair {
        int left, right;
        float score;
        size_t size;
    };
    const auto lower = [](const Pair& a, const Pair& b) {  // SymbolPairComparator
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    };
    std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> agenda(lower);
    std::vector<Symbol> sym;
    sym.reserve(s.size());
    std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> rev_merge;
    const auto maybe_add = [&](int l, int r) {
        if (l == -1 || r == -1 || sym[l].freeze || sym[r].freeze) return;
        const std::string_view p(sym[l].piece.data(), sym[l].piece.size() + sym[r].piece.size());
        const auto it = normal_.find(p);
        if (it == normal_.end()) return;
        agenda.push(Pair{l, r, piece(it->second).score, p.size()});
        if (piece(it->second).type == SpmPieceType::kUnused) {
            rev_merge[p] = {sym[l].piece, sym[r].piece};
        }
    };
    for (std::string_view rest = s; !rest.empty();) {
        Symbol x{};
        size_t len = user_defined_trie_ ? user_defined_trie_->longest(rest) : 0;
        x.freeze = len > 0;
        if (len == 0) len = std::min(rest.size(), one_char_len(rest[0]));
        x.piece = rest.substr(0, len);
        const int index = static_cast<int>(sym.size());
        x.prev = index - 1;
        rest.remove_prefix(len);
        x.next = rest.empty() ? -1 : index + 1;
        sym.push_back(x);
    }
    for (size_t i = 1; i < sym.size(); ++i) maybe_add(static_cast<int>(i) - 1, static_cast<int>(i));
    while (!agenda.empty()) {
        const Pair top = agenda.top();
        agenda.pop();
        Symbol& l = sym[top.left];
        Symbol& r = sym[top.right];
        if (l.piece.empty() || r.piece.empty() || l.piece.size() + r.piece.size() != top.size) {
            continue;
        }
        l.piece = std::string_view(l.piece.data(), l.piece.size() + r.piece.size());
        l.next = r.next;
        if (r.next >= 0) sym[r.next].prev = top.left;
        r.piece = std::string_view();
        maybe_add(l.prev, top.left);
        maybe_add(top.left, l.next);
    }
    // Resegmentation of UNUSED pieces, depth first, left before right (explicit stack).
    std::vector<std::string_view> stack;
    for (int i = sym.empty() ? -1 : 0; i != -1; i = sym[i].next) {
        stack.push_back(sym[i].piece);
        while (!stack.empty()) {
            const std::string_view w = stack.back();
            stack.pop_back();
            const int32_t id = lookup(w);
            if (piece(id).type == SpmPieceType::kUnused) {
                if (const auto it = rev_merge.find(w); it != rev_merge.end()) {
                    stack.push_back(it->second.second);
                    stack.push_back(it->second.first);
                    continue;
                }
            }
            out.emplace_back(w, id);
        }
    }
}

Result<std::vector<int32_t>> SpmModel::encode(std::string_view text) const {
    MP_ASSIGN_OR_RETURN(const std::string norm, normalizer_->normalize(text));
    std::vector<int32_t> ids;
    if (norm.empty()) return ids;
    std::vector<std::pair<std::string_view, int32_t>> pieces;
    if (proto_.model_type == SpmModelType::kUnigram) {
        encode_unigram(norm, pieces);
    } else {
        encode_bpe(norm, pieces);
    }
    ids.reserve(pieces.size());
    bool prev_unk = false;
    for (const auto& [w, id] : pieces) {
        const bool is_unk = piece(id).type == SpmPieceType::kUnknown;
        if (is_unk && proto_.byte_fallback) {
            for (char c : w) ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
        } else if (!(is_unk && prev_unk) || piece(id).type == SpmPieceType::kControl) {
            ids.push_back(id);
        }
        prev_unk = is_unk;
    }
    return ids;
}

Result<std::string> SpmModel::decode(std::span<const int32_t> ids) const {
    std::string text;
    std::string bytes;
    const auto flush_bytes = [&] {
        for (size_t off = 0; off < bytes.size();) {
            size_t len = 1;
            if (valid_utf8_char(std::string_view(bytes).substr(off), len)) {
                text.append(bytes, off, len);
            } else {
                text += kReplacementChar;
            }
            off += len;
        }
        bytes.clear();
    };
    const bool strip_ws = proto_.add_dummy_prefix || proto_.remove_extra_whitespaces;
    bool is_bos_ws = true, bos_ws_seen = false;
    for (const int32_t raw : ids) {
        if (!valid_id(raw)) {
            return out_of_range("decode: token id {} is not in the vocabulary of {} (size {})", raw,
                                what_, size());
        }
        const int32_t id = lookup(piece(raw).piece);  // Decode(pieces) looks the ids up again
        const SpmPiece& p = piece(id);
        if (p.type == SpmPieceType::kByte) {
            bytes.push_back(static_cast<char>(piece_to_byte(p.piece)));
            continue;
        }
        flush_bytes();
        if (bos_ws_seen || !text.empty()) is_bos_ws = false;
        bos_ws_seen = false;
        if (p.type == SpmPieceType::kControl) continue;
        if (p.type == SpmPieceType::kUnknown) {
            text += proto_.unk_surface;
            continue;
        }
        std::string_view w = p.piece;
        if (is_bos_ws && strip_ws) {
            if (w.substr(0, kSpaceSymbol.size()) == kSpaceSymbol) {
                w.remove_prefix(kSpaceSymbol.size());
                bos_ws_seen = !proto_.remove_extra_whitespaces;
            }
        }
        for (size_t i = 0; i < w.size();) {
            if (w.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
                text += ' ';
                i += kSpaceSymbol.size();
            } else {
                text += w[i++];
            }
        }
    }
    flush_bytes();
    return text;
}

std::string SpmModel::describe() const {
    return fmt::format(
        "SentencePiece {}{} ({} normalizer{}{})",
        proto_.model_type == SpmModelType::kUnigram ? "unigram" : "BPE",
        proto_.byte_fallback ? " with byte fallback" : "",
        proto_.precompiled_charsmap.empty()
            ? std::string("identity")
            : (proto_.normalizer_name.empty() ? std::string("charsmap") : proto_.normalizer_name),
        proto_.add_dummy_prefix ? ", dummy prefix" : "",
        proto_.remove_extra_whitespaces ? ", extra spaces removed" : "");
}

}  // namespace modelprint::tok

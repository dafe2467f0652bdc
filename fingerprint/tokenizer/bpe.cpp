// BPE encoding (see bpe.h). Follows huggingface/tokenizers models/bpe/model.rs
// (BPE::merge_word, BPE::tokenize_with_cache) and models/bpe/word.rs (Word::merge_all).
#include "fingerprint/tokenizer/bpe.h"

#include <fmt/format.h>

#include <queue>

#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

namespace {
uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::build(
    VocabMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
    BpeOptions options, std::string_view what) {
    std::unique_ptr<BpeModel> m(new BpeModel());
    int32_t max_id = -1;
    for (const auto& [tok, id] : vocab) {
        if (id < 0) return corrupt_data("{}: vocab token '{}' has negative id {}", what, tok, id);
        max_id = std::max(max_id, id);
    }
    // Ids index a dense table: a gap of more than kMaxIdGap unused ids past the number of tokens
    // is refused (one entry "x": 1073741823 would otherwise allocate 2^30 strings, 32 GiB).
    constexpr int64_t kMaxIdGap = 65536;
    if (int64_t{max_id} >= static_cast<int64_t>(vocab.size()) + kMaxIdGap) {
        return corrupt_data(
            "{}: vocab id {} leaves more than {} ids unused past the {} tokens of the vocabulary",
            what, max_id, kMaxIdGap, vocab.size());
    }
    m->tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
    m->has_token_.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [tok, id] : vocab) {
        if (m->has_token_[id]) {
            return corrupt_data("{}: vocab id {} is used by both '{}' and '{}'", what, id,
                                m->tokens_[id], tok);
        }
        m->tokens_[id] = tok;
        m->has_token_[id] = true;
    }
    m->merges_.reserve(merges.size() * 2);
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        const auto ia = vocab.find(a);
        const auto ib = vocab.find(b);
        if (ia == vocab.end() || ib == vocab.end()) {
            return corrupt_data("{}: merge {} ('{}' '{}') uses a token that is not in the vocab",
                                what, rank, a, b);
        }
        const auto inew = vocab.find(a + b);
        if (inew == vocab.end()) {
            return corrupt_data("{}: merge {} ('{}' '{}'): '{}' is not in the vocab", what, rank, a,
                                b, a + b);
        }
        // A pair listed twice keeps its last rank: the reference collects merges into a
        // HashMap, where the later insert wins.
        m->merges_.insert_or_assign(
            pair_key(ia->second, ib->second),
            std::pair<int32_t, int32_t>(static_cast<int32_t>(rank), inew->second));
    }
    m->byte_ids_.fill(-1);
    for (int b = 0; b < 256; ++b) {
        const auto it = vocab.find(fmt::format("<0x{:02X}>", b));
        if (it != vocab.end()) m->byte_ids_[b] = it->second;
    }
    if (options.unk_token) {
        const auto it = vocab.find(*options.unk_token);
        if (it == vocab.end()) {
            return corrupt_data("{}: unk_token '{}' is not in the vocab", what, *options.unk_token);
        }
        m->unk_id_ = it->second;
    }
    m->vocab_ = std::move(vocab);
    m->options_ = std::move(options);
    return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
    if (id < 0 || id >= id_limit() || !has_token_[id]) return nullptr;
    return &tokens_[id];
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (options_.ignore_merges) {
        if (auto id = token_to_id(word)) {
            out.push_back(*id);
            return;
        }
    }
    const bool cacheable = word.size() <= kCacheMaxWordBytes;
    if (cacheable) {
        std::unique_lock lock(cache_mu_, std::try_to_lock);
        if (lock.owns_lock()) {
            const auto it = cache_.find(word);
            if (it != cache_.end()) {
                out.insert(out.end(), it->second.begin(), it->second.end());
                return;
            }
        }
    }
    const size_t first = out.size();
    merge_word(word, out);
    if (cacheable) {
        std::unique_lock lock(cache_mu_, std::try_to_lock);
        if (lock.owns_lock() && cache_.size() < kCacheCapacity) {
            cache_.emplace(
                std::string(word),
                std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
        }
    }
}

void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
    struct Symbol {
        int32_t id;
        int32_t prev, next;
        bool alive;
    };
    std::vector<Symbol> syms;
    syms.reserve(word.size());
    const auto add = [&](int32_t id) {
        const auto n = static_cast<int32_t>(syms.size());
        syms.push_back(Symbol{id, n - 1, -1, true});
        if (n > 0) syms[n - 1].next = n;
    };
    bool pending_unk = false;
    for (size_t i = 0; i < word.size();) {
        const size_t len = std::min(utf8_len(static_cast<uint8_t>(word[i])), word.size() - i);
        const std::string_view ch = word.substr(i, len);
        i += len;
        if (auto id = token_to_id(ch)) {
            if (pending_unk) add(*unk_id_);
            pending_unk = false;
            add(*id);
            continue;
        }
        if (options_.byte_fallback) {
            bool all = true;
            for (char c : ch) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
            if (all) {
                if (pending_unk) add(*unk_id_);
                pending_unk = false;
                for (char c : ch) add(byte_ids_[static_cast<uint8_t>(c)]);
                continue;
            }
        }
        if (unk_id_) {
            // models/bpe/model.rs: consecutive unknown characters fuse into one <unk> when
            // fuse_unk is set; otherwise each gives its own.
            if (pending_unk && !options_.fuse_unk) add(*unk_id_);
            pending_unk = true;
        }
        // No unk token: the character is dropped, as in the reference.
    }
    if (pending_unk) add(*unk_id_);

    struct Candidate {
        int32_t rank, pos, new_id;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto push_pair = [&](int32_t pos) {
        const int32_t nx = syms[pos].next;
        if (nx < 0) return;
        const auto it = merges_.find(pair_key(syms[pos].id, syms[nx].id));
        if (it != merges_.end()) queue.push(Candidate{it->second.first, pos, it->second.second});
    };
    for (int32_t p = 0; p + 1 < static_cast<int32_t>(syms.size()); ++p) push_pair(p);
    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = syms[top.pos];
        if (!left.alive || left.next < 0) continue;
        const int32_t right_pos = left.next;
        const auto it = merges_.find(pair_key(left.id, syms[right_pos].id));
        if (it == merges_.end() || it->second.second != top.new_id) continue;
        // Merge right into left.
        left.id = top.new_id;
        Symbol& right = syms[right_pos];
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) syms[right.next].prev = top.pos;
        if (left.prev >= 0) push_pair(left.prev);
        push_pair(top.pos);
    }
    for (int32_t p = syms.empty() ? -1 : 0; p >= 0; p = syms[p].next) out.push_back(syms[p].id);
}

}  // namespace modelprint::tok

// BpeModel: the byte-pair-encoding model of Hugging Face `tokenizers` (models/bpe/model.rs,
// word.rs): a vocabulary (token string -> id), ranked merges, ignore_merges, byte_fallback to
// <0xXX> tokens, and an unknown token (optionally fused). A word is split into characters,
// then the adjacent pair with the lowest merge rank (leftmost on ties) is merged until none
// applies — the priority-queue loop of Word::merge_all, with no dropout.
// Not here: continuing_subword_prefix / end_of_word_suffix / dropout (the loader rejects them).
// Thread-safe: encode_word may run concurrently (the word cache is guarded by a mutex).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint::tok {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using VocabMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeOptions {
    bool ignore_merges = false;
    bool byte_fallback = false;
    std::optional<std::string> unk_token;
    bool fuse_unk = false;
};

class BpeModel {
public:
    // `what` names the source in errors. Errors: kCorruptData for a merge whose halves or whose
    // concatenation are not in the vocabulary, an unknown token absent from it, duplicate ids.
    static Result<std::unique_ptr<BpeModel>> build(
        VocabMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
        BpeOptions options, std::string_view what);

    // Appends the ids of one pre-tokenized word.
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    // nullptr when the id has no token in this model.
    const std::string* id_to_token(int32_t id) const;
    // One more than the largest id.
    int64_t id_limit() const { return static_cast<int64_t>(tokens_.size()); }
    const BpeOptions& options() const { return options_; }
    size_t merge_count() const { return merges_.size(); }

private:
    BpeModel() = default;
    void merge_word(std::string_view word, std::vector<int32_t>& out) const;

    VocabMap vocab_;
    std::vector<std::string> tokens_;  // id -> token ("" for holes)
    std::vector<bool> has_token_;
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (a,b) -> (rank, new id)
    std::array<int32_t, 256> byte_ids_{};  // <0xXX> ids, -1 when absent
    std::optional<int32_t> unk_id_;
    BpeOptions options_;

    static constexpr size_t kCacheCapacity = 10000;  // as models/bpe DEFAULT_CACHE_CAPACITY
    static constexpr size_t kCacheMaxWordBytes = 256;
    mutable std::mutex cache_mu_;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>>
        cache_;
};

}  // namespace modelprint::tok

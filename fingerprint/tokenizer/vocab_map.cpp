// map_vocabularies (see tokenizer.h): pairs of ids whose tokens stand for the same bytes, so
// that logits of two models can be compared over their shared vocabulary. Byte strings come from
// Tokenizer::token_bytes ("Ġthe" and "▁the" both give " the"); special tokens are keyed apart
// from ordinary ones, so "<s>" the control token never meets the text "<s>".
#include <string>
#include <unordered_map>

#include "fingerprint/tokenizer/tokenizer.h"

namespace modelprint {

namespace {
std::string key_of(const Tokenizer& t, int32_t id, const std::string& bytes) {
    return (t.is_special(id) ? std::string("S") : std::string("N")) + bytes;
}
}  // namespace

VocabMapping map_vocabularies(const Tokenizer& a, const Tokenizer& b) {
    VocabMapping m;
    m.vocab_a = a.vocab_size();
    m.vocab_b = b.vocab_size();
    std::unordered_map<std::string, int32_t> in_b;
    in_b.reserve(static_cast<size_t>(m.vocab_b));
    for (int32_t id = 0; id < m.vocab_b; ++id) {
        if (auto bytes = b.token_bytes(id)) in_b.emplace(key_of(b, id, *bytes), id);  // lowest id
    }
    std::unordered_map<std::string, int32_t> seen_a;
    for (int32_t id = 0; id < m.vocab_a; ++id) {
        auto bytes = a.token_bytes(id);
        if (!bytes) continue;
        std::string key = key_of(a, id, *bytes);
        if (!seen_a.emplace(key, id).second) continue;
        if (const auto it = in_b.find(key); it != in_b.end()) m.pairs.emplace_back(id, it->second);
    }
    return m;
}

}  // namespace modelprint

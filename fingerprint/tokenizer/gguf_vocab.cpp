// Loader of the vocabulary embedded in GGUF files (tokenizer.ggml.*, ggml docs/gguf.md
// "Tokenizer") into the same TokenizerData a tokenizer.json gives, so that both encode alike.
//   model "llama" (SentencePiece BPE): tokens + scores + token_type. Built the way transformers'
//     LlamaConverter turns a SentencePiece model into tokenizer.json: BPE with byte fallback and
//     fused <unk>; merges from generate_merges(vocab, scores) (convert_slow_tokenizer.py): every
//     split (l, r) of a piece whose halves are in the vocabulary, ordered by the piece's score,
//     then len(l), then len(r) (characters), all descending, stably (pieces by id, a piece's
//     splits by (id(l), id(r))); unknown/control tokens score 0 (LlamaConverter forces ids 0-2);
//     normalizer Prepend("▁") + Replace(" " -> "▁") when add_space_prefix (default true);
//     decoder Replace("▁" -> " "), ByteFallback, Fuse, Strip(" ", 1, 0).
//   model "gpt2" (byte-level BPE): tokens + merges ("a b"); the split regex is chosen from
//     tokenizer.ggml.pre (gpt-2/default, llama-bpe, qwen2, deepseek-r1-qwen, deepseek-v3, smollm); an
//     unknown pre name is kUnsupported.
// Token types (llama.cpp LLAMA_TOKEN_TYPE_*): 2 unknown and 3 control become special added
// tokens, 4 user-defined non-special added tokens. A token string listed twice keeps its first id.
// BOS/EOS from tokenizer.ggml.{bos,eos}_token_id (ids outside the vocabulary mean none); the
// post-processor adds BOS/EOS per tokenizer.ggml.add_{bos,eos}_token (llama default: BOS only).
#include <algorithm>
#include <cmath>

#include "fingerprint/model/gguf.h"
#include "fingerprint/tokenizer/tokenizer_loaders.h"
#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

namespace {

constexpr int kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4;

// Split regexes of the tokenizer.json files of each family (shared/tokenizers/*).
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kDeepseekV3Patterns[] = {
    R"(\p{N}{1,3})",
    R"([\x{4e00}-\x{9fa5}\x{3040}-\x{309f}\x{30a0}-\x{30ff}]+)",
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
};

Result<std::vector<std::string>> string_array(const GgufFile& g, std::string_view key,
                                              std::string_view what) {
    const GgufValue* v = g.find(key);
    if (v == nullptr) return not_found("{}: metadata key {} is missing", what, key);
    if (!v->is_array()) return corrupt_data("{}: {} is not an array", what, key);
    std::vector<std::string> out;
    out.reserve(v->array.size());
    for (const auto& e : v->array) {
        MP_ASSIGN_OR_RETURN(std::string s, e.as_string(key));
        out.push_back(std::move(s));
    }
    return out;
}

template <typename T, typename Get>
Result<std::vector<T>> number_array(const GgufFile& g, std::string_view key, size_t expect,
                                    std::string_view what, Get get) {
    const GgufValue* v = g.find(key);
    if (v == nullptr) return std::vector<T>();
    if (!v->is_array()) return corrupt_data("{}: {} is not an array", what, key);
    if (v->array.size() != expect) {
        return corrupt_data("{}: {} has {} entries but there are {} tokens", what, key,
                            v->array.size(), expect);
    }
    std::vector<T> out;
    out.reserve(expect);
    for (const auto& e : v->array) {
        MP_ASSIGN_OR_RETURN(auto x, get(e, key));
        out.push_back(static_cast<T>(x));
    }
    return out;
}

std::optional<int32_t> optional_id(const GgufFile& g, std::string_view key, size_t n_tokens) {
    auto r = g.get_int(key);
    if (!r.ok() || *r < 0 || static_cast<uint64_t>(*r) >= n_tokens) return std::nullopt;
    return static_cast<int32_t>(*r);
}

bool optional_bool(const GgufFile& g, std::string_view key, bool dflt) {
    const GgufValue* v = g.find(key);
    if (v == nullptr) return dflt;
    auto b = v->as_bool(key);
    return b.ok() ? *b : dflt;
}

size_t char_count(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
    return n;
}

// transformers convert_slow_tokenizer.generate_merges(vocab, vocab_scores).
std::vector<std::pair<std::string, std::string>> generate_merges(
    const std::vector<std::string>& tokens, const std::vector<double>& scores,
    const VocabMap& vocab) {
    struct M {
        int32_t l, r;
        double score;
        size_t len_l, len_r;
    };
    std::vector<M> all;
    for (size_t id = 0; id < tokens.size(); ++id) {
        const std::string& piece = tokens[id];
        if (vocab.find(piece)->second != static_cast<int32_t>(id)) continue;  // duplicate
        std::vector<M> local;
        for (size_t i = 1; i < piece.size(); ++i) {
            if ((static_cast<uint8_t>(piece[i]) & 0xC0) == 0x80) continue;  // not a char boundary
            const auto l = vocab.find(std::string_view(piece).substr(0, i));
            const auto r = vocab.find(std::string_view(piece).substr(i));
            if (l == vocab.end() || r == vocab.end()) continue;
            local.push_back(
                M{l->second, r->second, scores[id], char_count(l->first), char_count(r->first)});
        }
        std::stable_sort(local.begin(), local.end(),
                         [](const M& a, const M& b) { return a.l != b.l ? a.l < b.l : a.r < b.r; });
        all.insert(all.end(), local.begin(), local.end());
    }
    std::stable_sort(all.begin(), all.end(), [](const M& a, const M& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.len_l != b.len_l) return a.len_l > b.len_l;
        return a.len_r > b.len_r;
    });
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(all.size());
    for (const auto& m : all) out.emplace_back(tokens[m.l], tokens[m.r]);
    return out;
}

Status add_split(TokenizerData& d, std::string_view pattern) {
    PreTokenizerStep st;
    st.kind = PreTokenizerStep::Kind::kSplit;
    st.behavior = SplitBehavior::kIsolated;
    MP_ASSIGN_OR_RETURN(st.regex, Regex::compile(pattern, "GGUF pre-tokenizer"));
    d.pre_tokenizers.push_back(std::move(st));
    return Status::ok_status();
}

// Pre-tokenizer (and normalizer, ignore_merges) of a byte-level GGUF vocabulary.
Status byte_level_pipeline(const GgufFile& g, std::string_view what, TokenizerData& d,
                           BpeOptions& opt) {
    std::string pre = "default";
    if (g.find("tokenizer.ggml.pre") != nullptr) {
        MP_ASSIGN_OR_RETURN(pre, g.get_string("tokenizer.ggml.pre"));
    }
    PreTokenizerStep byte_level;
    byte_level.kind = PreTokenizerStep::Kind::kByteLevel;
    if (pre == "default" || pre == "gpt-2" || pre == "gpt2") {
        MP_ASSIGN_OR_RETURN(byte_level.regex, Regex::compile(kGpt2SplitPattern, "ByteLevel"));
    } else if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
        MP_TRY(add_split(d, kLlama3Pattern));
        opt.ignore_merges = true;
    } else if (pre == "qwen2" || pre == "deepseek-r1-qwen") {
        NormalizerStep nfc_step;
        nfc_step.kind = NormalizerStep::Kind::kNfc;
        d.normalizers.push_back(std::move(nfc_step));
        MP_TRY(add_split(d, kQwen2Pattern));
    } else if (pre == "smollm" || pre == "starcoder" || pre == "refact") {
        // llama.cpp llama-vocab.cpp: single digits isolated, then the GPT-2 split (HF: Sequence
        // [Digits(individual_digits), ByteLevel(use_regex)]).
        MP_TRY(add_split(d, "\\p{N}"));
        MP_ASSIGN_OR_RETURN(byte_level.regex, Regex::compile(kGpt2SplitPattern, "ByteLevel"));
    } else if (pre == "deepseek-v3") {
        for (auto p : kDeepseekV3Patterns) MP_TRY(add_split(d, p));
    } else {
        return unsupported("unsupported tokenizer component: GGUF tokenizer.ggml.pre '{}' in {}",
                           pre, what);
    }
    d.pre_tokenizers.push_back(std::move(byte_level));
    DecoderStep dec;
    dec.kind = DecoderStep::Kind::kByteLevel;
    d.decoders.push_back(dec);
    d.has_decoder = true;
    d.byte_level = true;
    return Status::ok_status();
}

DecoderStep decoder_step(DecoderStep::Kind kind) {
    DecoderStep st;
    st.kind = kind;
    return st;
}

NormalizerStep normalizer_step(NormalizerStep::Kind kind, std::string text = {},
                               std::string content = {}) {
    NormalizerStep st;
    st.kind = kind;
    st.text = std::move(text);
    st.content = std::move(content);
    return st;
}

Status sentencepiece_pipeline(const GgufFile& g, TokenizerData& d) {
    const std::string sym = "\xE2\x96\x81";  // ▁
    const bool prefix = optional_bool(g, "tokenizer.ggml.add_space_prefix", true);
    if (prefix) d.normalizers.push_back(normalizer_step(NormalizerStep::Kind::kPrepend, sym));
    d.normalizers.push_back(normalizer_step(NormalizerStep::Kind::kReplace, " ", sym));
    DecoderStep rep;
    rep.kind = DecoderStep::Kind::kReplace;
    rep.pattern = sym;
    rep.content = " ";
    d.decoders.push_back(rep);
    d.decoders.push_back(decoder_step(DecoderStep::Kind::kByteFallback));
    d.decoders.push_back(decoder_step(DecoderStep::Kind::kFuse));
    if (prefix) {
        DecoderStep strip;
        strip.kind = DecoderStep::Kind::kStrip;
        strip.content = " ";
        strip.start = 1;
        d.decoders.push_back(strip);
    }
    d.has_decoder = true;
    d.space_symbol = sym;
    return Status::ok_status();
}

}  // namespace

Result<std::unique_ptr<TokenizerData>> load_gguf_vocab(const GgufFile& g, std::string_view what) {
    MP_ASSIGN_OR_RETURN(std::string model, g.get_string("tokenizer.ggml.model"));
    if (model != "llama" && model != "gpt2") {
        return unsupported("unsupported tokenizer component: GGUF tokenizer.ggml.model '{}' in {}",
                           model, what);
    }
    MP_ASSIGN_OR_RETURN(auto tokens, string_array(g, "tokenizer.ggml.tokens", what));
    const size_t n = tokens.size();
    if (n == 0 || n >= (size_t{1} << 30)) {
        return corrupt_data("{}: tokenizer.ggml.tokens has {} entries (need 1 to {})", what, n,
                            size_t{1} << 30);
    }
    MP_ASSIGN_OR_RETURN(auto types,
                        (number_array<int32_t>(
                            g, "tokenizer.ggml.token_type", n, what,
                            [](const GgufValue& e, std::string_view k) { return e.as_int(k); })));
    if (types.empty()) types.assign(n, 1);
    auto d = std::make_unique<TokenizerData>();
    d->source = std::string(what);

    VocabMap vocab;
    vocab.reserve(n);
    for (size_t i = 0; i < n; ++i) vocab.emplace(tokens[i], static_cast<int32_t>(i));
    BpeOptions opt;
    std::vector<std::pair<std::string, std::string>> merges;
    if (model == "llama") {
        MP_ASSIGN_OR_RETURN(auto scores,
                            (number_array<double>(g, "tokenizer.ggml.scores", n, what,
                                                  [](const GgufValue& e, std::string_view k) {
                                                      return e.as_float(k);
                                                  })));
        if (scores.empty()) {
            return not_found("{}: tokenizer.ggml.scores is missing (needed for a llama vocabulary)",
                             what);
        }
        for (size_t i = 0; i < n; ++i) {
            if (!std::isfinite(scores[i])) {
                return corrupt_data("{}: score of token {} is {}", what, i, scores[i]);
            }
            if (types[i] == kTypeUnknown || types[i] == kTypeControl) scores[i] = 0.0;
        }
        merges = generate_merges(tokens, scores, vocab);
        opt.byte_fallback = true;
        opt.fuse_unk = true;
        if (auto unk = optional_id(g, "tokenizer.ggml.unknown_token_id", n)) {
            opt.unk_token = tokens[*unk];
        }
        MP_TRY(sentencepiece_pipeline(g, *d));
    } else {
        MP_ASSIGN_OR_RETURN(auto lines, string_array(g, "tokenizer.ggml.merges", what));
        merges.reserve(lines.size());
        for (const auto& s : lines) {
            const size_t sp = s.find(' ');
            if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
                return corrupt_data("{}: merge '{}' is not two tokens separated by one space", what,
                                    s);
            }
            merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
        }
        MP_TRY(byte_level_pipeline(g, what, *d, opt));
    }
    MP_ASSIGN_OR_RETURN(d->model, BpeModel::build(std::move(vocab), merges, opt, what));

    for (size_t i = 0; i < n; ++i) {
        const int t = types[i];
        if (t != kTypeUnknown && t != kTypeControl && t != kTypeUserDefined) continue;
        if (tokens[i].empty()) continue;
        AddedToken a;
        a.id = static_cast<int32_t>(i);
        a.content = tokens[i];
        a.special = t != kTypeUserDefined;
        d->added.push_back(std::move(a));
    }
    MP_TRY(d->finish_added_tokens());

    d->bos = optional_id(g, "tokenizer.ggml.bos_token_id", n);
    d->eos = optional_id(g, "tokenizer.ggml.eos_token_id", n);
    d->config_add_bos = optional_bool(g, "tokenizer.ggml.add_bos_token", model == "llama");
    if (d->config_add_bos && d->bos) d->prefix_ids.push_back(*d->bos);
    if (optional_bool(g, "tokenizer.ggml.add_eos_token", false) && d->eos) {
        d->suffix_ids.push_back(*d->eos);
    }
    if (g.find("tokenizer.chat_template") != nullptr) {
        MP_ASSIGN_OR_RETURN(d->chat_template, g.get_string("tokenizer.chat_template"));
    }
    return d;
}

}  // namespace modelprint::tok

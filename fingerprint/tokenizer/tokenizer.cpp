// Tokenizer: the encode/decode pipeline over TokenizerData and file dispatch (see tokenizer.h).
// encode() = huggingface/tokenizers TokenizerImpl::encode_single_sequence + post_process:
//   sanitize UTF-8 -> split out added tokens with normalized=false on the raw text -> normalize
//   each remaining segment -> split out added tokens with normalized=true -> pre-tokenize ->
//   BPE each word -> template (prefix/suffix ids) when add_special_tokens.
// decode() = TokenizerImpl::decode: ids -> token strings (added tokens first; specials dropped
// when skip_special) -> decoder chain, or the strings joined by " " when there is no decoder.
// A SentencePiece tokenizer.model (d_->spm) replaces the whole pipeline with SpmModel, the
// sentencepiece library's encode/decode (spm_model.h), plus BOS/EOS from tokenizer_config.json.
#include "fingerprint/tokenizer/tokenizer.h"

#include <filesystem>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/gguf.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer_loaders.h"
#include "fingerprint/tokenizer/unicode.h"

namespace modelprint {

namespace tok {
Status TokenizerData::finish_added_tokens() {
    std::vector<AddedToken> raw, norm;
    std::vector<std::string> raw_pat, norm_pat;
    added_by_id.clear();
    added_by_content.clear();
    for (size_t i = 0; i < added.size(); ++i) {
        const AddedToken& t = added[i];
        added_by_id.emplace(t.id, i);
        added_by_content.emplace(t.content, t.id);
        if (t.normalized) {
            MP_ASSIGN_OR_RETURN(std::string p, normalize(normalizers, t.content));
            norm.push_back(t);
            norm_pat.push_back(std::move(p));
        } else {
            raw.push_back(t);
            raw_pat.push_back(t.content);
        }
    }
    raw_matcher.build(raw, raw_pat);
    normalized_matcher.build(norm, norm_pat);
    return Status::ok_status();
}
}  // namespace tok

Tokenizer::Tokenizer(std::unique_ptr<tok::TokenizerData> data) : d_(std::move(data)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json(std::string_view tokenizer_json,
                                                        std::string_view config_json,
                                                        std::string_view what) {
    MP_ASSIGN_OR_RETURN(auto data, tok::load_tokenizer_json(tokenizer_json, config_json, what));
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(data)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufFile& gguf,
                                                        std::string_view what) {
    MP_ASSIGN_OR_RETURN(auto data, tok::load_gguf_vocab(gguf, what));
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(data)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_sentencepiece(std::string_view model_bytes,
                                                                 std::string_view config_json,
                                                                 std::string_view what) {
    MP_ASSIGN_OR_RETURN(auto data, tok::load_spm_model(model_bytes, config_json, what));
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(data)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_file(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p(path);
    if (fs::is_directory(p, ec)) {
        if (fs::exists(p / "tokenizer.json", ec)) {
            p /= "tokenizer.json";
        } else if (fs::exists(p / "tokenizer.model", ec)) {
            p /= "tokenizer.model";
        } else {
            std::vector<fs::path> ggufs;
            for (const auto& e : fs::directory_iterator(p, ec)) {
                if (e.path().extension() == ".gguf") ggufs.push_back(e.path());
            }
            if (ggufs.size() != 1) {
                return not_found(
                    "no tokenizer in directory '{}': no tokenizer.json, no tokenizer.model and "
                    "{} .gguf files (need exactly 1)",
                    path, ggufs.size());
            }
            p = ggufs[0];
        }
    } else if (!fs::exists(p, ec)) {
        return not_found("tokenizer path '{}' does not exist", path);
    }
    if (p.extension() == ".gguf") {
        MP_ASSIGN_OR_RETURN(auto map, MappedFile::open(p.string()));
        MP_ASSIGN_OR_RETURN(GgufFile g, parse_gguf(map->bytes(), p.filename().string()));
        return from_gguf(g, p.filename().string());
    }
    MP_ASSIGN_OR_RETURN(std::string json, read_file(p.string()));
    std::string config;
    const fs::path cfg = p.parent_path() / "tokenizer_config.json";
    if (fs::exists(cfg, ec)) {
        MP_ASSIGN_OR_RETURN(config, read_file(cfg.string()));
    }
    const std::string what =
        (p.parent_path().filename() / p.filename()).string();  // "qwen3/tokenizer.json"
    std::unique_ptr<Tokenizer> tok;
    if (p.extension() == ".model") {  // SentencePiece ModelProto
        MP_ASSIGN_OR_RETURN(tok, from_sentencepiece(json, config, what));
    } else {
        MP_ASSIGN_OR_RETURN(tok, from_json(json, config, what));
    }
    // chat_template.jinja / chat_template.json beside it override tokenizer_config.json's.
    std::string file;
    MP_ASSIGN_OR_RETURN(std::string tpl, read_chat_template_file(p.parent_path().string(), &file));
    if (!file.empty()) tok->d_->chat_template = std::move(tpl);
    return tok;
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text,
                                               bool add_special_tokens) const {
    const std::string clean = tok::sanitize_utf8(text);
    std::vector<int32_t> ids;
    ids.reserve(clean.size() / 3 + 4);
    if (add_special_tokens) ids = d_->prefix_ids;
    if (d_->spm) {
        MP_ASSIGN_OR_RETURN(const std::vector<int32_t> body, d_->spm->encode(clean));
        ids.insert(ids.end(), body.begin(), body.end());
        if (add_special_tokens) {
            ids.insert(ids.end(), d_->suffix_ids.begin(), d_->suffix_ids.end());
        }
        return ids;
    }
    std::vector<tok::TextSegment> segments;
    if (d_->raw_matcher.empty()) {
        segments.push_back(tok::TextSegment{0, clean.size(), -1});
    } else {
        segments = d_->raw_matcher.split(clean);
    }
    std::vector<tok::PreToken> pieces;
    for (const auto& seg : segments) {
        if (seg.id >= 0) {
            ids.push_back(seg.id);
            continue;
        }
        MP_ASSIGN_OR_RETURN(
            std::string norm,
            tok::normalize(d_->normalizers, clean.substr(seg.begin, seg.end - seg.begin)));
        std::vector<tok::TextSegment> subs;
        if (d_->normalized_matcher.empty()) {
            subs.push_back(tok::TextSegment{0, norm.size(), -1});
        } else {
            subs = d_->normalized_matcher.split(norm);
        }
        for (const auto& sub : subs) {
            if (sub.id >= 0) {
                ids.push_back(sub.id);
                continue;
            }
            if (sub.end == sub.begin) continue;
            pieces.clear();
            pieces.push_back(tok::PreToken{norm.substr(sub.begin, sub.end - sub.begin),
                                           seg.begin == 0 && sub.begin == 0});
            MP_TRY(tok::pre_tokenize(d_->pre_tokenizers, pieces));
            for (const auto& p : pieces) d_->model->encode_word(p.text, ids);
        }
    }
    if (add_special_tokens) ids.insert(ids.end(), d_->suffix_ids.begin(), d_->suffix_ids.end());
    return ids;
}

Result<std::string> Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
    if (d_->spm) {
        if (!skip_special) return d_->spm->decode(ids);
        std::vector<int32_t> kept;
        kept.reserve(ids.size());
        for (int32_t id : ids) {
            if (!d_->spm->valid_id(id) || !is_special(id)) kept.push_back(id);
        }
        return d_->spm->decode(kept);
    }
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
        if (const auto it = d_->added_by_id.find(id); it != d_->added_by_id.end()) {
            const auto& t = d_->added[it->second];
            if (skip_special && t.special) continue;
            tokens.push_back(t.content);
        } else if (const std::string* s = d_->model->id_to_token(id)) {
            tokens.push_back(*s);
        } else {
            return out_of_range("decode: token id {} is not in the vocabulary of {} (size {})", id,
                                d_->source, vocab_size());
        }
    }
    if (!d_->has_decoder) {
        std::string out;
        for (size_t i = 0; i < tokens.size(); ++i) {
            if (i > 0) out += ' ';
            out += tokens[i];
        }
        return out;
    }
    return tok::decode_chain(d_->decoders, std::move(tokens));
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
    if (d_->spm) return d_->spm->piece_to_id(token);
    if (const auto it = d_->added_by_content.find(token); it != d_->added_by_content.end()) {
        return it->second;
    }
    return d_->model->token_to_id(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
    if (d_->spm) return d_->spm->valid_id(id) ? d_->spm->piece(id).piece : std::string();
    if (const auto it = d_->added_by_id.find(id); it != d_->added_by_id.end()) {
        return d_->added[it->second].content;
    }
    const std::string* s = d_->model->id_to_token(id);
    return s != nullptr ? *s : std::string();
}

std::optional<std::string> Tokenizer::token_bytes(int32_t id) const {
    if (d_->spm) {
        if (!d_->spm->valid_id(id)) return std::nullopt;
        if (auto b = d_->spm->byte_of(id)) return std::string(1, static_cast<char>(*b));
        const std::string& s = d_->spm->piece(id).piece;
        if (is_special(id)) return s;
        std::string out;
        for (size_t i = 0; i < s.size();) {
            if (s.compare(i, d_->space_symbol.size(), d_->space_symbol) == 0) {
                out += ' ';
                i += d_->space_symbol.size();
            } else {
                out += s[i++];
            }
        }
        return out;
    }
    if (const auto it = d_->added_by_id.find(id); it != d_->added_by_id.end()) {
        return d_->added[it->second].content;
    }
    const std::string* s = d_->model->id_to_token(id);
    if (s == nullptr) return std::nullopt;
    if (d_->byte_level) {
        std::string raw;
        if (tok::byte_level_decode(*s, raw)) return raw;
        return *s;
    }
    if (d_->model->options().byte_fallback && s->size() == 6 && s->compare(0, 3, "<0x") == 0 &&
        (*s)[5] == '>') {
        const auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            return -1;
        };
        const int hi = hex((*s)[3]), lo = hex((*s)[4]);
        if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
    }
    if (!d_->space_symbol.empty()) {
        std::string out;
        const std::string& sym = d_->space_symbol;
        for (size_t i = 0; i < s->size();) {
            if (s->compare(i, sym.size(), sym) == 0) {
                out += ' ';
                i += sym.size();
            } else {
                out += (*s)[i++];
            }
        }
        return out;
    }
    return *s;
}

int64_t Tokenizer::vocab_size() const {
    if (d_->spm) return d_->spm->size();
    int64_t n = d_->model->id_limit();
    for (const auto& t : d_->added) n = std::max<int64_t>(n, int64_t{t.id} + 1);
    return n;
}

bool Tokenizer::is_special(int32_t id) const {
    if (d_->spm) {
        if (!d_->spm->valid_id(id)) return false;
        const tok::SpmPieceType t = d_->spm->piece(id).type;
        return t == tok::SpmPieceType::kControl || t == tok::SpmPieceType::kUnknown;
    }
    const auto it = d_->added_by_id.find(id);
    return it != d_->added_by_id.end() && d_->added[it->second].special;
}

std::optional<int32_t> Tokenizer::bos_id() const { return d_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return d_->eos; }
bool Tokenizer::config_adds_bos() const { return d_->config_add_bos; }
const std::string& Tokenizer::chat_template_source() const { return d_->chat_template; }

std::string Tokenizer::describe() const {
    if (d_->spm) {
        return fmt::format("{} from {}: {} ids", d_->spm->describe(), d_->source, vocab_size());
    }
    const char* kind = d_->byte_level                       ? "byte-level BPE"
                       : d_->model->options().byte_fallback ? "SentencePiece BPE (byte fallback)"
                                                            : "BPE";
    return fmt::format("{} from {}: {} ids, {} merges, {} added tokens", kind, d_->source,
                       vocab_size(), d_->model->merge_count(), d_->added.size());
}

}  // namespace modelprint

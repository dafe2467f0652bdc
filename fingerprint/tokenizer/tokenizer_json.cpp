// Loader of Hugging Face tokenizer.json (+ tokenizer_config.json) into TokenizerData.
// Reads the "tokenizers" serialization format (huggingface/tokenizers tokenizer/serialization.rs
// and each component's serde form). Every component is checked by its "type"; one modelprint
// does not implement is rejected with kUnsupported "unsupported tokenizer component: <kind>
// '<type>'" — never skipped, since skipping would encode silently wrong.
// nlohmann exceptions (wrong JSON types) are caught here and become kCorruptData.
#include <algorithm>

#include "fingerprint/base/json.h"
#include "fingerprint/tokenizer/tokenizer_impl.h"
#include "fingerprint/tokenizer/tokenizer_loaders.h"

namespace modelprint::tok {

namespace {

Status unsupported_component(std::string_view kind, const Json& j, std::string_view what) {
    const std::string type = j.is_object() && j.contains("type") && j["type"].is_string()
                                 ? j["type"].get<std::string>()
                                 : j.dump().substr(0, 60);
    return unsupported("unsupported tokenizer component: {} '{}' in {}", kind, type, what);
}

std::string type_of(const Json& j) {
    return j.is_object() && j.contains("type") && j["type"].is_string()
               ? j["type"].get<std::string>()
               : std::string();
}

// A token id field: an integer in 0..INT32_MAX (nlohmann's get<int32_t> would truncate 2^32+5 to
// 5 and a float 1e10 is undefined behaviour to convert), else kCorruptData naming the field.
Result<int32_t> id_field(const Json& v, std::string_view field, std::string_view what) {
    if (!v.is_number_integer()) {
        return corrupt_data("{}: {} must be an integer token id, got {}", what, field,
                            v.type_name());
    }
    const bool negative = v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0;
    if (negative || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT32_MAX})) {
        return corrupt_data("{}: {} is {}, outside the token ids 0..{}", what, field, v.dump(),
                            INT32_MAX);
    }
    return static_cast<int32_t>(v.get<int64_t>());
}

// Added-token and post-processor ids may lie past the model vocabulary (added tokens extend it)
// but not by more than this: an id of 2^31-1 in a 300-byte file would make every consumer that
// walks 0..vocab_size() (vocabulary mapping, logit rows) run for billions of steps.
constexpr int64_t kMaxIdGap = 65536;

bool get_bool(const Json& j, const char* key, bool dflt) {
    if (!j.contains(key) || j[key].is_null()) return dflt;
    return j[key].get<bool>();
}

// {"String": "x"} or {"Regex": "x"} -> a compiled regex.
Result<std::shared_ptr<const Regex>> pattern_regex(const Json& p, std::string_view what) {
    std::string pattern;
    if (p.contains("Regex")) {
        pattern = p["Regex"].get<std::string>();
    } else if (p.contains("String")) {
        pattern = regex_escape(p["String"].get<std::string>());
    } else {
        return corrupt_data("{}: pattern {} is neither String nor Regex", what, p.dump());
    }
    auto re = Regex::compile(pattern, what);
    if (!re.ok()) return unsupported("{}", re.status().message());
    return re;
}

Result<PrependScheme> prepend_scheme(const Json& j, std::string_view what) {
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
        const auto s = j["prepend_scheme"].get<std::string>();
        if (s == "always") return PrependScheme::kAlways;
        if (s == "first") return PrependScheme::kFirst;
        if (s == "never") return PrependScheme::kNever;
        return unsupported("unsupported tokenizer component: Metaspace prepend_scheme '{}' in {}",
                           s, what);
    }
    return get_bool(j, "add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
}

Status parse_normalizer(const Json& j, std::string_view what, std::vector<NormalizerStep>& out) {
    if (j.is_null()) return Status::ok_status();
    const std::string type = type_of(j);
    NormalizerStep st;
    if (type == "Sequence") {
        for (const auto& sub : j.at("normalizers")) MP_TRY(parse_normalizer(sub, what, out));
        return Status::ok_status();
    } else if (type == "NFC") {
        st.kind = NormalizerStep::Kind::kNfc;
    } else if (type == "Prepend") {
        st.kind = NormalizerStep::Kind::kPrepend;
        st.text = j.at("prepend").get<std::string>();
    } else if (type == "Replace") {
        st.kind = NormalizerStep::Kind::kReplace;
        const Json& p = j.at("pattern");
        if (p.contains("String")) {
            st.text = p["String"].get<std::string>();
        } else {
            MP_ASSIGN_OR_RETURN(st.regex, pattern_regex(p, what));
        }
        st.content = j.at("content").get<std::string>();
    } else if (type == "Strip") {
        st.kind = NormalizerStep::Kind::kStrip;
        st.strip_left = get_bool(j, "strip_left", true);
        st.strip_right = get_bool(j, "strip_right", true);
    } else {
        return unsupported_component("normalizer", j, what);
    }
    out.push_back(std::move(st));
    return Status::ok_status();
}

Status parse_pre_tokenizer(const Json& j, std::string_view what,
                           std::vector<PreTokenizerStep>& out) {
    if (j.is_null()) return Status::ok_status();
    const std::string type = type_of(j);
    PreTokenizerStep st;
    if (type == "Sequence") {
        for (const auto& sub : j.at("pretokenizers")) MP_TRY(parse_pre_tokenizer(sub, what, out));
        return Status::ok_status();
    } else if (type == "Split") {
        st.kind = PreTokenizerStep::Kind::kSplit;
        MP_ASSIGN_OR_RETURN(st.regex, pattern_regex(j.at("pattern"), what));
        const auto b = j.at("behavior").get<std::string>();
        if (b == "Removed")
            st.behavior = SplitBehavior::kRemoved;
        else if (b == "Isolated")
            st.behavior = SplitBehavior::kIsolated;
        else if (b == "MergedWithPrevious")
            st.behavior = SplitBehavior::kMergedWithPrevious;
        else if (b == "MergedWithNext")
            st.behavior = SplitBehavior::kMergedWithNext;
        else if (b == "Contiguous")
            st.behavior = SplitBehavior::kContiguous;
        else
            return unsupported("unsupported tokenizer component: Split behavior '{}' in {}", b,
                               what);
        st.invert = get_bool(j, "invert", false);
    } else if (type == "ByteLevel") {
        st.kind = PreTokenizerStep::Kind::kByteLevel;
        st.add_prefix_space = get_bool(j, "add_prefix_space", true);
        if (get_bool(j, "use_regex", true)) {
            MP_ASSIGN_OR_RETURN(st.regex, Regex::compile(kGpt2SplitPattern, "ByteLevel"));
        }
    } else if (type == "Digits") {
        st.kind = PreTokenizerStep::Kind::kDigits;
        st.individual_digits = get_bool(j, "individual_digits", false);
        MP_ASSIGN_OR_RETURN(st.regex, Regex::compile(kNumericPattern, "Digits"));
    } else if (type == "Metaspace") {
        st.kind = PreTokenizerStep::Kind::kMetaspace;
        st.replacement = j.at("replacement").get<std::string>();
        MP_ASSIGN_OR_RETURN(st.prepend_scheme, prepend_scheme(j, what));
        st.split = get_bool(j, "split", true);
        MP_ASSIGN_OR_RETURN(st.regex, Regex::compile(regex_escape(st.replacement), "Metaspace"));
    } else {
        return unsupported_component("pre-tokenizer", j, what);
    }
    out.push_back(std::move(st));
    return Status::ok_status();
}

Status parse_decoder(const Json& j, std::string_view what, std::vector<DecoderStep>& out) {
    const std::string type = type_of(j);
    DecoderStep st;
    if (type == "Sequence") {
        for (const auto& sub : j.at("decoders")) MP_TRY(parse_decoder(sub, what, out));
        return Status::ok_status();
    } else if (type == "ByteLevel") {
        st.kind = DecoderStep::Kind::kByteLevel;
    } else if (type == "Replace") {
        st.kind = DecoderStep::Kind::kReplace;
        const Json& p = j.at("pattern");
        if (!p.contains("String"))
            return unsupported_component("decoder (Replace with Regex)", j, what);
        st.pattern = p["String"].get<std::string>();
        st.content = j.at("content").get<std::string>();
    } else if (type == "ByteFallback") {
        st.kind = DecoderStep::Kind::kByteFallback;
    } else if (type == "Fuse") {
        st.kind = DecoderStep::Kind::kFuse;
    } else if (type == "Strip") {
        st.kind = DecoderStep::Kind::kStrip;
        st.content = j.at("content").get<std::string>();
        if (st.content.empty()) {
            return corrupt_data("{}: decoder Strip has an empty \"content\" (one character needed)",
                                what);
        }
        for (const char* key : {"start", "stop"}) {
            if (!j.at(key).is_number_unsigned()) {
                return corrupt_data(
                    "{}: decoder Strip \"{}\" must be a non-negative integer, got {}", what, key,
                    j.at(key).dump());
            }
        }
        st.start = j.at("start").get<size_t>();
        st.stop = j.at("stop").get<size_t>();
    } else if (type == "Metaspace") {
        st.kind = DecoderStep::Kind::kMetaspace;
        st.replacement = j.at("replacement").get<std::string>();
        MP_ASSIGN_OR_RETURN(auto scheme, prepend_scheme(j, what));
        st.prepend = scheme != PrependScheme::kNever;
    } else {
        return unsupported_component("decoder", j, what);
    }
    out.push_back(std::move(st));
    return Status::ok_status();
}

Result<int32_t> lookup_id(const TokenizerData& d, std::string_view token, std::string_view what) {
    if (const auto it = d.added_by_content.find(token); it != d.added_by_content.end()) {
        return it->second;
    }
    if (auto id = d.model->token_to_id(token)) return *id;
    return corrupt_data("{}: post-processor token '{}' is not in the vocabulary", what, token);
}

Status parse_post_processor(const Json& j, std::string_view what, TokenizerData& d) {
    if (j.is_null()) return Status::ok_status();
    const std::string type = type_of(j);
    if (type == "Sequence") {
        for (const auto& sub : j.at("processors")) MP_TRY(parse_post_processor(sub, what, d));
    } else if (type == "ByteLevel") {
        // Only trims offsets; ids are unchanged.
    } else if (type == "TemplateProcessing") {
        bool seen_a = false;
        for (const auto& item : j.at("single")) {
            if (item.contains("Sequence")) {
                seen_a = true;
                continue;
            }
            const auto name = item.at("SpecialToken").at("id").get<std::string>();
            const Json& sp = j.at("special_tokens").at(name);
            for (const auto& id : sp.at("ids")) {
                MP_ASSIGN_OR_RETURN(
                    int32_t v,
                    id_field(id, fmt::format("post_processor special token '{}' id", name), what));
                if (d.model->id_to_token(v) == nullptr && d.added_by_id.count(v) == 0) {
                    return corrupt_data(
                        "{}: post_processor special token '{}' has id {}, which is not in the "
                        "vocabulary",
                        what, name, v);
                }
                (seen_a ? d.suffix_ids : d.prefix_ids).push_back(v);
            }
        }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
        MP_ASSIGN_OR_RETURN(int32_t cls, lookup_id(d, j.at("cls").at(0).get<std::string>(), what));
        MP_ASSIGN_OR_RETURN(int32_t sep, lookup_id(d, j.at("sep").at(0).get<std::string>(), what));
        d.prefix_ids.push_back(cls);
        d.suffix_ids.push_back(sep);
    } else {
        return unsupported_component("post-processor", j, what);
    }
    return Status::ok_status();
}

std::optional<std::string> config_token(const Json& cfg, const char* key) {
    if (!cfg.contains(key)) return std::nullopt;
    const Json& v = cfg[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) {
        return v["content"].get<std::string>();
    }
    return std::nullopt;
}

Status load_config(std::string_view config_json, std::string_view what, TokenizerData& d) {
    JsonParseOptions opts;
    MP_ASSIGN_OR_RETURN(Json cfg, parse_json(config_json, what, opts));
    if (!cfg.is_object()) return corrupt_data("{}: top level is not an object", what);
    const auto id_of = [&](const std::string& t) -> std::optional<int32_t> {
        if (const auto it = d.added_by_content.find(t); it != d.added_by_content.end()) {
            return it->second;
        }
        return d.model->token_to_id(t);
    };
    if (auto t = config_token(cfg, "bos_token")) d.bos = id_of(*t);
    if (auto t = config_token(cfg, "eos_token")) d.eos = id_of(*t);
    d.config_add_bos = get_bool(cfg, "add_bos_token", false);
    if (cfg.contains("chat_template")) {
        const Json& ct = cfg["chat_template"];
        if (ct.is_string()) {
            d.chat_template = ct.get<std::string>();
        } else if (ct.is_array()) {  // [{"name": ..., "template": ...}]: take "default"
            for (const auto& e : ct) {
                if (e.value("name", "") == "default" || d.chat_template.empty()) {
                    d.chat_template = e.at("template").get<std::string>();
                }
            }
        }
    }
    return Status::ok_status();
}

Result<std::unique_ptr<TokenizerData>> load_impl(std::string_view tokenizer_json,
                                                 std::string_view config_json,
                                                 std::string_view what) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(tokenizer_json, what));
    if (!j.is_object() || !j.contains("model")) {
        return corrupt_data("{}: not a tokenizer.json (no \"model\" object)", what);
    }
    auto d = std::make_unique<TokenizerData>();
    d->source = std::string(what);
    const Json& m = j["model"];
    const std::string mtype = type_of(m).empty() && m.contains("merges") ? "BPE" : type_of(m);
    if (mtype != "BPE") return unsupported_component("model", m, what);
    if (m.contains("dropout") && !m["dropout"].is_null() && m["dropout"].get<double>() > 0.0) {
        return unsupported("unsupported tokenizer component: BPE dropout {} in {}",
                           m["dropout"].get<double>(), what);
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        if (m.contains(key) && m[key].is_string() && !m[key].get<std::string>().empty()) {
            return unsupported("unsupported tokenizer component: BPE {} '{}' in {}", key,
                               m[key].get<std::string>(), what);
        }
    }
    VocabMap vocab;
    const Json& v = m.at("vocab");
    if (!v.is_object()) return corrupt_data("{}: model.vocab is not an object", what);
    vocab.reserve(v.size());
    for (auto it = v.begin(); it != v.end(); ++it) {
        MP_ASSIGN_OR_RETURN(int32_t id,
                            id_field(it.value(), fmt::format("model.vocab['{}']", it.key()), what));
        vocab.emplace(it.key(), id);
    }
    std::vector<std::pair<std::string, std::string>> merges;
    if (m.contains("merges")) {
        merges.reserve(m["merges"].size());
        for (const auto& mg : m["merges"]) {
            if (mg.is_string()) {
                const auto s = mg.get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
                    return corrupt_data("{}: merge '{}' is not two tokens separated by one space",
                                        what, s);
                }
                merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
            } else if (mg.is_array() && mg.size() == 2) {
                merges.emplace_back(mg[0].get<std::string>(), mg[1].get<std::string>());
            } else {
                return corrupt_data("{}: merge {} is neither \"a b\" nor [a, b]", what, mg.dump());
            }
        }
    }
    BpeOptions opt;
    opt.ignore_merges = get_bool(m, "ignore_merges", false);
    opt.byte_fallback = get_bool(m, "byte_fallback", false);
    opt.fuse_unk = get_bool(m, "fuse_unk", false);
    if (m.contains("unk_token") && m["unk_token"].is_string()) {
        opt.unk_token = m["unk_token"].get<std::string>();
    }
    MP_ASSIGN_OR_RETURN(d->model, BpeModel::build(std::move(vocab), merges, opt, what));

    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const auto& a : j["added_tokens"]) {
            AddedToken t;
            MP_ASSIGN_OR_RETURN(
                t.id,
                id_field(a.at("id"), fmt::format("added_tokens[{}].id", d->added.size()), what));
            t.content = a.at("content").get<std::string>();
            t.special = get_bool(a, "special", false);
            t.normalized = get_bool(a, "normalized", !t.special);
            t.lstrip = get_bool(a, "lstrip", false);
            t.rstrip = get_bool(a, "rstrip", false);
            t.single_word = get_bool(a, "single_word", false);
            if (t.content.empty()) {
                return corrupt_data("{}: added token '{}' with id {} is invalid", what, t.content,
                                    t.id);
            }
            const int64_t limit = d->model->id_limit() + int64_t{kMaxIdGap};
            if (t.id >= limit) {
                return corrupt_data(
                    "{}: added token '{}' has id {}, more than {} past the model vocabulary of {} "
                    "ids",
                    what, t.content, t.id, kMaxIdGap, d->model->id_limit());
            }
            d->added.push_back(std::move(t));
        }
    }
    if (j.contains("normalizer")) MP_TRY(parse_normalizer(j["normalizer"], what, d->normalizers));
    if (j.contains("pre_tokenizer")) {
        MP_TRY(parse_pre_tokenizer(j["pre_tokenizer"], what, d->pre_tokenizers));
    }
    if (j.contains("decoder") && !j["decoder"].is_null()) {
        d->has_decoder = true;
        MP_TRY(parse_decoder(j["decoder"], what, d->decoders));
    }
    MP_TRY(d->finish_added_tokens());
    if (j.contains("post_processor")) MP_TRY(parse_post_processor(j["post_processor"], what, *d));

    // How model tokens spell bytes and spaces (for token_bytes and vocabulary mapping).
    for (const auto& p : d->pre_tokenizers) {
        if (p.kind == PreTokenizerStep::Kind::kByteLevel) d->byte_level = true;
        if (p.kind == PreTokenizerStep::Kind::kMetaspace) d->space_symbol = p.replacement;
    }
    for (const auto& s : d->decoders) {
        if (s.kind == DecoderStep::Kind::kByteLevel) d->byte_level = true;
        if (s.kind == DecoderStep::Kind::kMetaspace) d->space_symbol = s.replacement;
        if (s.kind == DecoderStep::Kind::kReplace && s.content == " ") d->space_symbol = s.pattern;
    }
    if (!config_json.empty()) {
        MP_TRY(load_config(config_json, std::string(what) + " (tokenizer_config.json)", *d));
    }
    return d;
}

}  // namespace

Result<std::unique_ptr<TokenizerData>> load_tokenizer_json(std::string_view tokenizer_json,
                                                           std::string_view config_json,
                                                           std::string_view what) {
    try {
        return load_impl(tokenizer_json, config_json, what);
    } catch (const Json::exception& e) {
        return corrupt_data("{}: unexpected JSON structure: {}", what, e.what());
    }
}

}  // namespace modelprint::tok

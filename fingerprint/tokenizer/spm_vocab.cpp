// load_spm_model: a SentencePiece tokenizer.model (+ optional tokenizer_config.json) as
// TokenizerData. The encoding itself is SpmModel (spm_model.h); this file only adds what the
// Tokenizer interface needs around it:
//   bos/eos: the CONTROL pieces named by trainer_spec bos_piece/eos_piece (as
//     SentencePieceProcessor::bos_id), or tokenizer_config.json's bos_token/eos_token when they
//     name a piece;
//   add_special_tokens: BOS before the ids when tokenizer_config.json says add_bos_token (and
//     EOS after them for add_eos_token), as transformers' LlamaTokenizer / GemmaTokenizer; with
//     no tokenizer_config.json nothing is added, as SentencePieceProcessor.encode();
//   chat_template: tokenizer_config.json's (files beside it are read by Tokenizer::from_file).
#include "fingerprint/base/json.h"
#include "fingerprint/tokenizer/tokenizer_loaders.h"

namespace modelprint::tok {
namespace {

std::optional<std::string> config_string(const Json& cfg, const char* key) {
    if (!cfg.contains(key)) return std::nullopt;
    const Json& v = cfg[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) {
        return v["content"].get<std::string>();
    }
    return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<TokenizerData>> load_spm_model(std::string_view model_bytes,
                                                      std::string_view config_json,
                                                      std::string_view what) {
    MP_ASSIGN_OR_RETURN(SpmModelProto proto, parse_spm_model_proto(model_bytes, what));
    auto d = std::make_unique<TokenizerData>();
    d->source = what;
    MP_ASSIGN_OR_RETURN(d->spm, SpmModel::build(std::move(proto), what));
    d->space_symbol = "\xE2\x96\x81";
    d->has_decoder = true;
    d->bos = d->spm->bos_id();
    d->eos = d->spm->eos_id();
    if (config_json.empty()) return d;
    const std::string cwhat = std::string(what) + " (tokenizer_config.json)";
    MP_ASSIGN_OR_RETURN(Json cfg, parse_json(config_json, cwhat));
    if (!cfg.is_object()) return corrupt_data("{}: top level is not an object", cwhat);
    if (auto t = config_string(cfg, "bos_token")) {
        if (auto id = d->spm->piece_to_id(*t)) d->bos = id;
    }
    if (auto t = config_string(cfg, "eos_token")) {
        if (auto id = d->spm->piece_to_id(*t)) d->eos = id;
    }
    const auto flag = [&](const char* key) -> Result<bool> {
        if (!cfg.contains(key) || cfg[key].is_null()) return false;
        if (!cfg[key].is_boolean()) return corrupt_data("{}: \"{}\" is not a boolean", cwhat, key);
        return cfg[key].get<bool>();
    };
    MP_ASSIGN_OR_RETURN(const bool add_bos, flag("add_bos_token"));
    MP_ASSIGN_OR_RETURN(const bool add_eos, flag("add_eos_token"));
    d->config_add_bos = add_bos;
    if (add_bos) {
        if (!d->bos)
            return corrupt_data("{}: add_bos_token is true but the model has no BOS", cwhat);
        d->prefix_ids.push_back(*d->bos);
    }
    if (add_eos) {
        if (!d->eos)
            return corrupt_data("{}: add_eos_token is true but the model has no EOS", cwhat);
        d->suffix_ids.push_back(*d->eos);
    }
    if (cfg.contains("chat_template")) {
        const Json& ct = cfg["chat_template"];
        if (ct.is_string()) {
            d->chat_template = ct.get<std::string>();
        } else if (ct.is_array()) {  // [{"name": ..., "template": ...}]: take "default"
            for (const auto& e : ct) {
                if (!e.is_object() || !e.contains("template") || !e["template"].is_string()) {
                    return corrupt_data(
                        "{}: chat_template list entry is not "
                        "{{\"name\", \"template\"}}",
                        cwhat);
                }
                if ((e.contains("name") && e["name"] == "default") || d->chat_template.empty()) {
                    d->chat_template = e["template"].get<std::string>();
                }
            }
        }
    }
    return d;
}

}  // namespace modelprint::tok

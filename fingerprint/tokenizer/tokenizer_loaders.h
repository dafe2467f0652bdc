// The loaders that build TokenizerData (internal header of fingerprint/tokenizer/):
// tokenizer_json.cpp (tokenizer.json + tokenizer_config.json), spm_vocab.cpp (SentencePiece
// tokenizer.model + tokenizer_config.json) and gguf_vocab.cpp (GGUF).
#pragma once

#include <memory>
#include <string_view>

#include "fingerprint/base/status.h"
#include "fingerprint/tokenizer/tokenizer_impl.h"

namespace modelprint {
struct GgufFile;
}

namespace modelprint::tok {

Result<std::unique_ptr<TokenizerData>> load_tokenizer_json(std::string_view tokenizer_json,
                                                           std::string_view config_json,
                                                           std::string_view what);
// A SentencePiece tokenizer.model (spm_vocab.cpp); config_json as for load_tokenizer_json.
Result<std::unique_ptr<TokenizerData>> load_spm_model(std::string_view model_bytes,
                                                      std::string_view config_json,
                                                      std::string_view what);
Result<std::unique_ptr<TokenizerData>> load_gguf_vocab(const GgufFile& gguf, std::string_view what);

}  // namespace modelprint::tok

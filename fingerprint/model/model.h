// Model: one opened model — a Hugging Face directory, a single .safetensors file, a sharded
// checkpoint (model.safetensors.index.json) or a GGUF file — with its files memory-mapped,
// every tensor located and mapped to a canonical role, and its ModelConfig.
// Zero-copy: tensor_bytes() points into the maps. Conversions to f32 are per tensor, on demand.
// Canonical layout (what canonical_f32() returns, whatever the file format):
//   linear weights as nn.Linear [out, in] (GPT-2 Conv1D [in, out] is transposed);
//   Q/K projections in Hugging Face rotate_half order (GGUF's interleaved rows are un-permuted);
//   routed experts one (rows, cols) matrix per expert, whether the file stacks them in one 3-D
//   tensor (GGUF ffn_*_exps [E, rows, cols]: a byte slice of it) or stores one per expert (HF);
//   the shared-expert gate as (1, C) (GGUF stores it as (C)).
// The layer plan (plan.h) is built when the model is opened; plan() holds it, or plan_status()
// says why there is none (unknown architecture, inconsistent expert config).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/config.h"
#include "fingerprint/model/gguf.h"
#include "fingerprint/model/plan.h"
#include "fingerprint/model/tensor.h"

namespace modelprint {

enum class ModelFormat : uint8_t { kSafetensors, kShardedSafetensors, kGguf };
std::string_view format_name(ModelFormat f);

struct ModelFile {
    std::string path;      // as opened
    std::string rel_name;  // relative to root_dir() (for OMS "files" hashing and messages)
    std::unique_ptr<MappedFile> map;
};

// A tensor converted to f32 in canonical layout.
struct TensorF32 {
    std::vector<int64_t> shape;
    std::vector<float> data;
};

// A tensor seen in canonical layout without converting it: the stored bytes and dtype, the
// canonical shape, and how canonical positions map to stored ones.
struct StoredTensor {
    const TensorInfo* info = nullptr;
    std::span<const uint8_t> bytes;  // as stored (points into the model's maps)
    std::vector<int64_t> shape;      // canonical shape
    bool transposed = false;         // 2-D, stored as [shape[1], shape[0]] (GPT-2 Conv1D)
    std::vector<int64_t> row_order;  // canonical row r is stored row row_order[r]; empty: same
};

class Model {
public:
    // path: a directory (config.json + model.safetensors | shards | *.gguf), a .safetensors file,
    // a model.safetensors.index.json, or a .gguf file.
    static Result<std::unique_ptr<Model>> open(const std::string& path);

    ModelFormat format() const { return format_; }
    const std::string& path() const { return path_; }
    const std::string& root_dir() const { return root_dir_; }  // directory holding the model
    const std::vector<ModelFile>& files() const { return files_; }  // weight files
    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const std::vector<TensorRole>& roles() const { return roles_; }  // parallel to tensors()
    // Whether tensor i's role was inferred from shapes and structure (names unknown or
    // contradicting config.json: fingerprint/model/role_infer.h) rather than read from its name.
    bool role_inferred(size_t i) const { return i < inferred_.size() && inferred_[i] != 0; }
    // Whether tensor i is stored under its format's own name for its role (the architecture's
    // Hugging Face name in safetensors, the GGUF name in GGUF). False for tensors without a
    // role, inferred roles, and GGUF-style names inside a safetensors file.
    bool name_is_standard(size_t i) const { return i < standard_.size() && standard_[i] != 0; }
    // Tensors without a role (role kUnknown), in file order.
    std::vector<size_t> unroled_tensors() const;
    const ModelConfig& config() const { return config_; }
    // The layer plan (empty layers when plan_status() is not OK).
    const ModelPlan& plan() const { return plan_; }
    const Status& plan_status() const { return plan_status_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const GgufFile* gguf() const { return gguf_.get(); }  // null unless format is kGguf
    uint64_t parameter_count() const;
    uint64_t weight_bytes() const;

    const TensorInfo* find(std::string_view name) const;
    // The tensor stored with exactly this role (expert -1: not a per-expert tensor).
    const TensorInfo* find_role(Role role, int layer = -1, bool bias = false,
                                int expert = -1) const;
    // Whether canonical_stored(r...) would find the tensor (per-expert, or expert r.expert of a
    // stacked tensor with enough experts; the output head falls back to the embedding).
    bool has_tensor(const TensorRole& r) const;
    std::span<const uint8_t> tensor_bytes(const TensorInfo& t) const;

    // The stored tensor converted to f32 (stored layout and shape).
    Result<std::vector<float>> read_f32(const TensorInfo& t) const;
    // The tensor with this role in canonical layout (see file comment). kNotFound names the
    // canonical name and the model when absent. The tied output head is returned as
    // token_embd when the model has no separate output tensor.
    // For a routed-expert role, `expert` selects one expert's (rows, cols) matrix (see the file
    // comment); kCorruptData when a stacked tensor is not [E, rows, cols] or has too few experts.
    Result<TensorF32> canonical_f32(Role role, int layer = -1, bool bias = false,
                                    int expert = -1) const;
    // The same tensor, not converted: what canonical_f32 converts (same lookup and errors).
    // `bytes` is the expert's slice of a stacked tensor.
    Result<StoredTensor> canonical_stored(Role role, int layer = -1, bool bias = false,
                                          int expert = -1) const;
    // Drops t's whole pages from this process's memory (MappedFile::evict); reads stay valid.
    void evict(const TensorInfo& t) const;
    // Drops the pages of a canonical view (an expert's slice only, for a stacked tensor).
    void evict(const StoredTensor& t) const;

private:
    Model() = default;
    Status finish_open();
    ModelFormat format_ = ModelFormat::kSafetensors;
    std::string path_;
    std::string root_dir_;
    std::vector<ModelFile> files_;
    std::vector<TensorInfo> tensors_;
    std::vector<TensorRole> roles_;
    std::vector<uint8_t> inferred_;  // parallel to tensors_ (1: role inferred)
    std::vector<uint8_t> standard_;  // parallel to tensors_ (1: name_is_standard)
    std::map<std::string, size_t, std::less<>> by_name_;
    ModelConfig config_;
    ModelPlan plan_;
    Status plan_status_;
    std::map<std::string, std::string> metadata_;
    std::unique_ptr<GgufFile> gguf_;
    friend class ModelLoader;
};

}  // namespace modelprint

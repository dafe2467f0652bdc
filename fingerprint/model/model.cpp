// Model: open any supported model path, map its files, locate tensors, assign canonical roles and
// read its ModelConfig (see model.h). Sharded checkpoints are validated against their index:
// a missing shard, a tensor in two shards, or a listed tensor absent from its shard are errors.
#include "fingerprint/model/model.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/model/role_infer.h"
#include "fingerprint/model/safetensors.h"

namespace fs = std::filesystem;

namespace modelprint {

std::string_view format_name(ModelFormat f) {
    switch (f) {
        case ModelFormat::kSafetensors: return "safetensors";
        case ModelFormat::kShardedSafetensors: return "safetensors (sharded)";
        case ModelFormat::kGguf: return "gguf";
    }
    return "unknown";
}

class ModelLoader {
public:
    explicit ModelLoader(Model* m) : m_(m) {}

    Status add_safetensors(const fs::path& path, const std::string& rel) {
        MP_ASSIGN_OR_RETURN(auto map, MappedFile::open(path.string()));
        auto header = parse_safetensors(map->bytes(), rel);
        if (!header.ok()) return header.status();
        const uint32_t idx = static_cast<uint32_t>(m_->files_.size());
        for (TensorInfo& t : header->tensors) {
            t.file_index = idx;
            m_->tensors_.push_back(std::move(t));
        }
        if (m_->metadata_.empty()) m_->metadata_ = header->metadata;
        m_->files_.push_back(ModelFile{path.string(), rel, std::move(map)});
        return Status();
    }

    Status add_gguf(const fs::path& path, const std::string& rel) {
        MP_ASSIGN_OR_RETURN(auto map, MappedFile::open(path.string()));
        auto g = parse_gguf(map->bytes(), rel);
        if (!g.ok()) return g.status();
        m_->gguf_ = std::make_unique<GgufFile>(std::move(g).value());
        for (TensorInfo t : m_->gguf_->tensors) {
            t.file_index = 0;
            m_->tensors_.push_back(std::move(t));
        }
        m_->files_.push_back(ModelFile{path.string(), rel, std::move(map)});
        m_->format_ = ModelFormat::kGguf;
        return Status();
    }

    Status add_sharded(const fs::path& index_path) {
        const fs::path dir = index_path.parent_path();
        const std::string what = index_path.filename().string();
        MP_ASSIGN_OR_RETURN(std::string text, read_file(index_path.string()));
        MP_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
        auto wm = j.is_object() ? j.find("weight_map") : j.end();
        if (!j.is_object() || wm == j.end() || !wm->is_object()) {
            return corrupt_data("{}: missing \"weight_map\" object", what);
        }
        std::map<std::string, std::string> weight_map;  // tensor -> shard
        std::vector<std::string> shards;
        for (auto it = wm->begin(); it != wm->end(); ++it) {
            if (!it->is_string()) {
                return corrupt_data("{}: weight_map entry \"{}\" must name a shard file", what, it.key());
            }
            std::string shard = it->get<std::string>();
            if (shard.empty() || shard.find("..") != std::string::npos || shard[0] == '/') {
                return corrupt_data("{}: weight_map entry \"{}\" names an unsafe path \"{}\"", what,
                                    it.key(), shard);
            }
            weight_map[it.key()] = shard;
            if (std::find(shards.begin(), shards.end(), shard) == shards.end()) shards.push_back(shard);
        }
        std::sort(shards.begin(), shards.end());
        for (const std::string& shard : shards) {
            const fs::path p = dir / shard;
            if (!fs::exists(p)) {
                return not_found("{}: shard \"{}\" listed in the index does not exist", what, shard);
            }
            MP_TRY(add_safetensors(p, shard));
        }
        std::map<std::string, std::string> seen;  // tensor -> shard that holds it
        for (const TensorInfo& t : m_->tensors_) {
            const std::string& shard = m_->files_[t.file_index].rel_name;
            auto [it, inserted] = seen.emplace(t.name, shard);
            if (!inserted) {
                return corrupt_data("{}: tensor \"{}\" appears in two shards, \"{}\" and \"{}\"",
                                    what, t.name, it->second, shard);
            }
        }
        for (const TensorInfo& t : m_->tensors_) {
            const std::string& shard = m_->files_[t.file_index].rel_name;
            auto w = weight_map.find(t.name);
            if (w == weight_map.end()) {
                return corrupt_data("{}: tensor \"{}\" in shard \"{}\" is not in the weight_map",
                                    what, t.name, shard);
            }
            if (w->second != shard) {
                return corrupt_data("{}: tensor \"{}\" is mapped to \"{}\" but stored in \"{}\"",
                                    what, t.name, w->second, shard);
            }
        }
        for (const auto& [name, shard] : weight_map) {
            if (!seen.count(name)) {
                return not_found("{}: tensor \"{}\" is listed for shard \"{}\" but missing from it",
                                 what, name, shard);
            }
        }
        m_->format_ = ModelFormat::kShardedSafetensors;
        return Status();
    }

    Status read_config(const fs::path& dir) {
        if (m_->format_ == ModelFormat::kGguf) {
            MP_ASSIGN_OR_RETURN(m_->config_, config_from_gguf(*m_->gguf_, m_->files_[0].rel_name));
            return Status();
        }
        const fs::path cfg = dir / "config.json";
        if (fs::exists(cfg)) {
            MP_ASSIGN_OR_RETURN(std::string text, read_file(cfg.string()));
            MP_ASSIGN_OR_RETURN(m_->config_, config_from_hf_json(text, "config.json"));
            return Status();
        }
        m_->config_ = ModelConfig{};
        m_->config_.source = "inferred";
        m_->config_.notes.push_back("no config.json: hyper-parameters inferred from tensor names and shapes");
        return Status();
    }

    // Pick the architecture whose name rules map the most tensors (when there is no config).
    const ArchSpec* infer_arch() {
        const ArchSpec* best = nullptr;
        size_t best_n = 0;
        for (const ArchSpec* s : all_archs()) {
            size_t n = 0;
            for (const TensorInfo& t : m_->tensors_) n += hf_name_to_role(*s, t.name).role != Role::kUnknown;
            if (n > best_n) {
                best = s;
                best_n = n;
            }
        }
        if (best != nullptr && best->arch == Arch::kLlama) {
            // Same module names: tell Llama, Qwen2 (q bias) and Qwen3 (q/k norm) apart.
            for (const TensorInfo& t : m_->tensors_) {
                TensorRole r = hf_name_to_role(*best, t.name);
                if (r.role == Role::kAttnQ && r.is_bias) best = find_arch(Arch::kQwen2);
            }
            if (m_->find("model.layers.0.self_attn.q_norm.weight") != nullptr) {
                best = find_arch(Arch::kQwen3);
            }
        }
        return best;
    }

    Status assign_roles() {
        ModelConfig& c = m_->config_;
        m_->by_name_.clear();
        for (size_t i = 0; i < m_->tensors_.size(); ++i) m_->by_name_[m_->tensors_[i].name] = i;
        const ArchSpec* spec = nullptr;
        if (m_->format_ != ModelFormat::kGguf) {
            spec = c.arch != Arch::kUnknown ? find_arch(c.arch) : nullptr;
            if (spec == nullptr) {
                spec = infer_arch();
                if (spec != nullptr) {
                    if (c.source == "inferred") {
                        c.arch = spec->arch;
                        c.model_type = std::string(spec->name);
                        c.norm = spec->norm;
                        c.act = spec->act;
                        c.gated_mlp = spec->gated_mlp;
                        c.notes.push_back(fmt::format("architecture \"{}\" inferred from tensor names",
                                                      spec->name));
                    } else {
                        c.notes.push_back(fmt::format("tensor roles matched with \"{}\" names",
                                                      spec->name));
                    }
                }
            }
        }
        m_->roles_.clear();
        m_->standard_.clear();
        std::map<std::string, std::string> role_owner;
        for (const TensorInfo& t : m_->tensors_) {
            TensorRole r = spec ? hf_name_to_role(*spec, t.name) : parse_canonical_name(t.name);
            if (r.role != Role::kUnknown) {
                auto [it, inserted] = role_owner.emplace(canonical_name(r), t.name);
                if (!inserted) {
                    return corrupt_data("tensors \"{}\" and \"{}\" both map to role {}", it->second,
                                        t.name, it->first);
                }
            }
            m_->roles_.push_back(r);
            const bool gguf = m_->format_ == ModelFormat::kGguf;
            m_->standard_.push_back(r.role != Role::kUnknown && (gguf || spec != nullptr));
        }
        m_->inferred_.assign(m_->tensors_.size(), 0);
        // Names are attacker-controlled: when they leave the layout incomplete or contradict
        // config.json, roles come from shapes and structure instead (role_infer.h).
        if (spec != nullptr && m_->format_ != ModelFormat::kGguf &&
            roles_need_inference(m_->tensors_, m_->roles_, c)) {
            // GGUF-style names inside a safetensors file: the other known convention.
            std::vector<TensorRole> gguf_roles;
            for (const TensorInfo& t : m_->tensors_) gguf_roles.push_back(parse_canonical_name(t.name));
            if (!roles_need_inference(m_->tensors_, gguf_roles, c)) {
                m_->roles_ = std::move(gguf_roles);
                for (uint8_t& st : m_->standard_) st = 0;
                c.notes.push_back("tensor names are GGUF-style, not the architecture's Hugging Face "
                                  "names: roles read from the GGUF names");
            }
        }
        if (spec != nullptr && spec->gated_mlp && !spec->conv1d_weights &&
            c.source == "config.json" && roles_need_inference(m_->tensors_, m_->roles_, c)) {
            const Model* model = m_;
            auto inferred = infer_roles(m_->tensors_, c, [model](size_t i) {
                return model->read_f32(model->tensors()[i]);
            });
            if (inferred.ok()) {
                m_->roles_ = std::move(inferred->roles);
                for (size_t i = 0; i < m_->roles_.size(); ++i) {
                    m_->inferred_[i] = m_->roles_[i].role != Role::kUnknown;
                    m_->standard_[i] = 0;
                }
                c.notes.push_back(fmt::format("tensor names do not give a complete {} layout: {}",
                                              spec->name, inferred->note));
            } else {
                c.notes.push_back(fmt::format("tensor names do not give a complete {} layout, and "
                                              "roles could not be inferred: {}",
                                              spec->name, inferred.status().message()));
            }
        }
        complete_config_from_tensors(&c, m_->tensors_, m_->roles_);
        auto plan = make_plan(c, m_->roles_);
        if (plan.ok()) {
            m_->plan_ = std::move(plan).value();
        } else {
            m_->plan_status_ = plan.status();
        }
        return Status();
    }

private:
    Model* m_;
};

namespace {
bool has_ext(const fs::path& p, std::string_view ext) { return p.extension() == ext; }

bool looks_like_gguf(const fs::path& p) {
    auto f = MappedFile::open(p.string());
    return f.ok() && (*f)->size() >= 4 && std::equal((*f)->bytes().begin(), (*f)->bytes().begin() + 4,
                                                    reinterpret_cast<const uint8_t*>("GGUF"));
}
}  // namespace

Result<std::unique_ptr<Model>> Model::open(const std::string& path) {
    std::unique_ptr<Model> m(new Model());
    m->path_ = path;
    ModelLoader loader(m.get());
    std::error_code ec;
    const fs::path p(path);
    if (!fs::exists(p, ec)) return not_found("{}: no such file or directory", path);
    fs::path dir;
    if (fs::is_directory(p, ec)) {
        dir = p;
        m->root_dir_ = p.string();
        std::vector<fs::path> st, gg;
        for (const auto& e : fs::directory_iterator(p, ec)) {
            if (!e.is_regular_file()) continue;
            if (has_ext(e.path(), ".safetensors")) st.push_back(e.path());
            if (has_ext(e.path(), ".gguf")) gg.push_back(e.path());
        }
        std::sort(st.begin(), st.end());
        std::sort(gg.begin(), gg.end());
        if (fs::exists(p / "model.safetensors.index.json")) {
            MP_TRY(loader.add_sharded(p / "model.safetensors.index.json"));
        } else if (fs::exists(p / "model.safetensors")) {
            MP_TRY(loader.add_safetensors(p / "model.safetensors", "model.safetensors"));
        } else if (st.size() == 1) {
            MP_TRY(loader.add_safetensors(st[0], st[0].filename().string()));
        } else if (st.size() > 1) {
            return invalid_argument("{}: {} .safetensors files but no model.safetensors.index.json; "
                                    "name one file", path, st.size());
        } else if (gg.size() == 1) {
            MP_TRY(loader.add_gguf(gg[0], gg[0].filename().string()));
        } else if (gg.size() > 1) {
            return invalid_argument("{}: {} .gguf files; name one of them", path, gg.size());
        } else {
            return not_found("{}: no model.safetensors, shard index or .gguf file in the directory", path);
        }
    } else {
        dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
        m->root_dir_ = dir.string();
        const std::string name = p.filename().string();
        if (has_ext(p, ".gguf") || looks_like_gguf(p)) {
            MP_TRY(loader.add_gguf(p, name));
        } else if (name.ends_with(".index.json")) {
            MP_TRY(loader.add_sharded(p));
        } else {
            MP_TRY(loader.add_safetensors(p, name));
        }
    }
    MP_TRY(loader.read_config(dir));
    MP_TRY(loader.assign_roles());
    return m;
}

uint64_t Model::parameter_count() const {
    uint64_t n = 0;
    for (const auto& t : tensors_) n += t.numel();
    return n;
}

uint64_t Model::weight_bytes() const {
    uint64_t n = 0;
    for (const auto& t : tensors_) n += t.nbytes;
    return n;
}

std::vector<size_t> Model::unroled_tensors() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < roles_.size(); ++i) {
        if (roles_[i].role == Role::kUnknown) out.push_back(i);
    }
    return out;
}

const TensorInfo* Model::find(std::string_view name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo* Model::find_role(Role role, int layer, bool bias, int expert) const {
    for (size_t i = 0; i < tensors_.size(); ++i) {
        if (roles_[i].role == role && roles_[i].layer == layer && roles_[i].is_bias == bias &&
            roles_[i].expert == expert) {
            return &tensors_[i];
        }
    }
    return nullptr;
}

bool Model::has_tensor(const TensorRole& r) const {
    if (find_role(r.role, r.layer, r.is_bias, r.expert) != nullptr) return true;
    if (r.role == Role::kOutput && !r.is_bias) return find_role(Role::kTokenEmbd) != nullptr;
    if (r.expert >= 0 && is_expert_role(r.role)) {
        const TensorInfo* t = find_role(r.role, r.layer, r.is_bias, -1);
        return t != nullptr && !t->shape.empty() && r.expert < t->shape[0];
    }
    return false;
}

std::span<const uint8_t> Model::tensor_bytes(const TensorInfo& t) const {
    return files_[t.file_index].map->bytes().subspan(t.offset, t.nbytes);
}

Result<std::vector<float>> Model::read_f32(const TensorInfo& t) const {
    std::vector<float> out(t.numel());
    Status s = convert_to_f32(t.dtype, tensor_bytes(t), t.numel(), out.data());
    if (!s.ok()) return s.with_context(fmt::format("tensor \"{}\"", t.name));
    return out;
}

Result<StoredTensor> Model::canonical_stored(Role role, int layer, bool bias, int expert) const {
    const TensorInfo* t = find_role(role, layer, bias, expert);
    bool stacked = false;
    if (t == nullptr && expert >= 0 && is_expert_role(role)) {
        t = find_role(role, layer, bias, -1);
        stacked = t != nullptr;
    }
    if (t == nullptr && role == Role::kOutput && !bias) t = find_role(Role::kTokenEmbd, -1, false);
    if (t == nullptr) {
        return not_found("{}: tensor {} is missing", path_,
                         canonical_name({role, layer, bias, expert}));
    }
    StoredTensor out;
    out.info = t;
    out.bytes = tensor_bytes(*t);
    out.shape = t->shape;
    if (stacked) {
        // Expert `expert` of a stacked [E, rows, cols] tensor: its contiguous byte slice (GGUF
        // rows are whole quantisation blocks, so each expert is a whole number of bytes).
        if (t->shape.size() != 3 || t->shape[0] <= 0 || t->nbytes % t->shape[0] != 0) {
            return corrupt_data("{}: tensor \"{}\" has shape [{}], not [experts, rows, cols]", path_,
                                t->name, fmt::join(t->shape, ", "));
        }
        if (expert >= t->shape[0]) {
            return corrupt_data("{}: tensor \"{}\" holds {} experts, expert {} is needed", path_,
                                t->name, t->shape[0], expert);
        }
        const uint64_t per = t->nbytes / static_cast<uint64_t>(t->shape[0]);
        out.bytes = out.bytes.subspan(static_cast<size_t>(per * static_cast<uint64_t>(expert)),
                                      static_cast<size_t>(per));
        out.shape = {t->shape[1], t->shape[2]};
    }
    if (role == Role::kFfnGateInpShexp && !bias && out.shape.size() == 1) {
        out.shape = {1, out.shape[0]};  // GGUF (C) -> nn.Linear(C, 1).weight (1, C)
    }
    const ArchSpec* spec = find_arch(config_.arch);
    const bool linear = is_linear_role(role);
    if (spec && spec->conv1d_weights && format_ != ModelFormat::kGguf && linear && !bias &&
        out.shape.size() == 2) {
        // Conv1D [in, out] -> Linear [out, in].
        out.transposed = true;
        out.shape = {out.shape[1], out.shape[0]};
    }
    // llama.cpp's converter permutes Q/K rows of Llama-arch models for interleaved RoPE
    // (convert_hf_to_gguf.py LlamaModel.permute); undo it so every format is in rotate_half order:
    // w.reshape(NH, HS/2, 2, in).transpose(0, 2, 1, 3).reshape(out, in).
    if (format_ == ModelFormat::kGguf && config_.model_type == "llama" &&
        (role == Role::kAttnQ || role == Role::kAttnK)) {
        const int64_t heads = role == Role::kAttnQ ? config_.n_heads : config_.n_kv_heads;
        const int64_t rows = out.shape.empty() ? 0 : out.shape[0];
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            return corrupt_data("{}: tensor \"{}\" has {} rows, not a whole number of {} heads of "
                                "even size", path_, t->name, rows, heads);
        }
        const int64_t hs = rows / heads;
        out.row_order.resize(static_cast<size_t>(rows));
        for (int64_t h = 0; h < heads; ++h)
            for (int64_t i = 0; i < hs / 2; ++i)
                for (int64_t j = 0; j < 2; ++j) {
                    out.row_order[h * hs + j * (hs / 2) + i] = h * hs + i * 2 + j;
                }
    }
    return out;
}

Result<TensorF32> Model::canonical_f32(Role role, int layer, bool bias, int expert) const {
    MP_ASSIGN_OR_RETURN(StoredTensor st, canonical_stored(role, layer, bias, expert));
    TensorF32 out;
    out.shape = st.shape;
    if (st.bytes.size() == st.info->nbytes) {
        MP_ASSIGN_OR_RETURN(out.data, read_f32(*st.info));
    } else {
        uint64_t n = 1;
        for (int64_t d : st.shape) n *= static_cast<uint64_t>(d);
        out.data.resize(n);
        Status s = convert_to_f32(st.info->dtype, st.bytes, n, out.data.data());
        if (!s.ok()) {
            return s.with_context(fmt::format("tensor \"{}\" expert {}", st.info->name, expert));
        }
    }
    if (st.transposed) {
        // Stored [in, out] -> [out, in].
        const int64_t o = st.shape[0], in = st.shape[1];
        std::vector<float> tr(out.data.size());
        for (int64_t i = 0; i < in; ++i)
            for (int64_t j = 0; j < o; ++j) tr[j * in + i] = out.data[i * o + j];
        out.data.swap(tr);
    }
    if (!st.row_order.empty()) {
        const int64_t cols = out.shape.size() == 2 ? out.shape[1] : 1;
        std::vector<float> perm(out.data.size());
        for (size_t dst = 0; dst < st.row_order.size(); ++dst) {
            std::copy_n(out.data.begin() + st.row_order[dst] * cols, cols,
                        perm.begin() + static_cast<int64_t>(dst) * cols);
        }
        out.data.swap(perm);
    }
    return out;
}

void Model::evict(const TensorInfo& t) const {
    files_[t.file_index].map->evict(t.offset, t.nbytes);
}

void Model::evict(const StoredTensor& t) const {
    if (t.info == nullptr) return;
    const auto whole = tensor_bytes(*t.info);
    const uint64_t off = t.info->offset + static_cast<uint64_t>(t.bytes.data() - whole.data());
    files_[t.info->file_index].map->evict(off, t.bytes.size());
}

}  // namespace modelprint

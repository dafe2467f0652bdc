// WeightStore: planning, uploading and streaming of the engine's weights (see cuda_weights.cuh).
#include "cuda/cuda_weights.cuh"

#include <algorithm>
#include <cstring>
#include <limits>

#include "fingerprint/base/quant.h"
#include "fingerprint/model/arch.h"

namespace modelprint::cuda {

namespace {

// Slot fields (LayerView members, in order) and global fields.
enum Field : int {
    kAttnNormW, kAttnNormB, kQkvW, kQkvB, kQNorm, kKNorm, kOW, kOB, kFfnNormW, kFfnNormB,
    kUpW, kUpB, kDownW, kDownB, kLayerFields,
    kTokEmbd = kLayerFields, kOutput, kOutNormW, kOutNormB, kPosEmbd, kAllFields,
};
constexpr uint64_t kAbsent = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kAlign = 256;

uint64_t align_up(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

std::string shape_str(const std::vector<int64_t>& s) {
    return fmt::format("[{}]", fmt::join(s, ", "));
}

bool is_linear(Role r) {
    return r == Role::kAttnQKV || r == Role::kAttnOut || r == Role::kFfnUp || r == Role::kFfnDown ||
           r == Role::kFfnGate || r == Role::kAttnQ || r == Role::kAttnK || r == Role::kAttnV;
}

// Device decoder for a stored dtype, if any.
bool stored_kind(DType t, StoredKind* k) {
    switch (t) {
        case DType::kF32: *k = StoredKind::kF32; return true;
        case DType::kF16: *k = StoredKind::kF16; return true;
        case DType::kBF16: *k = StoredKind::kBF16; return true;
        case DType::kF8_E4M3: case DType::kF8_E5M2: case DType::kF8_E8M0:
        case DType::kF8_E4M3FNUZ: case DType::kF8_E5M2FNUZ:
            *k = StoredKind::kLut; return true;
        case DType::kQ4_0: *k = StoredKind::kQ4_0; return true;
        case DType::kQ4_1: *k = StoredKind::kQ4_1; return true;
        case DType::kQ5_0: *k = StoredKind::kQ5_0; return true;
        case DType::kQ5_1: *k = StoredKind::kQ5_1; return true;
        case DType::kQ8_0: *k = StoredKind::kQ8_0; return true;
        case DType::kQ4_K: *k = StoredKind::kQ4_K; return true;
        case DType::kQ6_K: *k = StoredKind::kQ6_K; return true;
        default: return false;
    }
}

// The 256-entry decoding table of a one-byte float type (dtype.cpp's exact decoders).
ByteLut byte_lut(DType t) {
    ByteLut lut{};
    for (int i = 0; i < 256; ++i) {
        uint8_t b = static_cast<uint8_t>(i);
        float v = 0.0f;
        (void)convert_to_f32(t, std::span<const uint8_t>(&b, 1), 1, &v);
        lut.v[i] = v;
    }
    return lut;
}

}  // namespace

WeightStore::~WeightStore() {
    // Nothing may still read the staging buffers or slots when they are freed.
    if (copy_stream_.get() != nullptr) cudaStreamSynchronize(copy_stream_.get());
}

Status WeightStore::add_piece(std::vector<Piece>* pieces, uint64_t* bytes, int field, Role role,
                              int layer, bool bias, std::vector<int64_t> expect,
                              int64_t row_offset) {
    const ModelConfig& c = model_.config();
    const TensorInfo* t = model_.find_role(role, layer, bias);
    if (t == nullptr && role == Role::kOutput && !bias) t = model_.find_role(Role::kTokenEmbd);
    const std::string name = canonical_name({role, layer, bias});
    if (t == nullptr) {
        return not_found("{}: tensor {} is missing (the {} engine needs it)", model_.path(), name,
                         arch_name(c.arch));
    }
    Piece p;
    p.t = t;
    p.name = name;
    const ArchSpec* spec = find_arch(c.arch);
    std::vector<int64_t> canon = t->shape;
    const bool gguf = model_.format() == ModelFormat::kGguf;
    if (spec && spec->conv1d_weights && !gguf && is_linear(role) && !bias && canon.size() == 2) {
        std::swap(canon[0], canon[1]);
        p.map = RowMap::kTranspose;
    }
    if (canon != expect) {
        return corrupt_data("{}: tensor {} has shape {}, the config implies {}", model_.path(), name,
                            shape_str(canon), shape_str(expect));
    }
    if (gguf && c.model_type == "llama" && (role == Role::kAttnQ || role == Role::kAttnK)) {
        const int64_t heads = role == Role::kAttnQ ? c.n_heads : c.n_kv_heads;
        const int64_t rows = t->shape.empty() ? 0 : t->shape[0];
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            return corrupt_data("{}: tensor \"{}\" has {} rows, not a whole number of {} heads of "
                                "even size", model_.path(), t->name, rows, heads);
        }
        p.map = RowMap::kUnpermute;
        p.hs = rows / heads;
    }
    if (t->shape.size() == 2) {
        p.rows = t->shape[0];
        p.cols = t->shape[1];
    } else {
        const int64_t n = static_cast<int64_t>(t->numel());
        p.rows = p.map == RowMap::kUnpermute ? n : 1;
        p.cols = p.map == RowMap::kUnpermute ? 1 : n;
    }
    const bool matrix = field == kQkvW || field == kOW || field == kUpW || field == kDownW ||
                        field == kTokEmbd || field == kOutput;
    p.dst_type = matrix ? store_ : StoreType::kF32;
    const int64_t dst_cols = expect.size() == 2 ? expect[1] : 1;
    if (field_off_[field] == kAbsent) return internal_error("field {} has no offset", field);
    p.dst_off = field_off_[field] +
                static_cast<uint64_t>(row_offset * dst_cols) * store_size(p.dst_type);
    const DTypeInfo& info = dtype_info(t->dtype);
    p.host_convert = !stored_kind(t->dtype, &p.kind) ||
                     (info.is_quantized && p.cols % static_cast<int64_t>(info.block_size) != 0);
    if (p.host_convert) p.kind = StoredKind::kF32;
    const bool same = (p.kind == StoredKind::kF32 && p.dst_type == StoreType::kF32) ||
                      (p.kind == StoredKind::kBF16 && p.dst_type == StoreType::kBF16) ||
                      (p.kind == StoredKind::kF16 && p.dst_type == StoreType::kF16);
    p.direct = same && p.map == RowMap::kIdentity;
    p.host_bytes = p.host_convert ? t->numel() * 4 : t->nbytes;
    p.staging_off = *bytes;  // caller-provided running staging offset
    *bytes = align_up(*bytes + p.host_bytes);
    pieces->push_back(std::move(p));
    return Status();
}

Result<std::unique_ptr<WeightStore>> WeightStore::plan(const Model& model, StoreType store) {
    std::unique_ptr<WeightStore> w(new WeightStore(model, store));
    const ModelConfig& c = model.config();
    // The layer recipe comes from the plan (fingerprint/model/plan.h). The store gives every
    // layer one slot layout, so every layer must be alike (layer 0's plan), and dense.
    if (!model.plan_status().ok()) return model.plan_status().with_context(model.path());
    const ModelPlan& mplan = model.plan();
    if (mplan.layers.empty()) return corrupt_data("{}: the model has no layers", model.path());
    const LayerPlan& lp0 = mplan.layers[0];
    for (size_t l = 0; l < mplan.layers.size(); ++l) {
        const LayerPlan& lp = mplan.layers[l];
        const AttnPlan &a = lp.attn, &a0 = lp0.attn;
        const MlpPlan &m = lp.mlp, &m0 = lp0.mlp;
        if (m.kind != MlpKind::kDense) {
            return unsupported("{}: layer {} is a mixture-of-experts block, which the CUDA weight "
                               "store does not implement", model.path(), l);
        }
        if (a.n_heads != a0.n_heads || a.n_kv_heads != a0.n_kv_heads ||
            a.head_dim_k != a0.head_dim_k || a.head_dim_v != a.head_dim_k ||
            a.fused_qkv != a0.fused_qkv || a.qkv_bias != a0.qkv_bias ||
            a.out_bias != a0.out_bias || a.qk_norm != a0.qk_norm || m.ff != m0.ff ||
            m.gated != m0.gated || m.bias != m0.bias || lp.norm.type != lp0.norm.type) {
            return unsupported("{}: layer {} differs from layer 0 in its plan; the CUDA weight "
                               "store needs every layer alike", model.path(), l);
        }
    }
    const AttnPlan& ap = lp0.attn;
    const MlpPlan& mp = lp0.mlp;
    const int64_t V = mplan.vocab_size, C = mplan.hidden_size, HS = ap.head_dim_k;
    const int64_t QD = ap.n_heads * HS, KVD = ap.n_kv_heads * HS, FF = mp.ff;
    const int64_t FFW = mp.gated ? 2 * FF : FF;
    const bool ln = lp0.norm.type == NormType::kLayerNorm;
    const bool fused_qkv = ap.fused_qkv;
    const bool qkv_bias = ap.qkv_bias, out_bias = ap.out_bias, qk_norm = ap.qk_norm;
    const bool gated = mp.gated, mlp_bias = mp.bias;
    const bool learned_positions = mplan.learned_positions;
    const size_t es = store_size(store);

    // Field offsets (slot layout, then global layout).
    w->field_off_.assign(kAllFields, kAbsent);
    uint64_t off = 0;
    auto reserve = [&](int field, bool present, uint64_t bytes) {
        if (!present) return;
        w->field_off_[field] = off;
        off = align_up(off + bytes);
    };
    reserve(kAttnNormW, true, C * 4);
    reserve(kAttnNormB, ln, C * 4);
    reserve(kQkvW, true, (QD + 2 * KVD) * C * es);
    reserve(kQkvB, qkv_bias, (QD + 2 * KVD) * 4);
    reserve(kQNorm, qk_norm, HS * 4);
    reserve(kKNorm, qk_norm, HS * 4);
    reserve(kOW, true, C * QD * es);
    reserve(kOB, out_bias, C * 4);
    reserve(kFfnNormW, true, C * 4);
    reserve(kFfnNormB, ln, C * 4);
    reserve(kUpW, true, FFW * C * es);
    reserve(kUpB, mlp_bias, FFW * 4);
    reserve(kDownW, true, C * FF * es);
    reserve(kDownB, mlp_bias, C * 4);
    w->slot_bytes_ = off;
    off = 0;
    const bool untied = model.find_role(Role::kOutput) != nullptr;
    const TensorInfo* pe = learned_positions ? model.find_role(Role::kPosEmbd) : nullptr;
    const int64_t pos_rows = pe != nullptr && !pe->shape.empty() ? pe->shape[0] : 0;
    if (learned_positions && pe == nullptr) {
        return not_found("{}: tensor {} is missing (the {} engine needs it)", model.path(),
                         canonical_name({Role::kPosEmbd, -1, false}), arch_name(c.arch));
    }
    reserve(kTokEmbd, true, V * C * es);
    reserve(kOutput, untied, V * C * es);
    reserve(kOutNormW, true, C * 4);
    reserve(kOutNormB, ln, C * 4);
    reserve(kPosEmbd, learned_positions, pos_rows * C * 4);
    w->global_bytes_ = off;

    // Globals.
    uint64_t gstage = 0;
    auto& g = w->global_pieces_;
    MP_TRY(w->add_piece(&g, &gstage, kTokEmbd, Role::kTokenEmbd, -1, false, {V, C}, 0));
    if (untied) MP_TRY(w->add_piece(&g, &gstage, kOutput, Role::kOutput, -1, false, {V, C}, 0));
    MP_TRY(w->add_piece(&g, &gstage, kOutNormW, Role::kOutputNorm, -1, false, {C}, 0));
    if (ln) MP_TRY(w->add_piece(&g, &gstage, kOutNormB, Role::kOutputNorm, -1, true, {C}, 0));
    if (learned_positions) {
        MP_TRY(w->add_piece(&g, &gstage, kPosEmbd, Role::kPosEmbd, -1, false, {pos_rows, C}, 0));
    }
    w->globals_.pos_rows = pos_rows;

    // Layers: the same fusions as cpu_backend.cpp.
    w->layer_pieces_.resize(static_cast<size_t>(c.n_layers));
    uint64_t max_stage = gstage;
    for (int l = 0; l < c.n_layers; ++l) {
        auto& P = w->layer_pieces_[l];
        uint64_t stage = 0;
        MP_TRY(w->add_piece(&P, &stage, kAttnNormW, Role::kAttnNorm, l, false, {C}, 0));
        MP_TRY(w->add_piece(&P, &stage, kFfnNormW, Role::kFfnNorm, l, false, {C}, 0));
        if (ln) {
            MP_TRY(w->add_piece(&P, &stage, kAttnNormB, Role::kAttnNorm, l, true, {C}, 0));
            MP_TRY(w->add_piece(&P, &stage, kFfnNormB, Role::kFfnNorm, l, true, {C}, 0));
        }
        if (fused_qkv) {
            MP_TRY(w->add_piece(&P, &stage, kQkvW, Role::kAttnQKV, l, false, {QD + 2 * KVD, C}, 0));
            if (qkv_bias) {
                MP_TRY(w->add_piece(&P, &stage, kQkvB, Role::kAttnQKV, l, true, {QD + 2 * KVD}, 0));
            }
        } else {
            int64_t row = 0;
            for (auto [role, rows] : {std::pair{Role::kAttnQ, QD}, {Role::kAttnK, KVD}, {Role::kAttnV, KVD}}) {
                MP_TRY(w->add_piece(&P, &stage, kQkvW, role, l, false, {rows, C}, row));
                if (qkv_bias) MP_TRY(w->add_piece(&P, &stage, kQkvB, role, l, true, {rows}, row));
                row += rows;
            }
        }
        MP_TRY(w->add_piece(&P, &stage, kOW, Role::kAttnOut, l, false, {C, QD}, 0));
        if (out_bias) MP_TRY(w->add_piece(&P, &stage, kOB, Role::kAttnOut, l, true, {C}, 0));
        if (qk_norm) {
            MP_TRY(w->add_piece(&P, &stage, kQNorm, Role::kAttnQNorm, l, false, {HS}, 0));
            MP_TRY(w->add_piece(&P, &stage, kKNorm, Role::kAttnKNorm, l, false, {HS}, 0));
        }
        if (gated) {
            MP_TRY(w->add_piece(&P, &stage, kUpW, Role::kFfnGate, l, false, {FF, C}, 0));
            MP_TRY(w->add_piece(&P, &stage, kUpW, Role::kFfnUp, l, false, {FF, C}, FF));
            if (mlp_bias) {
                MP_TRY(w->add_piece(&P, &stage, kUpB, Role::kFfnGate, l, true, {FF}, 0));
                MP_TRY(w->add_piece(&P, &stage, kUpB, Role::kFfnUp, l, true, {FF}, FF));
            }
        } else {
            MP_TRY(w->add_piece(&P, &stage, kUpW, Role::kFfnUp, l, false, {FF, C}, 0));
            if (mlp_bias) MP_TRY(w->add_piece(&P, &stage, kUpB, Role::kFfnUp, l, true, {FF}, 0));
        }
        MP_TRY(w->add_piece(&P, &stage, kDownW, Role::kFfnDown, l, false, {C, FF}, 0));
        if (mlp_bias) MP_TRY(w->add_piece(&P, &stage, kDownB, Role::kFfnDown, l, true, {C}, 0));
        // Raw device bytes: pieces that need a dequantisation pass.
        uint64_t raw = 0;
        for (auto& p : P) {
            if (p.direct) continue;
            p.raw_off = raw;
            raw = align_up(raw + p.host_bytes);
        }
        w->raw_bytes_ = std::max(w->raw_bytes_, raw);
        max_stage = std::max(max_stage, stage);
    }
    uint64_t graw = 0;
    for (auto& p : g) {
        if (p.direct) continue;
        p.raw_off = graw;
        graw = align_up(graw + p.host_bytes);
    }
    w->raw_bytes_ = std::max(w->raw_bytes_, graw);
    w->staging_bytes_ = max_stage;
    return w;
}

Status WeightStore::stage_and_copy(int l, uint8_t* dst, uint8_t* raw, PinnedBuffer* staging,
                                   cudaStream_t stream) {
    const std::vector<Piece>& pieces = l < 0 ? global_pieces_ : layer_pieces_[l];
    // Host: mmapped bytes (or host-converted f32) into pinned staging.
    for (const Piece& p : pieces) {
        uint8_t* st = staging->data() + p.staging_off;
        if (p.host_convert) {
            MP_ASSIGN_OR_RETURN(std::vector<float> f, model_.read_f32(*p.t));
            std::memcpy(st, f.data(), f.size() * sizeof(float));
        } else {
            std::span<const uint8_t> bytes = model_.tensor_bytes(*p.t);
            if (bytes.size() != p.host_bytes) {
                return internal_error("{}: {} has {} bytes mapped, {} planned", model_.path(),
                                      p.name, bytes.size(), p.host_bytes);
            }
            std::memcpy(st, bytes.data(), bytes.size());
        }
    }
    // Device: copies, then the dequantisation passes.
    for (const Piece& p : pieces) {
        uint8_t* to = p.direct ? dst + p.dst_off : raw + p.raw_off;
        MP_CUDA_TRY(cudaMemcpyAsync(to, staging->data() + p.staging_off, p.host_bytes,
                                    cudaMemcpyHostToDevice, stream));
    }
    for (const Piece& p : pieces) {
        if (p.direct) continue;
        ByteLut lut{};
        if (p.kind == StoredKind::kLut) lut = byte_lut(p.t->dtype);
        cudaError_t err = dequantize_forward(dst + p.dst_off, p.dst_type, raw + p.raw_off, p.kind,
                                             p.kind == StoredKind::kLut ? &lut : nullptr, p.rows,
                                             p.cols, p.map, p.hs, stream);
        if (err != cudaSuccess) {
            return internal_error("{}: dequantising {} ({} {}x{}) on the GPU: {}", model_.path(),
                                  p.name, dtype_name(p.t->dtype), p.rows, p.cols,
                                  cudaGetErrorString(err));
        }
    }
    return Status();
}

LayerView WeightStore::view(const uint8_t* slot) const {
    auto f = [&](int field) -> const float* {
        return field_off_[field] == kAbsent ? nullptr
                                            : reinterpret_cast<const float*>(slot + field_off_[field]);
    };
    auto m = [&](int field) -> const void* { return slot + field_off_[field]; };
    LayerView v;
    v.attn_norm_w = f(kAttnNormW);
    v.attn_norm_b = f(kAttnNormB);
    v.qkv_w = m(kQkvW);
    v.qkv_b = f(kQkvB);
    v.q_norm = f(kQNorm);
    v.k_norm = f(kKNorm);
    v.o_w = m(kOW);
    v.o_b = f(kOB);
    v.ffn_norm_w = f(kFfnNormW);
    v.ffn_norm_b = f(kFfnNormB);
    v.up_w = m(kUpW);
    v.up_b = f(kUpB);
    v.down_w = m(kDownW);
    v.down_b = f(kDownB);
    return v;
}

Status WeightStore::load_globals(cudaStream_t stream) {
    MP_TRY(global_buf_.allocate(global_bytes_, "global weights"));
    MP_TRY(raw_[0].reserve(raw_bytes_, "raw weight bytes"));
    MP_TRY(staging_[0].reserve(staging_bytes_, "weight staging"));
    MP_TRY(stage_and_copy(-1, global_buf_.as<uint8_t>(), raw_[0].as<uint8_t>(), &staging_[0], stream));
    MP_CUDA_TRY(cudaStreamSynchronize(stream));
    const uint8_t* b = global_buf_.as<uint8_t>();
    auto at = [&](int field) -> const uint8_t* {
        return field_off_[field] == kAbsent ? nullptr : b + field_off_[field];
    };
    globals_.tok_embd = at(kTokEmbd);
    globals_.output = at(kOutput) != nullptr ? at(kOutput) : at(kTokEmbd);
    globals_.out_norm_w = reinterpret_cast<const float*>(at(kOutNormW));
    globals_.out_norm_b = reinterpret_cast<const float*>(at(kOutNormB));
    globals_.pos_embd = reinterpret_cast<const float*>(at(kPosEmbd));
    return Status();
}

Status WeightStore::load_resident(cudaStream_t stream) {
    streaming_ = false;
    slots_.resize(layer_pieces_.size());
    for (size_t l = 0; l < layer_pieces_.size(); ++l) {
        MP_TRY(slots_[l].allocate(slot_bytes_, fmt::format("layer {} weights", l)));
        MP_TRY(stage_and_copy(static_cast<int>(l), slots_[l].as<uint8_t>(), raw_[0].as<uint8_t>(),
                              &staging_[0], stream));
        MP_CUDA_TRY(cudaStreamSynchronize(stream));  // staging and raw are reused next layer
    }
    raw_[0].reset();  // only needed while loading
    staging_[0].reset();
    return Status();
}

Status WeightStore::init_streaming() {
    streaming_ = true;
    slots_.resize(2);
    MP_TRY(copy_stream_.create());
    for (int s = 0; s < 2; ++s) {
        MP_TRY(slots_[s].allocate(slot_bytes_, "streamed layer slot"));
        MP_TRY(raw_[s].reserve(raw_bytes_, "streamed raw weight bytes"));
        MP_TRY(staging_[s].reserve(staging_bytes_, "streamed weight staging"));
        MP_TRY(ready_[s].create());
        MP_TRY(free_[s].create());
        MP_TRY(staged_[s].create());
    }
    slot_layer_.assign(2, -1);
    return Status();
}

Status WeightStore::queue_stream_load(int l) {
    const int s = l % 2;
    // The staging buffer is rewritten by the host: its previous upload must have finished.
    MP_CUDA_TRY(cudaEventSynchronize(staged_[s].get()));
    // The slot (and raw buffer) are rewritten on the copy stream after the compute that last read
    // the slot (an event never recorded is complete).
    MP_CUDA_TRY(cudaStreamWaitEvent(copy_stream_.get(), free_[s].get(), 0));
    slot_layer_[s] = l;
    MP_TRY(stage_and_copy(l, slots_[s].as<uint8_t>(), raw_[s].as<uint8_t>(), &staging_[s],
                          copy_stream_.get()));
    MP_CUDA_TRY(cudaEventRecord(staged_[s].get(), copy_stream_.get()));
    MP_CUDA_TRY(cudaEventRecord(ready_[s].get(), copy_stream_.get()));
    return Status();
}

Result<LayerView> WeightStore::acquire(int l, cudaStream_t compute) {
    if (l < 0 || static_cast<size_t>(l) >= layer_pieces_.size()) {
        return internal_error("layer {} outside [0, {})", l, layer_pieces_.size());
    }
    if (!streaming_) return view(slots_[l].as<uint8_t>());
    const int s = l % 2;
    if (slot_layer_[s] != l) MP_TRY(queue_stream_load(l));
    MP_CUDA_TRY(cudaStreamWaitEvent(compute, ready_[s].get(), 0));
    return view(slots_[s].as<uint8_t>());
}

Status WeightStore::release(int l, cudaStream_t compute) {
    if (!streaming_) return Status();
    const int s = l % 2;
    MP_CUDA_TRY(cudaEventRecord(free_[s].get(), compute));
    // Prefetch the next layer (wrapping to layer 0 for the next pass) while this one computes.
    const int L = static_cast<int>(layer_pieces_.size());
    const int next = (l + 1) % L;
    if (slot_layer_[next % 2] != next) MP_TRY(queue_stream_load(next));
    return Status();
}

}  // namespace modelprint::cuda

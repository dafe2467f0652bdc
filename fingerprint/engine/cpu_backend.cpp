// CpuBackend: decoder-only transformer forward passes on the CPU (see cpu_backend.h).
// Block structure (transformers modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py /
// modeling_mistral.py / modeling_gpt2.py), pre-norm residual:
//   x = embed(ids) [+ wpe(pos)]
//   per layer: h = norm1(x); q,k,v = h Wqkv^T + b; [q,k = per-head RMSNorm (Qwen3)];
//              [q,k = RoPE(q,k)]; x += attn(q,k,v) Wo^T + bo;
//              h = norm2(x); x += down(act(gate(h)) * up(h))   (or down(act(up(h))) for GPT-2)
//   logits = norm_f(x) Wout^T  [softcap]
// Ragged batches run as one (N, C) activation matrix (N = all tokens of all sequences) so the
// big products are single GEMMs; attention runs per sequence. Weights: q/k/v rows are
// concatenated into one (QD + 2*KVD, C) matrix and gate/up into one (2*FF, C) matrix at load.
// Not here: tokenisation, sampling policies beyond temperature/top-k, beam search.
#include "fingerprint/engine/cpu_backend.h"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include <unistd.h>

#include "fingerprint/base/thread_pool.h"
#include "fingerprint/engine/backend_common.h"
#include "fingerprint/engine/cpu_gemm.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

struct CpuBackend::LayerWeights {
    std::vector<float> attn_norm_w, attn_norm_b;  // (C)
    PackedMatrix qkv_w;                           // (QD + 2*KVD, C) packed
    std::vector<float> qkv_b;                     // (QD + 2*KVD) or empty
    std::vector<float> q_norm, k_norm;            // (HS) or empty
    PackedMatrix o_w;                             // (C, QD) packed
    std::vector<float> o_b;                       // (C) or empty
    std::vector<float> ffn_norm_w, ffn_norm_b;    // (C)
    PackedMatrix up_w;                            // gated: (2*FF, C) gate then up; else (FF, C)
    std::vector<float> up_b;
    PackedMatrix down_w;                          // (C, FF) packed
    std::vector<float> down_b;                    // (C) or empty
};

struct CpuBackend::KvCache {
    std::vector<std::vector<float>> k, v;  // per layer (capacity, KVD)
};

namespace {

// Default layer-cache budget: three quarters of physical memory (the packed layers are the size
// of the file; streaming them instead re-packs every layer on every pass).
int64_t default_cache_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return int64_t{4} << 30;
    return static_cast<int64_t>(pages) * page / 4 * 3;
}
constexpr int64_t kHeadChunkRows = 64;  // rows of logits computed at once for kTopK / kNone


std::string shape_str(const std::vector<int64_t>& s) {
    return fmt::format("[{}]", fmt::join(s, ", "));
}

}  // namespace

CpuBackend::CpuBackend(const Model& model, const BackendOptions& options)
    : model_(model), cfg_(model.config()), options_(options) {}

CpuBackend::~CpuBackend() = default;

Result<std::unique_ptr<CpuBackend>> CpuBackend::create(const Model& model,
                                                       const BackendOptions& options) {
    std::unique_ptr<CpuBackend> b(new CpuBackend(model, options));
    MP_TRY(b->init());
    return b;
}

Status CpuBackend::init() {
    const ModelConfig& c = cfg_;
    const std::string& path = model_.path();
    MP_TRY(check_engine_config(c, path, "CPU"));
    threads_ = options_.threads > 0 ? options_.threads : default_thread_count();

    // Every tensor the architecture reads must exist (checked before any conversion).
    std::vector<TensorRole> need = {{Role::kTokenEmbd, -1, false}, {Role::kOutputNorm, -1, false}};
    if (c.norm == NormType::kLayerNorm) need.push_back({Role::kOutputNorm, -1, true});
    if (c.learned_positions) need.push_back({Role::kPosEmbd, -1, false});
    const bool fused_qkv = model_.find_role(Role::kAttnQKV, 0) != nullptr;
    for (int l = 0; l < c.n_layers; ++l) {
        need.push_back({Role::kAttnNorm, l, false});
        need.push_back({Role::kFfnNorm, l, false});
        if (c.norm == NormType::kLayerNorm) {
            need.push_back({Role::kAttnNorm, l, true});
            need.push_back({Role::kFfnNorm, l, true});
        }
        if (fused_qkv) {
            need.push_back({Role::kAttnQKV, l, false});
            if (c.qkv_bias) need.push_back({Role::kAttnQKV, l, true});
        } else {
            for (Role r : {Role::kAttnQ, Role::kAttnK, Role::kAttnV}) {
                need.push_back({r, l, false});
                if (c.qkv_bias) need.push_back({r, l, true});
            }
        }
        need.push_back({Role::kAttnOut, l, false});
        if (c.attn_out_bias) need.push_back({Role::kAttnOut, l, true});
        if (c.qk_norm) {
            need.push_back({Role::kAttnQNorm, l, false});
            need.push_back({Role::kAttnKNorm, l, false});
        }
        if (c.gated_mlp) need.push_back({Role::kFfnGate, l, false});
        need.push_back({Role::kFfnUp, l, false});
        need.push_back({Role::kFfnDown, l, false});
        if (c.mlp_bias) {
            if (c.gated_mlp) need.push_back({Role::kFfnGate, l, true});
            need.push_back({Role::kFfnUp, l, true});
            need.push_back({Role::kFfnDown, l, true});
        }
    }
    for (const auto& r : need) {
        if (model_.find_role(r.role, r.layer, r.is_bias) == nullptr) {
            return not_found("{}: tensor {} is missing (the {} engine needs it)", path,
                             canonical_name(r), arch_name(c.arch));
        }
    }

    // Globals.
    auto load = [&](Role role, bool bias, std::vector<int64_t> expect,
                    std::vector<float>* out) -> Status {
        MP_ASSIGN_OR_RETURN(TensorF32 t, model_.canonical_f32(role, -1, bias));
        if (t.shape != expect) {
            return corrupt_data("{}: tensor {} has shape {}, the config implies {}", path,
                                canonical_name({role, -1, bias}), shape_str(t.shape),
                                shape_str(expect));
        }
        *out = std::move(t.data);
        return Status();
    };
    const int64_t V = c.vocab_size, C = c.hidden_size;
    {
        // The token embedding stays in the file: forward() converts the rows it looks up.
        MP_ASSIGN_OR_RETURN(embd_, model_.canonical_stored(Role::kTokenEmbd));
        const DTypeInfo& info = dtype_info(embd_.info->dtype);
        if (embd_.shape != std::vector<int64_t>{V, C}) {
            return corrupt_data("{}: tensor {} has shape {}, the config implies {}", path,
                                canonical_name({Role::kTokenEmbd, -1, false}),
                                shape_str(embd_.shape), shape_str({V, C}));
        }
        if (!info.is_float || C % info.block_size != 0) {
            return unsupported("{}: token embedding \"{}\" has dtype {}, which the engine cannot "
                               "read as {} floats per row", path, embd_.info->name, info.name, C);
        }
        MP_ASSIGN_OR_RETURN(uint64_t need, dtype_nbytes(embd_.info->dtype, static_cast<uint64_t>(V * C)));
        if (embd_.bytes.size() != need) {
            return corrupt_data("{}: token embedding \"{}\" has {} bytes, {} x {} {} need {}", path,
                                embd_.info->name, embd_.bytes.size(), V, C, info.name, need);
        }
        embd_row_bytes_ = static_cast<int64_t>(need / static_cast<uint64_t>(V));
    }
    MP_TRY(load(Role::kOutputNorm, false, {C}, &out_norm_w_));
    if (c.norm == NormType::kLayerNorm) MP_TRY(load(Role::kOutputNorm, true, {C}, &out_norm_b_));
    // The output head (the embedding itself when tied), packed in its stored dtype.
    MP_ASSIGN_OR_RETURN(head_, load_linear({{Role::kOutput, V}}, -1, C));
    context_ = c.max_position;
    if (c.learned_positions) {
        const TensorInfo* p = model_.find_role(Role::kPosEmbd);
        const int64_t rows = p->shape.empty() ? 0 : p->shape[0];
        MP_TRY(load(Role::kPosEmbd, false, {rows, C}, &pos_embd_));
        context_ = context_ > 0 ? std::min(context_, rows) : rows;
    } else {
        auto f = rope_frequencies(c.rope, c.head_dim, c.max_position);
        if (!f.ok()) return f.status().with_context(path);
        rope_ = std::move(f).value();
    }

    // Layer cache decision: the packed size of all per-layer tensors (stored size for the
    // dtypes with a packed format, f32 size for the others) against the budget.
    int64_t layer_bytes = 0;
    for (size_t i = 0; i < model_.tensors().size(); ++i) {
        const TensorInfo& t = model_.tensors()[i];
        if (model_.roles()[i].layer >= 0) {
            layer_bytes += packable_dtype(t.dtype) && !options_.cpu_f32_weights
                               ? static_cast<int64_t>(t.nbytes)
                                                   : static_cast<int64_t>(t.numel()) * 4;
        }
    }
    const int64_t budget = options_.cpu_cache_bytes < 0 ? default_cache_bytes() : options_.cpu_cache_bytes;
    cache_layers_ = budget > 0 && layer_bytes <= budget;
    cache_.resize(static_cast<size_t>(c.n_layers));
    scratch_ = std::make_unique<LayerWeights>();
    return Status();
}

Result<PackedMatrix> CpuBackend::load_linear(std::initializer_list<std::pair<Role, int64_t>> parts,
                                             int l, int64_t cols) {
    std::vector<StoredMatrix> stored;
    std::vector<std::vector<float>> expanded;  // f32 copies of dtypes without a packed format
    expanded.reserve(parts.size());
    std::vector<const TensorInfo*> sources;
    for (auto [role, rows] : parts) {
        MP_ASSIGN_OR_RETURN(StoredTensor t, model_.canonical_stored(role, l));
        if (t.shape != std::vector<int64_t>{rows, cols}) {
            return corrupt_data("{}: tensor {} has shape {}, the config implies {}", model_.path(),
                                canonical_name({role, l, false}), shape_str(t.shape),
                                shape_str({rows, cols}));
        }
        StoredMatrix m;
        m.rows = rows;
        m.cols = cols;
        if (packable_dtype(t.info->dtype) && !options_.cpu_f32_weights) {
            m.dtype = t.info->dtype;
            m.bytes = t.bytes;
            m.transposed = t.transposed;
            m.row_order = std::move(t.row_order);
        } else {
            MP_ASSIGN_OR_RETURN(TensorF32 f, model_.canonical_f32(role, l));
            expanded.push_back(std::move(f.data));
            m.dtype = DType::kF32;
            m.bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(expanded.back().data()),
                                               expanded.back().size() * sizeof(float));
        }
        stored.push_back(std::move(m));
        sources.push_back(t.info);
    }
    auto packed = pack_stored(stored);
    if (!packed.ok()) return packed.status().with_context(model_.path());
    // The packed copy is the one kept: give the file's pages back so they are not resident twice.
    for (const TensorInfo* t : sources) model_.evict(*t);
    return packed;
}

Result<const CpuBackend::LayerWeights*> CpuBackend::layer(int l) {
    if (cache_[l]) return cache_[l].get();
    const auto t0 = std::chrono::steady_clock::now();
    MP_ASSIGN_OR_RETURN(auto w, load_layer(l));
    if (cache_layers_) {
        // Packed once and kept: loading, not compute (EngineTimings::load_s).
        load_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cache_[l] = std::move(w);
        return cache_[l].get();
    }
    scratch_ = std::move(w);  // the previous streamed layer is freed here
    return scratch_.get();
}

Result<std::unique_ptr<CpuBackend::LayerWeights>> CpuBackend::load_layer(int l) {
    const ModelConfig& c = cfg_;
    const int64_t C = c.hidden_size, HS = c.head_dim, QD = c.n_heads * HS, KVD = c.n_kv_heads * HS;
    const int64_t FF = c.intermediate_size;
    auto w = std::make_unique<LayerWeights>();
    auto load = [&](Role role, bool bias, std::vector<int64_t> expect) -> Result<std::vector<float>> {
        MP_ASSIGN_OR_RETURN(TensorF32 t, model_.canonical_f32(role, l, bias));
        if (t.shape != expect) {
            return corrupt_data("{}: tensor {} has shape {}, the config implies {}", model_.path(),
                                canonical_name({role, l, bias}), shape_str(t.shape),
                                shape_str(expect));
        }
        return std::move(t.data);
    };
    auto append = [](std::vector<float>* dst, const std::vector<float>& src) {
        dst->insert(dst->end(), src.begin(), src.end());
    };
    const bool ln = c.norm == NormType::kLayerNorm;
    MP_ASSIGN_OR_RETURN(w->attn_norm_w, load(Role::kAttnNorm, false, {C}));
    MP_ASSIGN_OR_RETURN(w->ffn_norm_w, load(Role::kFfnNorm, false, {C}));
    if (ln) {
        MP_ASSIGN_OR_RETURN(w->attn_norm_b, load(Role::kAttnNorm, true, {C}));
        MP_ASSIGN_OR_RETURN(w->ffn_norm_b, load(Role::kFfnNorm, true, {C}));
    }
    if (model_.find_role(Role::kAttnQKV, l) != nullptr) {
        MP_ASSIGN_OR_RETURN(w->qkv_w, load_linear({{Role::kAttnQKV, QD + 2 * KVD}}, l, C));
        if (c.qkv_bias) {
            MP_ASSIGN_OR_RETURN(w->qkv_b, load(Role::kAttnQKV, true, {QD + 2 * KVD}));
        }
    } else {
        MP_ASSIGN_OR_RETURN(w->qkv_w, load_linear({{Role::kAttnQ, QD}, {Role::kAttnK, KVD},
                                                   {Role::kAttnV, KVD}}, l, C));
        if (c.qkv_bias) {
            for (auto [role, rows] : {std::pair{Role::kAttnQ, QD}, {Role::kAttnK, KVD}, {Role::kAttnV, KVD}}) {
                MP_ASSIGN_OR_RETURN(auto b, load(role, true, {rows}));
                append(&w->qkv_b, b);
            }
        }
    }
    MP_ASSIGN_OR_RETURN(w->o_w, load_linear({{Role::kAttnOut, C}}, l, QD));
    if (c.attn_out_bias) {
        MP_ASSIGN_OR_RETURN(w->o_b, load(Role::kAttnOut, true, {C}));
    }
    if (c.qk_norm) {
        MP_ASSIGN_OR_RETURN(w->q_norm, load(Role::kAttnQNorm, false, {HS}));
        MP_ASSIGN_OR_RETURN(w->k_norm, load(Role::kAttnKNorm, false, {HS}));
    }
    if (c.gated_mlp) {
        MP_ASSIGN_OR_RETURN(w->up_w, load_linear({{Role::kFfnGate, FF}, {Role::kFfnUp, FF}}, l, C));
        if (c.mlp_bias) {
            for (Role r : {Role::kFfnGate, Role::kFfnUp}) {
                MP_ASSIGN_OR_RETURN(auto b, load(r, true, {FF}));
                append(&w->up_b, b);
            }
        }
    } else {
        MP_ASSIGN_OR_RETURN(w->up_w, load_linear({{Role::kFfnUp, FF}}, l, C));
        if (c.mlp_bias) {
            MP_ASSIGN_OR_RETURN(w->up_b, load(Role::kFfnUp, true, {FF}));
        }
    }
    MP_ASSIGN_OR_RETURN(w->down_w, load_linear({{Role::kFfnDown, C}}, l, FF));
    if (c.mlp_bias) {
        MP_ASSIGN_OR_RETURN(w->down_b, load(Role::kFfnDown, true, {C}));
    }
    return w;
}

Status CpuBackend::check_sequence(std::span<const int32_t> ids, size_t index, int64_t extra) const {
    return check_token_sequence(ids, index, extra, context_, cfg_.vocab_size, model_.path());
}

Status CpuBackend::forward(std::span<Segment> segs, std::vector<float>* xout,
                           const std::function<void(int, const std::vector<float>&)>& capture) {
    const ModelConfig& c = cfg_;
    const int64_t C = c.hidden_size, NH = c.n_heads, NKV = c.n_kv_heads, HS = c.head_dim;
    const int64_t QD = NH * HS, KVD = NKV * HS, FF = c.intermediate_size;
    const int64_t FFW = c.gated_mlp ? 2 * FF : FF;
    const float eps = static_cast<float>(c.norm_eps);
    int64_t N = 0;
    for (const auto& s : segs) N += static_cast<int64_t>(s.ids.size());

    std::vector<int32_t> ids(static_cast<size_t>(N)), pos(static_cast<size_t>(N));
    {
        int64_t n = 0;
        for (const auto& s : segs) {
            for (size_t t = 0; t < s.ids.size(); ++t, ++n) {
                ids[n] = s.ids[t];
                pos[n] = static_cast<int32_t>(s.past + static_cast<int64_t>(t));
            }
        }
    }
    std::vector<float>& x = *xout;  // (N, C) residual stream
    x.assign(static_cast<size_t>(N * C), 0.0f);
    for (int64_t n = 0; n < N; ++n) {  // rows of the stored embedding, converted as looked up
        const auto row = embd_.bytes.subspan(static_cast<size_t>(ids[n] * embd_row_bytes_),
                                             static_cast<size_t>(embd_row_bytes_));
        MP_TRY(convert_to_f32(embd_.info->dtype, row, static_cast<uint64_t>(C), x.data() + n * C));
    }
    if (c.learned_positions) position_embedding_forward(x.data(), pos.data(), pos_embd_.data(), N, C);
    if (capture) capture(0, x);

    std::vector<float> xn(static_cast<size_t>(N * C));              // (N, C)
    std::vector<float> qkv(static_cast<size_t>(N * (QD + 2 * KVD)));  // (N, QD + 2*KVD)
    std::vector<float> q(static_cast<size_t>(N * QD));                // (N, NH, HS)
    std::vector<float> k(static_cast<size_t>(N * KVD)), v(static_cast<size_t>(N * KVD));  // (N, NKV, HS)
    std::vector<float> att(static_cast<size_t>(N * QD));              // (N, QD)
    std::vector<float> proj(static_cast<size_t>(N * C));              // (N, C)
    std::vector<float> hid(static_cast<size_t>(N * FFW));             // (N, FFW)
    std::vector<float> act(c.gated_mlp ? static_cast<size_t>(N * FF) : 0);  // (N, FF)
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));

    auto norm = [&](const std::vector<float>& w, const std::vector<float>& b) {
        if (c.norm == NormType::kLayerNorm) {
            layernorm_forward(xn.data(), x.data(), w.data(), b.data(), N, C, eps);
        } else {
            rmsnorm_forward(xn.data(), x.data(), w.data(), N, C, eps, threads_);
        }
    };
    for (int l = 0; l < c.n_layers; ++l) {
        MP_ASSIGN_OR_RETURN(const LayerWeights* w, layer(l));
        norm(w->attn_norm_w, w->attn_norm_b);
        packed_matmul_forward(qkv.data(), xn.data(), w->qkv_w, w->qkv_b.empty() ? nullptr : w->qkv_b.data(), N, threads_);
        for (int64_t n = 0; n < N; ++n) {
            const float* row = qkv.data() + n * (QD + 2 * KVD);
            std::memcpy(q.data() + n * QD, row, sizeof(float) * QD);
            std::memcpy(k.data() + n * KVD, row + QD, sizeof(float) * KVD);
            std::memcpy(v.data() + n * KVD, row + QD + KVD, sizeof(float) * KVD);
        }
        if (c.qk_norm) {
            rmsnorm_forward(q.data(), q.data(), w->q_norm.data(), N * NH, HS, eps, threads_);
            rmsnorm_forward(k.data(), k.data(), w->k_norm.data(), N * NKV, HS, eps, threads_);
        }
        if (rope_) {
            rope_forward(q.data(), pos.data(), *rope_, N, NH, HS);
            rope_forward(k.data(), pos.data(), *rope_, N, NKV, HS);
        }
        int64_t off = 0;
        for (auto& s : segs) {
            const int64_t T = static_cast<int64_t>(s.ids.size());
            const float* kb = k.data() + off * KVD;
            const float* vb = v.data() + off * KVD;
            if (s.cache != nullptr) {
                auto& kc = s.cache->k[l];
                auto& vc = s.cache->v[l];
                MP_CHECK(static_cast<int64_t>(kc.size()) >= (s.past + T) * KVD);
                std::memcpy(kc.data() + s.past * KVD, kb, sizeof(float) * T * KVD);
                std::memcpy(vc.data() + s.past * KVD, vb, sizeof(float) * T * KVD);
                kb = kc.data();
                vb = vc.data();
            } else {
                MP_CHECK(s.past == 0);
            }
            attention_forward(att.data() + off * QD, q.data() + off * QD, kb, vb, T, s.past, NH, NKV,
                              HS, scale, c.sliding_window, threads_);
            off += T;
        }
        packed_matmul_forward(proj.data(), att.data(), w->o_w, w->o_b.empty() ? nullptr : w->o_b.data(), N, threads_);
        residual_forward(x.data(), proj.data(), N * C);
        norm(w->ffn_norm_w, w->ffn_norm_b);
        packed_matmul_forward(hid.data(), xn.data(), w->up_w, w->up_b.empty() ? nullptr : w->up_b.data(), N, threads_);
        const float* mlp_in = hid.data();
        if (c.gated_mlp) {
            if (c.act != Activation::kSilu) {
                return unsupported("{}: gated MLP with a non-SiLU activation", model_.path());
            }
            swiglu_forward(act.data(), hid.data(), N, FF, threads_);
            mlp_in = act.data();
        } else if (c.act == Activation::kGeluTanh) {
            gelu_tanh_forward(hid.data(), N * FF);
        } else if (c.act == Activation::kGelu) {
            gelu_forward(hid.data(), N * FF);
        } else {
            silu_forward(hid.data(), N * FF);
        }
        packed_matmul_forward(proj.data(), mlp_in, w->down_w, w->down_b.empty() ? nullptr : w->down_b.data(), N, threads_);
        residual_forward(x.data(), proj.data(), N * C);
        if (capture) capture(l + 1, x);
    }
    return Status();
}

void CpuBackend::head(float* logits, const float* xn, int64_t rows) {
    const int64_t V = cfg_.vocab_size;
    packed_matmul_forward(logits, xn, head_, nullptr, rows, threads_);
    if (cfg_.final_logit_softcap > 0.0) {
        softcap_forward(logits, rows * V, static_cast<float>(cfg_.final_logit_softcap));
    }
}

Result<PrefillResult> CpuBackend::prefill(const PrefillRequest& req) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size, L = cfg_.n_layers;
    MP_TRY(check_prefill_request(req, V));
    for (size_t i = 0; i < req.sequences.size(); ++i) MP_TRY(check_sequence(req.sequences[i], i, 0));

    const auto t0 = std::chrono::steady_clock::now();
    const double load0 = load_s_;
    std::vector<Segment> segs;
    for (const auto& s : req.sequences) segs.push_back({std::span<const int32_t>(s), 0, nullptr});
    PrefillResult res = new_prefill_result(req, V, C, L);
    for (const auto& s : req.sequences) res.timings.prefill_tokens += static_cast<int64_t>(s.size());
    const auto finish = [&]() {
        res.timings.load_s = load_s_ - load0;
        res.timings.prefill_s = std::max(
            0.0, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
                     res.timings.load_s);
    };
    const HiddenCaptureFn capture = hidden_capture(req, res, C);
    std::vector<float> x;
    MP_TRY(forward(segs, &x, capture));
    if (req.logits == LogitsMode::kNone) {
        finish();
        return res;
    }

    const int64_t N = static_cast<int64_t>(x.size()) / C;
    std::vector<float> xn(static_cast<size_t>(N * C));
    if (cfg_.norm == NormType::kLayerNorm) {
        layernorm_forward(xn.data(), x.data(), out_norm_w_.data(), out_norm_b_.data(), N, C,
                          static_cast<float>(cfg_.norm_eps));
    } else {
        rmsnorm_forward(xn.data(), x.data(), out_norm_w_.data(), N, C, static_cast<float>(cfg_.norm_eps));
    }
    int64_t off = 0;
    std::vector<float> chunk;
    for (size_t i = 0; i < segs.size(); ++i) {
        SequenceOutput& o = res.outputs[i];
        const int64_t T = o.length;
        switch (req.logits) {
            case LogitsMode::kAll:
                o.logits.resize(static_cast<size_t>(T * V));
                head(o.logits.data(), xn.data() + off * C, T);
                break;
            case LogitsMode::kLast:
                o.logits.resize(static_cast<size_t>(V));
                head(o.logits.data(), xn.data() + (off + T - 1) * C, 1);
                break;
            case LogitsMode::kTopK: {
                const int64_t K = req.top_k;
                o.topk_ids.resize(static_cast<size_t>(T * K));
                o.topk_logits.resize(static_cast<size_t>(T * K));
                for (int64_t t0 = 0; t0 < T; t0 += kHeadChunkRows) {
                    const int64_t rows = std::min(kHeadChunkRows, T - t0);
                    chunk.resize(static_cast<size_t>(rows * V));
                    head(chunk.data(), xn.data() + (off + t0) * C, rows);
                    for (int64_t r = 0; r < rows; ++r) {
                        topk_forward(o.topk_ids.data() + (t0 + r) * K, o.topk_logits.data() + (t0 + r) * K,
                                     chunk.data() + r * V, V, K);
                    }
                }
                break;
            }
            case LogitsMode::kNone:
                break;
        }
        off += T;
    }
    finish();
    return res;
}

Result<GenerateResult> CpuBackend::generate(const GenerateRequest& req) {
    MP_ASSIGN_OR_RETURN(auto res, generate_batch({req}));
    return std::move(res[0]);
}

Result<std::vector<GenerateResult>> CpuBackend::generate_batch(
    const std::vector<GenerateRequest>& reqs) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size, KVD = cfg_.n_kv_heads * cfg_.head_dim;
    for (size_t i = 0; i < reqs.size(); ++i) {
        Status s = check_generate_request(reqs[i], V);
        if (s.ok()) s = check_sequence(reqs[i].prompt, i, reqs[i].max_new_tokens);
        if (!s.ok()) {
            return reqs.size() == 1 ? s : s.with_context(fmt::format("generation {} of the batch", i));
        }
    }
    // One state per request; every step runs the live sequences as one ragged batch. A
    // sequence's rows never depend on the others (cpu_gemm.h invariant, per-sequence attention,
    // per-row norms), and each has its own cache and random stream, so its tokens and
    // log-probabilities are those it gets alone.
    struct Live {
        KvCache cache;
        std::mt19937_64 rng;
        int64_t past = 0;
        std::span<const int32_t> next;
        int32_t step = 0;
        bool done = false;
    };
    const size_t B = reqs.size();
    std::vector<Live> live(B);
    std::vector<GenerateResult> res(B);
    for (size_t i = 0; i < B; ++i) {
        const int64_t capacity = static_cast<int64_t>(reqs[i].prompt.size()) + reqs[i].max_new_tokens;
        live[i].cache.k.assign(static_cast<size_t>(cfg_.n_layers),
                               std::vector<float>(static_cast<size_t>(capacity * KVD)));
        live[i].cache.v.assign(static_cast<size_t>(cfg_.n_layers),
                               std::vector<float>(static_cast<size_t>(capacity * KVD)));
        live[i].rng.seed(reqs[i].seed);
        live[i].next = std::span<const int32_t>(reqs[i].prompt);
        live[i].done = reqs[i].max_new_tokens <= 0;
    }
    EngineTimings tm;
    const double load0 = load_s_;
    std::vector<float> x, xn, logits, processed;
    std::vector<int32_t> ids;   // a sequence's prompt + tokens so far, for its logits_processor
    std::vector<size_t> order;  // live request indices of this step
    std::vector<Segment> segs;
    for (int it = 0;; ++it) {
        order.clear();
        segs.clear();
        int64_t tokens = 0;
        for (size_t i = 0; i < B; ++i) {
            if (live[i].done) continue;
            order.push_back(i);
            segs.push_back({live[i].next, live[i].past, &live[i].cache});
            tokens += static_cast<int64_t>(live[i].next.size());
        }
        if (order.empty()) break;
        const auto t0 = std::chrono::steady_clock::now();
        const double l0 = load_s_;
        MP_TRY(forward(segs, &x, nullptr));
        // Final norm and head over each live sequence's last row, as one (A, C) batch.
        const int64_t A = static_cast<int64_t>(order.size());
        xn.resize(static_cast<size_t>(A * C));
        logits.resize(static_cast<size_t>(A * V));
        std::vector<float> last(static_cast<size_t>(A * C));
        int64_t off = 0;
        for (int64_t a = 0; a < A; ++a) {
            off += static_cast<int64_t>(segs[a].ids.size());
            std::memcpy(last.data() + a * C, x.data() + (off - 1) * C, sizeof(float) * C);
        }
        if (cfg_.norm == NormType::kLayerNorm) {
            layernorm_forward(xn.data(), last.data(), out_norm_w_.data(), out_norm_b_.data(), A, C,
                              static_cast<float>(cfg_.norm_eps));
        } else {
            rmsnorm_forward(xn.data(), last.data(), out_norm_w_.data(), A, C,
                            static_cast<float>(cfg_.norm_eps));
        }
        head(logits.data(), xn.data(), A);
        for (int64_t a = 0; a < A; ++a) {
            const size_t i = order[a];
            const GenerateRequest& req = reqs[i];
            Live& s = live[i];
            const float* lg = logits.data() + a * V;
            const float* pick = lg;  // the logits the token is chosen from
            if (req.logits_processor) {
                processed.assign(lg, lg + V);
                ids.assign(req.prompt.begin(), req.prompt.end());
                ids.insert(ids.end(), res[i].tokens.begin(), res[i].tokens.end());
                req.logits_processor(ids, processed);
                pick = processed.data();
            }
            int32_t tok = 0;
            if (req.temperature == 0.0f) {
                // Greedy: the first maximal logit (torch.argmax returns the first maximum too).
                tok = static_cast<int32_t>(std::max_element(pick, pick + V) - pick);
            } else {
                // Seeded sampling: softmax(logits / temperature) over the top_k candidates (all
                // when 0), drawn by inverse CDF with a 53-bit uniform from mt19937_64(seed).
                tok = sample_token(pick, V, req.temperature, req.top_k, s.rng);
            }
            GenerateResult& r = res[i];
            r.tokens.push_back(tok);
            r.token_logprobs.push_back(static_cast<float>(log_softmax_at(lg, V, tok)));
            s.past += static_cast<int64_t>(s.next.size());
            if (std::find(req.stop_ids.begin(), req.stop_ids.end(), tok) != req.stop_ids.end()) {
                r.stopped = true;
                s.done = true;
            } else if (static_cast<int>(r.tokens.size()) >= req.max_new_tokens) {
                s.done = true;
            }
            s.step = tok;
            s.next = std::span<const int32_t>(&s.step, 1);
        }
        const double dt = std::max(
            0.0, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() -
                     (load_s_ - l0));
        if (it == 0) {
            tm.prefill_tokens += tokens;
            tm.prefill_s += dt;
        } else {
            tm.decode_tokens += tokens;
            tm.decode_s += dt;
        }
    }
    tm.load_s = load_s_ - load0;
    for (auto& r : res) r.timings = tm;
    return res;
}

}  // namespace modelprint

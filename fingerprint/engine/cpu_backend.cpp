// CpuBackend: decoder-only transformer forward passes on the CPU (see cpu_backend.h).
// Block structure (transformers modeling_llama.py / modeling_qwen2.py / modeling_qwen3.py /
// modeling_mistral.py / modeling_gpt2.py), pre-norm residual:
//   x = embed(ids) [+ wpe(pos)]
//   per layer (its LayerPlan): h = norm1(x); q,k,v = h Wqkv^T + b; [q,k = per-head RMSNorm
//              (Qwen3)]; [q,k = RoPE(q,k)]; x += attn(q,k,v) Wo^T + bo;
//              h = norm2(x); x += down(act(gate(h)) * up(h))   (or down(act(up(h))) for GPT-2)
//              or, for a MoE layer, x += sum_j w_j expert_{e_j}(h) [+ sigmoid(h.g) shared(h)]
//              with (e_j, w_j) the top-k of softmax(h Wr^T) (moe_forward).
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
    // MoE layers: router (E, C); per expert gate|up (2*FFE, C) and down (C, FFE); shared expert
    // gate|up (2*FFS, C), down (C, FFS) and its gate (1, C).
    PackedMatrix router;
    struct Expert {
        PackedMatrix gate_up, down;
    };
    std::vector<Expert> experts;
    PackedMatrix shared_up, shared_down, shared_gate;
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
    : model_(model), cfg_(model.config()), plan_(model.plan()), options_(options) {}

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

    // The plan's layer kinds, and every tensor it reads (checked before any conversion).
    MP_TRY(check_engine_plan(model_, "CPU", /*moe=*/true));
    for (const LayerPlan& lp : plan_.layers) {
        if (lp.mlp.kind == MlpKind::kMoe && lp.mlp.act != Activation::kSilu) {
            return unsupported("{}: MoE experts with a non-SiLU activation", path);
        }
        const AttnPlan& a = lp.attn;
        const AttnPlan& a0 = plan_.layers[0].attn;
        if (a.head_dim_v != a.head_dim_k || a.softcap > 0.0 || lp.norm.one_plus_w ||
            lp.norm.post_attn || lp.norm.post_ffn || a.rope != a0.rope ||
            a.rope_cfg.theta != a0.rope_cfg.theta || a.rope_cfg.scaling != a0.rope_cfg.scaling) {
            return unsupported("{}: the layer plan has per-layer RoPE, attention soft-capping, "
                               "post-norms or K/V head sizes that differ, which the CPU engine "
                               "does not implement yet", path);
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

Result<PackedMatrix> CpuBackend::load_linear(std::initializer_list<LinearPart> parts, int l,
                                             int64_t cols) {
    std::vector<StoredMatrix> stored;
    std::vector<std::vector<float>> expanded;  // f32 copies of dtypes without a packed format
    expanded.reserve(parts.size());
    std::vector<StoredTensor> sources;
    for (auto [role, rows, expert] : parts) {
        MP_ASSIGN_OR_RETURN(StoredTensor t, model_.canonical_stored(role, l, false, expert));
        if (t.shape != std::vector<int64_t>{rows, cols}) {
            return corrupt_data("{}: tensor {} has shape {}, the config implies {}", model_.path(),
                                canonical_name({role, l, false, expert}), shape_str(t.shape),
                                shape_str({rows, cols}));
        }
        StoredTensor src;
        src.info = t.info;
        src.bytes = t.bytes;
        StoredMatrix m;
        m.rows = rows;
        m.cols = cols;
        if (packable_dtype(t.info->dtype) && !options_.cpu_f32_weights) {
            m.dtype = t.info->dtype;
            m.bytes = t.bytes;
            m.transposed = t.transposed;
            m.row_order = std::move(t.row_order);
        } else {
            MP_ASSIGN_OR_RETURN(TensorF32 f, model_.canonical_f32(role, l, false, expert));
            expanded.push_back(std::move(f.data));
            m.dtype = DType::kF32;
            m.bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(expanded.back().data()),
                                               expanded.back().size() * sizeof(float));
        }
        stored.push_back(std::move(m));
        sources.push_back(std::move(src));
    }
    auto packed = pack_stored(stored);
    if (!packed.ok()) return packed.status().with_context(model_.path());
    // The packed copy is the one kept: give the file's pages back so they are not resident twice.
    for (const StoredTensor& t : sources) model_.evict(t);
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
    const LayerPlan& lp = plan_.layers[static_cast<size_t>(l)];
    const AttnPlan& a = lp.attn;
    const MlpPlan& mp = lp.mlp;
    const int64_t C = plan_.hidden_size, HS = a.head_dim_k, QD = a.n_heads * HS,
                  KVD = a.n_kv_heads * HS;
    const int64_t FF = mp.ff;
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
    const bool ln = lp.norm.type == NormType::kLayerNorm;
    MP_ASSIGN_OR_RETURN(w->attn_norm_w, load(Role::kAttnNorm, false, {C}));
    MP_ASSIGN_OR_RETURN(w->ffn_norm_w, load(Role::kFfnNorm, false, {C}));
    if (ln) {
        MP_ASSIGN_OR_RETURN(w->attn_norm_b, load(Role::kAttnNorm, true, {C}));
        MP_ASSIGN_OR_RETURN(w->ffn_norm_b, load(Role::kFfnNorm, true, {C}));
    }
    if (a.fused_qkv) {
        MP_ASSIGN_OR_RETURN(w->qkv_w, load_linear({{Role::kAttnQKV, QD + 2 * KVD}}, l, C));
        if (a.qkv_bias) {
            MP_ASSIGN_OR_RETURN(w->qkv_b, load(Role::kAttnQKV, true, {QD + 2 * KVD}));
        }
    } else {
        MP_ASSIGN_OR_RETURN(w->qkv_w, load_linear({{Role::kAttnQ, QD}, {Role::kAttnK, KVD},
                                                   {Role::kAttnV, KVD}}, l, C));
        if (a.qkv_bias) {
            for (auto [role, rows] : {std::pair{Role::kAttnQ, QD}, {Role::kAttnK, KVD}, {Role::kAttnV, KVD}}) {
                MP_ASSIGN_OR_RETURN(auto b, load(role, true, {rows}));
                append(&w->qkv_b, b);
            }
        }
    }
    MP_ASSIGN_OR_RETURN(w->o_w, load_linear({{Role::kAttnOut, C}}, l, QD));
    if (a.out_bias) {
        MP_ASSIGN_OR_RETURN(w->o_b, load(Role::kAttnOut, true, {C}));
    }
    if (a.qk_norm) {
        MP_ASSIGN_OR_RETURN(w->q_norm, load(Role::kAttnQNorm, false, {HS}));
        MP_ASSIGN_OR_RETURN(w->k_norm, load(Role::kAttnKNorm, false, {HS}));
    }
    if (mp.kind == MlpKind::kMoe) {
        const MoePlan& e = mp.moe;
        const int64_t FFE = e.expert_ff;
        MP_ASSIGN_OR_RETURN(w->router, load_linear({{Role::kFfnGateInp, e.n_experts}}, l, C));
        w->experts.resize(static_cast<size_t>(e.n_experts));
        for (int x = 0; x < static_cast<int>(e.n_experts); ++x) {
            MP_ASSIGN_OR_RETURN(w->experts[x].gate_up,
                                load_linear({{Role::kFfnGateExps, FFE, x}, {Role::kFfnUpExps, FFE, x}},
                                            l, C));
            MP_ASSIGN_OR_RETURN(w->experts[x].down, load_linear({{Role::kFfnDownExps, C, x}}, l, FFE));
        }
        if (e.n_shared > 0) {
            const int64_t FFS = e.shared_ff;
            MP_ASSIGN_OR_RETURN(w->shared_up,
                                load_linear({{Role::kFfnGateShexp, FFS}, {Role::kFfnUpShexp, FFS}}, l, C));
            MP_ASSIGN_OR_RETURN(w->shared_down, load_linear({{Role::kFfnDownShexp, C}}, l, FFS));
            if (e.shared_gate == SharedGate::kSigmoid) {
                MP_ASSIGN_OR_RETURN(w->shared_gate, load_linear({{Role::kFfnGateInpShexp, 1}}, l, C));
            }
        }
        return w;
    }
    if (mp.gated) {
        MP_ASSIGN_OR_RETURN(w->up_w, load_linear({{Role::kFfnGate, FF}, {Role::kFfnUp, FF}}, l, C));
        if (mp.bias) {
            for (Role r : {Role::kFfnGate, Role::kFfnUp}) {
                MP_ASSIGN_OR_RETURN(auto b, load(r, true, {FF}));
                append(&w->up_b, b);
            }
        }
    } else {
        MP_ASSIGN_OR_RETURN(w->up_w, load_linear({{Role::kFfnUp, FF}}, l, C));
        if (mp.bias) {
            MP_ASSIGN_OR_RETURN(w->up_b, load(Role::kFfnUp, true, {FF}));
        }
    }
    MP_ASSIGN_OR_RETURN(w->down_w, load_linear({{Role::kFfnDown, C}}, l, FF));
    if (mp.bias) {
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
    const int64_t C = plan_.hidden_size;
    // Buffers sized for the widest layer of the plan.
    int64_t maxQD = 0, maxKVD = 0, maxFFW = 0, maxFF = 0;
    for (const LayerPlan& lp : plan_.layers) {
        maxQD = std::max(maxQD, lp.attn.n_heads * lp.attn.head_dim_k);
        maxKVD = std::max(maxKVD, lp.attn.n_kv_heads * lp.attn.head_dim_k);
        const int64_t ff = lp.mlp.kind == MlpKind::kMoe ? 0 : lp.mlp.ff;
        maxFF = std::max(maxFF, ff);
        maxFFW = std::max(maxFFW, lp.mlp.gated ? 2 * ff : ff);
    }
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
    if (plan_.learned_positions) position_embedding_forward(x.data(), pos.data(), pos_embd_.data(), N, C);
    if (capture) capture(0, x);

    std::vector<float> xn(static_cast<size_t>(N * C));                      // (N, C)
    std::vector<float> qkv(static_cast<size_t>(N * (maxQD + 2 * maxKVD)));  // (N, QD + 2*KVD)
    std::vector<float> q(static_cast<size_t>(N * maxQD));                   // (N, NH, HS)
    std::vector<float> k(static_cast<size_t>(N * maxKVD)), v(static_cast<size_t>(N * maxKVD));  // (N, NKV, HS)
    std::vector<float> att(static_cast<size_t>(N * maxQD));                 // (N, QD)
    std::vector<float> proj(static_cast<size_t>(N * C));                   // (N, C)
    std::vector<float> hid(static_cast<size_t>(N * maxFFW));                // (N, FFW)
    std::vector<float> act(static_cast<size_t>(N * maxFF));                 // (N, FF)

    for (int l = 0; l < static_cast<int>(plan_.layers.size()); ++l) {
        const LayerPlan& lp = plan_.layers[static_cast<size_t>(l)];
        const AttnPlan& ap = lp.attn;
        const MlpPlan& mp = lp.mlp;
        const int64_t NH = ap.n_heads, NKV = ap.n_kv_heads, HS = ap.head_dim_k;
        const int64_t QD = NH * HS, KVD = NKV * HS, FF = mp.ff;
        const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
        auto norm = [&](const std::vector<float>& w, const std::vector<float>& b) {
            if (lp.norm.type == NormType::kLayerNorm) {
                layernorm_forward(xn.data(), x.data(), w.data(), b.data(), N, C, eps);
            } else {
                rmsnorm_forward(xn.data(), x.data(), w.data(), N, C, eps, threads_);
            }
        };
        MP_ASSIGN_OR_RETURN(const LayerWeights* w, layer(l));
        norm(w->attn_norm_w, w->attn_norm_b);
        packed_matmul_forward(qkv.data(), xn.data(), w->qkv_w, w->qkv_b.empty() ? nullptr : w->qkv_b.data(), N, threads_);
        for (int64_t n = 0; n < N; ++n) {
            const float* row = qkv.data() + n * (QD + 2 * KVD);
            std::memcpy(q.data() + n * QD, row, sizeof(float) * QD);
            std::memcpy(k.data() + n * KVD, row + QD, sizeof(float) * KVD);
            std::memcpy(v.data() + n * KVD, row + QD + KVD, sizeof(float) * KVD);
        }
        if (ap.qk_norm) {
            rmsnorm_forward(q.data(), q.data(), w->q_norm.data(), N * NH, HS, eps, threads_);
            rmsnorm_forward(k.data(), k.data(), w->k_norm.data(), N * NKV, HS, eps, threads_);
        }
        if (ap.rope && rope_) {
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
                              HS, scale, ap.window, threads_);
            off += T;
        }
        packed_matmul_forward(proj.data(), att.data(), w->o_w, w->o_b.empty() ? nullptr : w->o_b.data(), N, threads_);
        residual_forward(x.data(), proj.data(), N * C);
        norm(w->ffn_norm_w, w->ffn_norm_b);
        if (mp.kind == MlpKind::kMoe) {
            moe_forward(proj.data(), xn.data(), *w, mp.moe, N);
            residual_forward(x.data(), proj.data(), N * C);
            if (capture) capture(l + 1, x);
            continue;
        }
        packed_matmul_forward(hid.data(), xn.data(), w->up_w, w->up_b.empty() ? nullptr : w->up_b.data(), N, threads_);
        const float* mlp_in = hid.data();
        if (mp.gated) {
            if (mp.act != Activation::kSilu) {
                return unsupported("{}: gated MLP with a non-SiLU activation", model_.path());
            }
            swiglu_forward(act.data(), hid.data(), N, FF, threads_);
            mlp_in = act.data();
        } else if (mp.act == Activation::kGeluTanh) {
            gelu_tanh_forward(hid.data(), N * FF);
        } else if (mp.act == Activation::kGelu) {
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

void CpuBackend::moe_forward(float* out, const float* xn, const LayerWeights& w, const MoePlan& mp,
                             int64_t N) {
    const int64_t C = plan_.hidden_size, E = mp.n_experts, K = mp.top_k, FFE = mp.expert_ff;
    // Router: logits (N, E); p = softmax in f32 over all experts (as transformers' router, which
    // takes softmax(dtype=float)); top-k by value, ties to the lower expert id (torch.topk on
    // CPU); weights renormalised to sum 1 when norm_topk. Per row: independent of the batch.
    std::vector<float> logits(static_cast<size_t>(N * E));  // (N, E)
    packed_matmul_forward(logits.data(), xn, w.router, nullptr, N, threads_);
    std::vector<int32_t> sel(static_cast<size_t>(N * K));  // (N, K) expert ids
    std::vector<float> wt(static_cast<size_t>(N * K));     // (N, K) weights
    std::vector<float> p(static_cast<size_t>(E));
    std::vector<uint8_t> taken(static_cast<size_t>(E));
    for (int64_t n = 0; n < N; ++n) {
        const float* lg = logits.data() + n * E;
        const float mx = *std::max_element(lg, lg + E);
        double sum = 0.0;
        for (int64_t e = 0; e < E; ++e) {
            p[e] = std::exp(lg[e] - mx);
            sum += p[e];
        }
        for (int64_t e = 0; e < E; ++e) p[e] = static_cast<float>(p[e] / sum);
        std::fill(taken.begin(), taken.end(), 0);
        double top = 0.0;
        for (int64_t j = 0; j < K; ++j) {
            int64_t best = -1;
            for (int64_t e = 0; e < E; ++e) {
                if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
            }
            taken[best] = 1;
            sel[n * K + j] = static_cast<int32_t>(best);
            wt[n * K + j] = p[best];
            top += p[best];
        }
        if (mp.norm_topk) {
            for (int64_t j = 0; j < K; ++j) wt[n * K + j] = static_cast<float>(wt[n * K + j] / top);
        }
    }
    // Experts in id order, each over the rows routed to it (gathered in token order); a row's
    // product never depends on the other rows, so each (token, slot) output is what the token
    // gets alone. Then each token sums its K slots in top-k order.
    std::vector<float> slot(static_cast<size_t>(N * K * C));  // (N, K, C)
    std::vector<int64_t> rows;                               // (token * K + slot) routed here
    std::vector<float> xe, hid, act, ye;
    for (int64_t e = 0; e < E; ++e) {
        rows.clear();
        for (int64_t i = 0; i < N * K; ++i) {
            if (sel[i] == e) rows.push_back(i);
        }
        if (rows.empty()) continue;
        const int64_t M = static_cast<int64_t>(rows.size());
        xe.resize(static_cast<size_t>(M * C));
        for (int64_t r = 0; r < M; ++r) {
            std::memcpy(xe.data() + r * C, xn + (rows[r] / K) * C, sizeof(float) * C);
        }
        hid.resize(static_cast<size_t>(M * 2 * FFE));
        act.resize(static_cast<size_t>(M * FFE));
        ye.resize(static_cast<size_t>(M * C));
        const LayerWeights::Expert& ex = w.experts[static_cast<size_t>(e)];
        packed_matmul_forward(hid.data(), xe.data(), ex.gate_up, nullptr, M, threads_);
        swiglu_forward(act.data(), hid.data(), M, FFE, threads_);
        packed_matmul_forward(ye.data(), act.data(), ex.down, nullptr, M, threads_);
        for (int64_t r = 0; r < M; ++r) {
            std::memcpy(slot.data() + rows[r] * C, ye.data() + r * C, sizeof(float) * C);
        }
    }
    for (int64_t n = 0; n < N; ++n) {
        float* o = out + n * C;
        std::fill(o, o + C, 0.0f);
        for (int64_t j = 0; j < K; ++j) {
            const float g = wt[n * K + j];
            const float* y = slot.data() + (n * K + j) * C;
            for (int64_t i = 0; i < C; ++i) o[i] += g * y[i];
        }
    }
    if (mp.n_shared == 0) return;
    // Shared expert: out += sigmoid(xn . g) * down(silu(gate(xn)) * up(xn)) (Qwen2-MoE).
    const int64_t FFS = mp.shared_ff;
    hid.resize(static_cast<size_t>(N * 2 * FFS));
    act.resize(static_cast<size_t>(N * FFS));
    ye.resize(static_cast<size_t>(N * C));
    packed_matmul_forward(hid.data(), xn, w.shared_up, nullptr, N, threads_);
    swiglu_forward(act.data(), hid.data(), N, FFS, threads_);
    packed_matmul_forward(ye.data(), act.data(), w.shared_down, nullptr, N, threads_);
    std::vector<float> gate(static_cast<size_t>(N), 1.0f);
    if (mp.shared_gate == SharedGate::kSigmoid) {
        packed_matmul_forward(gate.data(), xn, w.shared_gate, nullptr, N, threads_);
        for (float& g : gate) g = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(g))));
    }
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t i = 0; i < C; ++i) out[n * C + i] += gate[n] * ye[n * C + i];
    }
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
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size;
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
        live[i].cache.k.resize(plan_.layers.size());
        live[i].cache.v.resize(plan_.layers.size());
        for (size_t l = 0; l < plan_.layers.size(); ++l) {
            const AttnPlan& a = plan_.layers[l].attn;
            const int64_t KVD = a.n_kv_heads * a.head_dim_k;
            live[i].cache.k[l].assign(static_cast<size_t>(capacity * KVD), 0.0f);
            live[i].cache.v[l].assign(static_cast<size_t>(capacity * KVD), 0.0f);
        }
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

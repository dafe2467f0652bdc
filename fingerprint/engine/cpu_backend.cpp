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
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

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

constexpr int64_t kDefaultCacheBytes = int64_t{4} << 30;
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
    MP_TRY(load(Role::kTokenEmbd, false, {V, C}, &tok_embd_));
    MP_TRY(load(Role::kOutputNorm, false, {C}, &out_norm_w_));
    if (c.norm == NormType::kLayerNorm) MP_TRY(load(Role::kOutputNorm, true, {C}, &out_norm_b_));
    if (model_.find_role(Role::kOutput) != nullptr) {
        std::vector<float> output;
        MP_TRY(load(Role::kOutput, false, {V, C}, &output));
        head_ = pack_rows(output.data(), V, C);
    } else {
        // Tied head: packed once, and the embedding rows are gathered from the panels.
        head_ = pack_rows(tok_embd_.data(), V, C);
        std::vector<float>().swap(tok_embd_);
    }
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

    // Layer cache decision: the f32 size of all per-layer tensors against the budget.
    int64_t layer_bytes = 0;
    for (size_t i = 0; i < model_.tensors().size(); ++i) {
        if (model_.roles()[i].layer >= 0) {
            layer_bytes += static_cast<int64_t>(model_.tensors()[i].numel()) * 4;
        }
    }
    const int64_t budget = options_.cpu_cache_bytes < 0 ? kDefaultCacheBytes : options_.cpu_cache_bytes;
    cache_layers_ = budget > 0 && layer_bytes <= budget;
    cache_.resize(static_cast<size_t>(c.n_layers));
    scratch_ = std::make_unique<LayerWeights>();
    return Status();
}

Result<const CpuBackend::LayerWeights*> CpuBackend::layer(int l) {
    if (cache_[l]) return cache_[l].get();
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
        MP_ASSIGN_OR_RETURN(auto m, load(Role::kAttnQKV, false, {QD + 2 * KVD, C}));
        w->qkv_w = pack_rows(m.data(), QD + 2 * KVD, C);
        if (c.qkv_bias) {
            MP_ASSIGN_OR_RETURN(w->qkv_b, load(Role::kAttnQKV, true, {QD + 2 * KVD}));
        }
    } else {
        std::vector<float> qkv;
        qkv.reserve(static_cast<size_t>((QD + 2 * KVD) * C));
        for (auto [role, rows] : {std::pair{Role::kAttnQ, QD}, {Role::kAttnK, KVD}, {Role::kAttnV, KVD}}) {
            MP_ASSIGN_OR_RETURN(auto m, load(role, false, {rows, C}));
            append(&qkv, m);
            if (c.qkv_bias) {
                MP_ASSIGN_OR_RETURN(auto b, load(role, true, {rows}));
                append(&w->qkv_b, b);
            }
        }
        w->qkv_w = pack_rows(qkv.data(), QD + 2 * KVD, C);
    }
    {
        MP_ASSIGN_OR_RETURN(auto m, load(Role::kAttnOut, false, {C, QD}));
        w->o_w = pack_rows(m.data(), C, QD);
    }
    if (c.attn_out_bias) {
        MP_ASSIGN_OR_RETURN(w->o_b, load(Role::kAttnOut, true, {C}));
    }
    if (c.qk_norm) {
        MP_ASSIGN_OR_RETURN(w->q_norm, load(Role::kAttnQNorm, false, {HS}));
        MP_ASSIGN_OR_RETURN(w->k_norm, load(Role::kAttnKNorm, false, {HS}));
    }
    if (c.gated_mlp) {
        std::vector<float> up;
        up.reserve(static_cast<size_t>(2 * FF * C));
        for (Role r : {Role::kFfnGate, Role::kFfnUp}) {
            MP_ASSIGN_OR_RETURN(auto m, load(r, false, {FF, C}));
            append(&up, m);
            if (c.mlp_bias) {
                MP_ASSIGN_OR_RETURN(auto b, load(r, true, {FF}));
                append(&w->up_b, b);
            }
        }
        w->up_w = pack_rows(up.data(), 2 * FF, C);
    } else {
        MP_ASSIGN_OR_RETURN(auto m, load(Role::kFfnUp, false, {FF, C}));
        w->up_w = pack_rows(m.data(), FF, C);
        if (c.mlp_bias) {
            MP_ASSIGN_OR_RETURN(w->up_b, load(Role::kFfnUp, true, {FF}));
        }
    }
    {
        MP_ASSIGN_OR_RETURN(auto m, load(Role::kFfnDown, false, {C, FF}));
        w->down_w = pack_rows(m.data(), C, FF);
    }
    if (c.mlp_bias) {
        MP_ASSIGN_OR_RETURN(w->down_b, load(Role::kFfnDown, true, {C}));
    }
    if (cache_layers_) {
        cache_[l] = std::move(w);
        return cache_[l].get();
    }
    scratch_ = std::move(w);  // the previous streamed layer is freed here
    return scratch_.get();
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
    if (tok_embd_.empty()) {
        packed_gather_rows(x.data(), head_, ids.data(), N);  // tied: rows of the packed head
    } else {
        embedding_forward(x.data(), ids.data(), tok_embd_.data(), N, C);
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

    std::vector<Segment> segs;
    for (const auto& s : req.sequences) segs.push_back({std::span<const int32_t>(s), 0, nullptr});
    PrefillResult res = new_prefill_result(req, V, C, L);
    const HiddenCaptureFn capture = hidden_capture(req, res, C);
    std::vector<float> x;
    MP_TRY(forward(segs, &x, capture));
    if (req.logits == LogitsMode::kNone) return res;

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
    return res;
}

Result<GenerateResult> CpuBackend::generate(const GenerateRequest& req) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size, KVD = cfg_.n_kv_heads * cfg_.head_dim;
    MP_TRY(check_generate_request(req, V));
    MP_TRY(check_sequence(req.prompt, 0, req.max_new_tokens));

    const int64_t capacity = static_cast<int64_t>(req.prompt.size()) + req.max_new_tokens;
    KvCache cache;
    cache.k.assign(static_cast<size_t>(cfg_.n_layers), std::vector<float>(static_cast<size_t>(capacity * KVD)));
    cache.v.assign(static_cast<size_t>(cfg_.n_layers), std::vector<float>(static_cast<size_t>(capacity * KVD)));
    std::mt19937_64 rng(req.seed);
    GenerateResult res;
    std::vector<float> x, xn(static_cast<size_t>(C)), logits(static_cast<size_t>(V));
    std::vector<int32_t> step(1);
    // The ids so far and a copy of the logits for the processor (only when there is one).
    std::vector<int32_t> seq;
    std::vector<float> processed;
    if (req.logits_processor) seq = req.prompt;
    int64_t past = 0;
    std::span<const int32_t> next_ids(req.prompt);
    for (int i = 0; i < req.max_new_tokens; ++i) {
        Segment seg{next_ids, past, &cache};
        MP_TRY(forward(std::span<Segment>(&seg, 1), &x, nullptr));
        past += static_cast<int64_t>(next_ids.size());
        const float* last = x.data() + (static_cast<int64_t>(x.size()) / C - 1) * C;
        if (cfg_.norm == NormType::kLayerNorm) {
            layernorm_forward(xn.data(), last, out_norm_w_.data(), out_norm_b_.data(), 1, C,
                              static_cast<float>(cfg_.norm_eps));
        } else {
            rmsnorm_forward(xn.data(), last, out_norm_w_.data(), 1, C, static_cast<float>(cfg_.norm_eps));
        }
        head(logits.data(), xn.data(), 1);
        const std::vector<float>* choose = &logits;
        if (req.logits_processor) {
            processed = logits;
            req.logits_processor(seq, processed);
            choose = &processed;
        }
        int32_t tok = 0;
        if (req.temperature == 0.0f) {
            // Greedy: the first maximal logit (torch.argmax returns the first maximum too).
            tok = static_cast<int32_t>(std::max_element(choose->begin(), choose->end()) - choose->begin());
        } else {
            // Seeded sampling: softmax(logits / temperature) over the top_k candidates (all when
            // 0), drawn by inverse CDF with a 53-bit uniform from mt19937_64(seed).
            tok = sample_token(choose->data(), V, req.temperature, req.top_k, rng);
        }
        res.tokens.push_back(tok);
        if (req.logits_processor) seq.push_back(tok);
        res.token_logprobs.push_back(static_cast<float>(log_softmax_at(logits.data(), V, tok)));
        if (std::find(req.stop_ids.begin(), req.stop_ids.end(), tok) != req.stop_ids.end()) {
            res.stopped = true;
            break;
        }
        step[0] = tok;
        next_ids = std::span<const int32_t>(step);
    }
    return res;
}

}  // namespace modelprint

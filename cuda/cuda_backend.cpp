// CudaBackend: the forward pass of cpu_backend.cpp on the GPU (block structure, fusions, masks,
// positions and outputs identical; see that file for the formulas' sources).
// Ragged batches are packed: all tokens of all sequences form one (N, C) activation matrix (no
// padding), the products are single cuBLAS GEMMs over N rows, and attention gets a table of
// (sequence, 16-query tile) work items so each block stays inside one sequence.
// Start-up: any CUDA error while finding the device gives kFailedPrecondition "no GPU: <reason>"
// (make_backend's kAuto then falls back to the CPU). Memory: the weights are resident when
// globals + L layer slots fit the budget (BackendOptions::gpu_memory_cap, else free memory less a
// reserve for activations); otherwise two slots stream the layers (cuda_weights.cpp), and name()
// says which.
// Not here: tokenisation, the per-op test interface (cuda_ops_harness.cpp).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "cuda/cuda_backend_impl.cuh"
#include "fingerprint/engine/backend_common.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

Result<std::unique_ptr<Backend>> make_cuda_backend(const Model& model,
                                                   const BackendOptions& options) {
    MP_ASSIGN_OR_RETURN(auto b, cuda::CudaBackend::create(model, options));
    return std::unique_ptr<Backend>(std::move(b));
}

namespace cuda {
namespace kern = ::modelprint::cuda;

namespace {

constexpr uint64_t kMinReserve = uint64_t{512} << 20;  // activations, cuBLAS workspace, cache
constexpr uint64_t kLogitsChunkBytes = uint64_t{256} << 20;


Status no_gpu(cudaError_t err, std::string_view what) {
    cudaGetLastError();
    return failed_precondition("no GPU: {} failed: {} ({})", what, cudaGetErrorString(err),
                               cudaGetErrorName(err));
}

std::string_view precision_name(GpuPrecision p) {
    switch (p) {
        case GpuPrecision::kF32Exact: return "f32 exact";
        case GpuPrecision::kF16: return "f16 tensor cores";
        default: return "bf16 tensor cores";
    }
}

std::string mib(uint64_t b) { return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20)); }

}  // namespace

CudaBackend::CudaBackend(const Model& model, const BackendOptions& options)
    : model_(model), cfg_(model.config()), options_(options) {}

CudaBackend::~CudaBackend() {
    if (stream_.get() != nullptr) cudaStreamSynchronize(stream_.get());
}

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(const Model& model,
                                                         const BackendOptions& options) {
    std::unique_ptr<CudaBackend> b(new CudaBackend(model, options));
    MP_TRY(b->init());
    return b;
}

Status CudaBackend::init() {
    // The layer plan first: layers this engine has no kernels for (MoE) are refused whether or
    // not a GPU is present, so `--device cuda` names the reason (kUnsupported) and
    // `--device auto` falls back to the CPU engine.
    MP_TRY(check_engine_config(cfg_, model_.path(), "CUDA"));
    MP_TRY(check_engine_plan(model_, "CUDA", /*moe=*/false));
    // Then the device: every failure here means "no GPU".
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) return no_gpu(err, "cudaGetDeviceCount");
    if (count == 0) return failed_precondition("no GPU: cudaGetDeviceCount found no CUDA device");
    if ((err = cudaSetDevice(0)) != cudaSuccess) return no_gpu(err, "cudaSetDevice(0)");
    cudaDeviceProp prop{};
    if ((err = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        return no_gpu(err, "cudaGetDeviceProperties");
    }
    size_t free_b = 0, total_b = 0;
    if ((err = cudaMemGetInfo(&free_b, &total_b)) != cudaSuccess) return no_gpu(err, "cudaMemGetInfo");
    if (Status s = stream_.create(); !s.ok()) return failed_precondition("no GPU: {}", s.message());
    if (Status s = gemm_.init(stream_.get()); !s.ok()) {
        return failed_precondition("no GPU: {}", s.message());
    }

    // The model: the same checks as the CPU engine (cpu_backend.cpp init).
    const ModelConfig& c = cfg_;
    const std::string& path = model_.path();
    MP_TRY(check_engine_config(c, path, "CUDA"));
    if (c.n_heads > 65535) {
        return unsupported("{}: {} attention heads exceed the CUDA engine's limit of 65535", path,
                           c.n_heads);
    }
    if (c.head_dim > kAttnMaxHS) {
        return unsupported("{}: head_dim {} exceeds the CUDA attention kernel's limit of {}", path,
                           c.head_dim, kAttnMaxHS);
    }
    if (c.gated_mlp && c.act != Activation::kSilu) {
        return unsupported("{}: gated MLP with a non-SiLU activation", path);
    }

    // Precision: exact f32 on request; f16 tensor cores for f16 checkpoints; bf16 otherwise.
    if (options_.exact_f32) {
        precision_ = GpuPrecision::kF32Exact;
    } else {
        const TensorInfo* probe = model_.find_role(Role::kFfnDown, 0);
        precision_ = probe != nullptr && probe->dtype == DType::kF16 ? GpuPrecision::kF16
                                                                     : GpuPrecision::kBF16;
    }
    MP_ASSIGN_OR_RETURN(weights_, WeightStore::plan(model_, store_type_for(precision_)));

    context_ = c.max_position;
    if (c.learned_positions) {
        const int64_t rows = weights_->globals().pos_rows;
        context_ = context_ > 0 ? std::min(context_, rows) : rows;
    } else {
        auto freqs = rope_frequencies(c.rope, c.head_dim, c.max_position);
        if (!freqs.ok()) return freqs.status().with_context(path);
        rope_ = std::move(freqs).value();
        use_rope_ = true;
        MP_TRY(inv_freq_.allocate(rope_.inv_freq.size() * sizeof(float), "rope frequencies"));
        MP_CUDA_TRY(cudaMemcpy(inv_freq_.as(), rope_.inv_freq.data(),
                               rope_.inv_freq.size() * sizeof(float), cudaMemcpyHostToDevice));
    }

    // Memory plan: resident when it fits the budget, else streaming (2 slots).
    const uint64_t L = static_cast<uint64_t>(c.n_layers);
    const uint64_t resident = weights_->global_bytes() + L * weights_->slot_bytes() + weights_->raw_bytes();
    const uint64_t streamed = weights_->global_bytes() + 2 * (weights_->slot_bytes() + weights_->raw_bytes());
    const uint64_t reserve = std::max<uint64_t>(kMinReserve, total_b / 20);
    const uint64_t usable_free = free_b > reserve ? free_b - reserve : 0;
    const uint64_t budget = options_.gpu_memory_cap > 0
                                ? std::min<uint64_t>(options_.gpu_memory_cap, usable_free)
                                : usable_free;
    std::string mode;
    if (resident <= budget) {
        MP_TRY(weights_->load_globals(stream_.get()));
        MP_TRY(weights_->load_resident(stream_.get()));
        mode = fmt::format("resident, {} of weights", mib(resident));
    } else if (streamed <= budget) {
        MP_TRY(weights_->load_globals(stream_.get()));
        MP_TRY(weights_->init_streaming());
        mode = fmt::format("streaming layers: {} of weights > budget {}, 2 slots of {}",
                           mib(resident), mib(budget), mib(weights_->slot_bytes()));
    } else {
        return failed_precondition(
            "{}: the CUDA engine needs at least {} of GPU memory to stream this model (globals {} "
            "+ 2 layer slots of {}), only {} usable{}", path, mib(streamed),
            mib(weights_->global_bytes()), mib(weights_->slot_bytes() + weights_->raw_bytes()),
            mib(budget), options_.gpu_memory_cap > 0 ? " under --gpu-memory-cap" : "");
    }
    name_ = fmt::format("cuda:0 ({}, {}, {})", prop.name, precision_name(precision_), mode);
    return Status();
}

Status CudaBackend::check_sequence(std::span<const int32_t> ids, size_t index, int64_t extra) const {
    return check_token_sequence(ids, index, extra, context_, cfg_.vocab_size, model_.path(),
                                std::numeric_limits<int32_t>::max(), "CUDA");
}

Status CudaBackend::ensure_activations(int64_t N) {
    if (N <= cap_rows_) return Status();
    const ModelConfig& c = cfg_;
    const uint64_t n = static_cast<uint64_t>(N);
    const uint64_t C = c.hidden_size, QD = c.n_heads * c.head_dim, KVD = c.n_kv_heads * c.head_dim;
    const uint64_t FF = c.intermediate_size, FFW = c.gated_mlp ? 2 * FF : FF;
    const uint64_t maxin = std::max({C, QD, FF});
    MP_TRY(x_.allocate(n * C * 4, "activations x"));
    MP_TRY(xn_.allocate(n * C * 4, "activations xn"));
    MP_TRY(qkv_.allocate(n * (QD + 2 * KVD) * 4, "activations qkv"));
    MP_TRY(q_.allocate(n * QD * 4, "activations q"));
    MP_TRY(k_.allocate(n * KVD * 4, "activations k"));
    MP_TRY(v_.allocate(n * KVD * 4, "activations v"));
    MP_TRY(att_.allocate(n * QD * 4, "activations att"));
    MP_TRY(proj_.allocate(n * C * 4, "activations proj"));
    MP_TRY(hid_.allocate(n * FFW * 4, "activations hid"));
    MP_TRY(act_.allocate(n * FF * 4, "activations act"));
    if (precision_ != GpuPrecision::kF32Exact) {
        MP_TRY(scratch16_.allocate(n * maxin * 2, "16-bit matmul inputs"));
    }
    MP_TRY(ids_.allocate(n * 4, "token ids"));
    MP_TRY(pos_.allocate(n * 4, "positions"));
    cap_rows_ = N;
    return Status();
}

Status CudaBackend::matmul(float* out, const float* inp, const void* w, const float* bias,
                           int64_t N, int64_t IC, int64_t OC) {
    return gemm_.matmul(out, inp, w, bias, N, IC, OC, precision_, scratch16_.as());
}

Status CudaBackend::norm(float* out, const float* inp, const float* w, const float* b, int64_t N) {
    const float eps = static_cast<float>(cfg_.norm_eps);
    if (cfg_.norm == NormType::kLayerNorm) {
        MP_CUDA_TRY(kern::layernorm_forward(out, inp, w, b, N, cfg_.hidden_size, eps, stream_.get()));
    } else {
        MP_CUDA_TRY(kern::rmsnorm_forward(out, inp, w, N, cfg_.hidden_size, eps, stream_.get()));
    }
    return Status();
}

Status CudaBackend::norm_matmul(float* out, float* xn, const float* inp, const float* nw,
                                const float* nb, int64_t N, const void* w, const float* bias,
                                int64_t OC) {
    const int64_t C = cfg_.hidden_size;
    if (precision_ == GpuPrecision::kF32Exact) {
        MP_TRY(norm(xn, inp, nw, nb, N));
        return matmul(out, xn, w, bias, N, C, OC);
    }
    const float eps = static_cast<float>(cfg_.norm_eps);
    const StoreType st = store_type_for(precision_);
    void* in16 = scratch16_.as();
    if (cfg_.norm == NormType::kLayerNorm) {
        MP_CUDA_TRY(kern::layernorm_forward_to(in16, st, inp, nw, nb, N, C, eps, stream_.get()));
    } else {
        MP_CUDA_TRY(kern::rmsnorm_forward_to(in16, st, inp, nw, N, C, eps, stream_.get()));
    }
    return gemm_.matmul_16(out, in16, w, bias, N, C, OC, precision_);
}

Status CudaBackend::forward(std::span<Segment> segs,
                            const std::function<void(int, const std::vector<float>&)>& capture) {
    const ModelConfig& c = cfg_;
    const int64_t C = c.hidden_size, NH = c.n_heads, NKV = c.n_kv_heads, HS = c.head_dim;
    const int64_t QD = NH * HS, KVD = NKV * HS, FF = c.intermediate_size;
    const int64_t FFW = c.gated_mlp ? 2 * FF : FF;
    const float eps = static_cast<float>(c.norm_eps);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HS));
    cudaStream_t s = stream_.get();
    // 16-bit modes use the tensor-core attention (64-query tiles) where the head size allows;
    // exact-f32 parity runs keep the f32 kernel.
    const bool tc_attention = precision_ != GpuPrecision::kF32Exact && kern::attention_tc_supports(HS);
    const int64_t q_tile = tc_attention ? kAttnTcQTile : kAttnQTile;
    int64_t N = 0;
    for (const auto& sg : segs) N += static_cast<int64_t>(sg.ids.size());
    MP_TRY(ensure_activations(N));

    // Token ids, positions and the attention work table (host -> device).
    std::vector<int32_t> ids(static_cast<size_t>(N)), pos(static_cast<size_t>(N));
    std::vector<AttnSeq> seqs;
    std::vector<AttnTile> tiles;
    {
        int64_t n = 0;
        for (size_t i = 0; i < segs.size(); ++i) {
            const auto& sg = segs[i];
            const int64_t T = static_cast<int64_t>(sg.ids.size());
            seqs.push_back({n, sg.cache != nullptr ? 0 : n, static_cast<int32_t>(T),
                            static_cast<int32_t>(sg.past)});
            for (int64_t q0 = 0; q0 < T; q0 += q_tile) {
                tiles.push_back({static_cast<int32_t>(i), static_cast<int32_t>(q0)});
            }
            for (int64_t t = 0; t < T; ++t, ++n) {
                ids[n] = sg.ids[t];
                pos[n] = static_cast<int32_t>(sg.past + t);
            }
            if (sg.cache != nullptr && segs.size() != 1) {
                return internal_error("a KV-cached segment must be alone in its batch");
            }
        }
    }
    MP_TRY(seqs_.reserve(seqs.size() * sizeof(AttnSeq), "attention sequence table"));
    MP_TRY(tiles_.reserve(tiles.size() * sizeof(AttnTile), "attention tile table"));
    MP_CUDA_TRY(cudaMemcpyAsync(ids_.as(), ids.data(), ids.size() * 4, cudaMemcpyHostToDevice, s));
    MP_CUDA_TRY(cudaMemcpyAsync(pos_.as(), pos.data(), pos.size() * 4, cudaMemcpyHostToDevice, s));
    MP_CUDA_TRY(cudaMemcpyAsync(seqs_.as(), seqs.data(), seqs.size() * sizeof(AttnSeq),
                                cudaMemcpyHostToDevice, s));
    MP_CUDA_TRY(cudaMemcpyAsync(tiles_.as(), tiles.data(), tiles.size() * sizeof(AttnTile),
                                cudaMemcpyHostToDevice, s));

    float* x = x_.as<float>();  // (N, C) residual stream
    float* xn = xn_.as<float>();
    const GlobalView& g = weights_->globals();
    MP_CUDA_TRY(kern::embedding_forward(x, ids_.as<int32_t>(), g.tok_embd, store_type_for(precision_),
                                        N, C, s));
    if (c.learned_positions) {
        MP_CUDA_TRY(kern::position_embedding_forward(x, pos_.as<int32_t>(), g.pos_embd, N, C, s));
    }
    std::vector<float> host_x;
    auto do_capture = [&](int l) -> Status {
        if (!capture) return Status();
        host_x.resize(static_cast<size_t>(N * C));
        MP_CUDA_TRY(cudaMemcpyAsync(host_x.data(), x, host_x.size() * 4, cudaMemcpyDeviceToHost, s));
        MP_CUDA_TRY(cudaStreamSynchronize(s));
        capture(l, host_x);
        return Status();
    };
    MP_TRY(do_capture(0));

    for (int l = 0; l < c.n_layers; ++l) {
        MP_ASSIGN_OR_RETURN(LayerView w, weights_->acquire(l, s));
        float* kd = k_.as<float>();
        float* vd = v_.as<float>();
        const float* kb = kd;
        const float* vb = vd;
        Segment& s0 = segs[0];
        if (s0.cache != nullptr) {  // append to the cache, attend over all of it
            kd = s0.cache->k[l].as<float>() + s0.past * KVD;
            vd = s0.cache->v[l].as<float>() + s0.past * KVD;
            kb = s0.cache->k[l].as<float>();
            vb = s0.cache->v[l].as<float>();
        }
        MP_TRY(norm_matmul(qkv_.as<float>(), xn, x, w.attn_norm_w, w.attn_norm_b, N, w.qkv_w,
                           w.qkv_b, QD + 2 * KVD));
        const bool fused_rope = use_rope_ && !c.qk_norm;  // q/k norms sit between split and rope
        if (fused_rope) {
            MP_CUDA_TRY(kern::qkv_rope_forward(q_.as<float>(), kd, vd, qkv_.as<float>(), pos_.as<int32_t>(),
                                               inv_freq_.as<float>(), rope_.attention_scaling,
                                               rope_.rotary_dim, N, NH, NKV, HS, s));
        } else {
            MP_CUDA_TRY(kern::qkv_split_forward(q_.as<float>(), kd, vd, qkv_.as<float>(), N, QD, KVD, s));
        }
        if (c.qk_norm) {
            MP_CUDA_TRY(kern::rmsnorm_forward(q_.as<float>(), q_.as<float>(), w.q_norm, N * NH, HS, eps, s));
            MP_CUDA_TRY(kern::rmsnorm_forward(kd, kd, w.k_norm, N * NKV, HS, eps, s));
        }
        if (use_rope_ && !fused_rope) {
            MP_CUDA_TRY(kern::rope_forward(q_.as<float>(), pos_.as<int32_t>(), inv_freq_.as<float>(),
                                           rope_.attention_scaling, rope_.rotary_dim, N, NH, HS, s));
            MP_CUDA_TRY(kern::rope_forward(kd, pos_.as<int32_t>(), inv_freq_.as<float>(),
                                           rope_.attention_scaling, rope_.rotary_dim, N, NKV, HS, s));
        }
        if (tc_attention) {
            // 16-bit output straight into the output projection's input; the residual add is the
            // product's epilogue (x += att @ o_w^T).
            MP_CUDA_TRY(kern::attention_tc_forward(scratch16_.as(), store_type_for(precision_),
                                                   q_.as<float>(), kb, vb, seqs_.as<AttnSeq>(),
                                                   tiles_.as<AttnTile>(), static_cast<int64_t>(tiles.size()),
                                                   NH, NKV, HS, scale, c.sliding_window, s));
            MP_TRY(gemm_.matmul_16(x, scratch16_.as(), w.o_w, w.o_b, N, QD, C, precision_, 1.0f));
        } else {
            MP_CUDA_TRY(kern::attention_forward(att_.as<float>(), q_.as<float>(), kb, vb,
                                                seqs_.as<AttnSeq>(), tiles_.as<AttnTile>(),
                                                static_cast<int64_t>(tiles.size()), NH, NKV, HS,
                                                scale, c.sliding_window, s));
            MP_TRY(matmul(proj_.as<float>(), att_.as<float>(), w.o_w, w.o_b, N, QD, C));
            MP_CUDA_TRY(kern::residual_forward(x, proj_.as<float>(), N * C, s));
        }
        MP_TRY(norm_matmul(hid_.as<float>(), xn, x, w.ffn_norm_w, w.ffn_norm_b, N, w.up_w, w.up_b, FFW));
        const float* mlp_in = hid_.as<float>();
        if (c.gated_mlp && precision_ != GpuPrecision::kF32Exact) {
            // SwiGLU written straight into the down product's 16-bit input.
            MP_CUDA_TRY(kern::swiglu_forward_to(scratch16_.as(), store_type_for(precision_),
                                                hid_.as<float>(), N, FF, s));
            mlp_in = nullptr;
        } else if (c.gated_mlp) {
            MP_CUDA_TRY(kern::swiglu_forward(act_.as<float>(), hid_.as<float>(), N, FF, s));
            mlp_in = act_.as<float>();
        } else if (c.act == Activation::kGeluTanh) {
            MP_CUDA_TRY(kern::gelu_tanh_forward(hid_.as<float>(), N * FF, s));
        } else if (c.act == Activation::kGelu) {
            MP_CUDA_TRY(kern::gelu_forward(hid_.as<float>(), N * FF, s));
        } else {
            MP_CUDA_TRY(kern::silu_forward(hid_.as<float>(), N * FF, s));
        }
        if (mlp_in == nullptr) {  // x += act @ down_w^T in the product's epilogue
            MP_TRY(gemm_.matmul_16(x, scratch16_.as(), w.down_w, w.down_b, N, FF, C, precision_, 1.0f));
        } else {
            MP_TRY(matmul(proj_.as<float>(), mlp_in, w.down_w, w.down_b, N, FF, C));
            MP_CUDA_TRY(kern::residual_forward(x, proj_.as<float>(), N * C, s));
        }
        MP_TRY(weights_->release(l, s));
        MP_TRY(do_capture(l + 1));
    }
    return Status();
}

Status CudaBackend::head(float* logits, const float* xn, int64_t rows) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size;
    MP_TRY(matmul(logits, xn, weights_->globals().output, nullptr, rows, C, V));
    if (cfg_.final_logit_softcap > 0.0) {
        MP_CUDA_TRY(kern::softcap_forward(logits, rows * V, static_cast<float>(cfg_.final_logit_softcap),
                                          stream_.get()));
    }
    return Status();
}

Result<PrefillResult> CudaBackend::prefill(const PrefillRequest& req) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size, L = cfg_.n_layers;
    MP_TRY(check_prefill_request(req, V));
    for (size_t i = 0; i < req.sequences.size(); ++i) MP_TRY(check_sequence(req.sequences[i], i, 0));
    cudaStream_t s = stream_.get();

    const auto t_start = std::chrono::steady_clock::now();
    std::vector<Segment> segs;
    for (const auto& sq : req.sequences) segs.push_back({std::span<const int32_t>(sq), 0, nullptr});
    PrefillResult res = new_prefill_result(req, V, C, L);
    for (const auto& sq : req.sequences) res.timings.prefill_tokens += static_cast<int64_t>(sq.size());
    const auto finish = [&]() {  // after the last synchronisation
        res.timings.prefill_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    };
    const HiddenCaptureFn capture = hidden_capture(req, res, C);
    MP_TRY(forward(segs, capture));
    if (req.logits == LogitsMode::kNone) {
        MP_CUDA_TRY(cudaStreamSynchronize(s));
        finish();
        return res;
    }
    int64_t N = 0;
    for (const auto& o : res.outputs) N += o.length;
    float* xn = xn_.as<float>();
    MP_TRY(norm(xn, x_.as<float>(), weights_->globals().out_norm_w, weights_->globals().out_norm_b, N));

    const int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>(kLogitsChunkBytes / (V * 4)));
    MP_TRY(logits_.reserve(static_cast<size_t>(std::min(chunk, N) * V * 4), "logits"));
    if (req.logits == LogitsMode::kTopK) {
        const size_t kb = static_cast<size_t>(std::min(chunk, N) * req.top_k * 4);
        MP_TRY(topk_ids_.reserve(kb, "top-k ids"));
        MP_TRY(topk_vals_.reserve(kb, "top-k logits"));
    }
    float* lg = logits_.as<float>();
    int64_t off = 0;
    for (size_t i = 0; i < segs.size(); ++i) {
        SequenceOutput& o = res.outputs[i];
        const int64_t T = o.length;
        if (req.logits == LogitsMode::kLast) {
            o.logits.resize(static_cast<size_t>(V));
            MP_TRY(head(lg, xn + (off + T - 1) * C, 1));
            MP_CUDA_TRY(cudaMemcpyAsync(o.logits.data(), lg, V * 4, cudaMemcpyDeviceToHost, s));
        } else if (req.logits == LogitsMode::kAll) {
            o.logits.resize(static_cast<size_t>(T * V));
            for (int64_t t0 = 0; t0 < T; t0 += chunk) {
                const int64_t rows = std::min(chunk, T - t0);
                MP_TRY(head(lg, xn + (off + t0) * C, rows));
                MP_CUDA_TRY(cudaMemcpyAsync(o.logits.data() + t0 * V, lg, rows * V * 4,
                                            cudaMemcpyDeviceToHost, s));
            }
        } else {
            const int64_t K = req.top_k;
            o.topk_ids.resize(static_cast<size_t>(T * K));
            o.topk_logits.resize(static_cast<size_t>(T * K));
            for (int64_t t0 = 0; t0 < T; t0 += chunk) {
                const int64_t rows = std::min(chunk, T - t0);
                MP_TRY(head(lg, xn + (off + t0) * C, rows));
                MP_CUDA_TRY(kern::topk_forward(topk_ids_.as<int32_t>(), topk_vals_.as<float>(), lg,
                                               rows, V, K, s));
                MP_CUDA_TRY(cudaMemcpyAsync(o.topk_ids.data() + t0 * K, topk_ids_.as(), rows * K * 4,
                                            cudaMemcpyDeviceToHost, s));
                MP_CUDA_TRY(cudaMemcpyAsync(o.topk_logits.data() + t0 * K, topk_vals_.as(),
                                            rows * K * 4, cudaMemcpyDeviceToHost, s));
            }
        }
        // Pageable destinations: the copies above complete before the next chunk reuses lg.
        MP_CUDA_TRY(cudaStreamSynchronize(s));
        off += T;
    }
    finish();
    return res;
}

Result<GenerateResult> CudaBackend::generate(const GenerateRequest& req) {
    const int64_t V = cfg_.vocab_size, C = cfg_.hidden_size, KVD = cfg_.n_kv_heads * cfg_.head_dim;
    MP_TRY(check_generate_request(req, V));
    MP_TRY(check_sequence(req.prompt, 0, req.max_new_tokens));
    cudaStream_t s = stream_.get();

    const uint64_t capacity = req.prompt.size() + static_cast<uint64_t>(req.max_new_tokens);
    KvCache cache;
    cache.k.resize(static_cast<size_t>(cfg_.n_layers));
    cache.v.resize(static_cast<size_t>(cfg_.n_layers));
    for (int64_t l = 0; l < cfg_.n_layers; ++l) {
        MP_TRY(cache.k[l].allocate(capacity * KVD * 4, "KV cache"));
        MP_TRY(cache.v[l].allocate(capacity * KVD * 4, "KV cache"));
    }
    MP_TRY(logits_.reserve(static_cast<size_t>(V * 4), "logits"));
    MP_TRY(argmax_ids_.reserve(4, "argmax"));
    MP_TRY(argmax_lp_.reserve(8, "argmax log-probability"));
    std::mt19937_64 rng(req.seed);
    GenerateResult res;
    std::vector<float> logits, processed;
    std::vector<int32_t> step(1);
    // The ids so far for the logits processor (only when there is one).
    std::vector<int32_t> seq;
    if (req.logits_processor) seq = req.prompt;
    int64_t past = 0;
    std::span<const int32_t> next_ids(req.prompt);
    for (int i = 0; i < req.max_new_tokens; ++i) {
        // Each step ends synchronised (the token is read back), so wall-clock time is the step's.
        const auto t0 = std::chrono::steady_clock::now();
        const int64_t step_tokens = static_cast<int64_t>(next_ids.size());
        Segment seg{next_ids, past, &cache};
        MP_TRY(forward(std::span<Segment>(&seg, 1), nullptr));
        past += static_cast<int64_t>(next_ids.size());
        const int64_t N = static_cast<int64_t>(next_ids.size());
        float* last = xn_.as<float>() + (N - 1) * C;
        MP_TRY(norm(last, x_.as<float>() + (N - 1) * C, weights_->globals().out_norm_w,
                    weights_->globals().out_norm_b, 1));
        MP_TRY(head(logits_.as<float>(), last, 1));
        int32_t tok = 0;
        float logprob = 0.0f;
        if (req.temperature == 0.0f && !req.logits_processor) {
            // Greedy on the device: the first maximal logit and its log-softmax.
            double lp = 0.0;
            MP_CUDA_TRY(kern::argmax_logprob_forward(argmax_ids_.as<int32_t>(), argmax_lp_.as<double>(),
                                                     logits_.as<float>(), 1, V, s));
            MP_CUDA_TRY(cudaMemcpyAsync(&tok, argmax_ids_.as(), 4, cudaMemcpyDeviceToHost, s));
            MP_CUDA_TRY(cudaMemcpyAsync(&lp, argmax_lp_.as(), 8, cudaMemcpyDeviceToHost, s));
            MP_CUDA_TRY(cudaStreamSynchronize(s));
            logprob = static_cast<float>(lp);
        } else {
            // On the host exactly as the CPU engine: the logits processor (a watermark), then
            // the greedy choice or the seeded draw (same candidates, same draw).
            logits.resize(static_cast<size_t>(V));
            MP_CUDA_TRY(cudaMemcpyAsync(logits.data(), logits_.as(), V * 4, cudaMemcpyDeviceToHost, s));
            MP_CUDA_TRY(cudaStreamSynchronize(s));
            const std::vector<float>* choose = &logits;
            if (req.logits_processor) {
                processed = logits;
                req.logits_processor(seq, processed);
                choose = &processed;
            }
            if (req.temperature == 0.0f) {
                tok = static_cast<int32_t>(std::max_element(choose->begin(), choose->end()) -
                                           choose->begin());
            } else {
                tok = sample_token(choose->data(), V, req.temperature, req.top_k, rng);
            }
            logprob = static_cast<float>(log_softmax_at(logits.data(), V, tok));
        }
        res.tokens.push_back(tok);
        if (req.logits_processor) seq.push_back(tok);
        res.token_logprobs.push_back(logprob);
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i == 0) {
            res.timings.prefill_tokens += step_tokens;
            res.timings.prefill_s += dt;
        } else {
            res.timings.decode_tokens += step_tokens;
            res.timings.decode_s += dt;
        }
        if (std::find(req.stop_ids.begin(), req.stop_ids.end(), tok) != req.stop_ids.end()) {
            res.stopped = true;
            break;
        }
        step[0] = tok;
        next_ids = std::span<const int32_t>(step);
    }
    return res;
}

}  // namespace cuda
}  // namespace modelprint

// CudaOps on a CudaBackend: each method uploads its host inputs to fresh device buffers, runs the
// same kernel launcher the engine uses (cuda_ops.cuh, cublas_gemm.cuh), synchronises and copies the
// outputs back. For the per-op parity tests (tests/gpu_ops_test.cpp) and op benchmarks; the
// engine never goes through here. Sizes are validated as cpu_ops.h states its preconditions.
#include <algorithm>
#include <vector>

#include "cuda/cuda_backend_impl.cuh"
#include "fingerprint/base/quant.h"

namespace modelprint::cuda {
namespace kern = ::modelprint::cuda;

namespace {

// A device copy of n host elements (n may be 0).
template <typename T>
Result<DeviceBuffer> upload(const T* host, int64_t n, std::string_view what) {
    DeviceBuffer b;
    if (n < 0) return invalid_argument("{}: negative element count {}", what, n);
    MP_TRY(b.allocate(static_cast<size_t>(n) * sizeof(T), what));
    if (n > 0) {
        MP_CUDA_TRY(cudaMemcpy(b.as(), host, static_cast<size_t>(n) * sizeof(T), cudaMemcpyHostToDevice));
    }
    return b;
}

template <typename T>
Status download(T* host, const DeviceBuffer& b, int64_t n, cudaStream_t s) {
    MP_CUDA_TRY(cudaStreamSynchronize(s));
    if (n > 0) {
        MP_CUDA_TRY(cudaMemcpy(host, b.as(), static_cast<size_t>(n) * sizeof(T), cudaMemcpyDeviceToHost));
    }
    return Status();
}

Status check_tc_head_size(bool tc, int64_t HS) {
    if (tc && !kern::attention_tc_supports(HS)) {
        return invalid_argument("tensor-core attention: head size HS {} is not one of 32, 64, 80, "
                                "96, 128", HS);
    }
    return Status();
}

Status launched(cudaError_t err, std::string_view op) {
    if (err == cudaSuccess) return Status();
    return internal_error("CUDA {} failed: {} ({})", op, cudaGetErrorString(err), cudaGetErrorName(err));
}

}  // namespace

Status CudaBackend::embedding_forward(float* out, const int32_t* ids, const float* wte, int64_t V,
                                      int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; ++n) {
        if (ids[n] < 0 || ids[n] >= V) {
            return out_of_range("embedding_forward: id {} at row {} outside [0, {})", ids[n], n, V);
        }
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_ids, upload(ids, N, "ids"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_wte, upload(wte, V * C, "wte"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(N * C) * 4, "out"));
    MP_TRY(launched(kern::embedding_forward(d_out.as<float>(), d_ids.as<int32_t>(), d_wte.as(),
                                            StoreType::kF32, N, C, stream_.get()), "embedding_forward"));
    return download(out, d_out, N * C, stream_.get());
}

Status CudaBackend::position_embedding_forward(float* x, const int32_t* pos, const float* wpe,
                                               int64_t maxpos, int64_t N, int64_t C) {
    for (int64_t n = 0; n < N; ++n) {
        if (pos[n] < 0 || pos[n] >= maxpos) {
            return out_of_range("position_embedding_forward: position {} outside [0, {})", pos[n], maxpos);
        }
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_x, upload(x, N * C, "x"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_pos, upload(pos, N, "pos"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_wpe, upload(wpe, maxpos * C, "wpe"));
    MP_TRY(launched(kern::position_embedding_forward(d_x.as<float>(), d_pos.as<int32_t>(),
                                                     d_wpe.as<float>(), N, C, stream_.get()),
                    "position_embedding_forward"));
    return download(x, d_x, N * C, stream_.get());
}

Status CudaBackend::rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N,
                                    int64_t C, float eps) {
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_in, upload(inp, N * C, "inp"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_w, upload(weight, C, "weight"));
    MP_TRY(launched(kern::rmsnorm_forward(d_in.as<float>(), d_in.as<float>(), d_w.as<float>(), N, C,
                                          eps, stream_.get()), "rmsnorm_forward"));
    return download(out, d_in, N * C, stream_.get());
}

Status CudaBackend::layernorm_forward(float* out, const float* inp, const float* weight,
                                      const float* bias, int64_t N, int64_t C, float eps) {
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_in, upload(inp, N * C, "inp"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_w, upload(weight, C, "weight"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_b, upload(bias, C, "bias"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(N * C) * 4, "out"));
    MP_TRY(launched(kern::layernorm_forward(d_out.as<float>(), d_in.as<float>(), d_w.as<float>(),
                                            d_b.as<float>(), N, C, eps, stream_.get()),
                    "layernorm_forward"));
    return download(out, d_out, N * C, stream_.get());
}

Status CudaBackend::matmul_forward(float* out, const float* inp, const float* weight,
                                   const float* bias, int64_t N, int64_t IC, int64_t OC,
                                   GpuPrecision precision) {
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_in, upload(inp, N * IC, "inp"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_w32, upload(weight, OC * IC, "weight"));
    DeviceBuffer d_b, d_w, d_scratch, d_out;
    if (bias != nullptr) {
        MP_ASSIGN_OR_RETURN(d_b, upload(bias, OC, "bias"));
    }
    const StoreType st = store_type_for(precision);
    const void* w = d_w32.as();
    if (st != StoreType::kF32) {
        MP_TRY(d_w.allocate(static_cast<size_t>(OC * IC) * 2, "16-bit weight"));
        MP_TRY(launched(kern::cast_forward(d_w.as(), st, d_w32.as<float>(), OC * IC, stream_.get()),
                        "cast_forward"));
        MP_TRY(d_scratch.allocate(static_cast<size_t>(N * IC) * 2, "16-bit input"));
        w = d_w.as();
    }
    MP_TRY(d_out.allocate(static_cast<size_t>(N * OC) * 4, "out"));
    MP_TRY(gemm_.matmul(d_out.as<float>(), d_in.as<float>(), w,
                        bias != nullptr ? d_b.as<float>() : nullptr, N, IC, OC, precision,
                        d_scratch.as()));
    return download(out, d_out, N * OC, stream_.get());
}

Status CudaBackend::rope_forward(float* x, const int32_t* pos, const RopeFreqs& f, int64_t N,
                                 int64_t H, int64_t HS) {
    if (f.rotary_dim <= 0 || f.rotary_dim % 2 != 0 || f.rotary_dim > HS ||
        static_cast<int64_t>(f.inv_freq.size()) != f.rotary_dim / 2) {
        return invalid_argument("rope_forward: rotary dim {} with {} frequencies for head dim {}",
                                f.rotary_dim, f.inv_freq.size(), HS);
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_x, upload(x, N * H * HS, "x"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_pos, upload(pos, N, "pos"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_f, upload(f.inv_freq.data(), f.rotary_dim / 2, "inv_freq"));
    MP_TRY(launched(kern::rope_forward(d_x.as<float>(), d_pos.as<int32_t>(), d_f.as<float>(),
                                       f.attention_scaling, f.rotary_dim, N, H, HS, stream_.get()),
                    "rope_forward"));
    return download(x, d_x, N * H * HS, stream_.get());
}

Status CudaBackend::attention_forward(float* out, const float* q, const float* k, const float* v,
                                      int64_t T, int64_t P, int64_t NH, int64_t NKV, int64_t HS,
                                      float scale, int64_t sliding_window) {
    if (T <= 0 || P < 0 || NH <= 0 || NKV <= 0 || NH % NKV != 0 || HS <= 0 || HS > kAttnMaxHS) {
        return invalid_argument("attention_forward: T {} P {} NH {} NKV {} HS {} (need T > 0, "
                                "P >= 0, NH a multiple of NKV, 0 < HS <= {})", T, P, NH, NKV, HS,
                                kAttnMaxHS);
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_q, upload(q, T * NH * HS, "q"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_k, upload(k, (P + T) * NKV * HS, "k"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_v, upload(v, (P + T) * NKV * HS, "v"));
    MP_TRY(check_tc_head_size(harness_tc_attention_, HS));
    const AttnSeq sq{0, 0, static_cast<int32_t>(T), static_cast<int32_t>(P)};
    std::vector<AttnTile> tiles;
    const int64_t q_tile = harness_tc_attention_ ? kAttnTcQTile : kAttnQTile;
    for (int64_t q0 = 0; q0 < T; q0 += q_tile) tiles.push_back({0, static_cast<int32_t>(q0)});
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_seq, upload(&sq, 1, "sequence table"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_tiles, upload(tiles.data(), static_cast<int64_t>(tiles.size()), "tiles"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(T * NH * HS) * 4, "out"));
    MP_TRY(launched(
        harness_tc_attention_
            ? kern::attention_tc_forward(d_out.as(), StoreType::kF32, d_q.as<float>(), d_k.as<float>(),
                                         d_v.as<float>(), d_seq.as<AttnSeq>(), d_tiles.as<AttnTile>(),
                                         static_cast<int64_t>(tiles.size()), NH, NKV, HS, scale,
                                         sliding_window, stream_.get())
            : kern::attention_forward(d_out.as<float>(), d_q.as<float>(), d_k.as<float>(),
                                      d_v.as<float>(), d_seq.as<AttnSeq>(), d_tiles.as<AttnTile>(),
                                      static_cast<int64_t>(tiles.size()), NH, NKV, HS, scale,
                                      sliding_window, stream_.get()),
        "attention_forward"));
    return download(out, d_out, T * NH * HS, stream_.get());
}

Status CudaBackend::attention_packed_forward(float* out, const float* q, const float* k,
                                             const float* v, const int64_t* lengths,
                                             int64_t n_seqs, int64_t NH, int64_t NKV, int64_t HS,
                                             float scale, int64_t sliding_window) {
    if (n_seqs <= 0 || NH <= 0 || NKV <= 0 || NH % NKV != 0 || HS <= 0 || HS > kAttnMaxHS) {
        return invalid_argument("attention_packed_forward: {} sequences, NH {} NKV {} HS {}",
                                n_seqs, NH, NKV, HS);
    }
    MP_TRY(check_tc_head_size(harness_tc_attention_, HS));
    const int64_t q_tile = harness_tc_attention_ ? kAttnTcQTile : kAttnQTile;
    std::vector<AttnSeq> seqs;
    std::vector<AttnTile> tiles;
    int64_t N = 0;
    for (int64_t i = 0; i < n_seqs; ++i) {
        if (lengths[i] <= 0) return invalid_argument("attention_packed_forward: sequence {} has length {}", i, lengths[i]);
        seqs.push_back({N, N, static_cast<int32_t>(lengths[i]), 0});
        for (int64_t q0 = 0; q0 < lengths[i]; q0 += q_tile) {
            tiles.push_back({static_cast<int32_t>(i), static_cast<int32_t>(q0)});
        }
        N += lengths[i];
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_q, upload(q, N * NH * HS, "q"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_k, upload(k, N * NKV * HS, "k"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_v, upload(v, N * NKV * HS, "v"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_seqs, upload(seqs.data(), n_seqs, "sequence table"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_tiles, upload(tiles.data(), static_cast<int64_t>(tiles.size()), "tiles"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(N * NH * HS) * 4, "out"));
    MP_TRY(launched(
        harness_tc_attention_
            ? kern::attention_tc_forward(d_out.as(), StoreType::kF32, d_q.as<float>(), d_k.as<float>(),
                                         d_v.as<float>(), d_seqs.as<AttnSeq>(), d_tiles.as<AttnTile>(),
                                         static_cast<int64_t>(tiles.size()), NH, NKV, HS, scale,
                                         sliding_window, stream_.get())
            : kern::attention_forward(d_out.as<float>(), d_q.as<float>(), d_k.as<float>(),
                                      d_v.as<float>(), d_seqs.as<AttnSeq>(), d_tiles.as<AttnTile>(),
                                      static_cast<int64_t>(tiles.size()), NH, NKV, HS, scale,
                                      sliding_window, stream_.get()),
        "attention_forward (packed)"));
    return download(out, d_out, N * NH * HS, stream_.get());
}

Status CudaBackend::swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF) {
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_gu, upload(gu, N * 2 * FF, "gu"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(N * FF) * 4, "out"));
    MP_TRY(launched(kern::swiglu_forward(d_out.as<float>(), d_gu.as<float>(), N, FF, stream_.get()),
                    "swiglu_forward"));
    return download(out, d_out, N * FF, stream_.get());
}

// In-place element-wise ops share one shape: upload, run, download.
#define MP_INPLACE_OP(method, launcher, ...)                                                  \
    Status CudaBackend::method {                                                            \
        MP_ASSIGN_OR_RETURN(DeviceBuffer d_x, upload(x, n, "x"));                           \
        MP_TRY(launched(launcher, #method));                                                \
        return download(x, d_x, n, stream_.get());                                          \
    }
MP_INPLACE_OP(gelu_tanh_forward(float* x, int64_t n),
              kern::gelu_tanh_forward(d_x.as<float>(), n, stream_.get()))
MP_INPLACE_OP(gelu_forward(float* x, int64_t n), kern::gelu_forward(d_x.as<float>(), n, stream_.get()))
MP_INPLACE_OP(silu_forward(float* x, int64_t n), kern::silu_forward(d_x.as<float>(), n, stream_.get()))
#undef MP_INPLACE_OP

Status CudaBackend::residual_forward(float* x, const float* y, int64_t n) {
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_x, upload(x, n, "x"));
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_y, upload(y, n, "y"));
    MP_TRY(launched(kern::residual_forward(d_x.as<float>(), d_y.as<float>(), n, stream_.get()),
                    "residual_forward"));
    return download(x, d_x, n, stream_.get());
}

Status CudaBackend::softcap_forward(float* x, int64_t n, float cap) {
    if (!(cap > 0.0f)) return invalid_argument("softcap_forward: cap {} must be positive", cap);
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_x, upload(x, n, "x"));
    MP_TRY(launched(kern::softcap_forward(d_x.as<float>(), n, cap, stream_.get()), "softcap_forward"));
    return download(x, d_x, n, stream_.get());
}

Status CudaBackend::topk_forward(int32_t* ids, float* vals, const float* logits, int64_t rows,
                                 int64_t V, int64_t K) {
    if (K <= 0 || K > V) return invalid_argument("topk_forward: k {} must be in [1, {}]", K, V);
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_l, upload(logits, rows * V, "logits"));
    DeviceBuffer d_ids, d_vals;
    MP_TRY(d_ids.allocate(static_cast<size_t>(rows * K) * 4, "ids"));
    MP_TRY(d_vals.allocate(static_cast<size_t>(rows * K) * 4, "vals"));
    MP_TRY(launched(kern::topk_forward(d_ids.as<int32_t>(), d_vals.as<float>(), d_l.as<float>(), rows,
                                       V, K, stream_.get()), "topk_forward"));
    MP_TRY(download(ids, d_ids, rows * K, stream_.get()));
    return download(vals, d_vals, rows * K, stream_.get());
}

Status CudaBackend::argmax_logprob_forward(int32_t* ids, double* logprobs, const float* logits,
                                           int64_t rows, int64_t V) {
    if (V <= 0) return invalid_argument("argmax_logprob_forward: vocabulary size {} <= 0", V);
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_l, upload(logits, rows * V, "logits"));
    DeviceBuffer d_ids, d_lp;
    MP_TRY(d_ids.allocate(static_cast<size_t>(rows) * 4, "ids"));
    MP_TRY(d_lp.allocate(static_cast<size_t>(rows) * 8, "logprobs"));
    MP_TRY(launched(kern::argmax_logprob_forward(d_ids.as<int32_t>(), d_lp.as<double>(),
                                                 d_l.as<float>(), rows, V, stream_.get()),
                    "argmax_logprob_forward"));
    MP_TRY(download(ids, d_ids, rows, stream_.get()));
    return download(logprobs, d_lp, rows, stream_.get());
}

Status CudaBackend::dequantize_forward(float* out, DType dtype, const uint8_t* bytes,
                                       uint64_t nbytes, int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0) return invalid_argument("dequantize_forward: shape {}x{}", rows, cols);
    MP_ASSIGN_OR_RETURN(uint64_t need, dtype_nbytes(dtype, static_cast<uint64_t>(rows * cols)));
    if (nbytes < need) {
        return corrupt_data("dequantize_forward: {} bytes for {}x{} {} values, {} needed", nbytes,
                            rows, cols, dtype_name(dtype), need);
    }
    const DTypeInfo& info = dtype_info(dtype);
    if (info.is_quantized && cols % static_cast<int64_t>(info.block_size) != 0) {
        return invalid_argument("dequantize_forward: {} columns are not whole {} blocks of {}",
                                cols, dtype_name(dtype), info.block_size);
    }
    StoredKind kind;
    ByteLut lut{};
    switch (dtype) {
        case DType::kF32: kind = StoredKind::kF32; break;
        case DType::kF16: kind = StoredKind::kF16; break;
        case DType::kBF16: kind = StoredKind::kBF16; break;
        case DType::kF8_E4M3: case DType::kF8_E5M2: case DType::kF8_E8M0:
        case DType::kF8_E4M3FNUZ: case DType::kF8_E5M2FNUZ:
            kind = StoredKind::kLut;
            for (int i = 0; i < 256; ++i) {
                const uint8_t b = static_cast<uint8_t>(i);
                MP_TRY(convert_to_f32(dtype, std::span<const uint8_t>(&b, 1), 1, &lut.v[i]));
            }
            break;
        case DType::kQ4_0: kind = StoredKind::kQ4_0; break;
        case DType::kQ4_1: kind = StoredKind::kQ4_1; break;
        case DType::kQ5_0: kind = StoredKind::kQ5_0; break;
        case DType::kQ5_1: kind = StoredKind::kQ5_1; break;
        case DType::kQ8_0: kind = StoredKind::kQ8_0; break;
        case DType::kQ4_K: kind = StoredKind::kQ4_K; break;
        case DType::kQ6_K: kind = StoredKind::kQ6_K; break;
        default:
            return unsupported("dequantize_forward: no device decoder for {} (the engine converts "
                               "it on the host)", dtype_name(dtype));
    }
    MP_ASSIGN_OR_RETURN(DeviceBuffer d_src, upload(bytes, static_cast<int64_t>(need), "stored bytes"));
    DeviceBuffer d_out;
    MP_TRY(d_out.allocate(static_cast<size_t>(rows * cols) * 4, "out"));
    MP_TRY(launched(kern::dequantize_forward(d_out.as(), StoreType::kF32, d_src.as<uint8_t>(), kind,
                                             kind == StoredKind::kLut ? &lut : nullptr, rows, cols,
                                             RowMap::kIdentity, 0, stream_.get()),
                    "dequantize_forward"));
    return download(out, d_out, rows * cols, stream_.get());
}

}  // namespace modelprint::cuda

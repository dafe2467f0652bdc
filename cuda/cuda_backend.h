// The CUDA engine's public face: make_cuda_backend() (called only by
// fingerprint/engine/backend_factory.cpp when built with CUDA) and CudaOps, the per-op interface
// the GPU parity tests use. A plain C++ header: no CUDA types, no CUDA headers, so it compiles in
// every build (the tests reach CudaOps through make_backend(..., DeviceKind::kCuda) and a
// dynamic_cast, never by linking mp_cuda directly).
// What the backend does (cuda_backend.cpp): the forward pass of cpu_backend.cpp on the GPU,
// cuBLAS for the products (bf16/f16 tensor cores with f32 accumulation by default, exact f32
// CUBLAS_COMPUTE_32F_PEDANTIC when BackendOptions::exact_f32), its own kernels for everything
// else (cuda_ops.cu), stored dtypes dequantised on the device, ragged batches packed without
// padding, greedy/sampled generation with a KV cache, and layer streaming when the weights do not
// fit (BackendOptions::gpu_memory_cap or free device memory); name() reports which.
// Errors: any CUDA error while starting gives kFailedPrecondition "no GPU: <reason>".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fingerprint/base/dtype.h"
#include "fingerprint/base/status.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/engine/cpu_ops.h"

namespace modelprint {

class Model;

// Creates the CUDA backend for `model` on device 0. kFailedPrecondition "no GPU: ..." when no
// device answers; kUnsupported / kCorruptData / kNotFound for models the engine cannot run (the
// same checks as the CPU engine).
Result<std::unique_ptr<Backend>> make_cuda_backend(const Model& model,
                                                   const BackendOptions& options);

// Matrix-product precision of a CUDA matmul: exact f32 (pedantic: no TF32, no reduced-precision
// reductions) or tensor cores with bf16/f16 inputs and f32 accumulation and output.
enum class GpuPrecision : uint8_t { kF32Exact, kBF16, kF16 };

// The CUDA kernels behind the backend, one method per cpu_ops.h function with the same name,
// arguments and semantics, on HOST buffers: each call uploads the inputs, runs the kernel(s),
// synchronises and downloads the outputs. For parity tests and benchmarks of single ops; the
// backend itself keeps everything on the device. Every method returns a CUDA failure as
// kInternal naming the op.
class CudaOps {
public:
    virtual ~CudaOps() = default;

    virtual Status embedding_forward(float* out, const int32_t* ids, const float* wte, int64_t V,
                                     int64_t N, int64_t C) = 0;
    virtual Status position_embedding_forward(float* x, const int32_t* pos, const float* wpe,
                                              int64_t maxpos, int64_t N, int64_t C) = 0;
    virtual Status rmsnorm_forward(float* out, const float* inp, const float* weight, int64_t N,
                                   int64_t C, float eps) = 0;
    virtual Status layernorm_forward(float* out, const float* inp, const float* weight,
                                     const float* bias, int64_t N, int64_t C, float eps) = 0;
    // weight (OC, IC) f32 on the host, converted to the precision's storage type first.
    virtual Status matmul_forward(float* out, const float* inp, const float* weight,
                                  const float* bias, int64_t N, int64_t IC, int64_t OC,
                                  GpuPrecision precision) = 0;
    virtual Status rope_forward(float* x, const int32_t* pos, const RopeFreqs& f, int64_t N,
                                int64_t H, int64_t HS) = 0;
    // Which attention kernel the two calls below run: false (default) the f32 kernel of the
    // exact mode, true the bf16 tensor-core kernel of the 16-bit modes (head sizes 32, 64, 80, 96,
    // 128; others are kInvalidArgument).
    virtual void use_tensor_core_attention(bool on) = 0;
    // One sequence, as cpu_ops attention_forward (the fused tiled kernel).
    virtual Status attention_forward(float* out, const float* q, const float* k, const float* v,
                                     int64_t T, int64_t P, int64_t NH, int64_t NKV, int64_t HS,
                                     float scale, int64_t sliding_window) = 0;
    // Ragged packed batch: sequence i has lengths[i] tokens at rows offsets; q, k, v, out are
    // (sum lengths, *) and attention stays inside each sequence (P = 0 for all).
    virtual Status attention_packed_forward(float* out, const float* q, const float* k,
                                            const float* v, const int64_t* lengths,
                                            int64_t n_seqs, int64_t NH, int64_t NKV, int64_t HS,
                                            float scale, int64_t sliding_window) = 0;
    virtual Status swiglu_forward(float* out, const float* gu, int64_t N, int64_t FF) = 0;
    virtual Status gelu_tanh_forward(float* x, int64_t n) = 0;
    virtual Status gelu_forward(float* x, int64_t n) = 0;
    virtual Status silu_forward(float* x, int64_t n) = 0;
    virtual Status residual_forward(float* x, const float* y, int64_t n) = 0;
    virtual Status softcap_forward(float* x, int64_t n, float cap) = 0;
    // Row-wise top-k of logits (rows, V): ids, vals (rows, K), as cpu_ops topk_forward per row.
    virtual Status topk_forward(int32_t* ids, float* vals, const float* logits, int64_t rows,
                                int64_t V, int64_t K) = 0;
    // Greedy step: the first maximal logit of each row and its log-softmax (double sums).
    virtual Status argmax_logprob_forward(int32_t* ids, double* logprobs, const float* logits,
                                          int64_t rows, int64_t V) = 0;
    // Stored bytes of n elements of `dtype` dequantised on the device to f32 (rows of `cols`
    // elements; quantised types need cols to be a whole number of blocks).
    virtual Status dequantize_forward(float* out, DType dtype, const uint8_t* bytes,
                                      uint64_t nbytes, int64_t rows, int64_t cols) = 0;
};

// The CudaOps of a backend made for DeviceKind::kCuda; null for any other backend.
inline CudaOps* cuda_ops_of(Backend* backend) { return dynamic_cast<CudaOps*>(backend); }

}  // namespace modelprint

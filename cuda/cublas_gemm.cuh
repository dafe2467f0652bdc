// cuBLAS adapter: the engine's nn.Linear products out (N, OC) = inp (N, IC) @ W (OC, IC)^T + bias
// on the device, and cuBLAS status codes as Status. Internal to cuda/ .cpp files.
// Precision (GpuPrecision of cuda_backend.h):
//   kF32Exact: f32 weights and inputs, CUBLAS_COMPUTE_32F_PEDANTIC with CUBLAS_PEDANTIC_MATH (no
//              TF32, no reduced-precision reductions): the parity mode against the CPU oracle;
//   kBF16/kF16: weights stored in bf16/f16, the f32 activations rounded to the same type into a
//              scratch buffer, tensor-core products with f32 accumulation and f32 output
//              (CUBLAS_COMPUTE_32F, cublasGemmEx's A/B 16BF|16F, C 32F combination).
// Row-major trick (llm.c matmul_forward_cublaslt): the row-major (N, OC) output is the
// column-major (OC, N) product W^T' * inp', so cuBLAS is called with op(A)=T on W (lda IC) and
// op(B)=N on inp (ldb IC).
// Not here: the bias is added by add_bias_forward (cuda_ops.cu) after the product.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_ops.cuh"
#include "cuda/cuda_util.cuh"
#include "fingerprint/base/status.h"

namespace modelprint::cuda {

Status cublas_status(cublasStatus_t st, std::string_view what);

class Gemm {
public:
    Gemm() = default;
    ~Gemm();
    Gemm(const Gemm&) = delete;
    Gemm& operator=(const Gemm&) = delete;

    // Creates the handle bound to `stream`.
    Status init(cudaStream_t stream);
    // out (N, OC) f32 = inp (N, IC) f32 @ w (OC, IC)^T [+ bias (OC) f32]. w is stored as
    // store_type_for(precision). For 16-bit precisions `scratch` must hold N*IC 16-bit values.
    Status matmul(float* out, const float* inp, const void* w, const float* bias, int64_t N,
                  int64_t IC, int64_t OC, GpuPrecision precision, void* scratch);

    // The 16-bit product on inputs already rounded: inp16 (N, IC) of store_type_for(precision)
    // (precision kBF16 or kF16), e.g. written by rmsnorm_forward_to or swiglu_forward_to.
    // beta 1 accumulates into out (out += product, the residual add in cuBLAS's epilogue).
    Status matmul_16(float* out, const void* inp16, const void* w, const float* bias, int64_t N,
                     int64_t IC, int64_t OC, GpuPrecision precision, float beta = 0.0f);

private:
    cublasHandle_t handle_ = nullptr;
    cudaStream_t stream_ = nullptr;
};

inline StoreType store_type_for(GpuPrecision p) {
    switch (p) {
        case GpuPrecision::kBF16: return StoreType::kBF16;
        case GpuPrecision::kF16: return StoreType::kF16;
        default: return StoreType::kF32;
    }
}

}  // namespace modelprint::cuda

// cuBLAS adapter (see cublas_gemm.cuh for the precision modes and the row-major convention).
#include "cuda/cublas_gemm.cuh"

#include <limits>

namespace modelprint::cuda {

Status cublas_status(cublasStatus_t st, std::string_view what) {
    if (st == CUBLAS_STATUS_SUCCESS) return Status();
    return internal_error("cuBLAS error in {}: {} ({})", what, cublasGetStatusString(st),
                          cublasGetStatusName(st));
}

Gemm::~Gemm() {
    if (handle_ != nullptr) cublasDestroy(handle_);
}

Status Gemm::init(cudaStream_t stream) {
    MP_TRY(cublas_status(cublasCreate(&handle_), "cublasCreate"));
    MP_TRY(cublas_status(cublasSetStream(handle_, stream), "cublasSetStream"));
    stream_ = stream;
    return Status();
}

Status Gemm::matmul(float* out, const float* inp, const void* w, const float* bias, int64_t N,
                    int64_t IC, int64_t OC, GpuPrecision precision, void* scratch) {
    if (N == 0 || OC == 0) return Status();
    constexpr int64_t kMax = std::numeric_limits<int>::max();
    if (N > kMax || IC > kMax || OC > kMax) {
        return invalid_argument("matmul ({} x {}) @ ({} x {})^T: a dimension exceeds cuBLAS's "
                                "limit of {}", N, IC, OC, IC, kMax);
    }
    if (handle_ == nullptr) return internal_error("Gemm::matmul before init");
    const float alpha = 1.0f, beta = 0.0f;
    const int n = static_cast<int>(N), ic = static_cast<int>(IC), oc = static_cast<int>(OC);
    if (IC == 0) {
        MP_CUDA_TRY(cudaMemsetAsync(out, 0, sizeof(float) * static_cast<size_t>(N * OC), stream_));
    } else if (precision == GpuPrecision::kF32Exact) {
        MP_TRY(cublas_status(cublasSetMathMode(handle_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode"));
        MP_TRY(cublas_status(
            cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, oc, n, ic, &alpha, w, CUDA_R_32F, ic,
                         inp, CUDA_R_32F, ic, &beta, out, CUDA_R_32F, oc,
                         CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT),
            "cublasGemmEx (f32 pedantic)"));
    } else {
        if (scratch == nullptr) return internal_error("matmul: 16-bit product without scratch");
        MP_CUDA_TRY(cast_forward(scratch, store_type_for(precision), inp, N * IC, stream_));
        return matmul_16(out, scratch, w, bias, N, IC, OC, precision);
    }
    if (bias != nullptr) MP_CUDA_TRY(add_bias_forward(out, bias, N, OC, stream_));
    return Status();
}

Status Gemm::matmul_16(float* out, const void* inp16, const void* w, const float* bias, int64_t N,
                       int64_t IC, int64_t OC, GpuPrecision precision, float beta) {
    if (N == 0 || OC == 0) return Status();
    constexpr int64_t kMax = std::numeric_limits<int>::max();
    if (N > kMax || IC > kMax || OC > kMax) {
        return invalid_argument("matmul ({} x {}) @ ({} x {})^T: a dimension exceeds cuBLAS's "
                                "limit of {}", N, IC, OC, IC, kMax);
    }
    if (handle_ == nullptr) return internal_error("Gemm::matmul_16 before init");
    if (precision == GpuPrecision::kF32Exact) return internal_error("matmul_16 in exact-f32 mode");
    const float alpha = 1.0f;
    const int n = static_cast<int>(N), ic = static_cast<int>(IC), oc = static_cast<int>(OC);
    const StoreType st = store_type_for(precision);
    const cudaDataType dt = st == StoreType::kBF16 ? CUDA_R_16BF : CUDA_R_16F;
    if (IC == 0) {
        if (beta == 0.0f) {
            MP_CUDA_TRY(cudaMemsetAsync(out, 0, sizeof(float) * static_cast<size_t>(N * OC), stream_));
        }
    } else {
        MP_TRY(cublas_status(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"));
        MP_TRY(cublas_status(
            cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, oc, n, ic, &alpha, w, dt, ic, inp16,
                         dt, ic, &beta, out, CUDA_R_32F, oc, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT),
            st == StoreType::kBF16 ? "cublasGemmEx (bf16, f32 accumulate)"
                                   : "cublasGemmEx (f16, f32 accumulate)"));
    }
    if (bias != nullptr) MP_CUDA_TRY(add_bias_forward(out, bias, N, OC, stream_));
    return Status();
}

}  // namespace modelprint::cuda

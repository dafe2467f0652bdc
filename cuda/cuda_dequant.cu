// Device dequantisation of stored tensors into the engine's compute layout (see cuda_ops.cuh):
// f32/f16/bf16 element-wise, one-byte float types (f8 E4M3/E5M2/...) through a 256-entry table
// decoded on the host by dtype.cpp, and GGUF blocks Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q4_K/Q6_K with the
// decoders of dequant_blocks.h (ggml-quants.c formulas, bit-identical to quant.cpp). Each value
// is written once, converted to the destination StoreType with round-to-nearest-even, at the
// position the RowMap gives (identity, Conv1D transpose, or GGUF Llama Q/K un-permutation as in
// Model::canonical_f32).
// Not here: the other K-quants (Q2_K/Q3_K/Q5_K/Q8_K) and integer types, which cuda_weights.cpp
// converts on the host and uploads as f32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda/cuda_ops.cuh"
#include "cuda/dequant_blocks.h"

namespace modelprint::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ void store(void* dst, StoreType t, int64_t i, float v) {
    if (t == StoreType::kBF16) {
        static_cast<__nv_bfloat16*>(dst)[i] = __float2bfloat16_rn(v);
    } else if (t == StoreType::kF16) {
        static_cast<__half*>(dst)[i] = __float2half_rn(v);
    } else {
        static_cast<float*>(dst)[i] = v;
    }
}

__device__ __forceinline__ int64_t dst_index(int64_t r, int64_t c, int64_t rows, int64_t cols,
                                             RowMap map, int64_t hs) {
    switch (map) {
        case RowMap::kTranspose:
            return c * rows + r;
        case RowMap::kUnpermute:
            return dq::unpermute_qk_row(r, hs) * cols + c;
        default:
            return r * cols + c;
    }
}

__global__ void plain_kernel(void* dst, StoreType dt, const uint8_t* src, StoredKind k,
                             ByteLut lut, int64_t rows, int64_t cols, RowMap map, int64_t hs) {
    const int64_t n = rows * cols;
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
         i += int64_t{gridDim.x} * blockDim.x) {
        float v;
        switch (k) {
            case StoredKind::kF16:
                v = __half2float(__ushort_as_half(reinterpret_cast<const uint16_t*>(src)[i]));
                break;
            case StoredKind::kBF16:
                v = __uint_as_float(static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(src)[i]) << 16);
                break;
            case StoredKind::kLut:
                v = lut.v[src[i]];
                break;
            default:
                v = reinterpret_cast<const float*>(src)[i];
                break;
        }
        store(dst, dt, dst_index(i / cols, i % cols, rows, cols, map, hs), v);
    }
}

template <int BlockSize, int BlockBytes, typename Decode>
__global__ void block_kernel(void* dst, StoreType dt, const uint8_t* src, int64_t rows,
                             int64_t cols, RowMap map, int64_t hs, Decode decode) {
    const int64_t per_row = cols / BlockSize;
    const int64_t nblocks = rows * per_row;
    for (int64_t b = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; b < nblocks;
         b += int64_t{gridDim.x} * blockDim.x) {
        const int64_t r = b / per_row, c0 = (b % per_row) * BlockSize;
        decode(src + b * BlockBytes, [&](int j, float v) {
            store(dst, dt, dst_index(r, c0 + j, rows, cols, map, hs), v);
        });
    }
}

int grid_for(int64_t n) {
    const int64_t g = (n + kThreads - 1) / kThreads;
    return static_cast<int>(g < 1 ? 1 : (g > 65535 * 16 ? 65535 * 16 : g));
}

template <int BlockSize, int BlockBytes, typename Decode>
cudaError_t launch_blocks(void* dst, StoreType dt, const uint8_t* src, int64_t rows, int64_t cols,
                          RowMap map, int64_t hs, Decode decode, cudaStream_t s) {
    if (cols % BlockSize != 0) return cudaErrorInvalidValue;
    const int64_t nblocks = rows * (cols / BlockSize);
    block_kernel<BlockSize, BlockBytes><<<grid_for(nblocks), kThreads, 0, s>>>(dst, dt, src, rows,
                                                                               cols, map, hs, decode);
    return cudaPeekAtLastError();
}

// Decoder functors (device lambdas need --extended-lambda; plain functors do not).
struct Q40 { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q4_0(b, e); } };
struct Q41 { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q4_1(b, e); } };
struct Q50 { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q5_0(b, e); } };
struct Q51 { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q5_1(b, e); } };
struct Q80 { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q8_0(b, e); } };
struct Q4K { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q4_k(b, e); } };
struct Q6K { template <typename E> __device__ void operator()(const uint8_t* b, E e) const { dq::q6_k(b, e); } };

}  // namespace

cudaError_t dequantize_forward(void* dst, StoreType dt, const uint8_t* src, StoredKind k,
                               const ByteLut* lut, int64_t rows, int64_t cols, RowMap map,
                               int64_t hs, cudaStream_t s) {
    if (rows * cols == 0) return cudaSuccess;
    if (map == RowMap::kUnpermute && (hs <= 0 || hs % 2 != 0 || rows % hs != 0)) {
        return cudaErrorInvalidValue;
    }
    switch (k) {
        case StoredKind::kQ4_0: return launch_blocks<32, 18>(dst, dt, src, rows, cols, map, hs, Q40{}, s);
        case StoredKind::kQ4_1: return launch_blocks<32, 20>(dst, dt, src, rows, cols, map, hs, Q41{}, s);
        case StoredKind::kQ5_0: return launch_blocks<32, 22>(dst, dt, src, rows, cols, map, hs, Q50{}, s);
        case StoredKind::kQ5_1: return launch_blocks<32, 24>(dst, dt, src, rows, cols, map, hs, Q51{}, s);
        case StoredKind::kQ8_0: return launch_blocks<32, 34>(dst, dt, src, rows, cols, map, hs, Q80{}, s);
        case StoredKind::kQ4_K: return launch_blocks<256, 144>(dst, dt, src, rows, cols, map, hs, Q4K{}, s);
        case StoredKind::kQ6_K: return launch_blocks<256, 210>(dst, dt, src, rows, cols, map, hs, Q6K{}, s);
        default: break;
    }
    if (k == StoredKind::kLut && lut == nullptr) return cudaErrorInvalidValue;
    ByteLut table{};
    if (lut != nullptr) table = *lut;
    plain_kernel<<<grid_for(rows * cols), kThreads, 0, s>>>(dst, dt, src, k, table, rows, cols, map, hs);
    return cudaPeekAtLastError();
}

}  // namespace modelprint::cuda

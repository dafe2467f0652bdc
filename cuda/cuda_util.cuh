// CUDA plumbing for the GPU engine: CUDA/cuBLAS errors as Status, RAII owners of device memory,
// pinned host memory, streams and events. Internal to cuda/ .cpp files (includes CUDA headers;
// never included from a plain .h nor from .cu files, which cannot compile fmt). Every owner frees in its destructor and is move-only.
// Not here: kernels (cuda_ops.cu), cuBLAS calls (cublas_gemm.cpp).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "fingerprint/base/status.h"

namespace modelprint::cuda {

// A CUDA runtime error as kInternal naming what failed (start-up code maps to "no GPU").
inline Status cuda_status(cudaError_t err, std::string_view what) {
    if (err == cudaSuccess) return Status();
    return internal_error("CUDA error in {}: {} ({})", what, cudaGetErrorString(err),
                          cudaGetErrorName(err));
}

// MP_CUDA_TRY(cudaMemcpy(...)): return the CUDA error as a Status naming the call.
#define MP_CUDA_TRY(call)                                                          \
    do {                                                                           \
        cudaError_t mp_cuda_err_ = (call);                                         \
        if (mp_cuda_err_ != cudaSuccess) {                                         \
            return ::modelprint::cuda::cuda_status(mp_cuda_err_, #call);           \
        }                                                                          \
    } while (0)


// Device memory of `bytes` bytes, freed on destruction. Empty (null) when bytes == 0.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            reset();
            ptr_ = std::exchange(o.ptr_, nullptr);
            bytes_ = std::exchange(o.bytes_, 0);
        }
        return *this;
    }

    // (Re)allocates exactly `bytes` (contents undefined); keeps the buffer when already that size.
    Status allocate(size_t bytes, std::string_view what) {
        if (bytes == bytes_ && ptr_ != nullptr) return Status();
        reset();
        if (bytes == 0) return Status();
        void* p = nullptr;
        cudaError_t err = cudaMalloc(&p, bytes);
        if (err != cudaSuccess) {
            cudaGetLastError();  // clear the sticky-free allocation error
            return make_error(StatusCode::kFailedPrecondition,
                              "GPU out of memory allocating {} bytes for {}: {}", bytes, what,
                              cudaGetErrorString(err));
        }
        ptr_ = p;
        bytes_ = bytes;
        return Status();
    }
    // Grows to at least `bytes` (never shrinks).
    Status reserve(size_t bytes, std::string_view what) {
        if (bytes <= bytes_) return Status();
        return allocate(bytes, what);
    }
    void reset() {
        if (ptr_ != nullptr) cudaFree(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
    }
    template <typename T = void>
    T* as() const { return static_cast<T*>(ptr_); }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

// Page-locked host memory (for asynchronous copies), freed on destruction.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    ~PinnedBuffer() { reset(); }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    PinnedBuffer(PinnedBuffer&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

    Status reserve(size_t bytes, std::string_view what) {
        if (bytes <= bytes_) return Status();
        reset();
        void* p = nullptr;
        cudaError_t err = cudaMallocHost(&p, bytes);
        if (err != cudaSuccess) {
            cudaGetLastError();
            return make_error(StatusCode::kFailedPrecondition,
                              "cannot pin {} bytes of host memory for {}: {}", bytes, what,
                              cudaGetErrorString(err));
        }
        ptr_ = p;
        bytes_ = bytes;
        return Status();
    }
    void reset() {
        if (ptr_ != nullptr) cudaFreeHost(ptr_);
        ptr_ = nullptr;
        bytes_ = 0;
    }
    uint8_t* data() const { return static_cast<uint8_t*>(ptr_); }
    size_t bytes() const { return bytes_; }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

// A non-blocking stream, destroyed on destruction.
class Stream {
public:
    Stream() = default;
    ~Stream() {
        if (s_ != nullptr) cudaStreamDestroy(s_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Status create() { MP_CUDA_TRY(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); return Status(); }
    cudaStream_t get() const { return s_; }

private:
    cudaStream_t s_ = nullptr;
};

// An event without timing (for stream ordering), destroyed on destruction.
class Event {
public:
    Event() = default;
    ~Event() {
        if (e_ != nullptr) cudaEventDestroy(e_);
    }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    Status create() {
        MP_CUDA_TRY(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming));
        return Status();
    }
    cudaEvent_t get() const { return e_; }

private:
    cudaEvent_t e_ = nullptr;
};

}  // namespace modelprint::cuda

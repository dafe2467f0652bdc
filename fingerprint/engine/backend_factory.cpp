// make_backend / parse_device: choose the engine for a device. The only file of the project that
// reads MP_WITH_CUDA (set by CMake on the mp_backend_factory target). kAuto tries CUDA when built
// with it and falls back to the CPU when no device answers; kCuda without CUDA support or without
// a device fails with kFailedPrecondition and the reason.
#include <memory>
#include <string_view>

#include "fingerprint/engine/backend.h"
#include "fingerprint/engine/cpu_backend.h"
#if MP_WITH_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace modelprint {

Result<std::unique_ptr<Backend>> make_backend(const Model& model, DeviceKind device,
                                              const BackendOptions& options) {
#if MP_WITH_CUDA
    if (device == DeviceKind::kCuda || device == DeviceKind::kAuto) {
        auto cuda = make_cuda_backend(model, options);
        if (cuda.ok() || device == DeviceKind::kCuda) return cuda;
    }
#else
    if (device == DeviceKind::kCuda) {
        return failed_precondition("--device cuda: modelprint was built without CUDA "
                                   "(configure with -DMODELPRINT_CUDA=ON on a machine with nvcc)");
    }
#endif
    MP_ASSIGN_OR_RETURN(auto cpu, CpuBackend::create(model, options));
    return std::unique_ptr<Backend>(std::move(cpu));
}

Result<DeviceKind> parse_device(std::string_view s) {
    if (s == "auto") return DeviceKind::kAuto;
    if (s == "cpu") return DeviceKind::kCpu;
    if (s == "cuda" || s == "gpu") return DeviceKind::kCuda;
    return invalid_argument("unknown device \"{}\" (expected auto, cpu or cuda)", s);
}

}  // namespace modelprint

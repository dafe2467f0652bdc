// Internal to the CPU engine (cpu_gemm.cpp, cpu_pack.cpp): the geometry of each PackFormat's
// panels and the dequantisation of a panel's k-slice into the f32 form the micro-kernels read.
// A panel of format f is IC / qb groups of group_bytes bytes; group g holds the 32 rows' data
// for k in [g*qb, (g+1)*qb) (cpu_pack.cpp gives each format's layout). Plain formats have
// qb = 1 (a group is one panel row).
// Invariant: dequant_slice writes, for every k and lane j, exactly the f32 value that
// convert_to_f32 (fingerprint/base/dtype.h, quant.h) gives for the stored element.
#pragma once

#include <cstdint>

#include "fingerprint/engine/cpu_gemm.h"

namespace modelprint::pack {

constexpr int64_t kNR = 32;   // panel width (output features per panel)
constexpr int64_t kKC = 256;  // inner-dimension block (a multiple of every qb)

struct FormatLayout {
    int64_t qb;           // k per group
    int64_t group_bytes;  // bytes per group (a multiple of 64)
};
FormatLayout layout(PackFormat f);

// buf (kc, 32) f32, 64-byte aligned = k in [k0, k0 + kc) of `panel`; k0 and kc multiples of
// the format's qb. Not for kF32 (the product reads those panels in place).
void dequant_slice(PackFormat f, const uint8_t* panel, int64_t k0, int64_t kc, float* buf);

}  // namespace modelprint::pack

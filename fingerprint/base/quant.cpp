// TEMPORARY until the GGUF work lands: replaced by the real dequantisers.
#include "fingerprint/base/quant.h"
namespace modelprint {
Status dequantize_blocks(DType t, const uint8_t*, uint64_t, float*) {
    return unsupported("dequantisation of {} is not available", dtype_name(t));
}
}  // namespace modelprint

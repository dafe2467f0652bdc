// Checked shape arithmetic shared by the parsers.
#include "fingerprint/model/tensor.h"

namespace modelprint {

Result<uint64_t> checked_numel(const std::vector<int64_t>& shape, std::string_view what) {
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return corrupt_data("{}: negative dimension {}", what, d);
        if (!checked_mul_u64(n, static_cast<uint64_t>(d), &n)) {
            return corrupt_data("{}: shape element count overflows 64 bits", what);
        }
    }
    return n;
}

}  // namespace modelprint

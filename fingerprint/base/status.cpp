// Status: names of codes and message formatting.
#include "fingerprint/base/status.h"

namespace modelprint {

std::string_view status_code_name(StatusCode code) {
    switch (code) {
        case StatusCode::kOk: return "ok";
        case StatusCode::kInvalidArgument: return "invalid argument";
        case StatusCode::kNotFound: return "not found";
        case StatusCode::kIoError: return "I/O error";
        case StatusCode::kCorruptData: return "corrupt data";
        case StatusCode::kUnsupported: return "unsupported";
        case StatusCode::kOutOfRange: return "out of range";
        case StatusCode::kFailedPrecondition: return "failed precondition";
        case StatusCode::kVerificationFailed: return "verification failed";
        case StatusCode::kInternal: return "internal error";
    }
    return "unknown";
}

std::string Status::to_string() const {
    if (ok()) return "ok";
    return fmt::format("{}: {}", status_code_name(code_), message_);
}

Status Status::with_context(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, fmt::format("{}: {}", context, message_));
}

}  // namespace modelprint

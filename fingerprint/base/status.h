// Status and Result<T>: the error model of modelprint.
// Everything that input can cause (hostile files, missing tensors, bad flags, I/O, no GPU) is
// returned as a Status, never thrown, never abort()ed. Messages name the object, the value and
// the limit. Invariant: a Result<T> holds either a value or a non-OK Status, never both.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace modelprint {

// Stable codes; cli/exit_codes maps them to process exit codes (docs/errors.md).
enum class StatusCode {
    kOk = 0,
    kInvalidArgument,     // bad flag or argument value
    kNotFound,            // file, tensor, key or record absent
    kIoError,             // open/read/write/mmap failed
    kCorruptData,         // a file breaks its format's rules
    kUnsupported,         // valid but not handled (dtype, architecture, component)
    kOutOfRange,          // index/length past a limit (context window, token id)
    kFailedPrecondition,  // state does not allow the operation (schema too new, no GPU)
    kVerificationFailed,  // signature/digest mismatch
    kInternal,            // a bug: an invariant of our own was broken
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok_status() { return Status(); }
    bool ok() const { return code_ == StatusCode::kOk; }
    StatusCode code() const { return code_; }
    const std::string& message() const { return message_; }
    std::string to_string() const;

    // Prefix the message with context ("reading model.safetensors: ...").
    Status with_context(std::string_view context) const;

private:
    StatusCode code_ = StatusCode::kOk;
    std::string message_;
};

template <typename... Args>
Status make_error(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
    return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
#define MP_ERROR_FN(fn, code)                                               \
    template <typename... Args>                                             \
    Status fn(fmt::format_string<Args...> f, Args&&... args) {              \
        return Status(code, fmt::format(f, std::forward<Args>(args)...));   \
    }
MP_ERROR_FN(invalid_argument, StatusCode::kInvalidArgument)
MP_ERROR_FN(not_found, StatusCode::kNotFound)
MP_ERROR_FN(io_error, StatusCode::kIoError)
MP_ERROR_FN(corrupt_data, StatusCode::kCorruptData)
MP_ERROR_FN(unsupported, StatusCode::kUnsupported)
MP_ERROR_FN(out_of_range, StatusCode::kOutOfRange)
MP_ERROR_FN(failed_precondition, StatusCode::kFailedPrecondition)
MP_ERROR_FN(verification_failed, StatusCode::kVerificationFailed)
MP_ERROR_FN(internal_error, StatusCode::kInternal)
#undef MP_ERROR_FN

template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
    Result(Status status) : v_(std::move(status)) {  // NOLINT
        if (std::get<Status>(v_).ok()) {
            v_ = Status(StatusCode::kInternal, "Result constructed from an OK status");
        }
    }

    bool ok() const { return std::holds_alternative<T>(v_); }
    const Status& status() const {
        static const Status kOk;
        return ok() ? kOk : std::get<Status>(v_);
    }
    T& value() & { return std::get<T>(v_); }
    const T& value() const& { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Status> v_;
};

namespace detail {
inline Status to_status(Status s) { return s; }
template <typename T>
Status to_status(const Result<T>& r) { return r.status(); }
}  // namespace detail

}  // namespace modelprint

#define MP_CONCAT_INNER(a, b) a##b
#define MP_CONCAT(a, b) MP_CONCAT_INNER(a, b)

// Return the Status of `expr` (a Status or a Result<T>) if it is not OK.
#define MP_TRY(expr)                                                            \
    do {                                                                        \
        auto&& mp_try_v_ = (expr);                                              \
        if (!mp_try_v_.ok()) return ::modelprint::detail::to_status(mp_try_v_); \
    } while (0)

#define MP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)         \
    auto tmp = (expr);                                   \
    if (!tmp.ok()) return tmp.status();                  \
    lhs = std::move(tmp).value()

// MP_ASSIGN_OR_RETURN(auto x, make_x()); declares x or returns the error.
#define MP_ASSIGN_OR_RETURN(lhs, expr) \
    MP_ASSIGN_OR_RETURN_IMPL(MP_CONCAT(mp_result_, __LINE__), lhs, expr)

// Internal invariant check: returns kInternal (never aborts). Not for input validation.
#define MP_CHECK(cond)                                                                  \
    do {                                                                                \
        if (!(cond))                                                                    \
            return ::modelprint::internal_error("check failed: {} at {}:{}", #cond,     \
                                                __FILE__, __LINE__);                    \
    } while (0)

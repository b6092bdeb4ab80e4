// Status and Result<T>: how every module reports failure. No exceptions cross module
// boundaries; a message must tell the user what went wrong and, where possible, what to do.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace moestream {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // the caller (or the user) passed something unusable
  kNotFound,         // a file, tensor, expert or key does not exist
  kIoError,          // the OS reported a read/write failure
  kCorrupt,          // data exists but fails a check (checksum, bounds, verifier)
  kUnsupported,      // valid but not handled (newer format version, missing CPU feature)
  kOutOfMemory,      // allocation or budget exhausted
  kNoSpace,          // disk full (ENOSPC / EDQUOT)
  kInternal,         // a bug: an invariant did not hold
  kCancelled,        // the caller (or shutdown) stopped the work
};

std::string_view error_code_name(ErrorCode code);

// A value type that owns its message. Thread-safe like std::string: concurrent const use is
// safe, mutation of one object needs exclusive access.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prepends "context: " so an error names the file / tensor / layer it happened in.
  Status with_context(std::string_view context) const;
  // "corrupt: <message>" for display.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status ok_status() { return {}; }
inline Status invalid_argument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status io_error(std::string m) { return {ErrorCode::kIoError, std::move(m)}; }
inline Status corrupt(std::string m) { return {ErrorCode::kCorrupt, std::move(m)}; }
inline Status unsupported(std::string m) { return {ErrorCode::kUnsupported, std::move(m)}; }
inline Status out_of_memory(std::string m) { return {ErrorCode::kOutOfMemory, std::move(m)}; }
inline Status no_space(std::string m) { return {ErrorCode::kNoSpace, std::move(m)}; }
inline Status internal_error(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Status cancelled(std::string m) { return {ErrorCode::kCancelled, std::move(m)}; }

// Maps an errno value to a Status: "<what>: <strerror>" with a matching code
// (ENOSPC/EDQUOT -> kNoSpace, ENOENT -> kNotFound, ENOMEM -> kOutOfMemory, else kIoError).
Status errno_status(int err, std::string_view what);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : storage_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(storage_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(storage_);
  }
  T& value() & { assert(ok()); return std::get<T>(storage_); }
  const T& value() const& { assert(ok()); return std::get<T>(storage_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(storage_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace moestream

#define MOESTREAM_CONCAT_INNER(a, b) a##b
#define MOESTREAM_CONCAT(a, b) MOESTREAM_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define MOESTREAM_TRY(expr)                                     \
  do {                                                          \
    ::moestream::Status moestream_try_status_ = (expr);         \
    if (!moestream_try_status_.ok()) return moestream_try_status_; \
  } while (0)

// `auto x = ...` from a Result<T>, returning its Status on failure.
#define MOESTREAM_ASSIGN_OR_RETURN(lhs, expr) \
  MOESTREAM_ASSIGN_OR_RETURN_IMPL(MOESTREAM_CONCAT(moestream_result_, __LINE__), lhs, expr)
#define MOESTREAM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

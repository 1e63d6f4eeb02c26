#pragma once
// Result<T>: a value or an Error, with std::expected's member names so a later move is mechanical.
// No exception crosses a module boundary; errors carry a code the API maps to an HTTP status.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace twinbox {

enum class ErrorCode { NotFound, Conflict, InvalidArgument, Unavailable, Timeout, Io, Internal };

const char* error_code_name(ErrorCode c);
int error_code_http_status(ErrorCode c);  // 404 409 400 503 504 500 500

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;

  // Chains "what: cause" keeping the cause's code.
  Error context(const std::string& what) const { return Error{code, what + ": " + message}; }
};

inline Error make_error(ErrorCode c, std::string msg) { return Error{c, std::move(msg)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(std::move(e)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }
  template <class U>
  T value_or(U&& u) const {
    return has_value() ? value() : T(std::forward<U>(u));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace twinbox

#define TB_CONCAT_(a, b) a##b
#define TB_CONCAT(a, b) TB_CONCAT_(a, b)
// TRY(expr): returns the error of a failed Result from the enclosing function.
#define TRY(expr)                                               \
  do {                                                          \
    auto&& tb_try_r_ = (expr);                                  \
    if (!tb_try_r_) return ::twinbox::Error(tb_try_r_.error()); \
  } while (0)
// TRY_ASSIGN(lhs, expr): like TRY, and moves the value into lhs (which may be a declaration).
#define TRY_ASSIGN(lhs, expr) TRY_ASSIGN_IMPL_(TB_CONCAT(tb_try_v_, __LINE__), lhs, expr)
#define TRY_ASSIGN_IMPL_(tmp, lhs, expr)          \
  auto tmp = (expr);                              \
  if (!tmp) return ::twinbox::Error(tmp.error()); \
  lhs = std::move(tmp).value()

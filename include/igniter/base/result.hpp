#pragma once
/// Result<T>: a value or the std::error_code that says why there is none.

#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace igniter {

namespace detail {

/// A T or an E, with the accessors every result type shares (Result<T>, client::Reply<T>); each adds its
/// own `error()`. Calling a value accessor on an error is a programming mistake (checked by std::get).
template <class T, class E>
class ValueOr {
 public:
  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 protected:
  explicit ValueOr(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  explicit ValueOr(E error) : state_(std::in_place_index<1>, std::move(error)) {}
  const E& stored_error() const& { return std::get<1>(state_); }
  E&& stored_error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, E> state_;
};

}  // namespace detail

/// Holds either a T or an error code; the way expected failures travel (g++ 12 has no <expected>).
template <class T>
class [[nodiscard]] Result : public detail::ValueOr<T, std::error_code> {
  using Base = detail::ValueOr<T, std::error_code>;

 public:
  Result(T value) : Base(std::move(value)) {}
  Result(std::error_code error) : Base(error) {}
  template <class E>
  requires std::is_error_code_enum_v<E> Result(E error) : Result(std::error_code(make_error_code(error))) {}

  /// The error, or a default (success) code when there is a value.
  std::error_code error() const noexcept { return this->ok() ? std::error_code{} : this->stored_error(); }
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(std::error_code error) : error_(error) {}
  template <class E>
  requires std::is_error_code_enum_v<E> Result(E error) : error_(make_error_code(error)) {}

  bool ok() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return ok(); }
  std::error_code error() const noexcept { return error_; }

 private:
  std::error_code error_;
};

}  // namespace igniter

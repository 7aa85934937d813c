#pragma once
/// Reply<T>: what a call to the server gives back — the answer's data as a T, or an Error that says why
/// there is none (the server's status, code, message and data, or the client's own reason).

#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "igniter/base/result.hpp"
#include "igniter/client/error.hpp"
#include "igniter/json/issue.hpp"
#include "igniter/json/value.hpp"

namespace igniter::client {

/// Why a call has no value.
///
/// When the server answered with an error envelope (`{"data":null,"error":{...}}`), `ec` is
/// errc::error_response and `status`, `code`, `message` and `data` are the server's; a validation error
/// (400 `VALIDATION_ERROR`) also fills `issues` from its `details` (each issue's `in` — body, query or
/// params — is kept in its `details`). When the answer did not match the type asked for, `ec` is
/// errc::invalid_answer and `issues` says where. Otherwise (no answer) `ec` is a system error or another
/// errc and `status` is 0. `message` is always a readable sentence.
struct Error {
  std::error_code ec;               ///< What kind of failure: errc::error_response, errc::timeout, ...
  unsigned status = 0;              ///< HTTP status of the answer; 0 when there was none.
  std::string code;                 ///< The server's error code ("ERR_NOT_FOUND", "VALIDATION_ERROR"), or "".
  std::string message;              ///< The server's message, or what went wrong on the client's side.
  json::value data;                 ///< The server's error `data` (null when it sent none).
  std::vector<json::Issue> issues;  ///< Validation issues (the server's, or the answer's decoding).
};

/// The outcome of a call: the answer's `data` decoded into T, or an Error. Like igniter::Result, with
/// the richer error a remote call needs.
template <class T>
class [[nodiscard]] Reply : public igniter::detail::ValueOr<T, Error> {
  using Base = igniter::detail::ValueOr<T, Error>;

 public:
  Reply(T value, unsigned status = 200) : Base(std::move(value)), status_(status) {}
  Reply(Error error) : Base(std::move(error)) { status_ = this->stored_error().status; }

  /// The HTTP status of the answer (200, 201, 404...); 0 when there was no answer.
  unsigned status() const noexcept { return status_; }

  /// The value (ok() must hold); see ValueOr for the other accessors.
  using Base::operator*;
  T&& operator*() && { return std::move(*this).value(); }

  /// The error; calling it on a value is a programming mistake (checked by std::get).
  const Error& error() const& { return this->stored_error(); }
  Error&& error() && { return std::move(*this).stored_error(); }

 private:
  unsigned status_ = 0;
};

}  // namespace igniter::client

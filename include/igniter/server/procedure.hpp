#pragma once
/// Procedures: middleware that runs before a handler (the seed's `use: [auth]`).

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "igniter/server/ctx.hpp"
#include "igniter/server/response.hpp"

namespace igniter {

/// A named step run before handlers. It may add typed data to the context (`c.set(User{...})`) and may
/// answer early by returning a Response (or throwing HttpError); returning nothing lets the call go on.
class Procedure {
 public:
  using Fn = std::function<std::optional<Response>(Ctx&)>;

  /// `fn` is `void(Ctx&)` or `std::optional<Response>(Ctx&)`.
  template <class F>
  Procedure(std::string name, F fn) : name_(std::move(name)), fn_(wrap(std::move(fn))) {}

  const std::string& name() const noexcept { return name_; }
  /// Runs the step; a Response means "answer this and stop".
  std::optional<Response> run(Ctx& ctx) const { return fn_(ctx); }

 private:
  template <class F>
  static Fn wrap(F fn) {
    using R = std::invoke_result_t<F&, Ctx&>;
    if constexpr (std::is_void_v<R>) {
      return [fn = std::move(fn)](Ctx& c) mutable -> std::optional<Response> {
        fn(c);
        return std::nullopt;
      };
    } else {
      static_assert(std::is_convertible_v<R, std::optional<Response>>,
                    "a procedure returns void or std::optional<igniter::Response>");
      return [fn = std::move(fn)](Ctx& c) mutable -> std::optional<Response> { return fn(c); };
    }
  }

  std::string name_;
  Fn fn_;
};

/// Makes a procedure: `auto auth = igniter::procedure("auth", [](igniter::Ctx& c) { ... });`
template <class F>
Procedure procedure(std::string name, F fn) {
  return Procedure(std::move(name), std::move(fn));
}

}  // namespace igniter

#pragma once
/// Typed inputs a handler declares as parameters: `Query<T>`, `Params<T>`, `Param<"name", T>`, `Body<T>`
/// (a plain described struct parameter is the body too). Each is decoded and validated before the handler
/// runs; what does not fit answers 400 with the issues.

#include <string_view>

#include "igniter/base/fixed_string.hpp"

namespace igniter {

namespace detail {
template <class T, int Kind>
struct Input {
  T value;
  const T& operator*() const noexcept { return value; }
  const T* operator->() const noexcept { return &value; }
};
}  // namespace detail

/// The query string, decoded into the described struct T (strings coerce to numbers and booleans).
template <class T>
struct Query : detail::Input<T, 0> {};
/// The path parameters (`/:id`), decoded into the described struct T.
template <class T>
struct Params : detail::Input<T, 1> {};
/// The JSON body, decoded into T; writing `const T&` directly means the same.
template <class T>
struct Body : detail::Input<T, 2> {};

/// One path parameter (`/:id`) decoded into T without a struct: `Param<"id", std::int64_t> id`, then
/// `*id` or `id` where a T is expected. "abc" for an integer answers 400 with an issue at path ["id"];
/// a name the action's path does not have fails at start-up (std::invalid_argument).
template <FixedString Name, class T = std::string>
struct Param : detail::Input<T, 3> {
  static constexpr std::string_view name = Name.view();
  operator const T&() const noexcept { return this->value; }
};

}  // namespace igniter

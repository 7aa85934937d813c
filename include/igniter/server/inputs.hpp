#pragma once
/// Typed inputs a handler declares as parameters: `Query<T>`, `Params<T>`, `Body<T>` (a plain described
/// struct parameter is the body too). Each is decoded and validated before the handler runs.

#include <utility>

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

}  // namespace igniter

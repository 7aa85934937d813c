#pragma once
/// json::Fields: a JSON object with named, typed members and no struct to declare, for one-off answers:
/// `return c.response.success(json::fields<"user", "token">(user, token));` answers
/// `{"user":{...},"token":"..."}` and is typed in the app's schema like a described struct would be.

#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "igniter/base/fixed_string.hpp"

namespace igniter::json {

/// The member names of a Fields type, in order.
template <FixedString... Name>
struct Names {
  static constexpr std::size_t size = sizeof...(Name);
  static constexpr std::string_view at[sizeof...(Name) > 0 ? sizeof...(Name) : 1] = {Name.view()...};
};

/// An object whose member `Names::at[i]` holds a `T...[i]`: encoded, decoded and described (JSON Schema)
/// as a described struct with those members would be. Make one with json::fields<"a", "b">(a, b).
template <class N, class... T>
struct Fields {
  static_assert(N::size == sizeof...(T), "json::Fields: one name per member");
  using names = N;          ///< The member names (json::Names).
  std::tuple<T...> values;  ///< The members, in the order of their names.
};

/// `fields<"user", "token">(user, token)`: a Fields object with those names, its member types deduced.
template <FixedString... N, class... T>
Fields<Names<N...>, std::remove_cvref_t<T>...> fields(T&&... values) {
  static_assert(sizeof...(N) == sizeof...(T), "json::fields: give one name per value");
  return {{std::forward<T>(values)...}};
}

namespace detail {
template <class T>
struct is_fields : std::false_type {};
template <class N, class... T>
struct is_fields<Fields<N, T...>> : std::true_type {};
}  // namespace detail

}  // namespace igniter::json

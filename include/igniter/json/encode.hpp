#pragma once
/// Typed encoding: the C++ types decode<T> accepts, back to JSON.

#include "igniter/json/detail/encode_impl.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json {

/// Encodes `in` as JSON, so that decode<T>(encode(in)) gives `in` back.
///
/// Described structs become objects with members in declaration order (an empty optional member is
/// null, not omitted); described enums become their enumerator name (null for a value without one);
/// non-finite floating-point values become null, as JSON.stringify writes them.
template <class T>
value encode(const T& in) {
  detail::require_codable<T>();
  return detail::encode_value<T>(in);
}

}  // namespace igniter::json

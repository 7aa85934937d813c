#pragma once
/// JSON Schema for the types decode<T> accepts, rules included: served over HTTP, turned into TypeScript.

#include "igniter/json/detail/schema_impl.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json {

/// The JSON Schema (draft 2020-12 subset) of what decode<T> accepts.
///
/// Every schema is an object. Structs give {"type":"object","properties":{...},"required":[...]} with
/// properties in declaration order and `required` always present; rules add minLength, maxLength,
/// pattern, format:"email", minimum, maximum, minItems, maxItems and enum. An optional is
/// {"anyOf":[X,{"type":"null"}]}, a string map {"type":"object","additionalProperties":X}, a described
/// enum {"type":"string","enum":[names]}, json::value {}. Nested structs are inlined, so a recursive
/// type has none (std::invalid_argument). Builds the rules of T and of nested structs: see rules_of().
template <class T>
value schema() {
  detail::require_codable<T>();
  return detail::schema_object<T>(0);
}

/// The JSON Schema of what encode<T> writes: schema<T>() with every struct member required, since encode
/// writes each one (an empty optional as null, where decode would also accept it absent). What an
/// action's answer is described with.
template <class T>
value encoded_schema() {
  value out = schema<T>();
  detail::require_every_member(out);
  return out;
}

}  // namespace igniter::json

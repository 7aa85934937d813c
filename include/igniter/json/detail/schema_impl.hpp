#pragma once
// schema<T>: JSON Schema (draft 2020-12 subset) built from the same type categories and rules as decode.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/mp11/algorithm.hpp>

#include "igniter/json/detail/constraints.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/rules.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

// Nested structs are inlined; a recursive type would recurse for ever, so a depth limit names it.
inline constexpr std::size_t kMaxSchemaDepth = 64;

template <class T>
object schema_object(std::size_t depth);

/// {"anyOf":[inner,{"type":"null"}]}: how a std::optional reads.
inline object nullable(object inner) {
  return object{{"anyOf", array{std::move(inner), object{{"type", "null"}}}}};
}

/// A member's schema: its type's, with its rules' keywords on the value inside any optional.
template <class M>
object member_schema(const FieldConstraints& c, std::size_t depth) {
  if constexpr (Optional<M>) {
    object inner = schema_object<typename M::value_type>(depth);
    add_schema_keywords(inner, c);
    return nullable(std::move(inner));
  } else {
    object s = schema_object<M>(depth);
    add_schema_keywords(s, c);
    return s;
  }
}

template <class T>
object schema_object(std::size_t depth) {
  if constexpr (Boolean<T>) {
    return object{{"type", "boolean"}};
  } else if constexpr (Integer<T>) {
    object s{{"type", "integer"}};
    // The decoder rejects what does not fit T; say so where a JavaScript number can spell the bound.
    if constexpr (sizeof(T) < 8 && std::is_signed_v<T>)
      s["minimum"] = std::int64_t{std::numeric_limits<T>::min()};
    if constexpr (std::is_unsigned_v<T>) s["minimum"] = 0;
    if constexpr (sizeof(T) < 8) s["maximum"] = std::int64_t{std::numeric_limits<T>::max()};
    return s;
  } else if constexpr (Floating<T>) {
    return object{{"type", "number"}};
  } else if constexpr (String<T>) {
    return object{{"type", "string"}};
  } else if constexpr (DescribedEnum<T>) {
    array names;
    for (std::string_view name : EnumTable<T>::names) names.emplace_back(name);
    return object{{"type", "string"}, {"enum", std::move(names)}};
  } else if constexpr (Optional<T>) {
    return nullable(schema_object<typename T::value_type>(depth));
  } else if constexpr (Vector<T>) {
    return object{{"type", "array"}, {"items", schema_object<typename T::value_type>(depth)}};
  } else if constexpr (StringMap<T>) {
    return object{{"type", "object"},
                  {"additionalProperties", schema_object<typename T::mapped_type>(depth)}};
  } else if constexpr (DescribedStruct<T>) {
    if (depth >= kMaxSchemaDepth)
      throw std::invalid_argument("igniter::json::schema: structs nested too deep (is the type recursive?)");
    const Rules<T>& rules = rules_of<T>();
    object properties;
    array required;
    std::size_t index = 0;
    boost::mp11::mp_for_each<members_of<T>>([&](auto d) {
      using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
      const FieldEntry<T>& entry = rules.fields()[index++];
      properties.emplace(entry.name, member_schema<M>(entry.constraints, depth + 1));
      if (!Optional<M> && !std::is_same_v<M, value> && !entry.constraints.optional)
        required.emplace_back(entry.name);
    });
    return object{
        {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
  } else if constexpr (FieldsObject<T>) {
    if (depth >= kMaxSchemaDepth)
      throw std::invalid_argument("igniter::json::schema: structs nested too deep (is the type recursive?)");
    object properties;
    array required;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         using M = std::tuple_element_t<I, decltype(T::values)>;
         properties.emplace(T::names::at[I], schema_object<M>(depth + 1));
         if (!Optional<M> && !std::is_same_v<M, value>) required.emplace_back(T::names::at[I]);
       }()),
       ...);
    }
    (std::make_index_sequence<std::tuple_size_v<decltype(T::values)>>{});
    return object{
        {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
  } else if constexpr (std::is_same_v<T, value>) {
    return object{};
  } else if constexpr (std::is_same_v<T, object>) {
    return object{{"type", "object"}};
  } else if constexpr (std::is_same_v<T, array>) {
    return object{{"type", "array"}};
  } else {
    require_codable<T>();
    return object{};
  }
}

/// Lists every member of every struct schema within `s` as required (what encode writes, see encoded_schema).
inline void require_every_member(value& s) {
  auto* o = s.if_object();
  if (!o) return;
  if (auto* properties = o->if_contains("properties"); properties && properties->is_object()) {
    array required;
    for (auto& [name, member] : properties->as_object()) {
      required.emplace_back(name);
      require_every_member(member);
    }
    (*o)["required"] = std::move(required);
  }
  for (std::string_view key : {"items", "additionalProperties"})
    if (auto* inner = o->if_contains(key)) require_every_member(*inner);
  if (auto* any = o->if_contains("anyOf"); any && any->is_array())
    for (auto& inner : any->as_array()) require_every_member(inner);
}

}  // namespace igniter::json::detail

#pragma once
// encode<T>: the mirror image of decode_into.

#include <cmath>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/mp11/algorithm.hpp>

#include "igniter/json/detail/traits.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

template <class T>
value encode_value(const T& in) {
  if constexpr (Boolean<T> || Integer<T>) {
    return value(in);
  } else if constexpr (Floating<T>) {
    if (!std::isfinite(in)) return nullptr;  // JSON has no NaN or infinity; JSON.stringify writes null
    return value(static_cast<double>(in));
  } else if constexpr (String<T>) {
    return value(in);
  } else if constexpr (DescribedEnum<T>) {
    for (std::size_t i = 0; i < EnumTable<T>::size; ++i)
      if (EnumTable<T>::values[i] == in) return value(EnumTable<T>::names[i]);
    return nullptr;  // a value with no described name has no spelling a client would accept back
  } else if constexpr (Optional<T>) {
    if (!in) return nullptr;
    return encode_value<typename T::value_type>(*in);
  } else if constexpr (Vector<T>) {
    array out;
    out.reserve(in.size());
    // The explicit element type turns std::vector<bool>'s proxy references into bool.
    for (const auto& item : in) out.push_back(encode_value<typename T::value_type>(item));
    return out;
  } else if constexpr (StringMap<T>) {
    object out;
    out.reserve(in.size());
    for (const auto& [key, item] : in) out.emplace(key, encode_value(item));
    return out;
  } else if constexpr (DescribedStruct<T>) {
    object out;
    out.reserve(member_count<T>);
    boost::mp11::mp_for_each<members_of<T>>(
        [&](auto d) { out.emplace(d.name, encode_value(in.*d.pointer)); });
    return out;
  } else if constexpr (FieldsObject<T>) {
    object out;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      out.reserve(sizeof...(I));
      (out.emplace(T::names::at[I], encode_value(std::get<I>(in.values))), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<decltype(in.values)>>{});
    return out;
  } else if constexpr (JsonValue<T>) {
    return value(in);
  } else {
    require_codable<T>();
    return nullptr;
  }
}

}  // namespace igniter::json::detail

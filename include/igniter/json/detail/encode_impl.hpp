#pragma once
// encode<T>: the mirror image of decode_into.

#include <charconv>
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

// Whether the I-th of Names is its first occurrence: encode_value keeps the first member of a name (an
// object's emplace), and write_json writes what it would.
template <class Names, std::size_t I>
constexpr bool first_of_its_name() {
  for (std::size_t j = 0; j < I; ++j)
    if (Names::at[j] == Names::at[I]) return false;
  return true;
}

template <class Number>
void append_number(std::string& out, Number in) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, in);  // shortest round trip, as stringify
  if (error == std::errc{}) out.append(text, end);
}

/// Appends to `out` the JSON text of encode_value(in), as stringify writes it, without building the value
/// first: one pass, no allocation per member. ResponseBuilder writes typed answers with it.
template <class T>
void write_json(std::string& out, const T& in) {
  if constexpr (Boolean<T>) {
    out += in ? "true" : "false";
  } else if constexpr (Integer<T>) {
    append_number(out, in);
  } else if constexpr (Floating<T>) {
    if (std::isfinite(in))
      append_number(out, static_cast<double>(in));
    else
      out += "null";
  } else if constexpr (String<T>) {
    append_string(out, in);
  } else if constexpr (DescribedEnum<T>) {
    for (std::size_t i = 0; i < EnumTable<T>::size; ++i)
      if (EnumTable<T>::values[i] == in) return append_string(out, EnumTable<T>::names[i]);
    out += "null";
  } else if constexpr (Optional<T>) {
    if (in)
      write_json<typename T::value_type>(out, *in);
    else
      out += "null";
  } else if constexpr (Vector<T>) {
    out += '[';
    bool first = true;
    for (const auto& item : in) {
      if (!std::exchange(first, false)) out += ',';
      write_json<typename T::value_type>(out, item);
    }
    out += ']';
  } else if constexpr (StringMap<T>) {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : in) {
      if (!std::exchange(first, false)) out += ',';
      append_string(out, key);
      out += ':';
      write_json(out, item);
    }
    out += '}';
  } else if constexpr (DescribedStruct<T>) {
    out += '{';
    bool first = true;
    boost::mp11::mp_for_each<members_of<T>>([&](auto d) {
      if (!std::exchange(first, false)) out += ',';
      append_string(out, d.name);
      out += ':';
      write_json(out, in.*d.pointer);
    });
    out += '}';
  } else if constexpr (FieldsObject<T>) {
    out += '{';
    bool first = true;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      [[maybe_unused]] auto member = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
        if constexpr (first_of_its_name<typename T::names, N>()) {
          if (!std::exchange(first, false)) out += ',';
          append_string(out, T::names::at[N]);
          out += ':';
          write_json(out, std::get<N>(in.values));
        }
      };
      (member(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<std::tuple_size_v<decltype(in.values)>>{});
    out += '}';
  } else if constexpr (JsonValue<T>) {
    stringify_to(out, in);
  } else {
    require_codable<T>();
  }
}

}  // namespace igniter::json::detail

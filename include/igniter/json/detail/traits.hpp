#pragma once
// Type categories shared by decode, encode, schema and rules.

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include "igniter/json/fields.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

template <class T>
struct is_optional : std::false_type {};
template <class U>
struct is_optional<std::optional<U>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class U, class A>
struct is_vector<std::vector<U, A>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class U, class C, class A>
struct is_string_map<std::map<std::string, U, C, A>> : std::true_type {};
template <class U, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, U, H, E, A>> : std::true_type {};

/// std::optional<U> gives U; anything else is itself. Rules apply to the unwrapped type.
template <class T>
struct unwrap_optional {
  using type = T;
};
template <class U>
struct unwrap_optional<std::optional<U>> {
  using type = U;
};
template <class T>
using unwrap_optional_t = typename unwrap_optional<T>::type;

template <class T>
concept Boolean = std::is_same_v<T, bool>;

// Character types are not numbers to a JSON reader; signed/unsigned char (int8_t/uint8_t) are.
template <class T>
concept Integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
                  !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> &&
                  !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>;

template <class T>
concept Floating = std::is_floating_point_v<T>;

template <class T>
concept Number = Integer<T> || Floating<T>;

template <class T>
concept String = std::is_same_v<T, std::string>;

template <class T>
concept Optional = is_optional<T>::value;

template <class T>
concept Vector = is_vector<T>::value;

template <class T>
concept StringMap = is_string_map<T>::value;

template <class T>
concept DescribedEnum = std::is_enum_v<T> && boost::describe::has_describe_enumerators<T>::value;

template <class T>
concept DescribedStruct = std::is_class_v<T> && boost::describe::has_describe_members<T>::value;

template <class T>
concept FieldsObject = is_fields<T>::value;

template <class T>
concept JsonValue = std::is_same_v<T, value> || std::is_same_v<T, object> || std::is_same_v<T, array>;

/// Whether decode/encode/schema know T itself (members and elements are checked when reached).
template <class T>
inline constexpr bool is_codable_v =
    Boolean<T> || Number<T> || String<T> || Optional<T> || Vector<T> || StringMap<T> || DescribedEnum<T> ||
    DescribedStruct<T> || FieldsObject<T> || JsonValue<T>;

/// Fails the build, with one readable message, when T is not something the json module knows.
template <class T>
constexpr void require_codable() {
  static_assert(is_codable_v<T>,
                "igniter::json: unsupported type. Use bool, an integer or floating-point type, std::string, "
                "std::optional<U>, std::vector<U>, std::map/std::unordered_map<std::string, U>, "
                "json::value/object/array, an enum described with BOOST_DESCRIBE_ENUM, a struct described "
                "with BOOST_DESCRIBE_STRUCT or json::Fields (see the 'required from' notes for where the "
                "type comes from).");
}

/// The public data members of a described struct, including described bases', in declaration order.
template <class T>
using members_of =
    boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;

template <class T>
inline constexpr std::size_t member_count = boost::mp11::mp_size<members_of<T>>::value;

/// The enumerators of a described enum: names and values, in declaration order.
template <class E>
struct EnumTable {
  static constexpr std::size_t size = boost::mp11::mp_size<boost::describe::describe_enumerators<E>>::value;

  static constexpr std::array<std::string_view, size> names = [] {
    std::array<std::string_view, size> out{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) { out[i++] = d.name; });
    return out;
  }();

  static constexpr std::array<E, size> values = [] {
    std::array<E, size> out{};
    std::size_t i = 0;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) { out[i++] = d.value; });
    return out;
  }();
};

}  // namespace igniter::json::detail

#pragma once
// decode<T>: one template per type category, recursing into members and elements.

#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/mp11/algorithm.hpp>

#include "igniter/json/detail/constraints.hpp"
#include "igniter/json/detail/context.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/rules.hpp"

namespace igniter::json::detail {

template <class T>
void decode_into(const value& v, T& out, Context& ctx);

/// What zod would name as `expected` for T.
template <class T>
std::string expected_name() {
  if constexpr (Boolean<T>)
    return "boolean";
  else if constexpr (Number<T>)
    return "number";
  else if constexpr (String<T>)
    return "string";
  else if constexpr (DescribedEnum<T>)
    return quoted_alternatives(EnumTable<T>::names);
  else if constexpr (Optional<T>)
    return expected_name<typename T::value_type>();
  else if constexpr (Vector<T> || std::is_same_v<T, array>)
    return "array";
  else if constexpr (std::is_same_v<T, value>)
    return "unknown";
  else
    return "object";
}

/// Whether a member of type M may be absent without an issue, whatever its rules say.
template <class M>
inline constexpr bool absent_is_fine = Optional<M> || std::is_same_v<M, value>;

template <class V>
void check_constraints(const V& field, const FieldConstraints& c, Context& ctx) {
  if constexpr (String<V>)
    check_string(field, c, ctx);
  else if constexpr (Number<V>)
    check_number(static_cast<double>(field), c, ctx);
  else if constexpr (Vector<V>)
    check_items(field.size(), c, ctx);
}

template <class T, class M>
void decode_member(const object& in, T& whole, M& member, const FieldEntry<T>& entry, Context& ctx) {
  ctx.push(entry.name);
  const value* field = in.if_contains(entry.name);
  // A form or query string sends an empty value for "nothing"; only a string member keeps it.
  if (field && ctx.text() && !String<M> && field->is_string() && field->get_string().empty()) field = nullptr;
  if (!field) {
    if (!absent_is_fine<M> && !entry.constraints.optional) ctx.report(required_issue(expected_name<M>()));
  } else if (const auto* items = field->if_array(); Vector<unwrap_optional_t<M>> && items &&
                                                    entry.constraints.max_items &&
                                                    items->size() > *entry.constraints.max_items) {
    // Too many items is the answer, whatever they are: none is decoded (a huge array of bad items would
    // otherwise be read, and reported, item by item).
    check_items(items->size(), entry.constraints, ctx);
  } else {
    const std::size_t before = ctx.issue_count();
    decode_into(*field, member, ctx);
    if (ctx.issue_count() == before) {
      if constexpr (Optional<M>) {
        if (member) check_constraints(*member, entry.constraints, ctx);
      } else {
        check_constraints(member, entry.constraints, ctx);
      }
      for (const FieldCheck<T>& check : entry.checks)
        if (!check.passes(whole)) ctx.report(custom_issue(check.message));
    }
  }
  ctx.pop();
}

template <class T>
void decode_object(const object& in, T& out, Context& ctx) {
  static_assert(std::is_default_constructible_v<T>,
                "igniter::json: a decoded struct must be default-constructible");
  const Rules<T>& rules = rules_of<T>();
  const std::size_t before = ctx.issue_count();
  std::size_t index = 0;
  boost::mp11::mp_for_each<members_of<T>>(
      [&](auto d) { decode_member(in, out, out.*d.pointer, rules.fields()[index++], ctx); });
  if (ctx.issue_count() != before) return;
  for (const ObjectCheck<T>& check : rules.checks())
    if (!check.passes(out)) ctx.report(custom_issue(check.message), check.path);
}

template <class T>
void decode_into(const value& v, T& out, Context& ctx) {
  if constexpr (Boolean<T>) {
    if (auto b = read_bool(v, ctx)) out = *b;
  } else if constexpr (Integer<T> && std::is_signed_v<T>) {
    if (auto n = read_signed(v, ctx, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()))
      out = static_cast<T>(*n);
  } else if constexpr (Integer<T>) {
    if (auto n = read_unsigned(v, ctx, std::numeric_limits<T>::max())) out = static_cast<T>(*n);
  } else if constexpr (Floating<T>) {
    if (auto x = read_floating(v, ctx, static_cast<double>(std::numeric_limits<T>::max())))
      out = static_cast<T>(*x);
  } else if constexpr (String<T>) {
    if (const boost::json::string* s = read_string(v, ctx)) out.assign(s->data(), s->size());
  } else if constexpr (DescribedEnum<T>) {
    if (auto i = read_enum(v, ctx, EnumTable<T>::names)) out = EnumTable<T>::values[*i];
  } else if constexpr (Optional<T>) {
    if (v.is_null() || (ctx.text() && v.is_string() && v.get_string().empty())) {
      out.reset();
    } else {
      out.emplace();
      decode_into(v, *out, ctx);
    }
  } else if constexpr (Vector<T>) {
    using U = typename T::value_type;
    out.clear();
    if (ctx.text() && v.is_string()) {  // `?tag=a` is a list of one; `?tag=a&tag=b` arrives as an array
      U item{};
      decode_into(v, item, ctx);
      out.push_back(std::move(item));
      return;
    }
    const array* in = read_array(v, ctx);
    if (!in) return;
    out.reserve(in->size());
    for (std::size_t i = 0; i < in->size(); ++i) {
      if (ctx.full()) return ctx.cut();
      U item{};  // not emplace_back + reference: std::vector<bool> has no bool&
      ctx.push(i);
      decode_into((*in)[i], item, ctx);
      ctx.pop();
      out.push_back(std::move(item));
    }
  } else if constexpr (StringMap<T>) {
    const object* in = read_object(v, ctx);
    if (!in) return;
    out.clear();
    for (const auto& kv : *in) {
      if (ctx.full()) return ctx.cut();
      typename T::mapped_type item{};
      ctx.push(kv.key());
      decode_into(kv.value(), item, ctx);
      ctx.pop();
      out.emplace(std::string(kv.key()), std::move(item));
    }
  } else if constexpr (DescribedStruct<T>) {
    if (const object* in = read_object(v, ctx)) decode_object(*in, out, ctx);
  } else if constexpr (FieldsObject<T>) {
    const object* in = read_object(v, ctx);
    if (!in) return;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         using M = std::tuple_element_t<I, decltype(T::values)>;
         ctx.push(T::names::at[I]);
         const value* field = in->if_contains(T::names::at[I]);
         if (field && ctx.text() && !String<M> && field->is_string() && field->get_string().empty())
           field = nullptr;
         if (field)
           decode_into(*field, std::get<I>(out.values), ctx);
         else if (!absent_is_fine<M>)
           ctx.report(required_issue(expected_name<M>()));
         ctx.pop();
       }()),
       ...);
    }
    (std::make_index_sequence<std::tuple_size_v<decltype(T::values)>>{});
  } else if constexpr (std::is_same_v<T, value>) {
    out = v;
  } else if constexpr (std::is_same_v<T, object>) {
    if (const object* in = read_object(v, ctx)) out = *in;
  } else if constexpr (std::is_same_v<T, array>) {
    if (const array* in = read_array(v, ctx)) out = *in;
  } else {
    require_codable<T>();
  }
}

}  // namespace igniter::json::detail

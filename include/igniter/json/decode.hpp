#pragma once
/// Typed decoding: JSON (or query-string text) into C++ types, with zod-style issues for what does not fit.

#include <optional>
#include <utility>
#include <vector>

#include "igniter/json/detail/decode_impl.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/issue.hpp"
#include "igniter/json/rules.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json {

/// How scalars are read.
enum class Mode {
  json,  ///< strict JSON types: "42" is not a number
  text,  ///< query strings and path parameters: strings coerce to the target type (see decode)
};

/// The outcome of decode<T>: a value when there are no issues, the issues otherwise.
template <class T>
struct Decoded {
  std::optional<T> value;     ///< engaged exactly when `issues` is empty
  std::vector<Issue> issues;  ///< every problem found, in document order

  bool ok() const noexcept { return issues.empty(); }
  explicit operator bool() const noexcept { return ok(); }

  /// The decoded value; only valid when ok().
  T& operator*() & { return *value; }
  const T& operator*() const& { return *value; }
  T&& operator*() && { return *std::move(value); }
  T* operator->() { return &*value; }
  const T* operator->() const { return &*value; }

  /// The issues as zod's array of issue objects.
  boost::json::value issues_json() const { return to_json(issues); }
};

/// Decodes `v` into a T, collecting every issue rather than stopping at the first.
///
/// T is bool, an integer or floating-point type, std::string, std::optional<U> (null gives nullopt),
/// std::vector<U>, std::map/std::unordered_map<std::string, U>, a BOOST_DESCRIBE_ENUM enum (by name), a
/// BOOST_DESCRIBE_STRUCT struct (unknown keys ignored; a missing member is an issue unless it is an
/// optional, a json::value, or marked `.optional()` by its rules, and then keeps its default), or
/// json::value/object/array as they are. Rules run on a field only once it decoded cleanly, and a
/// struct's whole-object checks only when the struct has no other issue. Bounds: at most 100 issues are
/// listed (past them arrays and maps are not read further, and one last issue says so), and an array
/// past its `max_items` is one `too_big` issue, its items unread (docs/validation.md).
///
/// In Mode::text, for query strings and path parameters, `v` is an object of strings (a repeated key is
/// an array of strings): "42" reads as an integer (the whole string, nothing trailing), "1.5" as a
/// floating-point number, "true"/"false"/"1"/"0" as a bool, a single string as a vector of one, and an
/// empty string as an absent member (except for a std::string member, which gets "").
///
/// Throws only what rules_of<T>() throws on misconfigured rules, and std::bad_alloc.
template <class T>
Decoded<T> decode(const value& v, Mode mode = Mode::json) {
  detail::require_codable<T>();
  detail::Context ctx(mode == Mode::text);
  Decoded<T> out;
  T decoded{};
  detail::decode_into(v, decoded, ctx);
  out.issues = ctx.take_issues();
  if (out.issues.empty()) out.value.emplace(std::move(decoded));
  return out;
}

/// Decodes an object into the described struct T without copying it into a json::value first.
template <class T>
requires detail::DescribedStruct<T> Decoded<T> decode(const object& o, Mode mode = Mode::json) {
  detail::Context ctx(mode == Mode::text);
  Decoded<T> out;
  T decoded{};
  detail::decode_object(o, decoded, ctx);
  out.issues = ctx.take_issues();
  if (out.issues.empty()) out.value.emplace(std::move(decoded));
  return out;
}

}  // namespace igniter::json

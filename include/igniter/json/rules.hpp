#pragma once
/// Declarative, zod-like constraints on described structs, declared by a static `rules` member:
///
///     struct CreatePost {
///       std::string title;
///       int priority = 0;
///       static void rules(igniter::json::Rules<CreatePost>& r) {
///         r.field(&CreatePost::title).non_empty().max_length(200);
///         r.field(&CreatePost::priority).min(0).max(10).optional();
///       }
///     };
///     BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, priority))

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/mp11/algorithm.hpp>

#include "igniter/json/detail/constraints.hpp"
#include "igniter/json/detail/traits.hpp"
#include "igniter/json/issue.hpp"

namespace igniter::json {

template <class T>
class Rules;

/// A type that declares `static void rules(igniter::json::Rules<T>&)`.
template <class T>
concept HasRules = requires(Rules<T>& r) {
  T::rules(r);
};

namespace detail {

template <class T>
struct FieldCheck {
  std::function<bool(const T&)> passes;  // already unwraps the member; true for an empty optional
  std::string message;
};

template <class T>
struct ObjectCheck {
  std::function<bool(const T&)> passes;
  std::string message;
  Path path;
};

/// The rules of one described member, at the member's index in declaration order.
template <class T>
struct FieldEntry {
  std::string_view name;
  FieldConstraints constraints;
  std::vector<FieldCheck<T>> checks;
};

}  // namespace detail

/// Constraints on one member `M` of `T`; returned by Rules<T>::field and chained.
///
/// For a `std::optional<U>` member the constraints apply to the `U` inside, when there is one. A rule
/// that does not fit the member's type (min_length on an int, say) does not compile.
template <class T, class M>
class FieldRules {
 public:
  /// The type the constraints look at: M, or U for std::optional<U>.
  using Value = detail::unwrap_optional_t<M>;

  /// At least `n` characters (counted as JavaScript does: UTF-16 code units).
  FieldRules& min_length(std::size_t n) {
    static_assert(detail::String<Value>,
                  "min_length() applies to std::string members (min_items() for arrays)");
    constraints().min_length = n;
    return *this;
  }
  /// At most `n` characters.
  FieldRules& max_length(std::size_t n) {
    static_assert(detail::String<Value>,
                  "max_length() applies to std::string members (max_items() for arrays)");
    constraints().max_length = n;
    return *this;
  }
  /// Exactly `n` characters.
  FieldRules& length(std::size_t n) {
    static_assert(detail::String<Value>, "length() applies to std::string members");
    constraints().min_length = n;
    constraints().max_length = n;
    constraints().exact_length = true;
    return *this;
  }
  /// At least one character, or one element for a std::vector.
  FieldRules& non_empty() {
    static_assert(detail::String<Value> || detail::Vector<Value>,
                  "non_empty() applies to std::string and std::vector members");
    if constexpr (detail::String<Value>)
      constraints().min_length = 1;
    else
      constraints().min_items = 1;
    return *this;
  }
  /// Must contain a match of the ECMAScript expression `regex` (anchor it with ^...$ for a whole match).
  /// `message` is the message. An invalid expression throws std::invalid_argument when the rules
  /// are built. Pair it with max_length(): a pattern is not tried on a string that is already too long, and
  /// a string longer than detail::kMaxPatternInput (4096 bytes) fails it without being searched.
  FieldRules& pattern(std::string regex, std::string message = "Invalid") {
    static_assert(detail::String<Value>, "pattern() applies to std::string members");
    constraints().patterns.emplace_back(std::move(regex), std::move(message));
    return *this;
  }
  /// A syntactically valid email address, as zod's `.email()` decides.
  FieldRules& email() {
    static_assert(detail::String<Value>, "email() applies to std::string members");
    constraints().email = true;
    return *this;
  }
  /// Greater than or equal to `bound`.
  FieldRules& min(double bound) {
    static_assert(detail::Number<Value>, "min() applies to integer and floating-point members");
    constraints().minimum = bound;
    return *this;
  }
  /// Less than or equal to `bound`.
  FieldRules& max(double bound) {
    static_assert(detail::Number<Value>, "max() applies to integer and floating-point members");
    constraints().maximum = bound;
    return *this;
  }
  /// At least `n` elements.
  FieldRules& min_items(std::size_t n) {
    static_assert(detail::Vector<Value>,
                  "min_items() applies to std::vector members (min_length() for strings)");
    constraints().min_items = n;
    return *this;
  }
  /// At most `n` elements.
  FieldRules& max_items(std::size_t n) {
    static_assert(detail::Vector<Value>,
                  "max_items() applies to std::vector members (max_length() for strings)");
    constraints().max_items = n;
    return *this;
  }
  /// One of `allowed` (an invalid_enum_value issue otherwise); the schema lists them as `enum`.
  FieldRules& one_of(std::vector<Value> allowed) {
    static_assert(detail::String<Value> || detail::Number<Value>,
                  "one_of() applies to std::string and number members (use a described enum otherwise)");
    array& options = constraints().one_of;
    options.clear();
    for (const Value& option : allowed) {
      if constexpr (detail::String<Value>)
        options.emplace_back(option);
      else
        options.push_back(detail::number_value(static_cast<double>(option)));
    }
    return *this;
  }
  /// A missing key is not an issue: the member keeps its default member initializer value.
  FieldRules& optional() {
    constraints().optional = true;
    return *this;
  }
  /// `predicate(value)` must hold, or a `custom` issue with `message` is reported at this field.
  /// Runs only when the field decoded and its other constraints were checked; not for an empty optional.
  FieldRules& check(std::function<bool(const Value&)> predicate, std::string message) {
    entry_->checks.push_back({[member = member_, predicate = std::move(predicate)](const T& whole) {
                                const M& field = whole.*member;
                                if constexpr (detail::Optional<M>)
                                  return !field || predicate(*field);
                                else
                                  return predicate(field);
                              },
                              std::move(message)});
    return *this;
  }

 private:
  friend class Rules<T>;
  FieldRules(detail::FieldEntry<T>& entry, M T::*member) noexcept : entry_(&entry), member_(member) {}
  detail::FieldConstraints& constraints() noexcept { return entry_->constraints; }

  detail::FieldEntry<T>* entry_;
  M T::*member_;
};

/// The constraints of a described struct `T`, filled in by `T::rules` and then immutable.
///
/// The decoder applies a field's constraints only when that field decoded without issues, and the
/// whole-object checks only when the whole object decoded and validated without issues.
///
/// `T::rules` is usually defined inside T, before BOOST_DESCRIBE_STRUCT(T, ...): nothing in this class
/// may look at T's description until a member function body is instantiated (at the end of the
/// translation unit), or a trait would be fixed to "not described" for good.
template <class T>
class Rules {
 public:
  Rules() {
    static_assert(detail::DescribedStruct<T>, "Rules<T> needs T described with BOOST_DESCRIBE_STRUCT");
    fields_.reserve(detail::member_count<T>);
    boost::mp11::mp_for_each<detail::members_of<T>>([&](auto d) { fields_.push_back({d.name, {}, {}}); });
  }

  /// The constraints of `member`, which must be one the BOOST_DESCRIBE_STRUCT lists (or a described
  /// base's); another member throws std::invalid_argument.
  template <class M, class C>
  requires std::is_base_of_v<C, T> FieldRules<T, M> field(M C::*member) {
    const M T::*wanted = member;
    std::size_t index = 0;
    std::size_t found = fields_.size();
    boost::mp11::mp_for_each<detail::members_of<T>>([&](auto d) {
      if constexpr (std::is_convertible_v<decltype(d.pointer), const M T::*>) {
        const M T::*candidate = d.pointer;
        if (candidate == wanted) found = index;
      }
      ++index;
    });
    if (found == fields_.size())
      throw std::invalid_argument(
          "igniter::json::Rules::field: member is not listed in BOOST_DESCRIBE_STRUCT");
    return FieldRules<T, M>(fields_[found], static_cast<M T::*>(member));
  }

  /// `predicate(object)` must hold, or a `custom` issue with `message` is reported at `path` (relative
  /// to the object; empty means the object itself). Runs only when the object has no other issue.
  Rules& check(std::function<bool(const T&)> predicate, std::string message, Path path = {}) {
    checks_.push_back({std::move(predicate), std::move(message), std::move(path)});
    return *this;
  }

  /// One entry per described member, in declaration order (read by the decoder and schema()).
  const std::vector<detail::FieldEntry<T>>& fields() const noexcept { return fields_; }
  /// The whole-object checks, in declaration order.
  const std::vector<detail::ObjectCheck<T>>& checks() const noexcept { return checks_; }

 private:
  std::vector<detail::FieldEntry<T>> fields_;
  std::vector<detail::ObjectCheck<T>> checks_;
};

/// The rules of `T`, built by `T::rules` on first use and shared (read-only) by every thread after.
///
/// Misconfiguration (an invalid pattern, a member BOOST_DESCRIBE_STRUCT does not list) throws
/// std::invalid_argument from here; schema<T>() builds the rules of T and every nested struct, so
/// calling it at start-up surfaces such mistakes before the first request.
template <class T>
const Rules<T>& rules_of() {
  static_assert(detail::DescribedStruct<T>, "rules_of<T> needs T described with BOOST_DESCRIBE_STRUCT");
  if constexpr (requires { &T::rules; })
    static_assert(HasRules<T>, "T::rules must be declared `static void rules(igniter::json::Rules<T>& r)`");
  static const Rules<T> rules = [] {
    Rules<T> built;
    if constexpr (HasRules<T>) T::rules(built);
    return built;
  }();
  return rules;
}

}  // namespace igniter::json

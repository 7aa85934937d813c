#pragma once
// Declarative field constraints: stored by Rules, checked by the decoder, emitted by schema().
// Checks are non-template (src/json/constraints.cpp); only the dispatch on the field type is a template.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/json/detail/context.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

/// Longest string (in bytes) a pattern is run on; a longer one does not match. libstdc++'s std::regex
/// recurses once per character or more, so a client-sent string of ~45 000 characters overflowed an
/// 8 MiB thread stack (a crash of the whole server) on a pattern as plain as `^[a-z]*$`.
inline constexpr std::size_t kMaxPatternInput = 4096;

/// An ECMAScript regular expression compiled once; matching is a search, like JavaScript's `test`.
/// Copies share the compiled expression, which is immutable and safe to use from any thread.
class Pattern {
 public:
  /// Throws std::invalid_argument when `source` is not a valid ECMAScript expression.
  Pattern(std::string source, std::string message);

  /// Whether `text` contains a match; false without searching when `text` is longer than kMaxPatternInput.
  bool matches(std::string_view text) const;
  const std::string& source() const noexcept { return source_; }
  const std::string& message() const noexcept { return message_; }

 private:
  struct Compiled;
  std::string source_;
  std::string message_;
  std::shared_ptr<const Compiled> compiled_;
};

/// Everything FieldRules can declare about one member; unset means unconstrained.
struct FieldConstraints {
  bool optional = false;  ///< a missing key keeps the member's default value
  std::optional<std::size_t> min_length;
  std::optional<std::size_t> max_length;
  bool exact_length = false;  ///< set by length(n): zod then says "exactly"
  std::vector<Pattern> patterns;
  bool email = false;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::optional<std::size_t> min_items;
  std::optional<std::size_t> max_items;
  array one_of;  ///< allowed strings or numbers; empty means any
};

/// Length as JavaScript counts it (UTF-16 code units), so that client and server agree on limits.
std::size_t js_length(std::string_view utf8) noexcept;

/// zod's email check (the same expression as zod 3.22's `z.string().email()`).
bool is_email(std::string_view text) noexcept;

/// A number as a JSON value: integral doubles become int64 so that schemas read `0`, not `0E0`.
value number_value(double x);

void check_string(std::string_view s, const FieldConstraints& c, Context& ctx);
void check_number(double x, const FieldConstraints& c, Context& ctx);
void check_items(std::size_t count, const FieldConstraints& c, Context& ctx);

/// Adds minLength, maxLength, pattern, format, minimum, maximum, minItems, maxItems and enum keywords.
void add_schema_keywords(object& schema, const FieldConstraints& c);

}  // namespace igniter::json::detail

#include "igniter/json/detail/constraints.hpp"

#include <cmath>
#include <cstdint>
#include <regex>
#include <stdexcept>

#include "json/messages.hpp"

namespace igniter::json::detail {

struct Pattern::Compiled {
  std::regex regex;
};

Pattern::Pattern(std::string source, std::string message)
    : source_(std::move(source)), message_(std::move(message)) {
  try {
    compiled_ = std::make_shared<const Compiled>(Compiled{std::regex(source_, std::regex::ECMAScript)});
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("igniter::json: invalid pattern \"" + source_ + "\": " + e.what());
  }
}

bool Pattern::matches(std::string_view text) const {
  if (text.size() > kMaxPatternInput) return false;  // the regex's recursion would outgrow the stack
  return std::regex_search(text.begin(), text.end(), compiled_->regex);
}

std::size_t js_length(std::string_view utf8) noexcept {
  // Boost.JSON has validated the UTF-8: count lead bytes, and a second unit for a surrogate pair.
  std::size_t units = 0;
  for (unsigned char byte : utf8) {
    if ((byte & 0xC0) != 0x80) ++units;
    if (byte >= 0xF0) ++units;
  }
  return units;
}

namespace {

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool one_of_allows(const array& options, const value& candidate) {
  for (const value& option : options) {
    if (option.is_string() && candidate.is_string() && option.get_string() == candidate.get_string())
      return true;
    if (option.is_number() && candidate.is_number() &&
        option.to_number<double>() == candidate.to_number<double>())
      return true;
  }
  return false;
}

}  // namespace

// zod 3.22: /^(?!\.)(?!.*\.\.)([A-Z0-9_'+\-\.]*)[A-Z0-9_+-]@([A-Z0-9][A-Z0-9\-]*\.)+[A-Z]{2,}$/i,
// written out by hand: libstdc++'s std::regex recurses per character and is slow.
bool is_email(std::string_view text) noexcept {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) return false;
  if (text.find("..") != std::string_view::npos) return false;
  const std::string_view local = text.substr(0, at);
  const std::string_view domain = text.substr(at + 1);
  if (local.empty() || local.front() == '.') return false;
  for (char c : local)
    if (!is_alnum(c) && c != '_' && c != '\'' && c != '+' && c != '-' && c != '.') return false;
  if (local.back() == '.' || local.back() == '\'') return false;

  const std::size_t last_dot = domain.rfind('.');
  if (last_dot == std::string_view::npos) return false;
  const std::string_view tld = domain.substr(last_dot + 1);
  if (tld.size() < 2) return false;
  for (char c : tld)
    if (!is_alpha(c)) return false;
  std::string_view labels = domain.substr(0, last_dot + 1);  // each label followed by its dot
  while (!labels.empty()) {
    const std::size_t dot = labels.find('.');
    const std::string_view label = labels.substr(0, dot);
    if (label.empty() || !is_alnum(label.front())) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    labels.remove_prefix(dot + 1);
  }
  return true;
}

value number_value(double x) {
  if (std::isfinite(x) && std::trunc(x) == x && x >= -9223372036854775808.0 && x < 9223372036854775808.0)
    return value(static_cast<std::int64_t>(x));
  return value(x);
}

namespace {

value size_value(std::size_t n) {
  return value(static_cast<std::uint64_t>(n));
}

}  // namespace

void check_string(std::string_view s, const FieldConstraints& c, Context& ctx) {
  bool too_long = false;
  if (c.min_length || c.max_length) {
    const std::size_t length = js_length(s);
    if (c.min_length && length < *c.min_length)
      ctx.report(bound_issue(true, "string", size_value(*c.min_length), c.exact_length));
    if (c.max_length && length > *c.max_length) {
      ctx.report(bound_issue(false, "string", size_value(*c.max_length), c.exact_length));
      too_long = true;
    }
  }
  // A string past its max_length is not searched: the limit is what bounds the regex's work.
  if (!too_long)
    for (const Pattern& pattern : c.patterns)
      if (!pattern.matches(s)) ctx.report(invalid_string_issue("regex", pattern.message()));
  if (c.email && !is_email(s)) ctx.report(invalid_string_issue("email", "Invalid email"));
  if (!c.one_of.empty()) {
    const value candidate(s);
    if (!one_of_allows(c.one_of, candidate)) ctx.report(enum_issue(c.one_of, candidate));
  }
}

void check_number(double x, const FieldConstraints& c, Context& ctx) {
  if (c.minimum && x < *c.minimum) ctx.report(bound_issue(true, "number", number_value(*c.minimum)));
  if (c.maximum && x > *c.maximum) ctx.report(bound_issue(false, "number", number_value(*c.maximum)));
  if (!c.one_of.empty()) {
    const value candidate = number_value(x);
    if (!one_of_allows(c.one_of, candidate)) ctx.report(enum_issue(c.one_of, candidate));
  }
}

void check_items(std::size_t count, const FieldConstraints& c, Context& ctx) {
  if (c.min_items && count < *c.min_items) ctx.report(bound_issue(true, "array", size_value(*c.min_items)));
  if (c.max_items && count > *c.max_items) ctx.report(bound_issue(false, "array", size_value(*c.max_items)));
}

void add_schema_keywords(object& schema, const FieldConstraints& c) {
  if (c.min_length) schema["minLength"] = size_value(*c.min_length);
  if (c.max_length) schema["maxLength"] = size_value(*c.max_length);
  if (!c.patterns.empty()) {
    schema["pattern"] = c.patterns.front().source();
    if (c.patterns.size() > 1) {
      array all;
      for (std::size_t i = 1; i < c.patterns.size(); ++i)
        all.push_back(object{{"pattern", c.patterns[i].source()}});
      schema["allOf"] = std::move(all);
    }
  }
  if (c.email) schema["format"] = "email";
  if (c.minimum) schema["minimum"] = number_value(*c.minimum);
  if (c.maximum) schema["maximum"] = number_value(*c.maximum);
  if (c.min_items) schema["minItems"] = size_value(*c.min_items);
  if (c.max_items) schema["maxItems"] = size_value(*c.max_items);
  if (!c.one_of.empty()) schema["enum"] = c.one_of;
}

}  // namespace igniter::json::detail

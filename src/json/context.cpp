#include "igniter/json/detail/context.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "json/messages.hpp"

namespace igniter::json::detail {
namespace {

// 2^63 and 2^64 as doubles: the first values past int64 and uint64.
constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

template <class N>
bool parse_whole(std::string_view text, N& out) {
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, out);
  return result.ec == std::errc{} && result.ptr == end;
}

// A query-string spelling of a number as the JSON number it would be; nothing for anything else.
// Strict: the whole string, no sign but '-', no spaces.
std::optional<value> parse_text_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (std::int64_t i; parse_whole(text, i)) return value(i);
  if (std::uint64_t u; parse_whole(text, u)) return value(u);
  const char* end = text.data() + text.size();
  double d;
  const auto result = std::from_chars(text.data(), end, d);
  if (result.ptr != end) return std::nullopt;
  if (result.ec == std::errc{}) return value(d);
  if (result.ec == std::errc::result_out_of_range) {  // past double's range: infinity, or underflow to 0
    const bool huge =
        text.find_first_of("eE") == std::string_view::npos || text[text.find_first_of("eE") + 1] != '-';
    const double magnitude = huge ? std::numeric_limits<double>::infinity() : 0.0;
    return value(text.front() == '-' ? -magnitude : magnitude);
  }
  return std::nullopt;
}

// In text mode a string stands for the number it spells; `number` then holds that number.
// Returns false (after reporting) when the string spells no number.
bool coerce_text_number(const value& v, Context& ctx, value& number) {
  if (!ctx.text() || !v.is_string()) return true;
  auto parsed = parse_text_number(v.get_string());
  if (!parsed) {
    ctx.report(invalid_type_issue("number", "string"));
    return false;
  }
  number = *parsed;
  return true;
}

// The double `d` holds an integer, or the issue saying why not has been reported.
bool integral_double(double d, Context& ctx) {
  if (std::isnan(d)) {
    ctx.report(invalid_type_issue("number", "nan"));
    return false;
  }
  if (std::trunc(d) != d) {  // infinities pass: the range checks that follow reject them
    ctx.report(invalid_type_issue("integer", "float"));
    return false;
  }
  return true;
}

}  // namespace

void Context::report(Issue issue) {
  report(std::move(issue), {});
}

void Context::report(Issue issue, const Path& suffix) {
  if (reported_++ >= kMaxIssues) return;
  issue.path.clear();
  issue.path.reserve(path_.size() + suffix.size());
  for (const auto& segment : path_) {
    if (const auto* key = std::get_if<std::string_view>(&segment))
      issue.path.emplace_back(std::string(*key));
    else
      issue.path.emplace_back(std::get<std::size_t>(segment));
  }
  issue.path.insert(issue.path.end(), suffix.begin(), suffix.end());
  issues_.push_back(std::move(issue));
}

std::vector<Issue> Context::take_issues() {
  if (reported_ > kMaxIssues || cut_)
    issues_.push_back(
        custom_issue("Decoding stopped after the first " + std::to_string(kMaxIssues) + " issues"));
  reported_ = 0;
  cut_ = false;
  return std::move(issues_);
}

std::optional<bool> read_bool(const value& v, Context& ctx) {
  if (v.is_bool()) return v.get_bool();
  if (ctx.text() && v.is_string()) {
    const std::string_view s = v.get_string();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  ctx.report(invalid_type_issue("boolean", received_name(v)));
  return std::nullopt;
}

std::optional<std::int64_t> read_signed(const value& v, Context& ctx, std::int64_t min, std::int64_t max) {
  value number;
  if (!coerce_text_number(v, ctx, number)) return std::nullopt;
  const value& n = number.is_null() ? v : number;
  std::int64_t result = 0;
  switch (n.kind()) {
    case boost::json::kind::int64:
      result = n.get_int64();
      break;
    case boost::json::kind::uint64:
      if (n.get_uint64() > static_cast<std::uint64_t>(max)) {
        ctx.report(bound_issue(false, "number", value(max)));
        return std::nullopt;
      }
      result = static_cast<std::int64_t>(n.get_uint64());
      break;
    case boost::json::kind::double_: {
      const double d = n.get_double();
      if (!integral_double(d, ctx)) return std::nullopt;
      if (d < static_cast<double>(min)) {
        ctx.report(bound_issue(true, "number", value(min)));
        return std::nullopt;
      }
      if (d >= kTwo63) {
        ctx.report(bound_issue(false, "number", value(max)));
        return std::nullopt;
      }
      result = static_cast<std::int64_t>(d);
      break;
    }
    default:
      ctx.report(invalid_type_issue("number", received_name(n)));
      return std::nullopt;
  }
  if (result < min) {
    ctx.report(bound_issue(true, "number", value(min)));
    return std::nullopt;
  }
  if (result > max) {
    ctx.report(bound_issue(false, "number", value(max)));
    return std::nullopt;
  }
  return result;
}

std::optional<std::uint64_t> read_unsigned(const value& v, Context& ctx, std::uint64_t max) {
  value number;
  if (!coerce_text_number(v, ctx, number)) return std::nullopt;
  const value& n = number.is_null() ? v : number;
  std::uint64_t result = 0;
  switch (n.kind()) {
    case boost::json::kind::int64:
      if (n.get_int64() < 0) {
        ctx.report(bound_issue(true, "number", value(0)));
        return std::nullopt;
      }
      result = static_cast<std::uint64_t>(n.get_int64());
      break;
    case boost::json::kind::uint64:
      result = n.get_uint64();
      break;
    case boost::json::kind::double_: {
      const double d = n.get_double();
      if (!integral_double(d, ctx)) return std::nullopt;
      if (d < 0) {
        ctx.report(bound_issue(true, "number", value(0)));
        return std::nullopt;
      }
      if (d >= kTwo64) {
        ctx.report(bound_issue(false, "number", value(max)));
        return std::nullopt;
      }
      result = static_cast<std::uint64_t>(d);
      break;
    }
    default:
      ctx.report(invalid_type_issue("number", received_name(n)));
      return std::nullopt;
  }
  if (result > max) {
    ctx.report(bound_issue(false, "number", value(max)));
    return std::nullopt;
  }
  return result;
}

std::optional<double> read_floating(const value& v, Context& ctx, double max_magnitude) {
  value number;
  if (!coerce_text_number(v, ctx, number)) return std::nullopt;
  const value& n = number.is_null() ? v : number;
  if (!n.is_number()) {
    ctx.report(invalid_type_issue("number", received_name(n)));
    return std::nullopt;
  }
  const double x = n.to_number<double>();
  if (std::isnan(x)) {
    ctx.report(invalid_type_issue("number", "nan"));
    return std::nullopt;
  }
  if (x > max_magnitude) {
    ctx.report(bound_issue(false, "number", value(max_magnitude)));
    return std::nullopt;
  }
  if (x < -max_magnitude) {
    ctx.report(bound_issue(true, "number", value(-max_magnitude)));
    return std::nullopt;
  }
  return x;
}

const boost::json::string* read_string(const value& v, Context& ctx) {
  if (const boost::json::string* s = v.if_string()) return s;
  ctx.report(invalid_type_issue("string", received_name(v)));
  return nullptr;
}

std::optional<std::size_t> read_enum(const value& v, Context& ctx, std::span<const std::string_view> names) {
  const boost::json::string* s = v.if_string();
  if (!s) {
    ctx.report(invalid_type_issue(quoted_alternatives(names), received_name(v)));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == *s) return i;
  array options;
  options.reserve(names.size());
  for (std::string_view name : names) options.emplace_back(name);
  ctx.report(enum_issue(options, v));
  return std::nullopt;
}

const object* read_object(const value& v, Context& ctx) {
  if (const object* o = v.if_object()) return o;
  ctx.report(invalid_type_issue("object", received_name(v)));
  return nullptr;
}

const array* read_array(const value& v, Context& ctx) {
  if (const array* a = v.if_array()) return a;
  ctx.report(invalid_type_issue("array", received_name(v)));
  return nullptr;
}

}  // namespace igniter::json::detail

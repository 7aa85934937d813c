#include "igniter/json/issue.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <variant>

#include "igniter/json/detail/context.hpp"
#include "json/messages.hpp"

namespace igniter::json {

value to_json(const Issue& issue) {
  object out;
  out.reserve(5 + issue.details.size());
  out.emplace("code", issue.code);
  if (!issue.expected.empty()) out.emplace("expected", issue.expected);
  if (!issue.received.empty()) out.emplace("received", issue.received);
  for (const auto& kv : issue.details) out.emplace(kv.key(), kv.value());
  array path;
  path.reserve(issue.path.size());
  for (const PathSegment& segment : issue.path)
    std::visit([&](const auto& s) { path.emplace_back(s); }, segment);
  out.emplace("path", std::move(path));
  out.emplace("message", issue.message);
  return out;
}

value to_json(const std::vector<Issue>& issues) {
  array out;
  out.reserve(issues.size());
  for (const Issue& issue : issues) out.push_back(to_json(issue));
  return out;
}

std::string path_to_string(const Path& path) {
  std::string out;
  for (const PathSegment& segment : path) {
    if (const auto* key = std::get_if<std::string>(&segment)) {
      if (!out.empty()) out += '.';
      out += *key;
    } else {
      out += '[';
      out += std::to_string(std::get<std::size_t>(segment));
      out += ']';
    }
  }
  return out;
}

namespace detail {

std::string received_name(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "number";
    case boost::json::kind::string:
      return "string";
    case boost::json::kind::array:
      return "array";
    case boost::json::kind::object:
      return "object";
  }
  return "unknown";
}

std::string quoted_alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += " | ";
    out += '\'';
    out += name;
    out += '\'';
  }
  return out;
}

Issue invalid_type_issue(std::string expected, std::string received) {
  std::string message = "Expected " + expected + ", received " + received;
  return Issue{.code = "invalid_type",
               .message = std::move(message),
               .expected = std::move(expected),
               .received = std::move(received)};
}

Issue required_issue(std::string expected) {
  return Issue{.code = "invalid_type",
               .message = "Required",
               .expected = std::move(expected),
               .received = "undefined"};
}

Issue custom_issue(std::string message) {
  return Issue{.code = "custom", .message = std::move(message)};
}

std::string format_number(const value& number) {
  if (number.is_int64()) return std::to_string(number.get_int64());
  if (number.is_uint64()) return std::to_string(number.get_uint64());
  const double x = number.to_number<double>();
  // Integral values JavaScript prints without an exponent (below 1e21) read best as integers.
  if (std::isfinite(x) && std::trunc(x) == x && std::fabs(x) < 9.007199254740992e15)
    return std::to_string(static_cast<std::int64_t>(x));
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, x);
  return std::string(buffer, result.ptr);
}

Issue bound_issue(bool below, std::string_view type, value bound, bool exact) {
  const std::string n = format_number(bound);
  std::string message;
  if (type == "number") {
    message =
        below ? "Number must be greater than or equal to " + n : "Number must be less than or equal to " + n;
  } else {
    const bool is_string = type == "string";
    message = std::string(is_string ? "String" : "Array") + " must contain " +
              (exact   ? "exactly "
               : below ? "at least "
                       : "at most ") +
              n + (is_string ? " character(s)" : " element(s)");
  }
  Issue issue{.code = below ? "too_small" : "too_big", .message = std::move(message)};
  issue.details.emplace(below ? "minimum" : "maximum", std::move(bound));
  issue.details.emplace("type", type);
  issue.details.emplace("inclusive", true);
  issue.details.emplace("exact", exact);
  return issue;
}

Issue invalid_string_issue(std::string_view validation, std::string message) {
  Issue issue{.code = "invalid_string", .message = std::move(message)};
  issue.details.emplace("validation", validation);
  return issue;
}

Issue enum_issue(const array& options, const value& received) {
  auto spell = [](const value& v) {
    return v.is_string() ? "'" + std::string(v.get_string()) + "'" : format_number(v);
  };
  std::string expected;
  for (const value& option : options) {
    if (!expected.empty()) expected += " | ";
    expected += spell(option);
  }
  Issue issue{
      .code = "invalid_enum_value",
      .message = "Invalid enum value. Expected " + expected + ", received " + spell(received),
      .received = received.is_string() ? std::string(received.get_string()) : format_number(received)};
  issue.details.emplace("options", options);
  return issue;
}

}  // namespace detail
}  // namespace igniter::json

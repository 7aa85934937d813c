#include "igniter/realtime/query_key.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace igniter::realtime {

namespace {

void append_js_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// ECMAScript Number::toString: the shortest round-trip digits, in fixed notation for exponents from
// -7 to 20 and as d.ddde+n otherwise.
void append_js_number(std::string& out, double number) {
  if (!std::isfinite(number)) {
    out += "null";
    return;
  }
  if (number == 0) {
    out += '0';  // also for -0
    return;
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
  if (text.front() == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits.front();
    if (k > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
}

constexpr std::int64_t kMaxSafeInteger = (std::int64_t{1} << 53) - 1;

}  // namespace

void append_canonical_json(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64: {
      // JavaScript numbers are doubles: beyond 2^53 it would print the rounded value.
      const std::int64_t number = value.get_int64();
      if (number >= -kMaxSafeInteger && number <= kMaxSafeInteger) {
        out += std::to_string(number);
      } else {
        append_js_number(out, static_cast<double>(number));
      }
      return;
    }
    case boost::json::kind::uint64: {
      const std::uint64_t number = value.get_uint64();
      if (number <= static_cast<std::uint64_t>(kMaxSafeInteger)) {
        out += std::to_string(number);
      } else {
        append_js_number(out, static_cast<double>(number));
      }
      return;
    }
    case boost::json::kind::double_:
      append_js_number(out, value.get_double());
      return;
    case boost::json::kind::string: {
      const auto& text = value.get_string();
      append_js_string(out, std::string_view(text.data(), text.size()));
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_canonical_json(out, item);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object: {
      const auto& object = value.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* member : members) {
        if (!first) out += ',';
        first = false;
        append_js_string(out, std::string_view(member->key().data(), member->key().size()));
        out += ':';
        append_canonical_json(out, member->value());
      }
      out += '}';
      return;
    }
  }
}

std::string query_key(std::string_view action_key, const json::value& body, const json::value& params,
                      const json::value& query) {
  std::string out(action_key);
  out += ':';
  // Same order as sorted keys: body < params < query.
  const std::pair<std::string_view, const json::value*> members[] = {
      {"body", &body}, {"params", &params}, {"query", &query}};
  out += '{';
  for (const auto& [name, member] : members) {
    if (name != "body") out += ',';
    append_js_string(out, name);
    out += ':';
    if (member->is_null()) {
      out += "{}";
    } else {
      append_canonical_json(out, *member);
    }
  }
  out += '}';
  return out;
}

}  // namespace igniter::realtime

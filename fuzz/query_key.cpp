// Query keys from client-sent values (a request's body, params and query reach query_key through
// revalidations): any JSON in, the key must be `<action>:` followed by JSON that parses back to the same
// values (numbers within an ULP or two: Boost.JSON 1.81 does not parse every number correctly rounded, so
// `22e202` reads as 2.1999999999999997e+203, where JavaScript reads 2.2e+203).
//
// Input: JSON text; an array of at least three values is taken as [body, params, query].

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "igniter/realtime/query_key.hpp"
#include "support.hpp"

using igniter::fuzz::fail;

namespace {

double as_double(const boost::json::value& v) {
  return v.is_double() ? v.get_double() : v.is_int64() ? double(v.get_int64()) : double(v.get_uint64());
}

bool same(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    double x = as_double(a), y = as_double(b);
    return x == y || std::fabs(x - y) <= 1e-15 * std::max(std::fabs(x), std::fabs(y)) ||
           (!std::isfinite(x) && b.is_null());
  }
  if (a.is_double() && !std::isfinite(a.get_double())) return b.is_null();
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& member : x) {
      auto* other = y.if_contains(member.key());
      if (!other || !same(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

boost::json::value or_empty(const boost::json::value& v) {
  return v.is_null() ? boost::json::value(boost::json::object()) : v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;  // as parse_body
  auto value =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
  if (ec) return 0;
  std::string key;
  boost::json::object expected{
      {"body", or_empty(value)}, {"params", boost::json::object()}, {"query", boost::json::object()}};
  if (value.is_array() && value.as_array().size() >= 3) {
    const auto& a = value.as_array();
    key = igniter::realtime::query_key("posts.get", a[0], a[1], a[2]);
    expected = {{"body", or_empty(a[0])}, {"params", or_empty(a[1])}, {"query", or_empty(a[2])}};
  } else {
    key = igniter::realtime::query_key("posts.get", value);
  }
  constexpr std::string_view kPrefix = "posts.get:";
  if (!key.starts_with(kPrefix)) fail("the key does not start with the action key");
  auto canonical = std::string_view(key).substr(kPrefix.size());
  boost::json::parse_options deep;
  deep.max_depth = 1000;
  auto parsed = boost::json::parse(canonical, ec, {}, deep);
  if (ec) fail("the key's JSON does not parse");
  if (!same(expected, parsed)) {
    std::fprintf(stderr, "in:  %s\nkey: %s\n", boost::json::serialize(expected).c_str(), key.c_str());
    fail("the key does not hold the values it was made of");
  }
  return 0;
}

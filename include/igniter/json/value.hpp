#pragma once
/// JSON values are Boost.JSON's; these names are what igniter code and users spell.

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace igniter {

namespace json {
using boost::json::array;
using boost::json::object;
using boost::json::parse;
using boost::json::serialize;  // Boost's writer (doubles as `1.5E0`); igniter writes with stringify
using boost::json::string;
using boost::json::value;

/// JSON text of `v`, written as JavaScript's JSON.stringify writes it: numbers in their shortest
/// round-trip form (`1.5`, not Boost.JSON 1.81's `1.5E0`), NaN and infinities as `null`, only `"`, `\`
/// and control characters escaped.
std::string stringify(const value& v);
std::string stringify(const object& members);
std::string stringify(const array& items);
/// The same, appended to `out`.
void stringify_to(std::string& out, const value& v);
void stringify_to(std::string& out, const object& members);
void stringify_to(std::string& out, const array& items);
/// `text` as a JSON string literal, appended to `out`.
void append_string(std::string& out, std::string_view text);
}  // namespace json

/// A JSON value: what handlers return and publish.
using Json = boost::json::value;

}  // namespace igniter

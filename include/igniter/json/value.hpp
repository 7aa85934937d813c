#pragma once
/// JSON values are Boost.JSON's; these names are what igniter code and users spell.

#include <boost/json.hpp>

namespace igniter {

namespace json {
using boost::json::array;
using boost::json::object;
using boost::json::parse;
using boost::json::serialize;
using boost::json::string;
using boost::json::value;
}  // namespace json

/// A JSON value: what handlers return and publish.
using Json = boost::json::value;

}  // namespace igniter

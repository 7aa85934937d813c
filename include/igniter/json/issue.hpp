#pragma once
/// Validation issues in the shape of zod's `ZodIssue`, which Igniter.js clients already understand.

#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include "igniter/json/value.hpp"

namespace igniter::json {

/// One step into a JSON document: an object key or an array index.
using PathSegment = std::variant<std::string, std::size_t>;

/// Where an issue is, from the root of the decoded value; empty for the root itself.
using Path = std::vector<PathSegment>;

/// One reason a value was rejected, as zod reports it.
///
/// `code` is one of zod's: invalid_type (also a missing required field: received "undefined", message
/// "Required"), too_small, too_big, invalid_string, invalid_enum_value, custom. `details` holds the
/// code's extra zod fields (minimum/maximum, type, inclusive, exact, validation, options).
struct Issue {
  // Every member has an initializer so that designated initializers may name only some of them.
  std::string code{};
  Path path{};
  std::string message{};
  std::string expected{};  ///< invalid_type only; empty otherwise.
  std::string received{};  ///< invalid_type and invalid_enum_value only; empty otherwise.
  object details{};        ///< zod's code-specific fields, merged into to_json's output.

  friend bool operator==(const Issue&, const Issue&) = default;
};

/// zod's issue object: code, expected and received (when not empty), details, path, message.
value to_json(const Issue& issue);

/// An array of to_json(issue), in order.
value to_json(const std::vector<Issue>& issues);

/// The path as a reader writes it, for logs: `author.tags[2]`; empty for the root.
std::string path_to_string(const Path& path);

}  // namespace igniter::json

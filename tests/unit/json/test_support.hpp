#pragma once
// Helpers that turn decode results into strings a test can compare at a glance.

#include <string>
#include <vector>

#include "igniter/json/json.hpp"

namespace igniter::json::test {

/// Each issue as "path: code: message" (the path as path_to_string writes it).
inline std::vector<std::string> summary(const std::vector<Issue>& issues) {
  std::vector<std::string> out;
  for (const Issue& issue : issues)
    out.push_back(path_to_string(issue.path) + ": " + issue.code + ": " + issue.message);
  return out;
}

/// decode<T> of a JSON text, for brevity.
template <class T>
Decoded<T> decode_text(std::string_view json_text, Mode mode = Mode::json) {
  return decode<T>(parse(json_text), mode);
}

}  // namespace igniter::json::test

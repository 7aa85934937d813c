#pragma once
/// Settings of the OpenAPI 3.1 document an App generates from its actions (docs/openapi.md).

#include <string>

namespace igniter {

/// What the app serves as its OpenAPI 3.1 description, and under which name; every field has a default.
struct OpenApiOptions {
  std::string path = "/__igniter/openapi.json";  ///< Where the document is served; "" = not served.
  std::string title = "igniter-cpp app";         ///< The document's info.title.
  std::string version = "0.1.0";                 ///< The document's info.version (the API's, not igniter's).
  std::string description;                       ///< The document's info.description; "" = none.
};

}  // namespace igniter

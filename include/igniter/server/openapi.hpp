#pragma once
/// Settings of the OpenAPI 3.1 document an App generates from its actions (docs/openapi.md).

#include <filesystem>
#include <string>

namespace igniter {

/// What the app serves as its OpenAPI 3.1 description, and under which name; every field has a default.
struct OpenApiOptions {
  std::string path = "/__igniter/openapi.json";  ///< Where the document is served; "" = not served.
  std::string title = "igniter-cpp app";         ///< The document's info.title.
  std::string version = "0.1.0";                 ///< The document's info.version (the API's, not igniter's).
  std::string description;                       ///< The document's info.description; "" = none.
  std::string
      docs_path;  ///< An API reference page (Redoc) rendering the document; "" = not served (default).
  std::filesystem::path docs_script;  ///< Redoc's standalone bundle, read at start (needed with docs_path;
                                      ///< scripts/setup-api-reference.sh puts it in third_party/redoc/).
};

}  // namespace igniter

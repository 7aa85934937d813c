#pragma once
// The OpenAPI 3.1 document of an app, generated from its action descriptors (docs/openapi.md).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "igniter/json/value.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/controller.hpp"
#include "igniter/server/response.hpp"

namespace igniter::server {

/// The OpenAPI 3.1 document of `actions` (as App holds them: paths without the base path, internal ones
/// flagged), named and located by `options`. `app_procedures` is the number of app-wide procedures: when
/// there are some, every action may answer 401 and 403. Pure: reads its arguments only.
json::value openapi_document(const std::vector<Action>& actions, const AppOptions& options,
                             std::size_t app_procedures);

/// `/posts/:id` as OpenAPI writes it (`/posts/{id}`), with the names of its parameters in order.
std::string openapi_path(std::string_view igniter_path, std::vector<std::string>* parameters = nullptr);

/// What an app serves of its OpenAPI description: the document and, when asked for, the reference page and
/// its script. Built once at start; read-only afterwards, so any thread may serve from it.
class OpenApiEndpoints {
 public:
  /// Generates the document and reads the page's script. Throws std::invalid_argument when the page is
  /// asked for without a document or a readable script.
  void prepare(const std::vector<Action>& actions, const AppOptions& options, std::size_t app_procedures);
  /// The answer to a GET of one of its paths; nullopt for any other request.
  std::optional<Response> serve(const Request& request) const;

 private:
  OpenApiOptions options_;
  std::string document_;  // JSON text; empty when not served
  std::string page_;      // HTML; empty when not served
  std::string script_;
};

}  // namespace igniter::server

#pragma once
// The OpenAPI 3.1 document of an app, generated from its action descriptors (docs/openapi.md).

#include <cstddef>
#include <vector>

#include "igniter/json/value.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/controller.hpp"

namespace igniter::server {

/// The OpenAPI 3.1 document of `actions` (as App holds them: paths without the base path, internal ones
/// flagged), named and located by `options`. `app_procedures` is the number of app-wide procedures: when
/// there are some, every action may answer 401 and 403. Pure: reads its arguments only.
json::value openapi_document(const std::vector<Action>& actions, const AppOptions& options,
                             std::size_t app_procedures);

/// `/posts/:id` as OpenAPI writes it (`/posts/{id}`), with the names of its parameters in order.
std::string openapi_path(std::string_view igniter_path, std::vector<std::string>* parameters = nullptr);

}  // namespace igniter::server

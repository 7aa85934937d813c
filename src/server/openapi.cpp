#include "server/openapi.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "http/router.hpp"
#include "igniter/http/request.hpp"

namespace igniter::server {

namespace {

json::value ref(std::string_view kind, std::string_view name) {
  return json::object{{"$ref", "#/components/" + std::string(kind) + "/" + std::string(name)}};
}

json::value string_schema(std::string_view description = {}) {
  json::object out{{"type", "string"}};
  if (!description.empty()) out.emplace("description", description);
  return out;
}

json::value string_array() {
  return json::object{{"type", "array"}, {"items", json::object{{"type", "string"}}}};
}

// Igniter's success envelope around `data`.
json::value success_envelope(json::value data) {
  return json::object{
      {"type", "object"},
      {"properties", json::object{{"data", std::move(data)}, {"error", json::object{{"type", "null"}}}}},
      {"required", json::array{"data", "error"}}};
}

json::value json_content(json::value schema) {
  return json::object{{"application/json", json::object{{"schema", std::move(schema)}}}};
}

// Igniter's error envelope; `error_properties` is added to those of every error (message, code, data).
json::value error_envelope(json::object error_properties = {}, json::array extra_required = {}) {
  json::object properties{
      {"message", string_schema("For people: what went wrong.")},
      {"code", string_schema("For programs: ERR_NOT_FOUND, VALIDATION_ERROR, ...")},
      {"data", json::object{{"description", "More about the error, when the server says more."}}}};
  for (auto& [name, schema] : error_properties) properties[name] = std::move(schema);
  json::array required{"message", "code"};
  for (auto& name : extra_required) required.push_back(std::move(name));
  return json::object{
      {"type", "object"},
      {"properties", json::object{{"data", json::object{{"type", "null"}}},
                                  {"error", json::object{{"type", "object"},
                                                         {"properties", std::move(properties)},
                                                         {"required", std::move(required)}}}}},
      {"required", json::array{"data", "error"}}};
}

json::object component_schemas() {
  json::object schemas;
  schemas["Error"] = error_envelope();
  schemas["ValidationIssue"] = json::object{
      {"type", "object"},
      {"description",
       "A zod issue (what Igniter.js answers): code-specific fields such as minimum, maximum, type, "
       "inclusive, exact, validation, options, expected and received come with it."},
      {"properties",
       json::object{
           {"code",
            string_schema("invalid_type, too_small, too_big, invalid_string, invalid_enum_value, custom")},
           {"path", json::object{{"type", "array"},
                                 {"items", json::object{{"type", json::array{"string", "integer"}}}}}},
           {"message", string_schema()},
           {"in", json::object{{"type", "string"}, {"enum", json::array{"body", "query", "params"}}}},
       }},
      {"required", json::array{"code", "path", "message", "in"}}};
  schemas["ValidationError"] = error_envelope(
      json::object{
          {"code", json::object{{"const", "VALIDATION_ERROR"}}},
          {"details", json::object{{"type", "array"}, {"items", ref("schemas", "ValidationIssue")}}}},
      json::array{"details"});
  schemas["InternalError"] = error_envelope(json::object{
      {"data",
       json::object{{"type", "object"},
                    {"properties", json::object{{"requestId", string_schema("Also in X-Request-Id and "
                                                                            "in the server's log.")}}},
                    {"required", json::array{"requestId"}}}}});
  schemas["StreamEnvelope"] = json::object{
      {"type", "object"},
      {"description", "The data of every stream event but `connected`."},
      {"properties", json::object{{"channel", string_schema()},
                                  {"data", json::object{{"description", "The published payload."}}},
                                  {"scopes", json::object{{"type", "array"},
                                                          {"items", json::object{{"type", "string"}}},
                                                          {"description", "Only when the event is scoped."}}},
                                  {"timestamp", json::object{{"type", "string"}, {"format", "date-time"}}}}},
      {"required", json::array{"channel", "data", "timestamp"}}};
  schemas["RevalidatePayload"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{
           {"queryKeys", json::object{{"type", "array"},
                                      {"items", json::object{{"type", "string"}}},
                                      {"description", "Query keys to refetch (prefixes); [\"\"] = all."}}},
           {"data", json::object{}},
           {"timestamp", json::object{{"type", "string"}, {"format", "date-time"}}}}},
      {"required", json::array{"queryKeys"}}};
  schemas["ConnectedEvent"] = json::object{
      {"type", "object"},
      {"description", "The data of the stream's first frame (`event: connected`)."},
      {"properties",
       json::object{
           {"connected", json::object{{"const", true}}},
           {"channels", string_array()},
           {"timestamp", json::object{{"type", "string"}, {"format", "date-time"}}},
           {"connectionId", string_schema("With token: for live subscription changes.")},
           {"token", string_schema()},
           {"scopes", string_array()},
           {"refused",
            json::object{{"type", "array"},
                         {"items", json::object{{"type", "object"},
                                                {"properties", json::object{{"channel", string_schema()},
                                                                            {"reason", string_schema()}}},
                                                {"required", json::array{"channel", "reason"}}}}}},
           {"lastEventId", string_schema("Where the stream resumes from.")},
           {"resync", json::object{{"type", "boolean"},
                                   {"description", "Events were missed and cannot be replayed: refetch."}}}}},
      {"required", json::array{"connected", "channels", "timestamp"}}};
  return schemas;
}

json::value error_response(std::string_view description, json::value schema) {
  return json::object{{"description", description}, {"content", json_content(std::move(schema))}};
}

json::object component_responses() {
  json::object responses;
  responses["BadRequest"] = error_response(
      "The input failed validation (VALIDATION_ERROR, with the issues in `details`), or the body could not "
      "be read (ERR_BODY_REQUIRED, ERR_INVALID_JSON).",
      json::object{{"anyOf", json::array{ref("schemas", "ValidationError"), ref("schemas", "Error")}}});
  responses["Unauthorized"] =
      error_response("A procedure wants credentials (ERR_UNAUTHORIZED).", ref("schemas", "Error"));
  responses["Forbidden"] =
      error_response("A procedure refused the caller (ERR_FORBIDDEN).", ref("schemas", "Error"));
  responses["NotFound"] = error_response("Nothing there (ERR_NOT_FOUND).", ref("schemas", "Error"));
  responses["PayloadTooLarge"] = error_response(
      "The body is larger than the action's limit (ERR_PAYLOAD_TOO_LARGE).", ref("schemas", "Error"));
  responses["UnsupportedMediaType"] = error_response(
      "The body is not application/json (or +json) (ERR_UNSUPPORTED_MEDIA_TYPE).", ref("schemas", "Error"));
  responses["TooManyRequests"] = error_response(
      "A rate or count limit was reached (ERR_TOO_MANY_REQUESTS); see Retry-After.", ref("schemas", "Error"));
  responses["InternalError"] =
      error_response("The handler failed (ERR_INTERNAL_SERVER_ERROR); the request id points to the log line.",
                     ref("schemas", "InternalError"));
  responses["ServiceUnavailable"] = error_response(
      "Too many connections, shutting down or overloaded (ERR_SERVICE_UNAVAILABLE); see Retry-After.",
      ref("schemas", "Error"));
  responses["Error"] = error_response(
      "Any other error in Igniter's envelope: what the handler answered (409, 422, ...) or the framework "
      "(405, 408, 431, 501).",
      ref("schemas", "Error"));
  return responses;
}

// The properties of an object schema, as parameters `in` the query or the path.
json::array query_parameters(const json::value& schema) {
  json::array out;
  if (!schema.is_object()) return out;
  const auto& object = schema.as_object();
  const auto* properties = object.if_contains("properties");
  if (!properties || !properties->is_object()) {
    // A map or raw JSON: free-form pairs.
    out.push_back(json::object{
        {"name", "query"}, {"in", "query"}, {"style", "form"}, {"explode", true}, {"schema", schema}});
    return out;
  }
  const auto* required = object.if_contains("required");
  auto is_required = [&](std::string_view name) {
    if (!required || !required->is_array()) return false;
    for (const auto& item : required->as_array())
      if (item.is_string() && item.as_string() == name) return true;
    return false;
  };
  for (const auto& [name, property] : properties->as_object())
    out.push_back(
        json::object{{"name", name}, {"in", "query"}, {"required", is_required(name)}, {"schema", property}});
  return out;
}

json::value path_parameter(const std::string& name, const json::value& params_schema) {
  json::value schema = json::object{{"type", "string"}};
  if (params_schema.is_object())
    if (const auto* properties = params_schema.as_object().if_contains("properties");
        properties && properties->is_object())
      if (const auto* property = properties->as_object().if_contains(name)) schema = *property;
  return json::object{{"name", name}, {"in", "path"}, {"required", true}, {"schema", std::move(schema)}};
}

std::string tag_of(const Action& action) {
  if (action.internal) return "realtime";
  return action.key.substr(0, action.key.find('.'));
}

json::object action_operation(const Action& action, std::size_t app_procedures) {
  std::vector<std::string> path_names;
  openapi_path(action.path, &path_names);

  json::array parameters;
  for (const auto& name : path_names) parameters.push_back(path_parameter(name, action.schemas.params));
  for (auto& parameter : query_parameters(action.schemas.query)) parameters.push_back(std::move(parameter));

  json::object operation{{"operationId", action.key}, {"tags", json::array{tag_of(action)}}};
  // What reference pages title the operation with: the action's description, else its key.
  operation.emplace("summary", action.options.description.empty() ? action.key : action.options.description);
  operation.emplace("x-igniter-type", action.stream                  ? "stream"
                                      : action.method == Method::GET ? "query"
                                                                     : "mutation");
  if (action.stream)
    operation.emplace("description",
                      "A stream query: also the realtime channel `" + action.key +
                          "` (see the SSE endpoint); its answer here is what a subscriber gets "
                          "first on that channel.");
  if (!parameters.empty()) operation.emplace("parameters", std::move(parameters));
  bool has_body = !action.schemas.body.is_null();
  if (has_body)
    operation.emplace("requestBody",
                      json::object{{"required", true}, {"content", json_content(action.schemas.body)}});

  json::object responses;
  // A handler that returns a value answers 200; one that returns a Response or TypedResponse may answer
  // any 2xx (201, 204).
  bool typed = action.always_200;
  bool declared = !action.response.is_null();
  responses[typed ? "200" : "2XX"] = json::object{
      {"description", typed ? "Success: the handler's value in `data`."
                      : declared
                          ? "Success (200, 201, ...; 204 has no body): `data` as the action declares it."
                          : "Success (200, 201, ...; 204 has no body): the action does not declare its "
                            "`data`."},
      {"content", json_content(success_envelope(declared ? action.response : json::value(json::object{})))}};
  bool has_input = has_body || !action.schemas.query.is_null() || !action.schemas.params.is_null();
  if (has_input) responses["400"] = ref("responses", "BadRequest");
  if (app_procedures > 0 || !action.options.use.empty()) {
    responses["401"] = ref("responses", "Unauthorized");
    responses["403"] = ref("responses", "Forbidden");
  }
  if (!path_names.empty()) responses["404"] = ref("responses", "NotFound");
  if (has_body) {
    responses["413"] = ref("responses", "PayloadTooLarge");
    responses["415"] = ref("responses", "UnsupportedMediaType");
  }
  responses["500"] = ref("responses", "InternalError");
  responses["default"] = ref("responses", "Error");
  operation.emplace("responses", std::move(responses));
  return operation;
}

json::object subscriptions_operation(const Action& action) {
  json::object operation = action_operation(action, 0);
  operation["operationId"] = "realtime.subscriptions";
  operation["summary"] =
      "Adds or removes channels on an open stream (our client; Igniter.js reconnects instead).";
  auto refused =
      json::object{{"type", "object"},
                   {"properties", json::object{{"channel", string_schema()}, {"reason", string_schema()}}},
                   {"required", json::array{"channel", "reason"}}};
  auto data = json::object{
      {"type", "object"},
      {"properties", json::object{{"subscribed", string_array()},
                                  {"refused", json::object{{"type", "array"}, {"items", std::move(refused)}}},
                                  {"unsubscribed", string_array()}}},
      {"required", json::array{"subscribed", "refused", "unsubscribed"}}};
  auto& responses = operation["responses"].as_object();
  responses.erase("2XX");
  json::object ordered{{"200", json::object{{"description", "The change, as applied."},
                                            {"content", json_content(success_envelope(std::move(data)))}}}};
  for (auto& [status, response] : responses) ordered.emplace(status, std::move(response));
  ordered["404"] = json::object{{"description", "No open stream with this connectionId (ERR_NOT_FOUND)."},
                                {"content", json_content(ref("schemas", "Error"))}};
  ordered["429"] = ref("responses", "TooManyRequests");
  ordered["503"] = ref("responses", "ServiceUnavailable");
  operation["responses"] = std::move(ordered);
  return operation;
}

json::object sse_operation(const std::vector<Action>& actions, std::size_t app_procedures) {
  std::string channels = "`revalidation`";
  for (const auto& action : actions)
    if (action.stream && !action.internal) channels += ", `" + action.key + "`";
  json::array parameters{
      json::object{{"name", "channels"},
                   {"in", "query"},
                   {"description",
                    "Comma-separated channels; missing or empty = `revalidation` and every "
                    "stream query. Channels of this app: " +
                        channels + " (and any the app publishes to)."},
                   {"schema", json::object{{"type", "string"}}},
                   {"example", "revalidation"}},
      json::object{{"name", "scopes"},
                   {"in", "query"},
                   {"description",
                    "Comma-separated scopes asked for; the connection holds only those the "
                    "server grants (empty = all granted)."},
                   {"schema", json::object{{"type", "string"}}}},
      json::object{{"name", "lastEventId"},
                   {"in", "query"},
                   {"description", "Resume after this event id (as the Last-Event-ID header)."},
                   {"schema", json::object{{"type", "string"}}}},
      json::object{{"name", "Last-Event-ID"},
                   {"in", "header"},
                   {"description", "Resume after this event id: missed events are replayed first."},
                   {"schema", json::object{{"type", "string"}}}}};
  json::object events{
      {"connected", json::object{{"description", "First frame (with `retry:`), always."},
                                 {"data", ref("schemas", "ConnectedEvent")}}},
      {"revalidate",
       json::object{{"description", "On channel `revalidation`: refetch these query keys."},
                    {"data", json::object{{"allOf", json::array{ref("schemas", "StreamEnvelope")}},
                                          {"properties",
                                           json::object{{"data", ref("schemas", "RevalidatePayload")}}}}}}},
      {"message", json::object{{"description",
                                "A message published on a channel, or a stream query's first "
                                "answer to this subscriber."},
                               {"data", ref("schemas", "StreamEnvelope")}}}};
  json::object stream_content{
      {"schema", json::object{{"type", "string"},
                              {"description",
                               "Server-sent events (`id:`, `event:`, `data:` lines); `: keepalive` "
                               "comments when idle. Event types and their data in "
                               "x-igniter-events."}}},
      {"example",
       "retry: 2000\nevent: connected\ndata: {\"connected\":true,\"channels\":[\"revalidation\"],"
       "\"timestamp\":\"2026-01-01T00:00:00.000Z\"}\n\nid: k3x9a2mq-41\nevent: revalidate\ndata: "
       "{\"channel\":\"revalidation\",\"data\":{\"queryKeys\":[\"posts.list\"]},"
       "\"timestamp\":\"2026-01-01T00:00:01.000Z\"}\n\n"},
      {"x-igniter-events", std::move(events)}};
  json::object responses{
      {"200", json::object{{"description", "The stream: open until one side closes."},
                           {"content", json::object{{"text/event-stream", std::move(stream_content)}}}}},
      {"400", json::object{{"description", "A malformed channel list (ERR_BAD_REQUEST)."},
                           {"content", json_content(ref("schemas", "Error"))}}}};
  if (app_procedures > 0) {
    responses["401"] = ref("responses", "Unauthorized");
    responses["403"] = ref("responses", "Forbidden");
  }
  responses["429"] = ref("responses", "TooManyRequests");
  responses["500"] = ref("responses", "InternalError");
  responses["503"] = ref("responses", "ServiceUnavailable");
  return json::object{
      {"operationId", "realtime.events"},
      {"tags", json::array{"realtime"}},
      {"summary", "The realtime stream (Server-Sent Events): revalidations and channel messages."},
      {"description",
       "Channels the caller may not read are refused one by one (in the `connected` "
       "frame's `refused`), never the whole stream. Channels of this app: " +
           channels + "."},
      {"x-igniter-channels",
       [&] {
         json::array names{"revalidation"};
         for (const auto& action : actions)
           if (action.stream && !action.internal) names.push_back(json::string(action.key));
         return names;
       }()},
      {"parameters", std::move(parameters)},
      {"responses", std::move(responses)}};
}

std::string_view method_key(Method method) {
  switch (method) {
    case Method::GET:
      return "get";
    case Method::POST:
      return "post";
    case Method::PUT:
      return "put";
    case Method::PATCH:
      return "patch";
    case Method::DELETE:
      return "delete";
    default:
      return "";
  }
}

}  // namespace

std::string openapi_path(std::string_view igniter_path, std::vector<std::string>* parameters) {
  std::string out;
  for (auto segment : http::split_path(igniter_path)) {
    out += '/';
    if (segment.front() == ':') {
      auto name = std::string(segment.substr(1));
      out += '{' + name + '}';
      if (parameters) parameters->push_back(std::move(name));
    } else {
      out += segment;
    }
  }
  return out.empty() ? "/" : out;
}

json::value openapi_document(const std::vector<Action>& actions, const AppOptions& options,
                             std::size_t app_procedures) {
  const auto& settings = options.openapi;
  json::object info{{"title", settings.title}, {"version", settings.version}};
  if (!settings.description.empty()) info.emplace("description", settings.description);

  json::object paths;
  json::array tags;
  auto add_tag = [&](const std::string& name) {
    for (const auto& tag : tags)
      if (tag.as_object().at("name").as_string() == name) return;
    tags.push_back(json::object{{"name", name}});
  };
  // The app's actions first, in declaration order; then the framework's (the realtime stream).
  for (bool internal : {false, true}) {
    for (const auto& action : actions) {
      auto method = method_key(action.method);
      if (action.internal != internal || method.empty()) continue;
      auto path = openapi_path(http::join_path({options.base_path, action.path}));
      json::object operation = !action.internal      ? action_operation(action, app_procedures)
                               : action.sse_endpoint ? sse_operation(actions, app_procedures)
                               : action.key == "__realtime.presence"
                                   ? action_operation(action, app_procedures)
                                   : subscriptions_operation(action);
      add_tag(tag_of(action));
      auto& item = paths[path];
      if (!item.is_object()) item = json::object{};
      item.as_object()[method] = std::move(operation);
    }
  }
  return json::object{
      {"openapi", "3.1.0"},
      {"info", std::move(info)},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"tags", std::move(tags)},
      {"paths", std::move(paths)},
      {"components", json::object{{"schemas", component_schemas()}, {"responses", component_responses()}}},
  };
}

namespace {

constexpr std::string_view kScriptName = "/redoc.standalone.js";

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

void OpenApiEndpoints::prepare(const std::vector<Action>& actions, const AppOptions& options,
                               std::size_t app_procedures) {
  options_ = options.openapi;
  document_.clear();
  page_.clear();
  script_.clear();
  if (!options_.path.empty()) document_ = json::stringify(openapi_document(actions, options, app_procedures));
  if (options_.docs_path.empty()) return;
  if (options_.path.empty())
    throw std::invalid_argument(
        "OpenApiOptions::docs_path needs the document: OpenApiOptions::path is empty");
  std::ifstream file(options_.docs_script, std::ios::binary);
  if (options_.docs_script.empty() || !file)
    throw std::invalid_argument("OpenApiOptions::docs_script: cannot read '" + options_.docs_script.string() +
                                "' (Redoc's standalone bundle; scripts/setup-api-reference.sh fetches it)");
  script_.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  page_ =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      html_escape(options_.title) +
      " — API reference</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "</head>\n<body>\n<redoc spec-url=\"" +
      html_escape(options_.path) + "\"></redoc>\n<script src=\"" +
      html_escape(http::join_path({options_.docs_path, kScriptName})) + "\"></script>\n</body>\n</html>\n";
}

std::optional<Response> OpenApiEndpoints::serve(const Request& request) const {
  if (request.method != Method::GET) return std::nullopt;
  if (!document_.empty() && request.path == options_.path)
    return Response(200, document_, "application/json; charset=utf-8");
  if (page_.empty()) return std::nullopt;
  if (request.path == http::join_path({options_.docs_path}))
    // Redoc styles itself inline and runs its search in a blob: worker; everything else comes from here.
    return Response(200, page_, "text/html; charset=utf-8")
        .header("Content-Security-Policy",
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "worker-src 'self' blob:; frame-ancestors 'none'")
        .header("Cache-Control", "no-cache");
  if (request.path == http::join_path({options_.docs_path, kScriptName}))
    return Response(200, script_, "text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=3600");
  return std::nullopt;
}

}  // namespace igniter::server

#include "igniter/server/detail/invoke.hpp"

#include <cctype>

namespace igniter::detail {

namespace {

bool is_json_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (iequals(media, "application/json")) return true;
  // Structured syntax suffix: application/problem+json, application/vnd.api+json, ...
  return media.size() > 5 && iequals(media.substr(0, 12), "application/") &&
         iequals(media.substr(media.size() - 5), "+json");
}

}  // namespace

std::optional<BodyProblem> parse_body(const Request& request, json::value& out) {
  bool blank = request.body.find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank) return BodyProblem{400, "ERR_BODY_REQUIRED", "A JSON request body is required"};
  auto content_type = request.header("content-type");
  if (!is_json_media_type(content_type))
    return BodyProblem{415, "ERR_UNSUPPORTED_MEDIA_TYPE",
                       content_type.empty() ? "Content-Type application/json is required"
                                            : "Unsupported Content-Type " + std::string(content_type) +
                                                  ": application/json is required"};
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  out = boost::json::parse(request.body, ec, {}, options);
  if (ec) return BodyProblem{400, "ERR_INVALID_JSON", "Invalid JSON body: " + ec.message()};
  return std::nullopt;
}

void add_param_schema(json::value& params, std::string_view name, json::value schema) {
  if (params.is_null())
    params = json::object{{"type", "object"}, {"properties", json::object()}, {"required", json::array()}};
  auto& object = params.as_object();
  object["properties"].as_object()[name] = std::move(schema);
  object["required"].as_array().emplace_back(name);
}

Response validation_error(const std::vector<std::pair<std::string_view, json::Issue>>& issues) {
  json::array details;
  for (const auto& [where, issue] : issues) {
    auto detail = json::to_json(issue);
    detail.as_object().emplace("in", where);
    details.push_back(std::move(detail));
  }
  json::object error{
      {"message", "Validation Error"}, {"code", "VALIDATION_ERROR"}, {"details", std::move(details)}};
  return Response::json(400, json::object{{"data", nullptr}, {"error", std::move(error)}});
}

}  // namespace igniter::detail

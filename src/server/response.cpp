#include "igniter/server/response.hpp"

#include <stdexcept>

#include "igniter/http/request.hpp"

namespace igniter {

Response::Response(unsigned status, std::string body, std::string content_type)
    : status_(status), body_(std::move(body)), content_type_(std::move(content_type)) {}

Response Response::json(unsigned status, const json::value& body) {
  return Response(status, json::stringify(body), "application/json; charset=utf-8");
}

std::string_view Response::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers_)
    if (iequals(key, name)) return value;
  return {};
}

Response& Response::set_status(unsigned status) & noexcept {
  status_ = status;
  return *this;
}

Response& Response::header(std::string name, std::string value) & {
  auto bad = [](std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; };
  if (name.empty() || bad(name) || bad(value)) throw std::invalid_argument("invalid header: " + name);
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 32 || c >= 127 ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  return true;
}

bool is_cookie_value(std::string_view s) {
  for (unsigned char c : s)
    if (c <= 32 || c >= 127 || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  return true;
}

std::string set_cookie_line(std::string_view name, std::string_view value, const CookieOptions& o) {
  if (!is_token(name)) throw std::invalid_argument("invalid cookie name: " + std::string(name));
  if (!is_cookie_value(value)) throw std::invalid_argument("invalid cookie value for " + std::string(name));
  std::string line;
  line.append(name).append("=").append(value);
  if (o.max_age) line.append("; Max-Age=").append(std::to_string(o.max_age->count()));
  if (!o.path.empty()) line.append("; Path=").append(o.path);
  if (!o.domain.empty()) line.append("; Domain=").append(o.domain);
  if (o.http_only) line.append("; HttpOnly");
  if (o.secure) line.append("; Secure");
  if (!o.same_site.empty()) line.append("; SameSite=").append(o.same_site);
  return line;
}

}  // namespace

Response& Response::cookie(std::string_view name, std::string_view value, const CookieOptions& options) & {
  headers_.emplace_back("Set-Cookie", set_cookie_line(name, value, options));
  return *this;
}

Response& Response::clear_cookie(std::string_view name, CookieOptions options) & {
  options.max_age = std::chrono::seconds(0);
  return cookie(name, "", options);
}

Response& Response::revalidate(std::vector<std::string> keys) & {
  revalidations_.push_back({std::move(keys), {}});
  return *this;
}

Response& Response::revalidate(std::vector<std::string> keys, ScopesFn scopes) & {
  revalidations_.push_back({std::move(keys), std::move(scopes)});
  return *this;
}

std::string_view error_code_for(unsigned status) noexcept {
  switch (status) {
    case 400:
      return "ERR_BAD_REQUEST";
    case 401:
      return "ERR_UNAUTHORIZED";
    case 403:
      return "ERR_FORBIDDEN";
    case 404:
      return "ERR_NOT_FOUND";
    case 405:
      return "ERR_METHOD_NOT_ALLOWED";
    case 408:
      return "ERR_REQUEST_TIMEOUT";
    case 409:
      return "ERR_CONFLICT";
    case 413:
      return "ERR_PAYLOAD_TOO_LARGE";
    case 415:
      return "ERR_UNSUPPORTED_MEDIA_TYPE";
    case 422:
      return "ERR_UNPROCESSABLE_ENTITY";
    case 429:
      return "ERR_TOO_MANY_REQUESTS";
    case 431:
      return "ERR_HEADERS_TOO_LARGE";
    case 500:
      return "ERR_INTERNAL_SERVER_ERROR";
    case 501:
      return "ERR_NOT_IMPLEMENTED";
    case 503:
      return "ERR_SERVICE_UNAVAILABLE";
    default:
      return status >= 300 && status < 400 ? "ERR_REDIRECT" : "ERR_UNKNOWN_ERROR";
  }
}

namespace {
// `{"data":<data>,"error":null}`, written straight from `data`.
template <class T>
Response success_envelope(unsigned status, const T& data) {
  std::string body = R"({"data":)";
  json::stringify_to(body, data);
  body += R"(,"error":null})";
  return Response(status, std::move(body), "application/json; charset=utf-8");
}
}  // namespace

Response ResponseBuilder::envelope(unsigned status, const json::value& data) {
  return success_envelope(status, data);
}
Response ResponseBuilder::envelope(unsigned status, const json::object& data) {
  return success_envelope(status, data);
}
Response ResponseBuilder::envelope(unsigned status, const json::array& data) {
  return success_envelope(status, data);
}

Response ResponseBuilder::no_content() const {
  return Response(204, {}, {});
}

Response ResponseBuilder::redirect(std::string location, unsigned status) const {
  json::object data{{"destination", location}, {"type", "replace"}};
  return error(status, "ERR_REDIRECT", "Redirect", std::move(data)).header("Location", std::move(location));
}

Response ResponseBuilder::bad_request(std::string message, json::value data) const {
  return error(400, "ERR_BAD_REQUEST", std::move(message), std::move(data));
}
Response ResponseBuilder::unauthorized(std::string message, json::value data) const {
  return error(401, "ERR_UNAUTHORIZED", std::move(message), std::move(data));
}
Response ResponseBuilder::forbidden(std::string message, json::value data) const {
  return error(403, "ERR_FORBIDDEN", std::move(message), std::move(data));
}
Response ResponseBuilder::not_found(std::string message, json::value data) const {
  return error(404, "ERR_NOT_FOUND", std::move(message), std::move(data));
}
Response ResponseBuilder::conflict(std::string message, json::value data) const {
  return error(409, "ERR_CONFLICT", std::move(message), std::move(data));
}
Response ResponseBuilder::unprocessable(std::string message, json::value data) const {
  return error(422, "ERR_UNPROCESSABLE_ENTITY", std::move(message), std::move(data));
}

Response ResponseBuilder::error(unsigned status, std::string code, std::string message,
                                json::value data) const {
  json::object error;
  error.emplace("message", std::move(message));
  error.emplace("code", std::move(code));
  if (!data.is_null()) error.emplace("data", std::move(data));
  json::object envelope;
  envelope.emplace("data", nullptr);
  envelope.emplace("error", std::move(error));
  return Response::json(status, envelope);
}

HttpError::HttpError(unsigned status, std::string message, std::string code, json::value data)
    : status_(status),
      message_(std::move(message)),
      code_(code.empty() ? std::string(error_code_for(status)) : std::move(code)),
      data_(std::move(data)) {}

Response HttpError::response() const {
  return ResponseBuilder{}.error(status_, code_, message_, data_);
}

}  // namespace igniter

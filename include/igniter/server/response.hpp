#pragma once
/// Response and ResponseBuilder: what an action returns, in Igniter's envelope
/// (`{"data":...,"error":null}` on success, `{"data":null,"error":{"message","code",...}}` on error).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "igniter/json/encode.hpp"
#include "igniter/json/json.hpp"

namespace igniter {

class Ctx;

/// Attributes of a Set-Cookie header. Defaults suit a session cookie: HttpOnly, SameSite=Lax, Path=/.
struct CookieOptions {
  std::optional<std::chrono::seconds> max_age;  ///< Lifetime; none = until the browser closes.
  std::string path = "/";                       ///< Path attribute.
  std::string domain;                           ///< Domain attribute; empty = this host only.
  bool http_only = true;                        ///< Hidden from page scripts.
  bool secure = false;                          ///< Sent over HTTPS only.
  std::string same_site = "Lax";                ///< "Strict", "Lax", "None" or "" (omitted).
};

/// Scopes a revalidation targets, computed from the action's context after its procedures ran.
using ScopesFn = std::function<std::vector<std::string>(Ctx&)>;

/// A revalidation requested by `.revalidate(...)`: published only when the action succeeded.
struct Revalidation {
  std::vector<std::string> keys;  ///< Query keys, e.g. "posts.list".
  ScopesFn scopes;                ///< Empty = every client; otherwise only clients holding one of its scopes.
};

/// An HTTP response. Built by ResponseBuilder, refined by chaining, returned by value from a handler.
class Response {
 public:
  Response() = default;
  Response(unsigned status, std::string body, std::string content_type);

  /// A JSON response with the given status whose body is `body` serialized.
  static Response json(unsigned status, const json::value& body);

  unsigned status() const noexcept { return status_; }
  const std::string& body() const& noexcept { return body_; }
  std::string&& body() && noexcept { return std::move(body_); }
  const std::string& content_type() const noexcept { return content_type_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
  const std::vector<Revalidation>& revalidations() const noexcept { return revalidations_; }
  /// The value of the first header `name` (case-insensitive), or "".
  std::string_view header(std::string_view name) const noexcept;
  /// Whether the status is 2xx or 3xx (the action succeeded; its revalidations may be published).
  bool succeeded() const noexcept { return status_ < 400; }

  /// Overrides the status code.
  Response& set_status(unsigned status) & noexcept;
  Response&& set_status(unsigned status) && noexcept { return std::move(set_status(status)); }
  /// Adds a header (Set-Cookie goes through cookie()).
  Response& header(std::string name, std::string value) &;
  Response&& header(std::string name, std::string value) && {
    return std::move(header(std::move(name), std::move(value)));
  }
  /// Sets a cookie; name and value must be cookie-safe (RFC 6265 token / cookie-octets), else
  /// std::invalid_argument.
  Response& cookie(std::string_view name, std::string_view value, const CookieOptions& options = {}) &;
  Response&& cookie(std::string_view name, std::string_view value, const CookieOptions& options = {}) && {
    return std::move(cookie(name, value, options));
  }
  /// Tells the browser to forget a cookie (same path and domain as when it was set).
  Response& clear_cookie(std::string_view name, CookieOptions options = {}) &;
  Response&& clear_cookie(std::string_view name, CookieOptions options = {}) && {
    return std::move(clear_cookie(name, std::move(options)));
  }
  /// Makes every client with a query under one of `keys` refetch it, once this action succeeded.
  Response& revalidate(std::vector<std::string> keys) &;
  Response&& revalidate(std::vector<std::string> keys) && { return std::move(revalidate(std::move(keys))); }
  /// As above, only for clients holding one of the scopes `scopes(ctx)` returns. If it throws, nothing is
  /// published to anyone and the error is logged (fail closed).
  Response& revalidate(std::vector<std::string> keys, ScopesFn scopes) &;
  Response&& revalidate(std::vector<std::string> keys, ScopesFn scopes) && {
    return std::move(revalidate(std::move(keys), std::move(scopes)));
  }

 private:
  unsigned status_ = 204;
  std::string body_;
  std::string content_type_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::vector<Revalidation> revalidations_;
};

/// Igniter's error code for an HTTP status ("ERR_NOT_FOUND" for 404, ...).
std::string_view error_code_for(unsigned status) noexcept;

/// A Response whose success data is a T: what `c.response.success(value)` gives when T is a described
/// struct, json::Fields, a vector, an optional or a string map. A handler returning it has its answer typed
/// in the app's schema without restating T, and chaining (status, headers, cookies, revalidation) keeps the
/// type: `return c.response.created(post).revalidate({"posts.list"});`. Error responses convert to it, so a
/// handler declared `-> TypedResponse<Post>` may also `return c.response.not_found();`.
template <class T>
class TypedResponse : public Response {
 public:
  using data_type = T;  ///< What the success data is.

  TypedResponse(Response response) : Response(std::move(response)) {}

  TypedResponse& set_status(unsigned status) & noexcept { return self(Response::set_status(status)); }
  TypedResponse&& set_status(unsigned status) && noexcept { return moved(Response::set_status(status)); }
  TypedResponse& header(std::string name, std::string value) & {
    return self(Response::header(std::move(name), std::move(value)));
  }
  TypedResponse&& header(std::string name, std::string value) && {
    return moved(Response::header(std::move(name), std::move(value)));
  }
  TypedResponse& cookie(std::string_view name, std::string_view value, const CookieOptions& options = {}) & {
    return self(Response::cookie(name, value, options));
  }
  TypedResponse&& cookie(std::string_view name, std::string_view value,
                         const CookieOptions& options = {}) && {
    return moved(Response::cookie(name, value, options));
  }
  TypedResponse& clear_cookie(std::string_view name, CookieOptions options = {}) & {
    return self(Response::clear_cookie(name, std::move(options)));
  }
  TypedResponse&& clear_cookie(std::string_view name, CookieOptions options = {}) && {
    return moved(Response::clear_cookie(name, std::move(options)));
  }
  TypedResponse& revalidate(std::vector<std::string> keys) & {
    return self(Response::revalidate(std::move(keys)));
  }
  TypedResponse&& revalidate(std::vector<std::string> keys) && {
    return moved(Response::revalidate(std::move(keys)));
  }
  TypedResponse& revalidate(std::vector<std::string> keys, ScopesFn scopes) & {
    return self(Response::revalidate(std::move(keys), std::move(scopes)));
  }
  TypedResponse&& revalidate(std::vector<std::string> keys, ScopesFn scopes) && {
    return moved(Response::revalidate(std::move(keys), std::move(scopes)));
  }

 private:
  TypedResponse& self(Response&) noexcept { return *this; }
  TypedResponse&& moved(Response&) noexcept { return std::move(*this); }
};

namespace detail {
template <class T>
inline constexpr bool is_typed_answer_v =
    json::detail::DescribedStruct<T> || json::detail::FieldsObject<T> || json::detail::Vector<T> ||
    json::detail::Optional<T> || json::detail::StringMap<T>;
/// TypedResponse<T> for data whose type says something (structs, vectors, optionals, maps); Response for
/// scalars and JSON values, whose schema would not.
template <class T>
using answer_t = std::conditional_t<is_typed_answer_v<T>, TypedResponse<T>, Response>;
}  // namespace detail

/// Builds responses in Igniter's envelope; handlers reach it as `c.response`.
class ResponseBuilder {
 public:
  /// 200 with `data`; typed (TypedResponse<T>) when T is a described struct, vector, optional or map.
  template <class T>
  detail::answer_t<T> success(const T& data) const {
    return data_response(200, data);
  }
  /// 201 with `data`; typed as success() is.
  template <class T>
  detail::answer_t<T> created(const T& data) const {
    return data_response(201, data);
  }
  /// 200 with `data` (Igniter's `json`); typed as success() is.
  template <class T>
  detail::answer_t<T> json(const T& data) const {
    return data_response(200, data);
  }
  /// Any status with `data` in the success envelope; typed as success() is.
  template <class T>
  detail::answer_t<T> status(unsigned status, const T& data) const {
    return data_response(status, data);
  }
  /// 204, no body.
  Response no_content() const;
  /// A redirect with a Location header, in Igniter's ERR_REDIRECT envelope (302 by default).
  Response redirect(std::string location, unsigned status = 302) const;

  Response bad_request(std::string message = "Bad Request", json::value data = nullptr) const;
  Response unauthorized(std::string message = "Unauthorized", json::value data = nullptr) const;
  Response forbidden(std::string message = "Forbidden", json::value data = nullptr) const;
  Response not_found(std::string message = "Not Found", json::value data = nullptr) const;
  Response conflict(std::string message = "Conflict", json::value data = nullptr) const;
  Response unprocessable(std::string message = "Unprocessable Entity", json::value data = nullptr) const;
  /// Any error: `{"data":null,"error":{"message":..,"code":..,"data":..}}` (data omitted when null).
  Response error(unsigned status, std::string code, std::string message, json::value data = nullptr) const;

 private:
  // JSON values are written as they are (no copy); typed data (structs, vectors, ...) straight to text,
  // as json::encode then json::stringify would write it, without building the value in between.
  template <class T>
  static Response data_response(unsigned status, const T& data) {
    if constexpr (std::is_same_v<T, json::value> || std::is_same_v<T, json::object> ||
                  std::is_same_v<T, json::array>) {
      return envelope(status, data);
    } else if constexpr (std::is_convertible_v<const T&, json::value>) {
      return envelope(status, json::value(data));
    } else {
      json::detail::require_codable<T>();
      std::string body = R"({"data":)";
      json::detail::write_json(body, data);
      body += R"(,"error":null})";
      return Response(status, std::move(body), "application/json; charset=utf-8");
    }
  }
  static Response envelope(unsigned status, const json::value& data);
  static Response envelope(unsigned status, const json::object& data);
  static Response envelope(unsigned status, const json::array& data);
};

/// Thrown by procedures or handlers to answer with an error; mapped to a response in exactly one place.
class HttpError : public std::exception {
 public:
  /// `code` defaults to Igniter's code for the status (ERR_UNAUTHORIZED for 401, ...).
  HttpError(unsigned status, std::string message, std::string code = {}, json::value data = nullptr);
  const char* what() const noexcept override { return message_.c_str(); }
  Response response() const;
  unsigned status() const noexcept { return status_; }

 private:
  unsigned status_;
  std::string message_;
  std::string code_;
  json::value data_;
};

}  // namespace igniter

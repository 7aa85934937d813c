#pragma once
/// The request an action sees: method, path, headers, cookies, query string, path parameters, body.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igniter/http/method.hpp"
#include "igniter/json/json.hpp"

namespace igniter {

/// One HTTP request, owned by the server while its action runs; safe to read from the handler's thread.
class Request {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  Method method = Method::GET;
  std::string target;  ///< As received: path and query string, still percent-encoded.
  std::string path;    ///< Decoded path, without the query string.
  Fields headers;      ///< In arrival order; names as sent (lookups ignore case).
  Fields query;        ///< Decoded query parameters in order; a repeated key appears once per value.
  Fields params;       ///< Path parameters (`/:id`), decoded.
  std::string body;    ///< Raw body bytes.
  std::string remote;  ///< Peer address, "127.0.0.1:54321".
  std::string client;  ///< The client's IP address: the peer's, or the one a trusted proxy forwarded
                       ///< (AppOptions::trusted_proxies); "203.0.113.7".

  /// The scheme the client used, "https" or "http": the connection's own, or the one a trusted proxy
  /// forwarded (X-Forwarded-Proto, AppOptions::trusted_proxies).
  std::string scheme = "http";

  /// Whether the client reached us over HTTPS, directly or through a trusted proxy (`scheme == "https"`):
  /// what decides a cookie's `Secure` flag.
  bool secure() const noexcept { return scheme == "https"; }

  /// The first header named `name` (case-insensitive), or "" when absent.
  std::string_view header(std::string_view name) const noexcept;
  /// Whether a header named `name` is present.
  bool has_header(std::string_view name) const noexcept;
  /// The value of cookie `name` from the Cookie header(s), or "" when absent.
  std::string_view cookie(std::string_view name) const noexcept;
  /// The first query parameter `name`, or "" when absent.
  std::string_view query_param(std::string_view name) const noexcept;
  /// The path parameter `name`, or "" when absent.
  std::string_view param(std::string_view name) const noexcept;
  /// The token of an `Authorization: Bearer <token>` header, or "".
  std::string_view bearer_token() const noexcept;

  /// Query parameters as a JSON object of strings (arrays for repeated keys), for typed decoding.
  json::object query_object() const;
  /// Path parameters as a JSON object of strings, for typed decoding.
  json::object params_object() const;
};

/// Case-insensitive ASCII comparison, as header names need.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace igniter

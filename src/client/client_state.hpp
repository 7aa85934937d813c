#pragma once
// What a Client's copies and its subscriptions share: the base URL, options, headers, cookies and the
// pool of idle keep-alive connections. Thread-safe.

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/connection.hpp"
#include "client/response_reader.hpp"
#include "client/wire.hpp"
#include "igniter/client/client.hpp"

namespace igniter::client::detail {

class ClientState {
 public:
  ClientState(std::string_view base_url, ClientOptions options);

  /// One call: target, headers, a pooled connection (a reused one that turns out closed is retried once
  /// on a new one, before any byte of an answer), the answer interpreted. Never throws: whatever fails
  /// inside (an allocation...) is an Error too (errc::internal_error).
  Reply<json::value> call(Method method, std::string_view path, const CallOptions& options) noexcept;

  /// The client's headers followed by the Cookie header of the jar (and of a Cookie header among them).
  Headers headers() const;
  void set_header(std::string_view name, std::string_view value);
  void set_cookie(std::string_view name, std::string_view value);
  std::string cookie(std::string_view name) const;
  /// Applies an answer's Set-Cookie line (when ClientOptions::keep_cookies).
  void take_cookie(std::string_view set_cookie_line);

  const std::string& base_url() const noexcept { return base_url_; }
  const BaseUrl& url() const noexcept { return url_; }
  const ClientOptions& options() const noexcept { return options_; }
  /// The TLS context of an https client (null for http); shared by its connections and subscriptions.
  const std::shared_ptr<asio::ssl::context>& tls_context() const noexcept { return tls_context_; }
  /// The bounds an answer is read with.
  ResponseLimits response_limits(std::optional<std::uint64_t> max_body_bytes) const noexcept {
    return {.max_header_bytes = options_.max_header_bytes,
            .max_body_bytes = max_body_bytes,
            .max_interim_responses = options_.max_interim_responses};
  }

 private:
  // A connection and the io_context it runs on, idle in the pool or used by one call.
  struct Pooled {
    explicit Pooled(std::shared_ptr<asio::ssl::context> tls) : connection(io, std::move(tls)) {}
    asio::io_context io{1};
    Connection connection;
  };
  Reply<json::value> call_once(Method method, std::string_view path, const CallOptions& options);
  std::unique_ptr<Pooled> take_idle();
  void give_back(std::unique_ptr<Pooled> pooled);

  std::string base_url_;
  BaseUrl url_;
  ClientOptions options_;
  mutable std::mutex mutex_;
  Headers headers_;                                  // guarded by mutex_
  CookieJar cookies_;                                // guarded by mutex_
  std::vector<std::unique_ptr<Pooled>> idle_;        // guarded by mutex_
  std::shared_ptr<asio::ssl::context> tls_context_;  // https only
};

/// The TLS context of an https client: TLS 1.2+, the system's CAs or options.tls_ca_file, verification as
/// options.tls_verify says. Throws std::invalid_argument when the CAs cannot be loaded.
std::shared_ptr<asio::ssl::context> make_tls_context(const ClientOptions& options);

/// The Error for a failed transport step `what` ("Connecting to host:port", ...): timeouts, closed
/// connections and size limits get their errc, an answer that is not HTTP errc::invalid_answer; other
/// system errors keep their code.
Error transport_error(const error_code& ec, std::string_view what, std::chrono::milliseconds timeout);

/// True for a header name or value that would break the request (CR, LF, NUL; an empty or spaced name).
bool bad_header(std::string_view name, std::string_view value) noexcept;

}  // namespace igniter::client::detail

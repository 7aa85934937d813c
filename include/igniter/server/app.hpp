#pragma once
/// App: the application a user owns — controllers, procedures, static files, realtime and store — and
/// the HTTP server that runs them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/json/json.hpp"
#include "igniter/realtime/options.hpp"
#include "igniter/server/controller.hpp"
#include "igniter/server/openapi.hpp"
#include "igniter/server/procedure.hpp"

namespace igniter {

class Realtime;
namespace store {
class Store;
}

/// HTTPS: when both files are set, the app's listener speaks TLS only (HTTP and SSE alike), TLS 1.2 and
/// 1.3 with ALPN `http/1.1`, the server's cipher order, no compression, no renegotiation (docs/tls.md).
struct TlsOptions {
  std::filesystem::path certificate_chain_file;  ///< PEM: the server's certificate, then intermediates.
  std::filesystem::path private_key_file;        ///< PEM: the certificate's private key (unencrypted).
  std::optional<std::uint16_t> redirect_port;    ///< When set, a plain HTTP listener on this port (0 = a
                                                 ///< free one) answers every request 308 to https.
  /// Time to complete the TLS handshake; 0 = header_timeout.
  std::chrono::milliseconds handshake_timeout{0};
  /// When nonzero, every HTTPS answer carries `Strict-Transport-Security: max-age=<it>`.
  std::chrono::seconds hsts_max_age{0};
  /// How long a client may resume its TLS session (a session ticket) instead of a full handshake; the
  /// ticket keys rotate at this period and are kept across reload_tls(). 0 = no resumption.
  std::chrono::seconds session_lifetime{7200};

  /// True when TLS is asked for (either file set; both are then required, else start() throws).
  bool enabled() const noexcept { return !certificate_chain_file.empty() || !private_key_file.empty(); }
};

/// Settings of an App; every field has a default, so `App app({.base_path = "/api"})` reads well.
struct AppOptions {
  std::string base_path = "/api/v1";                 ///< Prefix of every action's path.
  unsigned io_threads = 0;                           ///< Event-loop threads; 0 = one per core.
  unsigned worker_threads = 8;                       ///< Threads that run handlers that may block (fast
                                                     ///< ones run on the I/O threads: docs/guide.md,
                                                     ///< "Concurrency"); 0 = every one on the I/O threads.
  std::size_t max_body_bytes = 1 << 20;              ///< Request body limit (413 past it); per action too.
  std::size_t max_header_bytes = 16 * 1024;          ///< Request line + headers limit (431 past it).
  std::size_t max_connections = 0;                   ///< Open connections (503 past it); 0 = derived from
                                                     ///< RLIMIT_NOFILE minus a reserve (docs/guide.md).
  std::vector<std::string> trusted_proxies;          ///< Reverse proxies (IPs, CIDRs) whose X-Forwarded-For
                                                     ///< and -Proto are believed (Request::client, ::scheme);
                                                     ///< empty = nobody's.
  std::chrono::milliseconds header_timeout{10'000};  ///< Time to receive a request's headers (408 past it).
  std::chrono::milliseconds body_timeout{30'000};    ///< Time to receive a request's body (408 past it).
  std::chrono::milliseconds idle_timeout{60'000};    ///< Keep-alive connection idle limit.
  std::chrono::milliseconds shutdown_timeout{10'000};  ///< How long in-flight requests may finish on stop.
  LogLevel log_level = LogLevel::info;                 ///< One line per request at info; `off` in tests.
  std::size_t log_buffer_bytes = 4u << 20;             ///< Log lines waiting to be written to stderr; past
                                                       ///< it lines are dropped and counted (docs/guide.md).
  std::string schema_path = "/__igniter/schema";       ///< Where the app describes itself; "" = not served.
  OpenApiOptions openapi;                              ///< The OpenAPI 3.1 document (path "" = not served).
  std::shared_ptr<store::Store> store;    ///< Cache and messaging; null = in-process memory store.
  realtime::RealtimeOptions realtime;     ///< SSE endpoint, keepalive, history, backpressure.
  std::string metrics_path = "/metrics";  ///< Prometheus text counters; "" = not served.
  std::string metrics_token;              ///< When set, metrics_path requires `Authorization: Bearer <it>`.
  TlsOptions tls;                         ///< HTTPS certificate and key; unset = plain HTTP.
  QueryCacheOptions query_cache;          ///< Bounds of the cache of `.cache(...)` queries.

  // Draining on stop (docs/realtime.md, "Draining on stop"): SSE streams close in batches, not all at once.
  std::chrono::milliseconds drain_window{5'000};  ///< Longest the streams close over; under shutdown_timeout.
  double drain_rate = 1'000;       ///< Streams/s aimed at (few streams drain sooner); 0 = the whole window.
  std::size_t drain_batches = 20;  ///< Most batches the streams close in (per I/O thread).
};

/// Settings of a static file directory.
struct StaticOptions {
  std::string index = "index.html";        ///< Served for a directory.
  std::string cache_control = "no-cache";  ///< Cache-Control of every file (revalidated by ETag).
  bool spa_fallback = false;               ///< Serve `index` for unknown paths that accept text/html.
  std::vector<std::pair<std::string, std::string>> headers;  ///< Added to every file's answer (200 and 304),
                                                             ///< e.g. Content-Security-Policy.
};

/// The application. Configure it (controllers, procedures, static files), then listen() or start().
/// Configuration is not thread-safe and must be done before the server starts; misconfiguration (a
/// duplicate route, a bad path) throws std::invalid_argument at that call or at start.
class App {
 public:
  explicit App(AppOptions options = {});
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  /// Adds a controller's actions under the base path.
  App& controller(const Controller& controller);
  /// Adds a procedure that runs before every action (before the action's own).
  App& use(Procedure procedure);
  /// Serves the files under `directory` at `url_prefix` (GET and HEAD), never anything outside it.
  App& static_files(std::string url_prefix, std::filesystem::path directory, StaticOptions options = {});

  /// Describes every controller and action (method, path, JSON Schema of inputs and of the answer's data
  /// where known), as served at schema_path.
  json::value schema() const;
  /// The app's OpenAPI 3.1 document (docs/openapi.md), as served at openapi.path: generated on each call
  /// before start, once at start for serving.
  json::value openapi() const;

  /// Serves on host:port until SIGINT or SIGTERM, then shuts down gracefully and returns.
  void listen(std::uint16_t port, const std::string& host = "0.0.0.0");
  /// Starts serving in the background and returns the bound port (0 picks a free one).
  std::uint16_t start(std::uint16_t port = 0, const std::string& host = "127.0.0.1");
  /// Graceful shutdown: stop accepting, finish in-flight requests (bounded), close streams. Any thread.
  void stop();
  /// Blocks until the server has stopped.
  void wait();
  /// The bound port once started, else 0.
  std::uint16_t port() const noexcept;
  /// The bound port of the TLS redirect listener once started, else 0.
  std::uint16_t redirect_port() const noexcept;
  /// Reads the TLS certificate chain and key files again into a new context for new connections; open
  /// connections (streams included) keep theirs. On a bad file the context in force stays and the error
  /// is logged with the file and the reason. Any thread; listen() calls it on SIGHUP.
  Result<void> reload_tls();

  /// The realtime hub: publish, revalidate, scopes, channel authorization.
  Realtime& realtime();
  /// The store (cache and messaging).
  store::Store& store();
  /// Counters of the query cache (`.cache(...)` queries), as /metrics serves them. Any thread.
  QueryCacheStats query_cache_stats() const;
  /// The app's logger.
  Logger& logger();
  /// The options in force.
  const AppOptions& options() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace igniter

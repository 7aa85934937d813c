#pragma once
// The insides of App: configuration, the shards (one io_context each) and the threads that run them, the
// handler pool.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/client_address.hpp"
#include "http/router.hpp"
#include "igniter/server/app.hpp"
#include "server/drain.hpp"
#include "server/hub.hpp"
#include "server/loop_threads.hpp"
#include "server/openapi.hpp"
#include "server/query_cache.hpp"
#include "server/static_files.hpp"
#include "server/tls.hpp"
#include "server/worker_pool.hpp"

namespace igniter::server {

class HttpSession;
using SessionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
using SessionList = boost::intrusive::list<HttpSession, boost::intrusive::base_hook<SessionHook>,
                                           boost::intrusive::constant_time_size<false>>;

/// One event loop and the connections it owns. Everything in a shard is touched only by the thread that
/// runs its loop: one at a time, not always the same one (server/loop_threads.hpp).
struct Shard {
  explicit Shard(std::size_t index);
  ~Shard();

  std::size_t index;
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer sweeper;  ///< Ticks to expire timeouts of every session (one timer per shard).
  boost::asio::steady_timer accept_backoff;  ///< Delays the next accept after a failure (no busy loop).
  int spare_descriptor = -1;  ///< Held open (/dev/null) so that, out of descriptors, one can still be
                              ///< freed to accept a client, answer 503 and close.
  SessionList sessions;
  std::unique_ptr<RealtimeShard> realtime;
};

}  // namespace igniter::server

namespace igniter::server {

/// What answers requests: the actions (indexed by the router's route numbers), the app-wide procedures
/// and the static directories. Built before start, read-only while running (any thread).
struct Routes {
  std::vector<Action> actions;
  std::vector<std::string> controllers;  // names, for duplicate detection
  std::vector<Procedure> procedures;
  std::vector<StaticDirectory> static_dirs;
  http::Router router;

  /// The action whose key (`<controller>.<action>`) is `key`; nullptr when there is none.
  Action* find(std::string_view key) noexcept;
};

/// How long each action's handler typically takes, to choose where its next run goes: one measured faster
/// than kRunHere runs on the thread of the loop that read its request (server/loop_threads.hpp: no
/// hand-off, and a loop is never held up past LoopThreads::kHandOver by one that then blocks), any other
/// on the worker pool, where it is measured first. Indexed like Routes::actions, sized at start. Any
/// thread: a lost update only delays the average.
class ActionPace {
 public:
  /// Under this (the average), a handler is fast enough for the loop's thread: longer ones would hold up
  /// the loop's other connections, or waste it waiting while the pool's threads could overlap the waits.
  static constexpr auto kRunHere = std::chrono::microseconds(50);

  void reset(std::size_t actions) {
    typical_ = std::make_unique<std::atomic<std::int64_t>[]>(actions);
    for (std::size_t i = 0; i < actions; ++i) typical_[i].store(-1, std::memory_order_relaxed);
  }
  /// A run of `action` took `took` (an exponential average, 1/8 per run).
  void record(std::size_t action, std::chrono::steady_clock::duration took) noexcept {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
    auto typical = typical_[action].load(std::memory_order_relaxed);
    typical_[action].store(typical < 0 ? ns : typical + (ns - typical) / 8, std::memory_order_relaxed);
  }
  /// Measured, and faster than kRunHere.
  bool fast(std::size_t action) const noexcept {
    auto typical = typical_[action].load(std::memory_order_relaxed);
    return typical >= 0 && typical < std::chrono::nanoseconds(kRunHere).count();
  }

 private:
  std::unique_ptr<std::atomic<std::int64_t>[]> typical_;  // ns; -1 = never run
};

/// Open connections and the limit on them (AppOptions::max_connections), with the rate-limited log of
/// refusals. Any thread (atomics); `limit` is set at start.
struct ConnectionCount {
  std::atomic<std::size_t> open{0};
  std::size_t limit = 0;  // options.max_connections, or derived from RLIMIT_NOFILE at start
  std::atomic<std::int64_t> refusal_log_due{0};  // steady-clock ns: refusals are logged once per interval
  std::atomic<std::uint64_t> refusals{0};        // connections refused since the last such line
};

/// Start, drain and stop: what App::run / start / stop wait on and what sessions read to stop keeping
/// connections alive.
struct Lifecycle {
  std::atomic<bool> draining{false};
  std::atomic<bool> running{false};
  std::atomic<std::uint16_t> bound_port{0};
  std::mutex state_mutex;
  std::condition_variable stopped_cv;
  bool stopped = true;  // under state_mutex
  std::optional<boost::asio::signal_set> signals;
  std::unique_ptr<boost::asio::steady_timer> drain_timer;
  std::unique_ptr<StreamDrain> stream_drain;  // closes the SSE streams in batches (server/drain.hpp)
  std::chrono::steady_clock::time_point drain_deadline;
};

/// HTTPS (when AppOptions::tls is set): the context new connections get, the redirect listener, and the
/// rate-limited count of failed handshakes.
struct TlsState {
  std::mutex mutex;
  std::shared_ptr<boost::asio::ssl::context> context;               // guarded by mutex; for new connections
  std::optional<boost::asio::ip::tcp::acceptor> redirect_acceptor;  // on shards[0]
  std::atomic<std::uint16_t> redirect_bound_port{0};
  std::atomic<std::uint64_t> handshake_failures{0};  // since start
  std::atomic<std::uint64_t> failures_unlogged{0};   // since the last such log line
  std::atomic<std::int64_t> failure_log_due{0};      // steady-clock ns
  // The session ticket keys of every context this app builds, so that a reload keeps resumption.
  std::shared_ptr<TicketKeys> ticket_keys = std::make_shared<TicketKeys>();
};

}  // namespace igniter::server

namespace igniter {

struct App::Impl {
  explicit Impl(AppOptions options);

  AppOptions options;
  Logger logger;
  http::TrustedProxies
      trusted_proxies;  // options.trusted_proxies, parsed (a bad entry throws at construction)
  server::Routes routes;
  server::ActionPace pace;           // per action; where its handler runs (worker pool or the loop's thread)
  server::OpenApiEndpoints openapi;  // the OpenAPI document (and reference page), built at start

  // Realtime: the store (events through Redis with a RedisStore), the hub, the app's handle to it.
  std::shared_ptr<store::Store> store;
  std::unique_ptr<server::QueryCache>
      query_cache;  // answers of `.cache(...)` queries; before hub (it feeds it)
  std::unique_ptr<server::Hub> hub;
  std::unique_ptr<Realtime> realtime;

  // Threads: the shards (one event loop each), the threads that run them, and the handlers' pool.
  std::vector<std::unique_ptr<server::Shard>> shards;
  std::optional<server::LoopThreads> loops;
  std::optional<server::WorkerPool> workers;

  server::ConnectionCount connections;
  server::Lifecycle lifecycle;

  // Request ids: `<prefix>-<n>`, the prefix random per process.
  std::atomic<std::uint64_t> next_request{0};
  std::string request_id_prefix;
  server::TlsState tls;

  /// Answers one routed request: procedures, input validation, handler, revalidations, error mapping.
  Response handle(const Action& action, Request& request, const std::string& request_id);
  /// Answers a `.cache(...)` query after its procedures ran: a kept copy, or its handler's answer.
  Response cached(const Action& action, Ctx& ctx);
  /// Throws std::invalid_argument for a cached query that cannot be served safely (at start).
  void check_cached_queries() const;
  /// Answers a request no action matched: static files, schema, 404 or 405.
  Response handle_unrouted(const Request& request, const http::RouteMatch& match);
  std::string make_request_id();
  Ctx::Services services() { return {.realtime = realtime.get(), .store = store.get(), .logger = &logger}; }
  /// Adds a controller's actions; internal ones are the framework's own (SSE, subscriptions).
  void add_controller(const Controller& controller, bool internal);
  /// Adds `GET <sse_path>/presence?channel=` (PresenceOptions::serve_http).
  void add_presence_endpoint();
  /// Publishes the revalidations a successful response asked for (fail closed on a scopes error).
  void publish_revalidations(Ctx& ctx, const Response& response);

  json::value describe() const;
  void start(std::uint16_t port, const std::string& host, bool handle_signals);
  void begin_stop();
  /// Waits for the next SIGINT/SIGTERM (stop) or SIGHUP (TLS reload).
  void wait_for_signal();
  void poll_drain();
  void finish_stop();
  void accept(server::Shard& shard);
  /// What a pass through the spare descriptor left: no client waiting, more waiting, or no way to proceed.
  enum class Shed { drained, more, stuck };
  /// Out of descriptors: frees the spare to accept waiting clients, answers them 503, takes it back.
  Shed refuse_with_spare(server::Shard& shard);
  /// Counts a refused connection; logs at most one line per interval with the count and `reason`.
  void note_refusal(std::string_view reason, std::uint64_t count = 1);
  void sweep(server::Shard& shard);
  /// The TLS context for a new connection (null when plain). Any thread.
  std::shared_ptr<boost::asio::ssl::context> current_tls_context();
  /// Reads the certificate and key again; on failure logs why and keeps the context in force.
  Result<void> reload_tls();
  /// Counts a failed TLS handshake; logs at most one line per interval (count, last reason and peer).
  void note_handshake_failure(std::string_view reason, std::string_view peer);
  /// Accepts on the redirect listener (plain HTTP answered 308 to https).
  void accept_redirect(server::Shard& shard);
};

}  // namespace igniter

#pragma once
// The insides of App: configuration, the shards (one io_context and thread each), the handler pool.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/intrusive/list.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/client_address.hpp"
#include "http/router.hpp"
#include "igniter/server/app.hpp"
#include "server/hub.hpp"
#include "server/static_files.hpp"

namespace igniter::server {

class HttpSession;
class StreamDrain;
using SessionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
using SessionList = boost::intrusive::list<HttpSession, boost::intrusive::base_hook<SessionHook>,
                                           boost::intrusive::constant_time_size<false>>;

/// One event loop and the connections it owns. Everything in a shard is touched only by its thread.
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
  std::string date;  ///< The HTTP Date header value, refreshed by the sweeper.
  std::unique_ptr<RealtimeShard> realtime;
  std::thread thread;
};

}  // namespace igniter::server

namespace igniter {

struct App::Impl {
  explicit Impl(AppOptions options);

  // Configuration (before start).
  AppOptions options;
  Logger logger;
  http::TrustedProxies
      trusted_proxies;  // options.trusted_proxies, parsed (a bad entry throws at construction)
  std::vector<Action> actions;
  std::vector<std::string> controllers;  // names, for duplicate detection
  std::vector<Procedure> procedures;
  std::vector<server::StaticDirectory> static_dirs;
  http::Router router;
  std::shared_ptr<store::Store> store;
  std::unique_ptr<server::Hub> hub;
  std::unique_ptr<Realtime> realtime;

  // Running state.
  std::vector<std::unique_ptr<server::Shard>> shards;
  std::optional<boost::asio::thread_pool> workers;
  std::optional<boost::asio::signal_set> signals;
  std::atomic<std::size_t> connections{0};
  std::size_t connection_limit = 0;  // options.max_connections, or derived from RLIMIT_NOFILE at start
  std::atomic<std::int64_t> refusal_log_due{0};  // steady-clock ns: refusals are logged once per interval
  std::atomic<std::uint64_t> refusals{0};        // connections refused since the last such line
  std::atomic<std::uint64_t> next_request{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> running{false};
  std::atomic<std::uint16_t> bound_port{0};
  std::string request_id_prefix;
  std::mutex state_mutex;
  std::condition_variable stopped_cv;
  bool stopped = true;
  std::unique_ptr<boost::asio::steady_timer> drain_timer;
  std::unique_ptr<server::StreamDrain> stream_drain;  // closes the SSE streams in batches (server/drain.hpp)
  std::chrono::steady_clock::time_point drain_deadline;

  /// Answers one routed request: procedures, input validation, handler, revalidations, error mapping.
  Response handle(const Action& action, Request& request, const std::string& request_id);
  /// Answers a request no action matched: static files, schema, 404 or 405.
  Response handle_unrouted(const Request& request, const http::RouteMatch& match);
  std::string make_request_id();
  Ctx::Services services() { return {.realtime = realtime.get(), .store = store.get(), .logger = &logger}; }
  /// Adds a controller's actions; internal ones are the framework's own (SSE, subscriptions).
  void add_controller(const Controller& controller, bool internal);
  /// Publishes the revalidations a successful response asked for (fail closed on a scopes error).
  void publish_revalidations(Ctx& ctx, const Response& response);

  json::value describe() const;
  void start(std::uint16_t port, const std::string& host, bool handle_signals);
  void begin_stop();
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
};

}  // namespace igniter

#include "igniter/server/app.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <random>
#include <sstream>

#include "igniter/store/memory_store.hpp"
#include "igniter/store/redis_store.hpp"
#include "server/app_impl.hpp"
#include "server/cluster.hpp"
#include "server/drain.hpp"
#include "server/http_session.hpp"
#include "server/openapi.hpp"
#include "server/presence.hpp"
#include "server/tls.hpp"

namespace igniter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace server {
Shard::Shard(std::size_t index)
    : index(index),
      io(1),
      acceptor(io),
      sweeper(io),
      accept_backoff(io),
      realtime(std::make_unique<RealtimeShard>(io)) {}
Shard::~Shard() {
  sessions.clear();
  if (spare_descriptor >= 0) ::close(spare_descriptor);
}
}  // namespace server

App::Impl::Impl(AppOptions opts)
    : options(std::move(opts)),
      logger(LogOptions{.level = options.log_level, .max_buffered_bytes = options.log_buffer_bytes}),
      trusted_proxies(options.trusted_proxies) {
  std::random_device random;
  std::ostringstream prefix;
  prefix << std::hex << (random() & 0xffffff);
  request_id_prefix = prefix.str();
  store = options.store ? options.store : std::make_shared<store::MemoryStore>();
  // Answers go where the events go: Redis when the cluster shares its events there, else this process.
  auto shared = std::dynamic_pointer_cast<store::RedisStore>(store) ? store : nullptr;
  query_cache = std::make_unique<server::QueryCache>(options.query_cache, std::move(shared),
                                                     options.realtime.trust_client_scopes);
  hub = std::make_unique<server::Hub>(*this, options.realtime);
  query_cache->start_at(hub->history().latest_id());
  // A copy is read with the stream's head, so that a request waits until this process has read as far.
  if (auto redis = std::dynamic_pointer_cast<store::RedisStore>(store))
    query_cache->read_with(server::QueryCache::redis_reader(redis, server::Cluster::stream_key(*redis)));
  realtime = std::make_unique<Realtime>(*hub);

  // The framework's own endpoints: the SSE stream and its live subscription changes.
  auto& sse_path = options.realtime.sse_path;
  add_controller(igniter::controller("__realtime", sse_path)
                     .query("events", "/", [](Ctx& c) { return c.response.no_content(); })
                     .mutation("subscriptions", Method::POST, "/subscriptions",
                               [this](Ctx& c, const server::SubscriptionChange& change) {
                                 return hub->change_subscriptions(c, change);
                               }),
                 true);
  routes.find("__realtime.events")->sse_endpoint = true;
}

namespace {
struct PresenceQuery {
  std::string channel;
};
BOOST_DESCRIBE_STRUCT(PresenceQuery, (), (channel))
}  // namespace

void App::Impl::add_presence_endpoint() {
  // Members are listed only to a requester the app's channel guard admits to the channel.
  add_controller(igniter::controller("__realtime", options.realtime.sse_path)
                     .query("presence", "/presence",
                            [this](Ctx& c, const Query<PresenceQuery>& q) {
                              if (!hub->presence()->tracks(q->channel))
                                throw HttpError(404, "No presence on this channel");
                              if (hub->channel_guard)
                                if (auto reason = hub->channel_guard(c, q->channel))
                                  throw HttpError(403, *reason);
                              auto presence = hub->presence()->read(q->channel);
                              if (!presence) throw HttpError(503, "Presence unavailable, retry later");
                              return std::move(*presence);
                            }),
                 true);
}

namespace server {
Action* Routes::find(std::string_view key) noexcept {
  auto it = std::find_if(actions.begin(), actions.end(), [&](const Action& a) { return a.key == key; });
  return it == actions.end() ? nullptr : &*it;
}
}  // namespace server

void App::Impl::add_controller(const Controller& controller, bool internal) {
  if (!internal) {
    for (const auto& name : routes.controllers)
      if (name == controller.name())
        throw std::invalid_argument("duplicate controller: " + controller.name());
    routes.controllers.push_back(controller.name());
  }
  for (const auto& action : controller.actions()) {
    auto path = http::join_path({options.base_path, action.path});
    routes.router.add(action.method, path, routes.actions.size());
    Action copy = action;
    copy.path = http::join_path({action.path});
    copy.internal = internal;
    routes.actions.push_back(std::move(copy));
  }
}

void App::Impl::publish_revalidations(Ctx& ctx, const Response& response) {
  for (const auto& revalidation : response.revalidations()) {
    std::vector<std::string> scopes;
    if (revalidation.scopes) {
      try {
        scopes = revalidation.scopes(ctx);
      } catch (const std::exception& error) {
        // Fail closed: a revalidation whose audience is unknown goes to nobody.
        logger.error("request " + std::string(ctx.request_id()) + ": revalidation scopes failed, nothing " +
                     "published: " + error.what());
        continue;
      }
      if (scopes.empty()) {
        logger.warn("request " + std::string(ctx.request_id()) +
                    ": revalidation scopes function returned no scope, nothing published");
        continue;
      }
    }
    if (auto id = realtime->try_revalidate(revalidation.keys, std::move(scopes)); !id)
      logger.error("request " + std::string(ctx.request_id()) +
                   ": revalidation not published: " + id.error().message());
  }
}

std::string App::Impl::make_request_id() {
  char digits[16];
  auto end =
      std::to_chars(digits, digits + sizeof digits, next_request.fetch_add(1, std::memory_order_relaxed), 16)
          .ptr;
  std::string id;
  id.reserve(request_id_prefix.size() + 1 + static_cast<std::size_t>(end - digits));
  id.append(request_id_prefix).append(1, '-').append(digits, end);
  return id;
}

Response App::Impl::handle(const Action& action, Request& request, const std::string& request_id) {
  Ctx ctx(request, request_id, services());
  try {
    if (!action.internal)
      for (const auto& procedure : routes.procedures)
        if (auto early = procedure.run(ctx)) return std::move(*early);
    for (const auto& procedure : action.options.use)
      if (auto early = procedure.run(ctx)) return std::move(*early);
    if (action.options.cache) return cached(action, ctx);
    Response response = action.invoke(ctx);
    // After the handler's work is done, and only when it succeeded.
    if (response.succeeded() && !response.revalidations().empty()) publish_revalidations(ctx, response);
    return response;
  } catch (const HttpError& error) {
    return error.response();
  } catch (const std::exception& error) {
    logger.error("request " + request_id + " " + action.key + " failed: " + error.what());
  } catch (...) {
    logger.error("request " + request_id + " " + action.key + " failed: unknown exception");
  }
  return ResponseBuilder{}.error(500, "ERR_INTERNAL_SERVER_ERROR", "Internal Server Error",
                                 json::object{{"requestId", request_id}});
}

void App::Impl::check_cached_queries() const {
  for (const auto& action : routes.actions) {
    if (!action.options.cache) continue;
    if (action.options.run_on_io_thread || options.worker_threads == 0)
      throw std::invalid_argument(action.key +
                                  ": a cached query may wait for another run of itself (and for Redis): it "
                                  "must run on the worker pool (no run_on_io_thread, worker_threads > 0)");
    if (action.options.cache->vary == Vary::scopes && !hub->scope_resolver)
      throw std::invalid_argument(action.key +
                                  ": its cached answers vary by the requester's scopes, but the app has no "
                                  "scope resolver (app.realtime().scopes(...)); declare "
                                  ".vary = igniter::Vary::public_ if the answer is the same for everyone");
  }
}

Response App::Impl::cached(const Action& action, Ctx& ctx) {
  const auto& options = *action.options.cache;
  std::vector<std::string> scopes;
  if (options.vary == Vary::scopes) {
    try {
      scopes = hub->scope_resolver(ctx);
    } catch (const HttpError&) {
      throw;
    } catch (const std::exception& error) {
      // The requester's scopes are unknown: no copy may be shared with it.
      logger.warn("request " + std::string(ctx.request_id()) + " " + action.key +
                  ": scope resolver failed, answered uncached: " + error.what());
      return action.invoke(ctx);
    }
  }
  auto key = server::CacheKey::make(action.key, ctx.request.params_object(), ctx.request.query_object(),
                                    options.vary, std::move(scopes));
  return query_cache->serve(key, options.ttl, [&] { return action.invoke(ctx); });
}

namespace {

// Compares a secret in time that depends only on the expected value's length, not on where they differ.
bool equal_in_constant_time(std::string_view given, std::string_view expected) noexcept {
  unsigned char difference = given.size() != expected.size() ? 1 : 0;
  for (std::size_t i = 0; i < expected.size(); ++i)
    difference |= static_cast<unsigned char>((i < given.size() ? given[i] : 0) ^ expected[i]);
  return difference == 0;
}

}  // namespace

Response App::Impl::handle_unrouted(const Request& request, const http::RouteMatch& match) {
  if (match.path_known()) {
    // The SSE endpoint has no HEAD (a stream's head is only known by opening it): 405, docs/realtime.md.
    auto get = routes.router.match(Method::GET, request.path);
    bool stream = get.found() && routes.actions[get.route].sse_endpoint;
    std::string allow;
    for (auto method : match.allowed) {
      if (!allow.empty()) allow += ", ";
      allow += to_string(method);
      if (method == Method::GET && !stream) allow += ", HEAD";
    }
    if (request.method == Method::OPTIONS) return Response(204, {}, {}).header("Allow", allow);
    return ResponseBuilder{}
        .error(405, "ERR_METHOD_NOT_ALLOWED",
               "Method " + std::string(to_string(request.method)) + " not allowed")
        .header("Allow", allow);
  }
  if (!options.metrics_path.empty() && request.method == Method::GET &&
      request.path == options.metrics_path) {
    if (!options.metrics_token.empty() &&
        !equal_in_constant_time(request.bearer_token(), options.metrics_token))
      return ResponseBuilder{}
          .unauthorized("Metrics require a bearer token")
          .header("WWW-Authenticate", "Bearer");
    auto text = hub->prometheus_metrics();
    if (options.tls.enabled())
      text +=
          "# HELP igniter_tls_handshake_failures_total TLS handshakes that failed or timed out.\n"
          "# TYPE igniter_tls_handshake_failures_total counter\n"
          "igniter_tls_handshake_failures_total " +
          std::to_string(tls.handshake_failures.load(std::memory_order_relaxed)) + "\n";
    if (loops)
      text +=
          "# HELP igniter_loop_hand_overs_total Handlers run on an event loop's thread that ran past 2 ms, "
          "so that the loop went on on another thread (docs/architecture.md, \"Threads\").\n"
          "# TYPE igniter_loop_hand_overs_total counter\n"
          "igniter_loop_hand_overs_total " +
          std::to_string(loops->hand_overs()) + "\n";
    auto cache = query_cache->stats();
    text +=
        "# HELP igniter_query_cache_hits_total Cached query requests answered from a kept copy or a joined "
        "run.\n"
        "# TYPE igniter_query_cache_hits_total counter\n"
        "igniter_query_cache_hits_total " +
        std::to_string(cache.hits) +
        "\n"
        "# HELP igniter_query_cache_misses_total Cached query requests whose handler ran.\n"
        "# TYPE igniter_query_cache_misses_total counter\n"
        "igniter_query_cache_misses_total " +
        std::to_string(cache.misses) +
        "\n"
        "# HELP igniter_query_cache_errors_total Query cache failures (the handler answered instead).\n"
        "# TYPE igniter_query_cache_errors_total counter\n"
        "igniter_query_cache_errors_total " +
        std::to_string(cache.errors) +
        "\n"
        "# HELP igniter_query_cache_reader_timeouts_total Cached query requests that waited longer than "
        "max_reader_wait for this process to read the event stream (the handler ran).\n"
        "# TYPE igniter_query_cache_reader_timeouts_total counter\n"
        "igniter_query_cache_reader_timeouts_total " +
        std::to_string(cache.lagging) + "\n";
    return Response(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }
  if (!options.schema_path.empty() && request.method == Method::GET && request.path == options.schema_path) {
    json::object envelope{{"data", describe()}, {"error", nullptr}};
    return Response::json(200, envelope);
  }
  if (auto response = openapi.serve(request)) return std::move(*response);
  for (const auto& dir : routes.static_dirs)
    if (auto response = dir.serve(request)) return std::move(*response);
  // The path as sent (percent-encoded, so ASCII): the decoded one may hold bytes that are not UTF-8.
  std::string_view sent_path = std::string_view(request.target).substr(0, request.target.find('?'));
  return ResponseBuilder{}.not_found("No route for " + std::string(to_string(request.method)) + " " +
                                     std::string(sent_path));
}

namespace {

constexpr auto kRefusalLogInterval = std::chrono::seconds(10);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr std::uint64_t kRefusalsPerPass = 64;  // clients answered 503 per pass out of descriptors

const std::string& busy_response() {
  static const std::string response = [] {
    std::string body =
        R"({"data":null,"error":{"message":"Too many connections","code":"ERR_SERVICE_UNAVAILABLE"}})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
           "X-Content-Type-Options: nosniff\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return response;
}

// Answers 503 on a connection the server will not serve and closes it, never blocking: the answer fits a
// fresh socket's send buffer; what the client already sent is discarded first, so that closing does not
// reset the connection before the client has read the answer.
void refuse(int fd) {
  const auto& busy = busy_response();
  [[maybe_unused]] auto sent = ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  char scratch[4096];
  for (int i = 0; i < 4 && ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
  }
  ::close(fd);
}

int open_spare_descriptor() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool out_of_descriptors(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

// Raises the soft RLIMIT_NOFILE to the hard one (every connection is a descriptor); returns the limit
// in force, 0 when unknown.
std::size_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = limit.rlim_max;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return std::size_t{1} << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

// Descriptors kept for what is not a client connection (event loops, files being served, Redis, logs) when
// max_connections is derived: a tenth of the limit, at least 64 (half of a limit of 128 or less).
std::size_t descriptor_reserve(std::size_t descriptor_limit) noexcept {
  if (descriptor_limit <= 128) return descriptor_limit / 2;
  return std::max<std::size_t>(64, descriptor_limit / 10);
}

}  // namespace

void App::Impl::note_refusal(std::string_view reason, std::uint64_t count) {
  connections.refusals.fetch_add(count, std::memory_order_relaxed);
  auto now = Clock::now().time_since_epoch().count();
  auto due = connections.refusal_log_due.load(std::memory_order_relaxed);
  if (now < due) return;
  auto next = now + std::chrono::duration_cast<Clock::duration>(kRefusalLogInterval).count();
  if (!connections.refusal_log_due.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
  auto refused = connections.refusals.exchange(0, std::memory_order_relaxed);
  logger.warn(std::string(reason) + "; " + std::to_string(refused) +
              " connection(s) refused with 503 since the last such line (logged at most every " +
              std::to_string(kRefusalLogInterval.count()) + " s)");
}

App::Impl::Shed App::Impl::refuse_with_spare(server::Shard& shard) {
  if (shard.spare_descriptor < 0) {
    // The spare could not be taken back last time; maybe descriptors have been freed since.
    shard.spare_descriptor = open_spare_descriptor();
    note_refusal(
        "out of file descriptors and no spare one: new clients wait (raise RLIMIT_NOFILE or lower "
        "max_connections)",
        0);
    return Shed::stuck;
  }
  ::close(shard.spare_descriptor);
  shard.spare_descriptor = -1;
  std::uint64_t refused = 0;
  int accept_error = 0;
  for (; refused < kRefusalsPerPass; ++refused) {
    int fd = ::accept4(shard.acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      accept_error = errno;
      break;
    }
    refuse(fd);
  }
  shard.spare_descriptor = open_spare_descriptor();
  if (refused)
    note_refusal(
        "out of file descriptors: new connections are answered 503 (raise RLIMIT_NOFILE or lower "
        "max_connections)",
        refused);
  if (shard.spare_descriptor < 0) return Shed::stuck;
  if (refused == kRefusalsPerPass || accept_error == ECONNABORTED || accept_error == EINTR) return Shed::more;
  return accept_error == EAGAIN || accept_error == EWOULDBLOCK ? Shed::drained : Shed::stuck;
}

void App::Impl::accept(server::Shard& shard) {
  shard.acceptor.async_accept([this, &shard](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !shard.acceptor.is_open()) return;
    if (!ec) {
      if (connections.open.fetch_add(1, std::memory_order_relaxed) >= connections.limit) {
        connections.open.fetch_sub(1, std::memory_order_relaxed);
        refuse(socket.release());
        note_refusal("max_connections (" + std::to_string(connections.limit) + ") reached");
      } else if (auto context = current_tls_context()) {
        std::make_shared<server::HttpSession>(*this, shard,
                                              server::Stream(std::move(socket), std::move(context)))
            ->start();
      } else {
        std::make_shared<server::HttpSession>(*this, shard, server::Stream(std::move(socket)))->start();
      }
      return accept(shard);
    }
    if (ec == asio::error::connection_aborted) return accept(shard);  // the client left first
    if (out_of_descriptors(ec)) {
      switch (refuse_with_spare(shard)) {
        case Shed::more:
          return accept(shard);
        case Shed::drained:
          // accept() fails for want of a descriptor before it looks for a client, so accepting again would
          // fail at once: wait until a client is there, then go through the spare again.
          return shard.acceptor.async_wait(tcp::acceptor::wait_read,
                                           [this, &shard](boost::system::error_code wait_ec) {
                                             if (!wait_ec && shard.acceptor.is_open()) accept(shard);
                                           });
        case Shed::stuck:
          break;
      }
    } else {
      note_refusal("accept failed: " + ec.message(), 0);
    }
    // Accepting again at once would fail again at once (a busy loop): wait a little.
    shard.accept_backoff.expires_after(kAcceptBackoff);
    shard.accept_backoff.async_wait([this, &shard](boost::system::error_code wait_ec) {
      if (!wait_ec && shard.acceptor.is_open()) accept(shard);
    });
  });
}

std::shared_ptr<asio::ssl::context> App::Impl::current_tls_context() {
  if (!options.tls.enabled()) return nullptr;
  std::lock_guard lock(tls.mutex);
  return tls.context;
}

Result<void> App::Impl::reload_tls() {
  if (!options.tls.enabled()) {
    logger.error("TLS reload asked for, but this app serves plain HTTP (AppOptions::tls is not set)");
    return std::make_error_code(std::errc::operation_not_supported);
  }
  auto loaded = server::make_server_tls_context(options.tls, tls.ticket_keys);
  if (!loaded.context) {
    logger.error("TLS reload failed, the certificate in force stays: " + loaded.error);
    return std::make_error_code(std::errc::invalid_argument);
  }
  {
    std::lock_guard lock(tls.mutex);
    tls.context = std::move(loaded.context);
  }
  logger.info("TLS certificate reloaded from " + options.tls.certificate_chain_file.string() +
              "; new connections use it, open ones keep theirs");
  return {};
}

void App::Impl::note_handshake_failure(std::string_view reason, std::string_view peer) {
  tls.handshake_failures.fetch_add(1, std::memory_order_relaxed);
  tls.failures_unlogged.fetch_add(1, std::memory_order_relaxed);
  auto now = Clock::now().time_since_epoch().count();
  auto due = tls.failure_log_due.load(std::memory_order_relaxed);
  if (now < due) return;
  auto next = now + std::chrono::duration_cast<Clock::duration>(kRefusalLogInterval).count();
  if (!tls.failure_log_due.compare_exchange_strong(due, next, std::memory_order_relaxed)) return;
  auto failed = tls.failures_unlogged.exchange(0, std::memory_order_relaxed);
  logger.warn(std::to_string(failed) +
              " TLS handshake(s) failed since the last such line (logged at most every " +
              std::to_string(kRefusalLogInterval.count()) + " s); the last: " + std::string(reason) +
              " from " + std::string(peer));
}

void App::Impl::accept_redirect(server::Shard& shard) {
  tls.redirect_acceptor->async_accept([this, &shard](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !tls.redirect_acceptor->is_open()) return;
    if (!ec) {
      if (connections.open.fetch_add(1, std::memory_order_relaxed) >= connections.limit) {
        connections.open.fetch_sub(1, std::memory_order_relaxed);
        refuse(socket.release());
        note_refusal("max_connections (" + std::to_string(connections.limit) + ") reached");
      } else {
        std::make_shared<server::HttpSession>(*this, shard, server::Stream(std::move(socket)), true)->start();
      }
      return accept_redirect(shard);
    }
    // Out of descriptors or another failure: the main listener sheds load; this one just waits a little.
    auto timer = std::make_shared<asio::steady_timer>(shard.io, kAcceptBackoff);
    timer->async_wait([this, &shard, timer](boost::system::error_code wait_ec) {
      if (!wait_ec && tls.redirect_acceptor->is_open()) accept_redirect(shard);
    });
  });
}

namespace {

std::chrono::milliseconds sweep_period(const AppOptions& o) {
  auto shortest = std::min({o.header_timeout, o.body_timeout, o.idle_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds(20), std::chrono::milliseconds(500));
}

}  // namespace

void App::Impl::sweep(server::Shard& shard) {
  auto now = Clock::now();
  // Collect first: expire() may unlink a session from the list we walk.
  std::vector<std::shared_ptr<server::HttpSession>> expired;
  for (auto& session : shard.sessions)
    if (session.deadline() <= now) expired.push_back(session.shared_from_this());
  for (auto& session : expired) session->expire();
  shard.sweeper.expires_after(sweep_period(options));
  shard.sweeper.async_wait([this, &shard](boost::system::error_code ec) {
    if (!ec) sweep(shard);
  });
}

void App::Impl::start(std::uint16_t port, const std::string& host, bool handle_signals) {
  {
    std::lock_guard lock(lifecycle.state_mutex);
    if (lifecycle.running) throw std::logic_error("App already started");
    // Once, not per request (the actions cannot change after start); misconfiguration throws here.
    openapi.prepare(routes.actions, options, routes.procedures.size());
    server::drain_settings(options);  // a drain that cannot work fails now, not at the stop
    check_cached_queries();
    lifecycle.running = true;
    lifecycle.stopped = false;
  }
  lifecycle.draining = false;
  // Misconfiguration fails here, before any thread or socket exists.
  if (options.tls.enabled()) {
    auto loaded = server::make_server_tls_context(options.tls, tls.ticket_keys);
    if (!loaded.context) {
      std::lock_guard lock(lifecycle.state_mutex);
      lifecycle.running = false;
      lifecycle.stopped = true;
      throw std::invalid_argument(loaded.error);
    }
    std::lock_guard lock(tls.mutex);
    tls.context = std::move(loaded.context);
  }

  unsigned io_threads =
      options.io_threads ? options.io_threads : std::max(1u, std::thread::hardware_concurrency());
  if (options.worker_threads) workers.emplace(options.worker_threads);
  auto descriptors = raise_descriptor_limit();
  std::size_t affordable = descriptors ? descriptors - descriptor_reserve(descriptors) : 10000;
  connections.limit = options.max_connections ? options.max_connections : affordable;
  if (options.max_connections > affordable)
    logger.warn("max_connections (" + std::to_string(options.max_connections) +
                ") is more than RLIMIT_NOFILE (" + std::to_string(descriptors) + ") affords; past about " +
                std::to_string(affordable) +
                " connections, new ones are answered 503 for want of descriptors");

  auto address = asio::ip::make_address(host);
  shards.clear();
  for (unsigned i = 0; i < io_threads; ++i) {
    auto shard = std::make_unique<server::Shard>(i);
    tcp::endpoint endpoint(address, i == 0 ? port : lifecycle.bound_port.load());
    auto& acceptor = shard->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    // Every shard listens on the same port; the kernel spreads new connections across them.
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    server::report_queued_bytes(acceptor.native_handle());  // reads know when a socket is drained
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    if (i == 0) lifecycle.bound_port = acceptor.local_endpoint().port();
    shards.push_back(std::move(shard));
  }
  if (options.tls.enabled() && options.tls.redirect_port) {
    tls.redirect_acceptor.emplace(shards[0]->io);
    tcp::endpoint endpoint(address, *options.tls.redirect_port);
    tls.redirect_acceptor->open(endpoint.protocol());
    tls.redirect_acceptor->set_option(tcp::acceptor::reuse_address(true));
    server::report_queued_bytes(tls.redirect_acceptor->native_handle());
    tls.redirect_acceptor->bind(endpoint);
    tls.redirect_acceptor->listen(asio::socket_base::max_listen_connections);
    tls.redirect_bound_port = tls.redirect_acceptor->local_endpoint().port();
    accept_redirect(*shards[0]);
  }
  for (auto& shard : shards) {
    shard->spare_descriptor = open_spare_descriptor();
    accept(*shard);
    sweep(*shard);
  }
  hub->start();
  lifecycle.drain_timer = std::make_unique<asio::steady_timer>(shards[0]->io);
  if (handle_signals) {
    lifecycle.signals.emplace(shards[0]->io, SIGINT, SIGTERM);
    if (options.tls.enabled()) lifecycle.signals->add(SIGHUP);
    wait_for_signal();
  }
  pace.reset(routes.actions.size());
  std::vector<asio::io_context*> ios;
  for (auto& shard : shards) ios.push_back(&shard->io);
  loops.emplace(std::max(options.worker_threads, 1u));
  loops->start(ios);
  logger.info(std::string("listening on ") + (options.tls.enabled() ? "https://" : "http://") + host + ":" +
              std::to_string(lifecycle.bound_port) + " with " + std::to_string(io_threads) +
              " I/O threads, up to " + std::to_string(connections.limit) + " connections");
}

void App::Impl::wait_for_signal() {
  lifecycle.signals->async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      // Reading two small files: short enough for the I/O thread, and a reload is rare.
      logger.info("received SIGHUP, reloading the TLS certificate");
      (void)reload_tls();
      return wait_for_signal();
    }
    logger.info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    begin_stop();
  });
}

void App::Impl::begin_stop() {
  if (lifecycle.draining.exchange(true)) return;
  lifecycle.drain_deadline = Clock::now() + options.shutdown_timeout;
  // Streams end in batches over the drain window; clients reconnect elsewhere with their last id.
  lifecycle.stream_drain = std::make_unique<server::StreamDrain>(shards, server::drain_settings(options));
  lifecycle.stream_drain->start();
  if (tls.redirect_acceptor)
    asio::post(shards[0]->io, [this] {
      boost::system::error_code ignored;
      tls.redirect_acceptor->close(ignored);
    });
  for (auto& shard : shards) {
    asio::post(shard->io, [&shard = *shard] {
      boost::system::error_code ignored;
      shard.acceptor.close(ignored);
      shard.accept_backoff.cancel();
      std::vector<std::shared_ptr<server::HttpSession>> sessions;
      for (auto& session : shard.sessions) sessions.push_back(session.shared_from_this());
      for (auto& session : sessions) session->drain();
    });
  }
  asio::post(shards[0]->io, [this] { poll_drain(); });
}

void App::Impl::poll_drain() {
  // Until every connection is gone or the bound has passed; then the loops stop.
  if (connections.open.load() == 0 || Clock::now() >= lifecycle.drain_deadline) return finish_stop();
  lifecycle.drain_timer->expires_after(std::chrono::milliseconds(10));
  lifecycle.drain_timer->async_wait([this](boost::system::error_code) { poll_drain(); });
}

void App::Impl::finish_stop() {
  for (auto& shard : shards) shard->io.stop();
  std::lock_guard lock(lifecycle.state_mutex);
  lifecycle.stopped = true;
  lifecycle.stopped_cv.notify_all();
}

// ---------------------------------------------------------------------------------------------------------

App::App(AppOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

App::~App() {
  if (impl_->lifecycle.running) {
    stop();
    wait();
  }
}

App& App::controller(const Controller& controller) {
  impl_->add_controller(controller, false);
  return *this;
}

App& App::use(Procedure procedure) {
  impl_->routes.procedures.push_back(std::move(procedure));
  return *this;
}

App& App::static_files(std::string url_prefix, std::filesystem::path directory, StaticOptions options) {
  impl_->routes.static_dirs.emplace_back(std::move(url_prefix), directory, std::move(options));
  return *this;
}

json::value App::schema() const {
  return impl_->describe();
}

json::value App::openapi() const {
  return server::openapi_document(impl_->routes.actions, impl_->options, impl_->routes.procedures.size());
}

json::value App::Impl::describe() const {
  const Impl& impl = *this;
  json::object controllers;
  for (const auto& action : impl.routes.actions) {
    if (action.internal) continue;
    auto dot = action.key.find('.');
    auto controller_name = action.key.substr(0, dot);
    auto& controller = controllers[controller_name];
    if (!controller.is_object())
      controller = json::object{{"name", controller_name}, {"actions", json::object{}}};
    json::object entry{
        {"key", action.key},
        {"type", action.stream                  ? "stream"
                 : action.method == Method::GET ? "query"
                                                : "mutation"},
        {"method", to_string(action.method)},
        {"path", action.path},
        {"body", action.schemas.body},
        {"query", action.schemas.query},
        {"params", action.schemas.params},
        {"response", action.response},
    };
    if (!action.options.description.empty()) entry.emplace("description", action.options.description);
    controller.as_object()["actions"].as_object().emplace(action.name, std::move(entry));
  }
  return json::object{{"basePath", impl.options.base_path}, {"controllers", std::move(controllers)}};
}

std::uint16_t App::start(std::uint16_t port, const std::string& host) {
  impl_->start(port, host, false);
  return impl_->lifecycle.bound_port;
}

void App::listen(std::uint16_t port, const std::string& host) {
  impl_->start(port, host, true);
  wait();
}

void App::stop() {
  if (!impl_->lifecycle.running) return;
  impl_->begin_stop();
}

void App::wait() {
  {
    std::unique_lock lock(impl_->lifecycle.state_mutex);
    impl_->lifecycle.stopped_cv.wait(lock, [&] { return impl_->lifecycle.stopped; });
  }
  if (impl_->loops) {
    impl_->loops->join();
    impl_->loops.reset();
  }
  if (impl_->workers) {
    impl_->workers->join();
    impl_->workers.reset();
  }
  impl_->hub->stop();
  impl_->lifecycle.drain_timer.reset();
  impl_->lifecycle.stream_drain.reset();
  impl_->lifecycle.signals.reset();
  impl_->tls.redirect_acceptor.reset();
  impl_->shards.clear();
  impl_->lifecycle.bound_port = 0;
  impl_->tls.redirect_bound_port = 0;
  impl_->lifecycle.running = false;
  impl_->logger.flush();  // every request's line is written once the server has stopped
}

std::uint16_t App::port() const noexcept {
  return impl_->lifecycle.bound_port;
}
std::uint16_t App::redirect_port() const noexcept {
  return impl_->tls.redirect_bound_port;
}
Result<void> App::reload_tls() {
  return impl_->reload_tls();
}
store::Store& App::store() {
  return *impl_->store;
}
Realtime& App::realtime() {
  return *impl_->realtime;
}
QueryCacheStats App::query_cache_stats() const {
  return impl_->query_cache->stats();
}
Logger& App::logger() {
  return impl_->logger;
}
const AppOptions& App::options() const noexcept {
  return impl_->options;
}

}  // namespace igniter

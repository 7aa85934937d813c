#include "igniter/server/app.hpp"

#include <sys/socket.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>

#include <algorithm>
#include <csignal>
#include <random>
#include <sstream>

#include "igniter/store/memory_store.hpp"
#include "server/app_impl.hpp"
#include "server/http_session.hpp"

namespace igniter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace server {
Shard::Shard(std::size_t index)
    : index(index), io(1), acceptor(io), sweeper(io), realtime(std::make_unique<RealtimeShard>(io)) {}
Shard::~Shard() {
  sessions.clear();
}
}  // namespace server

App::Impl::Impl(AppOptions opts) : options(std::move(opts)), logger(options.log_level) {
  std::random_device random;
  std::ostringstream prefix;
  prefix << std::hex << (random() & 0xffffff);
  request_id_prefix = prefix.str();
  store = options.store ? options.store : std::make_shared<store::MemoryStore>();
  hub = std::make_unique<server::Hub>(*this, options.realtime);
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
  actions[actions.size() - 2].sse_endpoint = true;
}

void App::Impl::add_controller(const Controller& controller, bool internal) {
  if (!internal) {
    for (const auto& name : controllers)
      if (name == controller.name())
        throw std::invalid_argument("duplicate controller: " + controller.name());
    controllers.push_back(controller.name());
  }
  for (const auto& action : controller.actions()) {
    auto path = http::join_path({options.base_path, action.path});
    router.add(action.method, path, actions.size());
    Action copy = action;
    copy.path = http::join_path({action.path});
    copy.internal = internal;
    actions.push_back(std::move(copy));
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
  std::ostringstream id;
  id << request_id_prefix << '-' << std::hex << next_request.fetch_add(1, std::memory_order_relaxed);
  return id.str();
}

Response App::Impl::handle(const Action& action, Request& request, const std::string& request_id) {
  Ctx ctx(request, request_id, services());
  try {
    if (!action.internal)
      for (const auto& procedure : procedures)
        if (auto early = procedure.run(ctx)) return std::move(*early);
    for (const auto& procedure : action.options.use)
      if (auto early = procedure.run(ctx)) return std::move(*early);
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

Response App::Impl::handle_unrouted(const Request& request, const http::RouteMatch& match) {
  if (match.path_known()) {
    std::string allow;
    for (auto method : match.allowed) {
      if (!allow.empty()) allow += ", ";
      allow += to_string(method);
      if (method == Method::GET) allow += ", HEAD";
    }
    if (request.method == Method::OPTIONS) return Response(204, {}, {}).header("Allow", allow);
    return ResponseBuilder{}
        .error(405, "ERR_METHOD_NOT_ALLOWED",
               "Method " + std::string(to_string(request.method)) + " not allowed")
        .header("Allow", allow);
  }
  if (!options.metrics_path.empty() && request.method == Method::GET && request.path == options.metrics_path)
    return Response(200, hub->prometheus_metrics(), "text/plain; version=0.0.4; charset=utf-8");
  if (!options.schema_path.empty() && request.method == Method::GET && request.path == options.schema_path) {
    json::object envelope{{"data", describe()}, {"error", nullptr}};
    return Response::json(200, envelope);
  }
  for (const auto& dir : static_dirs)
    if (auto response = dir.serve(request)) return std::move(*response);
  return ResponseBuilder{}.not_found("No route for " + std::string(to_string(request.method)) + " " +
                                     request.path);
}

void App::Impl::accept(server::Shard& shard) {
  shard.acceptor.async_accept([this, &shard](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !shard.acceptor.is_open()) return;
    if (!ec) {
      if (connections.fetch_add(1, std::memory_order_relaxed) >= options.max_connections) {
        connections.fetch_sub(1, std::memory_order_relaxed);
        static const std::string kBusy = [] {
          std::string body =
              R"({"data":null,"error":{"message":"Too many connections","code":"ERR_SERVICE_UNAVAILABLE"}})";
          return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 "Retry-After: 1\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
        }();
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kBusy), ignored);  // best effort; the socket buffer is empty
        socket.shutdown(tcp::socket::shutdown_both, ignored);
      } else {
        std::make_shared<server::HttpSession>(*this, shard, std::move(socket))->start();
      }
    } else {
      logger.warn(std::string("accept failed: ") + ec.message());
    }
    accept(shard);
  });
}

namespace {

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return text;
}

std::chrono::milliseconds sweep_period(const AppOptions& o) {
  auto shortest = std::min({o.header_timeout, o.body_timeout, o.idle_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds(20), std::chrono::milliseconds(500));
}

}  // namespace

void App::Impl::sweep(server::Shard& shard) {
  shard.date = http_date();
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
    std::lock_guard lock(state_mutex);
    if (running) throw std::logic_error("App already started");
    running = true;
    stopped = false;
  }
  draining = false;
  unsigned io_threads =
      options.io_threads ? options.io_threads : std::max(1u, std::thread::hardware_concurrency());
  if (options.worker_threads) workers.emplace(options.worker_threads);

  auto address = asio::ip::make_address(host);
  shards.clear();
  for (unsigned i = 0; i < io_threads; ++i) {
    auto shard = std::make_unique<server::Shard>(i);
    tcp::endpoint endpoint(address, i == 0 ? port : bound_port.load());
    auto& acceptor = shard->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    // Every shard listens on the same port; the kernel spreads new connections across them.
    int one = 1;
    ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    if (i == 0) bound_port = acceptor.local_endpoint().port();
    shards.push_back(std::move(shard));
  }
  for (auto& shard : shards) {
    shard->date = http_date();
    accept(*shard);
    sweep(*shard);
  }
  hub->start();
  drain_timer = std::make_unique<asio::steady_timer>(shards[0]->io);
  if (handle_signals) {
    signals.emplace(shards[0]->io, SIGINT, SIGTERM);
    signals->async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      logger.info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
      begin_stop();
    });
  }
  for (auto& shard : shards) shard->thread = std::thread([&io = shard->io] { io.run(); });
  logger.info("listening on http://" + host + ":" + std::to_string(bound_port) + " with " +
              std::to_string(io_threads) + " I/O threads");
}

void App::Impl::begin_stop() {
  if (draining.exchange(true)) return;
  drain_deadline = Clock::now() + options.shutdown_timeout;
  hub->close_all();  // streams end now; clients reconnect (to another instance) with their last id
  for (auto& shard : shards) {
    asio::post(shard->io, [&shard = *shard] {
      boost::system::error_code ignored;
      shard.acceptor.close(ignored);
      std::vector<std::shared_ptr<server::HttpSession>> sessions;
      for (auto& session : shard.sessions) sessions.push_back(session.shared_from_this());
      for (auto& session : sessions) session->drain();
    });
  }
  asio::post(shards[0]->io, [this] { poll_drain(); });
}

void App::Impl::poll_drain() {
  // Until every connection is gone or the bound has passed; then the loops stop.
  if (connections.load() == 0 || Clock::now() >= drain_deadline) return finish_stop();
  drain_timer->expires_after(std::chrono::milliseconds(10));
  drain_timer->async_wait([this](boost::system::error_code) { poll_drain(); });
}

void App::Impl::finish_stop() {
  for (auto& shard : shards) shard->io.stop();
  std::lock_guard lock(state_mutex);
  stopped = true;
  stopped_cv.notify_all();
}

// ---------------------------------------------------------------------------------------------------------

App::App(AppOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

App::~App() {
  if (impl_->running) {
    stop();
    wait();
  }
}

App& App::controller(const Controller& controller) {
  impl_->add_controller(controller, false);
  return *this;
}

App& App::use(Procedure procedure) {
  impl_->procedures.push_back(std::move(procedure));
  return *this;
}

App& App::static_files(std::string url_prefix, std::filesystem::path directory, StaticOptions options) {
  impl_->static_dirs.emplace_back(std::move(url_prefix), directory, std::move(options));
  return *this;
}

json::value App::schema() const {
  return impl_->describe();
}

json::value App::Impl::describe() const {
  const Impl& impl = *this;
  json::object controllers;
  for (const auto& action : impl.actions) {
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
  return impl_->bound_port;
}

void App::listen(std::uint16_t port, const std::string& host) {
  impl_->start(port, host, true);
  wait();
}

void App::stop() {
  if (!impl_->running) return;
  impl_->begin_stop();
}

void App::wait() {
  {
    std::unique_lock lock(impl_->state_mutex);
    impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
  }
  for (auto& shard : impl_->shards)
    if (shard->thread.joinable()) shard->thread.join();
  if (impl_->workers) {
    impl_->workers->join();
    impl_->workers.reset();
  }
  impl_->hub->stop();
  impl_->drain_timer.reset();
  impl_->signals.reset();
  impl_->shards.clear();
  impl_->bound_port = 0;
  impl_->running = false;
}

std::uint16_t App::port() const noexcept {
  return impl_->bound_port;
}
store::Store& App::store() {
  return *impl_->store;
}
Realtime& App::realtime() {
  return *impl_->realtime;
}
Logger& App::logger() {
  return impl_->logger;
}
const AppOptions& App::options() const noexcept {
  return impl_->options;
}

}  // namespace igniter

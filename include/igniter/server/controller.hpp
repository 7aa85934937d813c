#pragma once
/// Controllers group actions under a name and a path: queries (GET), mutations (POST, PUT, PATCH, DELETE)
/// and stream queries (realtime channels). The action key is `<controller>.<action>`, e.g. `posts.list`.

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igniter/http/method.hpp"
#include "igniter/server/detail/invoke.hpp"
#include "igniter/server/procedure.hpp"
#include "igniter/server/query_cache.hpp"

namespace igniter {

/// Per-action settings; every field has a default.
struct ActionOptions {
  std::vector<Procedure> use;      ///< Procedures run before the handler, after the app-wide ones.
  std::size_t max_body_bytes = 0;  ///< Body size limit; 0 = the app's (AppOptions::max_body_bytes).
  bool run_on_io_thread = false;   ///< Always on the I/O thread, unwatched (only for handlers that never
                                   ///< block; fast ones get there anyway: docs/guide.md, "Concurrency").
  std::string description;         ///< Shown in the app's schema.
  /// JSON Schema of the answer's `data` for a handler that returns an untyped `Response`:
  /// `igniter::returns<T>()`. Null = not said. A handler that returns a value or a TypedResponse<T>
  /// (`c.response.success(post)`) has it from its return type; setting another one throws.
  json::value response = nullptr;
  /// Caches the answers of a query (docs/query-cache.md); unset = not cached. Same as `.cache(...)`.
  std::optional<CacheOptions> cache{};
};

/// The JSON Schema of T as encoded (json::encoded_schema), for ActionOptions::response: declares what a
/// handler returning an untyped `Response` (one built from a json::value) answers on success, so the
/// app's schema (and clients generated from it) type the answer.
template <class T>
json::value returns() {
  return json::encoded_schema<T>();
}

/// One action, type-erased. Built by Controller; read by App.
struct Action {
  std::string name;                      ///< "list"
  std::string key;                       ///< "posts.list"
  Method method = Method::GET;           ///< GET for queries and streams.
  std::string path;                      ///< Controller path + action path, e.g. "/posts/:id".
  bool stream = false;                   ///< A stream query: also a realtime channel named `key`.
  ActionOptions options;                 ///< As given.
  std::function<Response(Ctx&)> invoke;  ///< Decodes inputs, validates, calls the handler.
  detail::InputSchemas schemas;          ///< JSON Schema of body, query and params (null when absent).
  json::value response = nullptr;        ///< JSON Schema of the answer's `data`; null when unknown.
  bool always_200 = false;    ///< The handler returns a plain value (a Response may set any status).
  bool internal = false;      ///< Built into the framework (not in the app's schema).
  bool sse_endpoint = false;  ///< The SSE endpoint: the realtime hub takes the connection.
};

/// A named group of actions under a path. Build it with igniter::controller(...) and chained calls, then
/// hand it to App::controller(). Handlers are `R(igniter::Ctx&, inputs...)` where inputs are `Query<T>`,
/// `Params<T>`, `Param<"name", T>`, `Body<T>` or a described struct (the body), and R is `Response`, a
/// `TypedResponse<T>` (what `c.response.success(value)` gives for a struct, vector, optional or map), or a
/// value json::encode knows, answered as `c.response.success(value)`; the last two are described in the
/// app's schema. Wrong signatures fail to compile. Throws std::invalid_argument when a handler with a
/// typed answer also has another ActionOptions::response, or reads a `Param<"name">` its path has no
/// `:name` for.
class Controller {
 public:
  Controller(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}

  /// A GET action.
  template <class F>
  Controller& query(std::string name, std::string path, F handler) {
    return query(std::move(name), std::move(path), ActionOptions{}, std::move(handler));
  }
  template <class F>
  Controller& query(std::string name, std::string path, std::vector<Procedure> use, F handler) {
    return query(std::move(name), std::move(path), ActionOptions{.use = std::move(use)}, std::move(handler));
  }
  template <class F>
  Controller& query(std::string name, std::string path, ActionOptions options, F handler) {
    static_assert(detail::Handler<F>::body_count == 0,
                  "a query (GET) takes no body: use Query<T> or Params<T>");
    return add<F>(std::move(name), Method::GET, std::move(path), std::move(options), false,
                  std::move(handler));
  }

  /// A POST, PUT, PATCH or DELETE action.
  template <class F>
  Controller& mutation(std::string name, Method method, std::string path, F handler) {
    return mutation(std::move(name), method, std::move(path), ActionOptions{}, std::move(handler));
  }
  template <class F>
  Controller& mutation(std::string name, Method method, std::string path, std::vector<Procedure> use,
                       F handler) {
    return mutation(std::move(name), method, std::move(path), ActionOptions{.use = std::move(use)},
                    std::move(handler));
  }
  template <class F>
  Controller& mutation(std::string name, Method method, std::string path, ActionOptions options, F handler) {
    return add<F>(std::move(name), method, std::move(path), std::move(options), false, std::move(handler));
  }

  /// A stream query (the seed's `stream: true`): a realtime channel named `<controller>.<action>`. Its
  /// procedures and handler run when a connection subscribes; their answer goes to that subscriber only.
  template <class F>
  Controller& stream(std::string name, std::string path, F handler) {
    return stream(std::move(name), std::move(path), ActionOptions{}, std::move(handler));
  }
  template <class F>
  Controller& stream(std::string name, std::string path, std::vector<Procedure> use, F handler) {
    return stream(std::move(name), std::move(path), ActionOptions{.use = std::move(use)}, std::move(handler));
  }
  template <class F>
  Controller& stream(std::string name, std::string path, ActionOptions options, F handler) {
    static_assert(detail::Handler<F>::body_count == 0, "a stream query takes no body");
    return add<F>(std::move(name), Method::GET, std::move(path), std::move(options), true,
                  std::move(handler));
  }

  /// Caches the answers of the query added just before: `.query("list", "/", list).cache({.ttl = 30s})`.
  /// A kept answer is dropped by every revalidation that reaches its key (as clients match keys, on every
  /// process) before the revalidation event leaves; docs/query-cache.md. Throws std::invalid_argument
  /// when the last action is not a query (GET, not a stream) or `options.ttl` is not positive.
  Controller& cache(CacheOptions options) {
    if (actions_.empty() || actions_.back().method != Method::GET || actions_.back().stream)
      throw std::invalid_argument("controller " + name_ +
                                  ": .cache(...) follows the .query(...) whose answers it caches");
    check_cache(actions_.back().key, options);
    actions_.back().options.cache = options;
    return *this;
  }

  const std::string& name() const noexcept { return name_; }
  const std::string& path() const noexcept { return path_; }
  const std::vector<Action>& actions() const noexcept { return actions_; }

 private:
  template <class F>
  Controller& add(std::string name, Method method, std::string path, ActionOptions options, bool stream,
                  F handler) {
    Action action;
    action.key = name_ + "." + name;
    action.name = std::move(name);
    action.method = method;
    action.path = path_ + "/" + path;
    action.stream = stream;
    if (options.cache) {
      if (method != Method::GET || stream)
        throw std::invalid_argument(action.key + ": only queries (GET) can be cached");
      check_cache(action.key, *options.cache);
    }
    action.options = std::move(options);
    action.schemas = detail::Handler<F>::schemas();
    for (auto param : detail::Handler<F>::param_names())
      if (!has_segment(action.path, param))
        throw std::invalid_argument(action.key + ": the handler reads path parameter '" + std::string(param) +
                                    "' but the path " + action.path + " has no ':" + std::string(param) +
                                    "'");
    if constexpr (detail::Handler<F>::returns_response) {
      action.response = action.options.response;
    } else {
      action.response = detail::Handler<F>::response_schema();
      // A TypedResponse handler written before answers were deduced may still declare the same type.
      bool same = detail::Handler<F>::returns_typed_response && action.options.response == action.response;
      if (!action.options.response.is_null() && !same)
        throw std::invalid_argument(
            action.key +
            ": ActionOptions::response is for handlers that return an untyped igniter::Response; "
            "this handler's return type already describes its answer (leave `response` out)");
    }
    action.always_200 = !detail::Handler<F>::returns_response && !detail::Handler<F>::returns_typed_response;
    action.invoke = detail::Handler<F>::wrap(std::move(handler));
    actions_.push_back(std::move(action));
    return *this;
  }

  static void check_cache(const std::string& key, const CacheOptions& options) {
    if (options.ttl.count() <= 0)
      throw std::invalid_argument(key + ": the cache's ttl must be positive (e.g. .cache({.ttl = 30s}))");
  }

  // Whether `path` has the segment `:name`.
  static bool has_segment(std::string_view path, std::string_view name) {
    for (std::size_t at = path.find(':'); at != std::string_view::npos; at = path.find(':', at + 1)) {
      auto end = path.find('/', at);
      if (path.substr(at + 1, end == std::string_view::npos ? end : end - at - 1) == name) return true;
    }
    return false;
  }

  std::string name_;
  std::string path_;
  std::vector<Action> actions_;
};

/// Starts a controller: `igniter::controller("posts", "/posts").query(...).mutation(...)`.
inline Controller controller(std::string name, std::string path) {
  return Controller(std::move(name), std::move(path));
}

}  // namespace igniter

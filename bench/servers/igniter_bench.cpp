// The igniter-cpp app of the benchmarks: the endpoints every system under test serves.
//
//   POST /api/v1/bench/publish   publishes its JSON body on channel "bench" (the load generator's events)
//   GET  /api/v1/bench/query     a small JSON document (the HTTP scenario, under wrk)
//   GET  /api/v1/posts/          the post list; POST /api/v1/posts/ adds one and revalidates posts.list
//   GET  /api/v1/sse/events      the SSE endpoint (?channels=bench or revalidation)
//
// The app is configured as a user's app is: AppOptions' defaults (handlers on the worker pool, one log
// line per request on stderr) unless the environment says otherwise, which the runner does only for a
// row it labels as the exception. Environment: PORT (3000), IO_THREADS (default 0 = one per core),
// WORKER_THREADS (default AppOptions' 8; 0 = handlers on the I/O threads), LOG_LEVEL (default info;
// "off" for no request log), MAX_CONNECTIONS (default 0 = derived from RLIMIT_NOFILE), IGNITER_STORE
// ("memory" or "redis://...").
#include <igniter/igniter.hpp>
#include <igniter/server/realtime.hpp>
#include <igniter/store/store.hpp>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace {

struct Item {
  int id = 0;
  std::string name;
  int price = 0;
  std::vector<std::string> tags;
};
BOOST_DESCRIBE_STRUCT(Item, (), (id, name, price, tags))

struct Post {
  int id = 0;
  std::string title;
  std::string content;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title, content))

struct CreatePost {
  std::string title;
  std::string content;
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content))

unsigned env_number(const char* name, unsigned fallback) {
  const char* value = std::getenv(name);
  return value && *value ? static_cast<unsigned>(std::strtoul(value, nullptr, 10)) : fallback;
}

const igniter::AppOptions kDefaults{};

}  // namespace

int main() {
  namespace json = igniter::json;
  const char* store_url = std::getenv("IGNITER_STORE");
  auto store = igniter::store::from_url(store_url ? store_url : "memory");
  if (!store) {
    std::cerr << "igniter_bench: IGNITER_STORE: " << store.error().message() << "\n";
    return 2;
  }

  json::array items;
  for (int i = 1; i <= 10; ++i)
    items.push_back(json::encode(Item{i, "item " + std::to_string(i), 9 + i, {"a", "b"}}));
  const json::object query_answer{{"items", items}, {"total", 10}};

  std::shared_mutex mutex;  // posts: read by every refetch, written by the mutation
  std::deque<Post> posts;
  int next_id = 1;

  auto bench =
      igniter::controller("bench", "/bench")
          .mutation("publish", igniter::POST, "/publish",
                    [](igniter::Ctx& c) {
                      c.realtime().publish("bench", json::parse(c.request.body));
                      return c.response.success(json::object{{"ok", true}});
                    })
          .query("query", "/query", [&](igniter::Ctx& c) { return c.response.success(query_answer); });

  auto posts_controller =
      igniter::controller("posts", "/posts")
          .query("list", "/",
                 [&](igniter::Ctx& c) {
                   std::vector<Post> list;
                   {
                     std::shared_lock lock(mutex);  // readers share it; encoded outside it
                     list.assign(posts.begin(), posts.end());
                   }
                   return c.response.success(json::fields<"posts">(std::move(list)));
                 })
          .mutation("create", igniter::POST, "/", [&](igniter::Ctx& c, const CreatePost& body) {
            std::lock_guard lock(mutex);
            posts.push_back(Post{next_id++, body.title, body.content});
            if (posts.size() > 20) posts.pop_front();  // posts.list stays small and constant
            return c.response.created(posts.back()).revalidate({"posts.list"});
          });

  // Assigned one by one: g++ 12 warns falsely (maybe-uninitialized) on this designated initializer.
  igniter::AppOptions options;
  options.io_threads = env_number("IO_THREADS", kDefaults.io_threads);
  options.worker_threads = env_number("WORKER_THREADS", kDefaults.worker_threads);
  options.max_connections = env_number("MAX_CONNECTIONS", static_cast<unsigned>(kDefaults.max_connections));
  const char* log_level = std::getenv("LOG_LEVEL");
  options.log_level = igniter::parse_log_level(log_level ? log_level : "", kDefaults.log_level);
  options.store = std::move(*store);
  // Kernel send buffer of each SSE socket in bytes; 0 = the kernel's autotuning (bench/notes.md, "Tail
  // latency").
  options.realtime.stream_send_buffer_bytes =
      env_number("STREAM_SEND_BUFFER", static_cast<unsigned>(kDefaults.realtime.stream_send_buffer_bytes));
  // HTTPS for the TLS row (bench/tls): both set = the port speaks TLS only.
  if (const char* cert = std::getenv("TLS_CERT_FILE"), *key = std::getenv("TLS_KEY_FILE"); cert && key) {
    options.tls.certificate_chain_file = cert;
    options.tls.private_key_file = key;
  }
  igniter::App app(std::move(options));
  app.controller(bench).controller(posts_controller);
  app.listen(static_cast<std::uint16_t>(env_number("PORT", 3000)), "127.0.0.1");  // until SIGINT/SIGTERM
  return 0;
}

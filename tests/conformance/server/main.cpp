// The server the conformance test drives with the real Igniter.js client in Chromium: posts (list,
// getById, a revalidating create, a targeted revalidation), users (a scoped revalidation), a
// notifications stream with a publishing endpoint, and the test page served from the same origin.
//
// Usage: conformance_server [port] [page directory]   (or PORT and CONFORMANCE_PAGE_DIR; port 0 picks
// one). Prints `listening on <port>` once it accepts connections; SIGINT or SIGTERM stops it.
#include <igniter/igniter.hpp>
#include <igniter/realtime/query_key.hpp>
#include <igniter/server/realtime.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

struct NewPost {
  std::string title;
  static void rules(igniter::json::Rules<NewPost>& r) {
    r.field(&NewPost::title).non_empty().max_length(200);
  }
};
BOOST_DESCRIBE_STRUCT(NewPost, (), (title))

struct PostId {
  std::string id;
};
BOOST_DESCRIBE_STRUCT(PostId, (), (id))

struct UserName {
  std::string name;
};
BOOST_DESCRIBE_STRUCT(UserName, (), (name))

struct Note {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Note, (), (text))

namespace {

/// What the page fetched, counted here so that the test sees exactly what reached the server.
class Fetches {
 public:
  void count(const std::string& key) {
    std::lock_guard lock(mutex_);
    ++counts_[key];
  }
  igniter::json::object snapshot() const {
    std::lock_guard lock(mutex_);
    igniter::json::object out;
    for (const auto& [key, n] : counts_) out[key] = n;
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::int64_t> counts_;
};

/// The user a request speaks for: the `user` cookie (EventSource sends cookies), else `X-User`.
std::string user_of(const igniter::Ctx& c) {
  std::string user(c.request.cookie("user"));
  if (user.empty()) user = c.request.header("x-user");
  return user;
}

}  // namespace

int main(int argc, char** argv) {
  const char* port_text = argc > 1 ? argv[1] : std::getenv("PORT");
  const char* page_dir = argc > 2 ? argv[2] : std::getenv("CONFORMANCE_PAGE_DIR");
  const auto port = static_cast<std::uint16_t>(port_text ? std::atoi(port_text) : 0);

  // Blocked before any thread starts, so every server thread inherits the mask and main() takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Fetches fetches;
  std::mutex mutex;
  std::vector<std::string> titles{"first", "second"};

  auto posts =
      igniter::controller("posts", "/posts")
          .query("list", "/",
                 [&](igniter::Ctx& c) {
                   fetches.count("posts.list");
                   std::lock_guard lock(mutex);
                   return c.response.success(igniter::json::object{{"posts", igniter::json::encode(titles)}});
                 })
          .query("getById", "/:id",
                 [&](igniter::Ctx& c, igniter::Params<PostId> params) {
                   fetches.count("posts.getById:" + params->id);
                   return c.response.success(igniter::json::object{{"id", params->id}});
                 })
          .mutation("create", igniter::POST, "/",
                    [&](igniter::Ctx& c, const NewPost& post) {
                      std::lock_guard lock(mutex);
                      titles.push_back(post.title);
                      return c.response.created(post).revalidate({"posts.list"});
                    })
          .mutation(
              "touch", igniter::POST, "/:id/touch", [&](igniter::Ctx& c, igniter::Params<PostId> params) {
                // Only the open getById query with these params refetches (the key the client registered).
                c.realtime().revalidate({igniter::realtime::query_key(
                    "posts.getById", igniter::json::object(), igniter::json::object{{"id", params->id}})});
                return c.response.success(igniter::json::object{{"touched", params->id}});
              });

  auto users =
      igniter::controller("users", "/users")
          .query("getProfile", "/profile",
                 [&](igniter::Ctx& c) {
                   auto user = user_of(c);
                   fetches.count("users.getProfile:" + user);
                   return c.response.success(igniter::json::object{{"name", user}});
                 })
          .mutation("touch", igniter::POST, "/:name/touch",
                    [](igniter::Ctx& c, igniter::Params<UserName> params) {
                      return c.response.success(igniter::json::object{{"touched", params->name}})
                          .revalidate({"users.getProfile"}, [](igniter::Ctx& c) {
                            return std::vector<std::string>{"user:" + std::string(c.request.param("name"))};
                          });
                    });

  auto notifications =
      igniter::controller("notifications", "/notifications")
          .stream("stream", "/stream",
                  [](igniter::Ctx& c) {
                    return c.response.success(igniter::json::object{{"text", "welcome"}});
                  })
          .mutation("send", igniter::POST, "/", [](igniter::Ctx& c, const Note& note) {
            c.realtime().publish("notifications.stream", igniter::json::object{{"text", note.text}});
            return c.response.success(igniter::json::object{{"sent", note.text}});
          });

  // What the test reads: fetch counts and the hub's counters (to know when the pages' streams are open).
  auto state = igniter::controller("state", "/state").query("get", "/", [&](igniter::Ctx& c) {
    auto stats = c.realtime().stats();
    igniter::json::object subscribers;
    for (const auto& [channel, n] : stats.subscribers) subscribers[channel] = n;
    return c.response.success(igniter::json::object{{"fetches", fetches.snapshot()},
                                                    {"connections", stats.connections},
                                                    {"subscribers", std::move(subscribers)}});
  });

  igniter::AppOptions options{.io_threads = 1, .worker_threads = 4, .log_level = igniter::LogLevel::warn};
  // HTTPS when both are set (the conformance variant over TLS).
  if (const char* cert = std::getenv("TLS_CERT_FILE"), *key = std::getenv("TLS_KEY_FILE"); cert && key)
    options.tls = {.certificate_chain_file = cert, .private_key_file = key};
  igniter::App app(std::move(options));
  app.controller(posts).controller(users).controller(notifications).controller(state);
  app.realtime().scopes([](igniter::Ctx& c) {
    auto user = user_of(c);
    return user.empty() ? std::vector<std::string>{} : std::vector<std::string>{"user:" + user};
  });
  if (page_dir != nullptr && *page_dir != '\0') app.static_files("/", page_dir);

  const auto bound = app.start(port, "127.0.0.1");
  std::printf("listening on %u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  app.stop();
  app.wait();
}

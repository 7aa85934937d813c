// The query cache over real sockets: cached answers, /metrics, scopes, and mutations raced against
// refetches by clients that saw the revalidation (never a stale list after the event).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <igniter/igniter.hpp>
#include <igniter/server/realtime.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

/// Rows shared by the handlers (which run concurrently on the worker pool), and how often each ran.
struct Posts {
  std::mutex mutex;
  std::vector<std::string> titles;
  std::atomic<int> list_runs{0}, mine_runs{0};
};

struct CacheServer {
  Posts posts;
  App app;
  std::uint16_t port = 0;

  explicit CacheServer(std::chrono::milliseconds list_work = 0ms)
      : app(AppOptions{.io_threads = 2, .worker_threads = 4, .log_level = LogLevel::off}) {
    app.controller(controller("posts", "/posts")
                       .query("list", "/",
                              [this, list_work](Ctx&) {
                                ++posts.list_runs;
                                std::vector<std::string> rows;
                                {
                                  std::lock_guard lock(posts.mutex);
                                  rows = posts.titles;
                                }
                                // A query that takes a while (SQLite): mutations land while it runs.
                                if (list_work.count()) std::this_thread::sleep_for(list_work);
                                return rows;
                              })
                       .cache({.ttl = 60s, .vary = Vary::public_})
                       .query("mine", "/mine",
                              [this](Ctx& c) {
                                ++posts.mine_runs;
                                return json::object{{"user", c.request.cookie("session")}};
                              })
                       .cache({.ttl = 60s})
                       .mutation("create", POST, "/",
                                 [this](Ctx& c, const json::value& body) {
                                   std::lock_guard lock(posts.mutex);
                                   posts.titles.emplace_back(body.as_object().at("title").as_string());
                                   return c.response.created(body).revalidate({"posts.list"});
                                 })
                       .mutation("touch", POST, "/touch", [](Ctx& c) {
                         auto user = std::string(c.request.cookie("session"));
                         return c.response.success(json::object{{"ok", true}})
                             .revalidate({"posts.mine"}, [user](Ctx&) -> std::vector<std::string> {
                               return {"user:" + user};
                             });
                       }));
    app.realtime().scopes([](Ctx& c) -> std::vector<std::string> {
      auto user = c.request.cookie("session");
      if (user.empty()) return {};
      return {"user:" + std::string(user)};
    });
    port = app.start();
  }
};

std::uint64_t metric(std::uint16_t port, const std::string& name) {
  auto text = fetch(port, "GET", "/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(text.substr(at + name.size() + 2));
}

TEST(QueryCache, SecondRequestIsAnsweredWithoutRunningTheHandlerAndMetricsCountIt) {
  CacheServer server;
  auto first = fetch(server.port, "GET", "/api/v1/posts");
  auto second = fetch(server.port, "GET", "/api/v1/posts");
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(second.status, 200u);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("content-type"), first.header("content-type"));
  EXPECT_EQ(server.posts.list_runs, 1);
  EXPECT_EQ(metric(server.port, "igniter_query_cache_hits_total"), 1u);
  EXPECT_EQ(metric(server.port, "igniter_query_cache_misses_total"), 1u);
}

TEST(QueryCache, MutationRevalidationDropsTheCopy) {
  CacheServer server;
  fetch(server.port, "GET", "/api/v1/posts");
  ASSERT_EQ(fetch(server.port, "POST", "/api/v1/posts", R"({"title":"a"})").status, 201u);
  auto after = fetch(server.port, "GET", "/api/v1/posts");
  EXPECT_NE(after.body.find("\"a\""), std::string::npos) << after.body;
  EXPECT_EQ(server.posts.list_runs, 2);
}

TEST(QueryCache, RequestersWithOtherScopesGetTheirOwnAnswers) {
  CacheServer server;
  auto alice = fetch(server.port, "GET", "/api/v1/posts/mine", {}, {{"Cookie", "session=alice"}});
  auto bob = fetch(server.port, "GET", "/api/v1/posts/mine", {}, {{"Cookie", "session=bob"}});
  EXPECT_NE(alice.body.find("alice"), std::string::npos) << alice.body;
  EXPECT_NE(bob.body.find("bob"), std::string::npos) << bob.body;
  EXPECT_EQ(fetch(server.port, "GET", "/api/v1/posts/mine", {}, {{"Cookie", "session=bob"}}).body, bob.body);
  EXPECT_EQ(server.posts.mine_runs, 2);
  // Alice's scoped revalidation drops her copy, not Bob's.
  ASSERT_EQ(fetch(server.port, "POST", "/api/v1/posts/touch", {}, {{"Cookie", "session=alice"}}).status,
            200u);
  fetch(server.port, "GET", "/api/v1/posts/mine", {}, {{"Cookie", "session=bob"}});
  EXPECT_EQ(server.posts.mine_runs, 2);
  EXPECT_NE(
      fetch(server.port, "GET", "/api/v1/posts/mine", {}, {{"Cookie", "session=alice"}}).body.find("alice"),
      std::string::npos);
  EXPECT_EQ(server.posts.mine_runs, 3);
}

// Mutations race refetches: background readers keep list runs in flight (each takes 3 ms) while posts
// are created; every client refetches as soon as it sees the revalidation, and must find the new post.
TEST(QueryCache, NoClientGetsAListOlderThanTheRevalidationItSaw) {
  CacheServer server(3ms);
  constexpr int kClients = 8, kMutations = 25;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      while (!stop) fetch(server.port, "GET", "/api/v1/posts");
    });

  std::atomic<int> stale{0}, refetches{0};
  std::vector<std::thread> clients;
  std::atomic<int> ready{0};
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      SseClient stream(server.port, "/api/v1/sse/events?channels=revalidation");
      EXPECT_EQ(stream.read_head(), 200u);
      EXPECT_TRUE(stream.next_of("connected"));
      ++ready;
      for (int seen = 0; seen < kMutations; ++seen) {
        auto frame = stream.next_of("revalidate", 10s);
        if (!frame) {
          ADD_FAILURE() << "revalidation " << seen << " never came";
          return;
        }
        // The mutation committed post #seen before it revalidated: the refetch must list it.
        auto list = fetch(server.port, "GET", "/api/v1/posts");
        ++refetches;
        if (list.body.find("\"p" + std::to_string(seen) + "\"") == std::string::npos) ++stale;
      }
    });
  while (ready < kClients) std::this_thread::yield();
  for (int i = 0; i < kMutations; ++i) {
    auto created =
        fetch(server.port, "POST", "/api/v1/posts", R"({"title":"p)" + std::to_string(i) + R"("})");
    ASSERT_EQ(created.status, 201u);
    std::this_thread::sleep_for(5ms);  // let readers start runs that the next mutation overtakes
  }
  for (auto& client : clients) client.join();
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(refetches, kClients * kMutations);
  EXPECT_EQ(stale, 0);
  // The cache did its job: far fewer runs than requests.
  auto hits = metric(server.port, "igniter_query_cache_hits_total");
  EXPECT_GT(hits, 0u);
}

TEST(QueryCache, ScopesVaryWithoutAResolverFailsAtStart) {
  App app(AppOptions{.log_level = LogLevel::off});
  app.controller(controller("posts", "/posts").query("list", "/", [](Ctx&) { return 1; }).cache({.ttl = 1s}));
  EXPECT_THROW(app.start(), std::invalid_argument);
}

TEST(QueryCache, CacheOnAMutationOrWithoutTtlIsRefused) {
  EXPECT_THROW(controller("posts", "/posts")
                   .mutation("create", POST, "/", [](Ctx& c) { return c.response.no_content(); })
                   .cache({.ttl = 1s}),
               std::invalid_argument);
  EXPECT_THROW(controller("posts", "/posts").query("list", "/", [](Ctx&) { return 1; }).cache({}),
               std::invalid_argument);
}

}  // namespace
}  // namespace igniter::test

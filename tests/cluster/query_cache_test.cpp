// The query cache across processes: an App in this test process and a cluster_node child share a real
// redis-server; answers are kept in Redis, and a revalidation published on one process drops the copy
// for the other before the other's clients receive it.
#include <gtest/gtest.h>

#include <atomic>
#include <igniter/igniter.hpp>
#include <igniter/store/store.hpp>
#include <thread>

#include "cluster/node_process.hpp"
#include "redis/redis_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;
using store::testing::RedisServer;

constexpr const char* kRows = "qcache-test:rows";

std::uint64_t metric(std::uint16_t port, const std::string& name) {
  auto text = fetch(port, "GET", "/metrics").body;
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(text.substr(at + name.size() + 2));
}

class ClusterQueryCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh test)";
    ASSERT_TRUE(redis_.start());
    node_ = std::make_unique<Node>(redis_.url());
    ASSERT_NE(node_->port(), 0);
    auto store = store::from_url(redis_.url());
    ASSERT_TRUE(store) << store.error().message();
    store_ = *store;
    app_ = std::make_unique<App>(
        AppOptions{.io_threads = 1, .worker_threads = 4, .log_level = LogLevel::off, .store = store_});
    // This process: the same cached list as the node's, and the mutation that changes its rows.
    app_->controller(controller("posts", "/posts")
                         .query("list", "/",
                                [this](Ctx& c) {
                                  ++list_runs_;
                                  auto rows = c.store().get(kRows);
                                  return rows && *rows ? json::value(**rows) : json::value(0);
                                })
                         .cache({.ttl = 60s, .vary = Vary::public_})
                         .mutation("add", POST, "/add", [](Ctx& c) {
                           auto rows = c.store().increment(kRows);
                           if (!rows) return c.response.error(503, "ERR_STORE", rows.error().message());
                           return c.response.success(*rows).revalidate({"posts.list"});
                         }));
    app_->start(0);
  }
  void TearDown() override {
    if (app_) {
      app_->stop();
      app_->wait();
    }
  }

  static std::string list(std::uint16_t port) {
    auto answer = fetch(port, "GET", "/api/v1/posts");
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return answer.body;
  }
  static std::string rows(int n) { return R"({"data":)" + std::to_string(n) + R"(,"error":null})"; }

  RedisServer redis_;
  std::unique_ptr<Node> node_;
  std::shared_ptr<store::Store> store_;
  std::unique_ptr<App> app_;
  std::atomic<int> list_runs_{0};
};

TEST_F(ClusterQueryCache, CopyKeptInRedisServesEveryProcess) {
  EXPECT_EQ(list(node_->port()), rows(0));  // the node runs it and keeps it in Redis
  EXPECT_EQ(list(node_->port()), rows(0));
  EXPECT_EQ(metric(node_->port(), "igniter_query_cache_hits_total"), 1u);
  EXPECT_EQ(list(app_->port()), rows(0));  // this process finds the node's copy
  EXPECT_EQ(list_runs_, 0);
  EXPECT_EQ(app_->query_cache_stats().hits, 1u);
}

// Mutations on this process race refetches on the node: every node client that sees the revalidation
// refetches from the node at once and must get the rows as of that mutation (or later), while readers
// keep runs in flight on both processes.
TEST_F(ClusterQueryCache, RevalidationOnOneProcessDropsTheCopyForTheOtherBeforeItsClientsHearOfIt) {
  constexpr int kClients = 4, kMutations = 20;
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (auto port : {node_->port(), node_->port(), app_->port()})
    readers.emplace_back([&, port] {
      while (!stop) fetch(port, "GET", "/api/v1/posts");
    });
  std::atomic<int> stale{0}, refetches{0}, ready{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&] {
      SseClient stream(node_->port(), "/api/v1/sse/events?channels=revalidation");
      EXPECT_EQ(stream.read_head(), 200u);
      EXPECT_TRUE(stream.next_of("connected"));
      ++ready;
      for (int seen = 1; seen <= kMutations; ++seen) {
        auto frame = stream.next_of("revalidate", 10s);
        if (!frame) {
          ADD_FAILURE() << "revalidation " << seen << " never reached the node's client";
          return;
        }
        auto body = fetch(node_->port(), "GET", "/api/v1/posts").json();
        ++refetches;
        if (body.at("data").to_number<std::int64_t>() < seen) ++stale;
      }
    });
  while (ready < kClients) std::this_thread::yield();
  for (int i = 0; i < kMutations; ++i) {
    ASSERT_EQ(fetch(app_->port(), "POST", "/api/v1/posts/add").status, 200u);
    std::this_thread::sleep_for(5ms);  // readers start runs that the next mutation overtakes
  }
  for (auto& client : clients) client.join();
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(refetches, kClients * kMutations);
  EXPECT_EQ(stale, 0);
  EXPECT_GT(metric(node_->port(), "igniter_query_cache_hits_total"), 0u);
}

}  // namespace
}  // namespace igniter::test

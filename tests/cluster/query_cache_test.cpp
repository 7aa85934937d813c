// The query cache across processes: an App in this test process and a cluster_node child share a real
// redis-server; answers are kept in Redis, and a revalidation published on one process drops the copy
// for the other before the other's clients receive it. A client whose stream is on one process and whose
// refetch goes to the other never gets a copy older than the revalidation it heard of, even while the
// other process's stream reader lags (held back by a proxy that delays what Redis sends it).
#include <gtest/gtest.h>

#include <atomic>
#include <igniter/igniter.hpp>
#include <igniter/store/store.hpp>
#include <thread>

#include "cluster/node_process.hpp"
#include "redis/fake_redis.hpp"
#include "redis/redis_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;
using store::testing::RedisServer;

constexpr const char* kRows = "qcache-test:rows";

// A TCP proxy to Redis that delays by `delay` every reply sent to a connection that has sent XREAD (the
// stream reader's): that process reads the stream late, as a busy or distant process does, while its
// commands (GET, EVAL, XADD) pass at once.
class ReaderDelayingProxy {
 public:
  ReaderDelayingProxy(std::uint16_t upstream, std::chrono::milliseconds delay)
      : upstream_(upstream), delay_(delay) {
    listener_ = store::testing::detail::listen_on_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ReaderDelayingProxy() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    for (auto& thread : threads_) thread.join();
    for (int fd : sockets_) ::close(fd);
    ::close(listener_);
  }
  ReaderDelayingProxy(const ReaderDelayingProxy&) = delete;
  ReaderDelayingProxy& operator=(const ReaderDelayingProxy&) = delete;

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      int server = store::testing::detail::connect_to_loopback(upstream_);
      std::lock_guard lock(mutex_);
      if (stopping_ || server < 0) {
        ::close(client);
        if (server >= 0) ::close(server);
        return;
      }
      sockets_.push_back(client);
      sockets_.push_back(server);
      auto reader = std::make_shared<std::atomic<bool>>(false);
      threads_.emplace_back([client, server, reader] {
        char chunk[16384];
        for (;;) {
          auto got = ::recv(client, chunk, sizeof chunk, 0);
          if (got <= 0) break;
          if (std::string_view(chunk, static_cast<std::size_t>(got)).find("XREAD") != std::string_view::npos)
            *reader = true;
          if (!store::testing::detail::send_all(server, chunk, static_cast<std::size_t>(got))) break;
        }
        ::shutdown(server, SHUT_WR);
      });
      threads_.emplace_back([this, client, server, reader] {
        char chunk[16384];
        for (;;) {
          auto got = ::recv(server, chunk, sizeof chunk, 0);
          if (got <= 0) break;
          if (*reader) std::this_thread::sleep_for(delay_);
          if (!store::testing::detail::send_all(client, chunk, static_cast<std::size_t>(got))) break;
        }
        ::shutdown(client, SHUT_WR);
      });
    }
  }

  std::uint16_t upstream_;
  std::chrono::milliseconds delay_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

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
    auto store = store::from_url(app_store_url());
    ASSERT_TRUE(store) << store.error().message();
    store_ = *store;
    app_ = std::make_unique<App>(AppOptions{.io_threads = 1,
                                            .worker_threads = 4,
                                            .log_level = LogLevel::off,
                                            .store = store_,
                                            .query_cache = app_cache_options()});
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
    app_.reset();
  }
  // Where this process's App reaches Redis, and its cache's options (LaggingReader changes both).
  virtual std::string app_store_url() { return redis_.url(); }
  virtual QueryCacheOptions app_cache_options() { return {}; }

  static std::string list(std::uint16_t port) {
    auto answer = fetch(port, "GET", "/api/v1/posts");
    EXPECT_EQ(answer.status, 200u) << answer.body;
    return answer.body;
  }
  static std::string rows(int n) { return R"({"data":)" + std::to_string(n) + R"(,"error":null})"; }

  RedisServer redis_;
  std::unique_ptr<ReaderDelayingProxy> proxy_;  // LaggingReader: between this process's App and Redis
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

// This process's stream reader gets every event 40 ms late (a proxy delays what Redis sends it); the node
// reads at once. A client whose stream is on the node refetches from this process as soon as it hears of
// each revalidation: this process finds the copy it made before the mutation, and must not serve it.
class LaggingReader : public ClusterQueryCache {
 protected:
  static constexpr auto kLag = 40ms;
  // Far above the lag, so a loaded machine (sanitizers, parallel tests) cannot make the wait time out.
  QueryCacheOptions app_cache_options() override { return {.max_reader_wait = 5s}; }
  std::string app_store_url() override {
    proxy_ = std::make_unique<ReaderDelayingProxy>(redis_.port(), kLag);
    return proxy_->url();
  }

  // Rounds of: this process keeps a copy of the list; a mutation (on the node); the node's client hears of
  // it and refetches here at once. Returns the refetches that got rows older than the mutation.
  int stale_refetches(int rounds) {
    SseClient stream(node_->port(), "/api/v1/sse/events?channels=revalidation");
    EXPECT_EQ(stream.read_head(), 200u);
    EXPECT_TRUE(stream.next_of("connected"));
    int stale = 0;
    for (int round = 1; round <= rounds; ++round) {
      list(app_->port());  // a copy as of the rows before this round's mutation
      EXPECT_TRUE(
          store_->increment(kRows));  // the rows change, then the node's mutation revalidates the list
      EXPECT_EQ(fetch(node_->port(), "POST", "/api/v1/posts", R"({"n":1})").status, 201u);
      if (!stream.next_of("revalidate", 10s)) {
        ADD_FAILURE() << "revalidation " << round << " never reached the node's client";
        break;
      }
      auto body = fetch(app_->port(), "GET", "/api/v1/posts").json();
      if (body.at("data").to_number<std::int64_t>() < round) ++stale;
    }
    return stale;
  }
};

TEST_F(LaggingReader, RefetchOnAnotherProcessWaitsForItsReaderAndNeverGetsACopyOlderThanTheRevalidation) {
  EXPECT_EQ(stale_refetches(10), 0);
  EXPECT_GT(app_->query_cache_stats().hits, 0u);     // copies are still served between mutations
  EXPECT_EQ(app_->query_cache_stats().lagging, 0u);  // 40 ms behind is within the wait
}

class LaggingReaderShortWait : public LaggingReader {
 protected:
  QueryCacheOptions app_cache_options() override { return {.max_reader_wait = 5ms}; }
};

TEST_F(LaggingReaderShortWait, ReaderTooFarBehindMeansTheHandlerRunsAndTheTimeoutIsCounted) {
  EXPECT_EQ(stale_refetches(5), 0);
  EXPECT_GT(app_->query_cache_stats().lagging, 0u);
  EXPECT_EQ(metric(app_->port(), "igniter_query_cache_reader_timeouts_total"),
            app_->query_cache_stats().lagging);
}

}  // namespace
}  // namespace igniter::test

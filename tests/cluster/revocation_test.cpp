// Revocation across processes: an App in this test process revokes a scope through a real redis-server,
// and a cluster_node child process (the other member of the cluster) closes its own streams holding it.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <igniter/igniter.hpp>
#include <igniter/store/store.hpp>

#include "cluster/node_process.hpp"
#include "redis/redis_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using store::testing::RedisServer;

class ClusterRevocation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh test)";
    ASSERT_TRUE(redis_.start());
    node_ = std::make_unique<Node>(redis_.url());
    ASSERT_NE(node_->port(), 0);
    auto store = store::from_url(redis_.url());
    ASSERT_TRUE(store) << store.error().message();
    app_ = std::make_unique<App>(
        AppOptions{.io_threads = 1, .worker_threads = 2, .log_level = LogLevel::off, .store = *store});
    app_->start(0);
  }
  void TearDown() override {
    if (app_) {
      app_->stop();
      app_->wait();
    }
  }

  /// A stream on the node process, holding `user:<user>`.
  std::unique_ptr<SseClient> subscribe(const std::string& user) {
    SseOptions options;
    options.headers.emplace_back("X-User", user);
    auto client =
        std::make_unique<SseClient>(node_->port(), "/api/v1/sse/events?channels=notifications", options);
    EXPECT_EQ(client->read_head(), 200u);
    auto connected = client->next_event();
    EXPECT_TRUE(connected && connected->event == "connected");
    EXPECT_NE(connected->data.find("\"user:" + user + "\""), std::string::npos) << connected->data;
    return client;
  }

  RedisServer redis_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<App> app_;  // the other process of the cluster, as far as Redis can tell
};

TEST_F(ClusterRevocation, RevokeOnOneProcessClosesTheStreamsHoldingTheScopeOnTheOther) {
  auto alice = subscribe("alice");
  auto bob = subscribe("bob");
  ASSERT_TRUE(app_->realtime().revoke("user:alice"));
  app_->realtime().publish("notifications", json::object{{"text", "for alice"}}, {.scopes = {"user:alice"}});
  app_->realtime().publish("notifications", json::object{{"text", "for everyone"}});

  auto last = alice->next(std::chrono::seconds(5));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->raw, ": revoked\n\n");
  EXPECT_FALSE(alice->next(std::chrono::seconds(5))) << "an event after the revocation";
  EXPECT_TRUE(alice->closed_by_server());

  auto next = bob->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->json().at("data").at("text"), "for everyone") << next->raw;  // and no revocation frame
  EXPECT_FALSE(bob->closed_by_server());
}

TEST_F(ClusterRevocation, DropScopeOnOneProcessReachesTheStreamsOfTheOther) {
  auto alice = subscribe("alice");
  ASSERT_TRUE(app_->realtime().drop_scope("user:alice"));
  app_->realtime().publish("notifications", json::object{{"text", "for alice"}}, {.scopes = {"user:alice"}});
  app_->realtime().publish("notifications", json::object{{"text", "for everyone"}});
  auto next = alice->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->json().at("data").at("text"), "for everyone") << next->raw;
  EXPECT_FALSE(alice->closed_by_server());
}

TEST_F(ClusterRevocation, RevokeReportsARedisThatDidNotTakeIt) {
  redis_.stop();
  auto revoked = app_->realtime().revoke("user:alice");
  EXPECT_FALSE(revoked);
  EXPECT_TRUE(revoked.error()) << "an error, not a silent success";
}

}  // namespace
}  // namespace igniter::test

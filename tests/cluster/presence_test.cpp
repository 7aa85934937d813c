// Presence across processes: an App in this test process and a presence_node child process share a real
// redis-server; streams open on either are seen by both, and a killed process's members expire.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cluster/node_process.hpp"
#include "cluster/presence_setup.hpp"
#include "redis/redis_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;
using store::testing::RedisServer;
using Clock = std::chrono::steady_clock;

constexpr auto kExpiry = 2000ms;

// How long `condition` took to hold, or nullopt when it did not within `limit` (polled every 20 ms).
template <class F>
std::optional<std::chrono::milliseconds> within(std::chrono::milliseconds limit, F condition) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (condition()) return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

class ClusterPresence : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh test)";
    ASSERT_TRUE(redis_.start());
    node_ = std::make_unique<Node>(redis_.url(), std::vector<std::string>{std::to_string(kExpiry.count())});
    ASSERT_NE(node_->port(), 0);
    auto store = store::from_url(redis_.url());
    ASSERT_TRUE(store) << store.error().message();
    app_ = std::make_unique<App>(
        AppOptions{.io_threads = 1, .worker_threads = 2, .log_level = LogLevel::off, .store = *store});
    configure_presence(*app_, kExpiry);
    port_ = app_->start(0);
  }
  void TearDown() override {
    if (app_) {
      app_->stop();
      app_->wait();
    }
  }

  // A stream on `port` for `channels`, as `user` ("" = anonymous).
  static std::unique_ptr<SseClient> open(std::uint16_t port, const std::string& user,
                                         const std::string& channels = "room") {
    SseOptions options;
    if (!user.empty()) options.headers.emplace_back("X-User", user);
    auto client = std::make_unique<SseClient>(port, "/api/v1/sse/events?channels=" + channels, options);
    EXPECT_EQ(client->read_head(), 200u);
    auto connected = client->next_event();
    EXPECT_TRUE(connected && connected->event == "connected");
    return client;
  }
  // Presence on `room` as this process's API answers it.
  Presence here() { return app_->realtime().presence("room"); }
  // Presence on `room` as the node's HTTP endpoint answers it (the framework's, what usePresence reads).
  Presence there() {
    auto r = fetch(node_->port(), "GET", "/api/v1/sse/events/presence?channel=room");
    EXPECT_EQ(r.status, 200u) << r.body;
    return boost::json::value_to<Presence>(r.json().at("data"));
  }
  static bool lists(const Presence& p, std::vector<std::string> members) { return p.members == members; }

  RedisServer redis_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<App> app_;
  std::uint16_t port_ = 0;
};

TEST_F(ClusterPresence, JoinsAndLeavesAreSeenOnBothProcessesWithinTwoSeconds) {
  auto watcher = open(port_, "", "presence");
  auto alice = open(node_->port(), "alice");
  auto joined = within(2s, [&] { return lists(here(), {"alice"}) && lists(there(), {"alice"}); });
  ASSERT_TRUE(joined) << "alice's join not seen on both processes within 2 s";
  auto join = watcher->next_event(2s);
  ASSERT_TRUE(join);
  EXPECT_EQ(join->json().at("data"),
            (json::object{{"channel", "room"}, {"member", "alice"}, {"action", "join"}}));

  alice.reset();  // the browser goes away
  auto left = within(2s, [&] {
    auto a = here(), b = there();
    return a.members.empty() && b.members.empty() && a.count == 0 && b.count == 0;
  });
  ASSERT_TRUE(left) << "alice's leave not seen on both processes within 2 s";
  auto leave = watcher->next_event(2s);
  ASSERT_TRUE(leave);
  EXPECT_EQ(leave->json().at("data").at("action"), "leave");
  std::printf("join seen on both after %lld ms, leave after %lld ms (linger 1000 ms)\n",
              static_cast<long long>(joined->count()), static_cast<long long>(left->count()));
}

TEST_F(ClusterPresence, AReloadOntoTheOtherProcessIsNeitherALeaveNorAJoin) {
  auto watcher = open(port_, "", "presence");
  auto alice = open(node_->port(), "alice");
  ASSERT_TRUE(watcher->next_event(2s));  // the join
  alice.reset();
  std::this_thread::sleep_for(200ms);
  auto again = open(port_, "alice");  // the reloaded tab landed on the other process
  EXPECT_FALSE(watcher->next_event(2500ms)) << "a reload flapped";
  EXPECT_TRUE(lists(here(), {"alice"}));
  EXPECT_TRUE(lists(there(), {"alice"}));
}

TEST_F(ClusterPresence, AMemberWithTwoBrowsersIsListedOnceAndAnonymousStreamsAreCounted) {
  auto first = open(node_->port(), "alice");
  auto second = open(port_, "alice");
  auto guest = open(node_->port(), "");
  auto bob = open(port_, "bob", "room,presence");
  auto outside = open(port_, "carol", "presence");  // not on the tracked channel
  auto seen = within(2s, [&] {
    for (const auto& p : {here(), there()})
      if (p.count != 4 || p.anonymous != 1 || !lists(p, {"alice", "bob"})) return false;
    return true;
  });
  EXPECT_TRUE(seen) << "here: " << json::serialize(boost::json::value_from(here()));
}

TEST_F(ClusterPresence, AKilledProcessMembersDisappearWithinTheExpiry) {
  auto bob = open(node_->port(), "bob");
  ASSERT_TRUE(within(2s, [&] { return lists(here(), {"bob"}); }));
  node_->kill_hard();
  auto gone = within(kExpiry + 1s, [&] { return here().count == 0 && here().members.empty(); });
  ASSERT_TRUE(gone) << "a killed process's members outlived the expiry";
  EXPECT_LE(*gone, kExpiry + 300ms);  // the expiry counts from its last heartbeat, before the kill
  std::printf("killed process's member gone after %lld ms (expiry %lld ms)\n",
              static_cast<long long>(gone->count()), static_cast<long long>(kExpiry.count()));
}

}  // namespace
}  // namespace igniter::test

// RedisStore against a fake Redis that sends what a broken or hostile server could: replies too large,
// of the wrong kind, malformed pushes. Each must end as an error value and a reconnection, never a
// crash, a hang or unbounded memory.
#include <gtest/gtest.h>

#include <thread>

#include "igniter/store/redis_store.hpp"
#include "redis/fake_redis.hpp"
#include "support/harness.hpp"

namespace igniter::store {
namespace {

using namespace std::chrono_literals;
using igniter::test::eventually;
using testing::FakeAnswer;
using testing::FakeCommand;
using testing::FakeRedis;

StoreOptions options() {
  return {.timeout = 5000ms, .max_reply_bytes = 1024 * 1024, .reconnect_min = 20ms, .reconnect_max = 200ms};
}

// Answers the first GET with `hostile`, the later ones with nil.
FakeRedis::Answer first_get_gets(FakeAnswer hostile) {
  auto answered = std::make_shared<std::atomic<bool>>(false);
  return [hostile, answered](const FakeCommand& command) {
    if (command[0] == "GET") return answered->exchange(true) ? FakeAnswer{"$-1\r\n"} : hostile;
    return FakeRedis::usual(command);
  };
}

TEST(HostileRedis, AReplyAnnouncingAHugeStringClosesTheConnectionAtTheLimit) {
  FakeRedis redis(first_get_gets({.bytes = "$1000000000\r\n", .flood = 128u * 1024 * 1024}));
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ((*store)->get("k").error(), errc::reply_too_large);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "refused at the limit, not at the timeout";
  // What the server got to send is the limit plus what the sockets' buffers hold, not the 128 MiB.
  EXPECT_LT(redis.flooded(), 32u * 1024 * 1024);
  // The store reconnects and goes on.
  ASSERT_TRUE(eventually([&] {
    auto value = (*store)->get("k");
    return value.ok() && !value->has_value();
  }));
}

TEST(HostileRedis, AnArrayAnnouncingTwoBillionElementsIsRefusedBeforeAnyAllocation) {
  FakeRedis redis(first_get_gets({.bytes = "*2000000000\r\n"}));
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->get("k").error(), errc::reply_too_large);
  ASSERT_TRUE(eventually([&] { return (*store)->get("k").ok(); }));
}

TEST(HostileRedis, AReplyOfTheWrongKindIsAProtocolErrorAndTheConnectionIsReopened) {
  FakeRedis redis(first_get_gets({.bytes = "*2\r\n:1\r\n$-1\r\n"}));
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(redis.connections(), 2);  // commands and subscriptions
  EXPECT_EQ((*store)->get("k").error(), errc::protocol);
  // Its replies may be out of step: the command connection is replaced.
  ASSERT_TRUE(eventually([&] { return redis.connections() == 3 && (*store)->get("k").ok(); }));
}

TEST(HostileRedis, BytesThatAreNotRespAreAProtocolError) {
  FakeRedis redis(first_get_gets({.bytes = "%%% not RESP %%%\r\n"}));
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->get("k").error(), errc::protocol);
  ASSERT_TRUE(eventually([&] { return (*store)->get("k").ok(); }));
}

TEST(HostileRedis, AMalformedPubSubMessageReopensTheSubscriptionConnection) {
  std::atomic<int> subscribes{0};
  FakeRedis redis([&](const FakeCommand& command) {
    auto answer = FakeRedis::usual(command);
    // The first confirmation is followed by a "message" whose channel and payload are not strings.
    if (command[0] == "SUBSCRIBE" && subscribes++ == 0) answer.bytes += "*3\r\n$7\r\nmessage\r\n*0\r\n:1\r\n";
    return answer;
  });
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok());
  std::atomic<int> received{0};
  auto subscription = (*store)->subscribe("news", [&](std::string_view, const json::value&) { ++received; });
  // Redis confirmed before the malformed push, so subscribe() may succeed; either way the connection is
  // replaced and the subscription restored on the new one.
  ASSERT_TRUE(eventually([&] { return subscribes.load() >= 2 && (*store)->connected(); }));
  EXPECT_GE(redis.connections(), 3);
  EXPECT_EQ(received.load(), 0);
}

TEST(HostileRedis, AServerThatBreaksEveryConnectionIsRetriedEverMoreSlowly) {
  std::atomic<int> gets{0};
  FakeRedis redis([&](const FakeCommand& command) {
    if (command[0] == "GET") return FakeAnswer{"%garbage\r\n"};
    if (command[0] == "PING") ++gets;  // each handshake
    return FakeRedis::usual(command);
  });
  auto store = RedisStore::open(redis.url(), options());
  ASSERT_TRUE(store.ok());
  // Broken right after each handshake: the backoff must still grow (20, 40, 80, 160, 200 ms...), so in
  // one second there are a handful of reconnections, not fifty.
  auto deadline = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < deadline) {
    (void)(*store)->get("k");
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_LT(redis.connections(), 15);
}

}  // namespace
}  // namespace igniter::store

// RedisStore on a redis-sentinel:// URL against fake Sentinels and fake data nodes: discovery in turn,
// the ROLE check, +switch-master, READONLY, and Sentinel replies that are wrong, hostile or too large.
// (The failover of real servers is tests/cluster/failover_test.cpp.)
#include <gtest/gtest.h>

#include <thread>

#include "igniter/store/redis_store.hpp"
#include "redis/fake_redis.hpp"
#include "redis/redis_server.hpp"
#include "support/harness.hpp"

namespace igniter::store {
namespace {

using namespace std::chrono_literals;
using igniter::test::eventually;
using testing::FakeAnswer;
using testing::FakeCommand;
using testing::FakeRedis;

StoreOptions options(std::chrono::milliseconds timeout = 2000ms) {
  return {.timeout = timeout, .reconnect_min = 20ms, .reconnect_max = 200ms};
}

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

std::string address_reply(std::uint16_t port) {
  return "*2\r\n" + bulk("127.0.0.1") + bulk(std::to_string(port));
}

// A data node whose ROLE is `role`; `on` sees every command.
FakeRedis::Answer data_node(std::string role, std::function<FakeAnswer(const FakeCommand&)> on = {}) {
  return [role, on](const FakeCommand& command) {
    if (command[0] == "ROLE") return FakeAnswer{"*3\r\n" + bulk(role) + ":0\r\n*0\r\n"};
    if (on) return on(command);
    return FakeRedis::usual(command);
  };
}

// A Sentinel whose answer to get-master-addr-by-name is `where()`.
FakeRedis::Answer sentinel(std::function<FakeAnswer()> where) {
  return [where](const FakeCommand& command) {
    if (command[0] == "SENTINEL" && command.size() == 3 && command[1] == "get-master-addr-by-name")
      return command[2] == "mymaster" ? where() : FakeAnswer{"*-1\r\n"};
    return FakeRedis::usual(command);
  };
}

std::string url(std::initializer_list<std::uint16_t> sentinels) {
  std::string out = "redis-sentinel://";
  for (auto port : sentinels)
    out += (out.back() == '/' ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port);
  return out + "/mymaster";
}

TEST(RedisSentinel, TheStoreAsksTheSentinelsInTurnUntilOneNamesTheMaster) {
  FakeRedis master(data_node("master"));
  FakeRedis unaware(sentinel([] { return FakeAnswer{"*-1\r\n"}; }));  // does not know the master
  auto dead = testing::RedisServer::free_port();
  FakeRedis knowing(sentinel([&] { return FakeAnswer{address_reply(master.port())}; }));
  auto store = RedisStore::open(url({unaware.port(), dead, knowing.port()}), options());
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_TRUE((*store)->set("k", 1).ok());
  EXPECT_EQ((*store)->endpoint().master_name, "mymaster");
  EXPECT_GE(master.connections(), 2);  // commands and subscriptions
}

TEST(RedisSentinel, AServerWhoseRoleIsNotMasterIsLeft) {
  FakeRedis replica(data_node("slave"));
  FakeRedis stale(sentinel([&] { return FakeAnswer{address_reply(replica.port())}; }));
  auto store = RedisStore::open(url({stale.port()}), options(500ms));
  EXPECT_EQ(store.error(), errc::unavailable);
  EXPECT_GE(replica.connections(), 2);
}

TEST(RedisSentinel, WrongOrHostileSentinelRepliesFailTheLookupWithinBounds) {
  for (FakeAnswer answer : {
           FakeAnswer{"*3\r\n" + bulk("127.0.0.1") + bulk("6379") + bulk("x")},  // three elements
           FakeAnswer{"*2\r\n" + bulk("127.0.0.1") + bulk("99999")},             // port out of range
           FakeAnswer{"*2\r\n" + bulk("127.0.0.1") + bulk("63x9")},              // not a number
           FakeAnswer{"*2\r\n" + bulk("bad host") + bulk("6379")},               // a space in the host
           FakeAnswer{"*2\r\n" + bulk(std::string(300, 'h')) + bulk("6379")},    // a host too long
           FakeAnswer{":12\r\n"},                                                // another kind
           FakeAnswer{"-ERR no such command\r\n"},                               // an error
           FakeAnswer{"$1000000000\r\n", 64u * 1024 * 1024},                     // a huge reply
       }) {
    FakeRedis hostile(sentinel([&] { return answer; }));
    auto started = std::chrono::steady_clock::now();
    auto store = RedisStore::open(url({hostile.port()}), options(500ms));
    EXPECT_EQ(store.error(), errc::unavailable) << answer.bytes.substr(0, 40);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << answer.bytes.substr(0, 40);
    // A Sentinel's reply is cut at 64 KiB: per connection, what the fake got to send is that plus the
    // sockets' buffers, not the 64 MiB.
    EXPECT_LT(hostile.flooded() / std::max(1, hostile.connections()), 8u * 1024 * 1024);
  }
}

TEST(RedisSentinel, SentinelCredentialsComeFromTheQueryAndARefusalIsReported) {
  std::mutex mutex;
  std::vector<FakeCommand> seen;
  FakeRedis master(data_node("master"));
  FakeRedis guarded([&](const FakeCommand& command) {
    {
      std::lock_guard lock(mutex);
      seen.push_back(command);
    }
    if (command[0] == "AUTH")
      return command.back() == "right" ? FakeAnswer{"+OK\r\n"}
                                       : FakeAnswer{"-WRONGPASS invalid password\r\n"};
    return sentinel([&] { return FakeAnswer{address_reply(master.port())}; })(command);
  });
  auto base = url({guarded.port()});
  auto store = RedisStore::open(base + "?sentinel_user=watch&sentinel_password=right", options());
  ASSERT_TRUE(store.ok()) << store.error().message();
  {
    std::lock_guard lock(mutex);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen.front(), (FakeCommand{"AUTH", "watch", "right"}));
  }
  EXPECT_EQ(RedisStore::open(base + "?sentinel_password=wrong", options(500ms)).error(), errc::auth_failed);
}

TEST(RedisSentinel, SwitchMasterMovesTheStoreToTheNewMasterAtOnce) {
  std::atomic<int> writes_on_new{0};
  FakeRedis old_master(data_node("master"));
  FakeRedis new_master(data_node("master", [&](const FakeCommand& command) {
    if (command[0] == "SET") ++writes_on_new;
    return FakeRedis::usual(command);
  }));
  std::atomic<bool> switched{false};
  FakeRedis watcher([&](const FakeCommand& command) {
    if (command[0] == "SUBSCRIBE" && command[1] == "+switch-master") {
      // Once the store is on the old master: the failover, then its announcement (with the confirmation).
      std::this_thread::sleep_for(300ms);
      switched = true;
      auto message = "mymaster 127.0.0.1 " + std::to_string(old_master.port()) + " 127.0.0.1 " +
                     std::to_string(new_master.port());
      return FakeAnswer{"*3\r\n" + bulk("subscribe") + bulk("+switch-master") + ":1\r\n" + "*3\r\n" +
                        bulk("message") + bulk("+switch-master") + bulk(message)};
    }
    return sentinel(
        [&] { return FakeAnswer{address_reply(switched ? new_master.port() : old_master.port())}; })(command);
  });
  auto store = RedisStore::open(url({watcher.port()}), options());
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(new_master.connections(), 0);
  // The old master stays up and never fails a connection: only the announcement moves the store.
  EXPECT_TRUE(eventually([&] { return new_master.connections() >= 2 && (*store)->connected(); }, 3s));
  EXPECT_TRUE(eventually([&] { return (*store)->set("k", 1).ok() && writes_on_new > 0; }, 3s));
}

TEST(RedisSentinel, AReadOnlyReplySendsTheStoreBackToTheSentinels) {
  std::atomic<bool> demoted{false};
  FakeRedis old_master([&](const FakeCommand& command) {
    if (command[0] == "ROLE")
      return FakeAnswer{"*3\r\n" + bulk(demoted ? "slave" : "master") + ":0\r\n*0\r\n"};
    if (command[0] == "SET") {
      demoted = true;
      return FakeAnswer{"-READONLY You can't write against a read only replica.\r\n"};
    }
    return FakeRedis::usual(command);
  });
  FakeRedis new_master(data_node("master"));
  FakeRedis guide(
      sentinel([&] { return FakeAnswer{address_reply(demoted ? new_master.port() : old_master.port())}; }));
  auto store = RedisStore::open(url({guide.port()}), options());
  ASSERT_TRUE(store.ok()) << store.error().message();
  // Refused, so it did not run: unavailable, like any write while there is no master.
  EXPECT_EQ((*store)->set("k", 1).error(), errc::unavailable);
  EXPECT_TRUE(eventually([&] { return (*store)->set("k", 1).ok(); }, 3s));
  EXPECT_GE(new_master.connections(), 1);
}

}  // namespace
}  // namespace igniter::store

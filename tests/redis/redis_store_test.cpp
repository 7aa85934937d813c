// RedisStore against a real redis-server started by the tests (see redis_server.hpp).
#include "igniter/store/redis_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <thread>

#include "redis/redis_server.hpp"
#include "support/harness.hpp"
#include "unit/store/store_behaviour.hpp"

namespace igniter::store {
namespace {

using namespace std::chrono_literals;
using igniter::test::eventually;
using testing::Inbox;
using testing::RedisServer;

constexpr auto kNoRedis = "/usr/bin/redis-server is not installed (apt-get install redis-server)";

// One server for the whole test process, emptied before each test.
RedisServer& shared_server() {
  static RedisServer server;
  static bool started = server.start();
  EXPECT_TRUE(started) << "redis-server did not start";
  return server;
}

std::shared_ptr<RedisStore> open_or_fail(const std::string& url, StoreOptions options = {}) {
  auto store = RedisStore::open(url, std::move(options));
  EXPECT_TRUE(store.ok()) << url << ": " << store.error().message();
  return store.ok() ? *store : nullptr;
}

struct RedisWorld {
  static constexpr std::chrono::milliseconds kTtl = 150ms;
  static constexpr bool kDrivenClock = false;
  static bool available(std::string& why) {
    why = kNoRedis;
    return RedisServer::installed();
  }

  RedisWorld() {
    auto admin = open_or_fail(shared_server().url());
    if (admin) {
      EXPECT_TRUE(admin->command({"FLUSHALL"}).ok());
    }
  }

  std::shared_ptr<Store> make(std::string prefix) {
    return open_or_fail(shared_server().url(), {.key_prefix = std::move(prefix)});
  }
  bool after(std::chrono::milliseconds time, const std::function<bool()>& check) {
    std::this_thread::sleep_for(time);
    return test::eventually(check, 3s);
  }
  bool eventually(const std::function<bool()>& check) { return test::eventually(check); }
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, StoreBehaviour, ::testing::Types<RedisWorld>);
}  // namespace testing

namespace {

// Each test gets its own server, which it may stop, restart or pause.
class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << kNoRedis;
    ASSERT_TRUE(server.start()) << "redis-server did not start";
  }

  // Fast reconnection, so that tests of an outage stay short.
  static StoreOptions quick_options() {
    return {.timeout = 1000ms, .reconnect_min = 20ms, .reconnect_max = 200ms};
  }

  RedisServer server;
};

TEST_F(RedisStoreTest, OpenFailsWithUnavailableWhenNothingListens) {
  auto port = RedisServer::free_port();
  auto started = std::chrono::steady_clock::now();
  auto store = RedisStore::open("redis://127.0.0.1:" + std::to_string(port), {.timeout = 300ms});
  EXPECT_EQ(store.error(), errc::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(RedisStoreTest, FromUrlOpensARedisStore) {
  auto store = from_url(server.url());
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_NE(dynamic_cast<RedisStore*>(store->get()), nullptr);
  ASSERT_TRUE((*store)->set("k", "v").ok());
  EXPECT_EQ(**(*store)->get("k"), json::value("v"));
}

TEST_F(RedisStoreTest, UserPasswordAndDatabaseFromTheUrlAreUsed) {
  RedisServer secured(
      {"--requirepass", "topsecret", "--user", "alice", "on", ">wonderland", "~*", "&*", "+@all"});
  ASSERT_TRUE(secured.start());
  auto alice_db2 = open_or_fail(secured.url("alice:wonderland", 2));
  auto alice_db0 = open_or_fail(secured.url("alice:wonderland", 0));
  auto default_user_db2 = open_or_fail(secured.url(":topsecret", 2));
  ASSERT_TRUE(alice_db2 && alice_db0 && default_user_db2);
  EXPECT_EQ(alice_db2->endpoint().user, "alice");
  ASSERT_TRUE(alice_db2->set("k", "in db 2").ok());
  EXPECT_FALSE(*alice_db0->has("k"));
  EXPECT_EQ(**default_user_db2->get("k"), json::value("in db 2"));
  auto whoami = alice_db2->command({"ACL", "WHOAMI"});
  ASSERT_TRUE(whoami.ok());
  EXPECT_EQ(whoami->text, "alice");
}

TEST_F(RedisStoreTest, WrongPasswordFailsWithAuthFailed) {
  RedisServer secured({"--requirepass", "topsecret"});
  ASSERT_TRUE(secured.start());
  EXPECT_EQ(RedisStore::open(secured.url(":wrong")).error(), errc::auth_failed);
  EXPECT_EQ(RedisStore::open(secured.url("nobody:topsecret")).error(), errc::auth_failed);
  // Even a store allowed to start disconnected refuses bad credentials at start-up.
  EXPECT_EQ(RedisStore::open(secured.url(":wrong"), {.require_connection = false}).error(),
            errc::auth_failed);
}

TEST_F(RedisStoreTest, DatabaseThatDoesNotExistFailsAtOpen) {
  EXPECT_EQ(RedisStore::open(server.url("", 100000)).error(), errc::command_failed);
}

TEST_F(RedisStoreTest, CallsFailFastWhileRedisIsDownAndWorkAgainAfterItRestarts) {
  auto store = open_or_fail(server.url(), quick_options());
  ASSERT_TRUE(store);
  std::mutex mutex;
  std::vector<bool> changes;
  auto listener = store->on_connection_change([&](bool up) {
    std::lock_guard lock(mutex);
    changes.push_back(up);
  });
  ASSERT_TRUE(store->set("k", 1).ok());

  server.stop();
  // A call racing the store's discovery of the outage was written to a dying socket: it fails with
  // timeout (it may have run), not unavailable (never sent). Once both connections know, calls fail fast.
  ASSERT_TRUE(
      eventually([&] { return !store->connected() && store->has("k").error() == errc::unavailable; }));
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(store->get("k").error(), errc::unavailable);
  EXPECT_EQ(store->set("k", 2).error(), errc::unavailable);
  EXPECT_EQ(store->publish("ch", 1).error(), errc::unavailable);
  EXPECT_EQ(store->subscribe("ch", [](std::string_view, const json::value&) {}).error(), errc::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);  // failed fast, not after the timeout
  std::promise<Result<Reply>> async_reply;
  store->command_async({"PING"}, [&](Result<Reply> reply) { async_reply.set_value(std::move(reply)); });
  EXPECT_EQ(async_reply.get_future().get().error(), errc::unavailable);

  ASSERT_TRUE(server.start(/*keep_port=*/true));
  ASSERT_TRUE(eventually([&] { return store->connected(); }));
  ASSERT_TRUE(store->set("k", 3).ok());  // the restarted server has no data (no persistence)
  EXPECT_EQ(**store->get("k"), json::value(3));
  std::lock_guard lock(mutex);
  EXPECT_EQ(changes, (std::vector<bool>{false, true}));
}

TEST_F(RedisStoreTest, StoreOpenedWhileRedisIsDownConnectsWhenItComes) {
  server.stop();
  auto options = quick_options();
  options.require_connection = false;
  options.timeout = 200ms;
  auto opened = RedisStore::open(server.url(), options);
  ASSERT_TRUE(opened.ok());
  auto store = *opened;
  std::atomic<int> ups{0};
  auto listener = store->on_connection_change([&](bool up) { ups += up ? 1 : 0; });
  EXPECT_FALSE(store->connected());
  EXPECT_EQ(store->has("k").error(), errc::unavailable);
  ASSERT_TRUE(server.start(/*keep_port=*/true));
  ASSERT_TRUE(eventually([&] { return store->connected(); }));
  EXPECT_TRUE(store->set("k", 1).ok());
  EXPECT_EQ(ups.load(), 1);
}

TEST_F(RedisStoreTest, SubscriptionIsRestoredAfterReconnect) {
  auto subscriber = open_or_fail(server.url(), quick_options());
  ASSERT_TRUE(subscriber);
  Inbox inbox;
  auto subscription = subscriber->subscribe("news", inbox.handler());
  ASSERT_TRUE(subscription.ok());

  server.stop();
  ASSERT_TRUE(eventually([&] { return !subscriber->connected(); }));
  ASSERT_TRUE(server.start(/*keep_port=*/true));
  ASSERT_TRUE(eventually([&] { return subscriber->connected(); }));

  auto publisher = open_or_fail(server.url());
  ASSERT_TRUE(publisher);
  // connected() is reported only once Redis has confirmed the restored subscriptions.
  auto receivers = publisher->command({"PUBLISH", "news", "\"after restart\""});
  ASSERT_TRUE(receivers.ok());
  EXPECT_EQ(receivers->integer, 1);
  ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox.received()[0].second, json::value("after restart"));
}

TEST_F(RedisStoreTest, CallsTimeOutWhileRedisDoesNotAnswerAndRecoverAfterwards) {
  auto options = quick_options();
  options.timeout = 300ms;
  auto store = open_or_fail(server.url(), options);
  ASSERT_TRUE(store);
  server.pause();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(store->get("k").error(), errc::timeout);
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 1500ms);
  // The unanswered connection is given up and calls fail fast until Redis answers again.
  ASSERT_TRUE(eventually([&] { return !store->connected(); }));
  EXPECT_EQ(store->get("k").error(), errc::unavailable);
  server.resume();
  ASSERT_TRUE(eventually([&] { return store->connected(); }));
  EXPECT_TRUE(store->set("k", 1).ok());
}

TEST_F(RedisStoreTest, ACommandStillQueuedWhenItsCallerGivesUpIsNeverSent) {
  auto store = open_or_fail(server.url(), quick_options());  // timeout 1 s
  ASSERT_TRUE(store);
  server.pause();
  // A write larger than the sockets' buffers stalls, so the next command waits behind it, unsent.
  std::vector<std::string> big{"SET", "big", std::string(24 * 1024 * 1024, 'x')};
  std::thread writer([&] {
    EXPECT_EQ(store->command(std::move(big)).error(), errc::timeout)
        << "written in part: it may have run, as far as the store can tell";
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(store->set("queued", 1).error(), errc::unavailable) << "never sent: it will never run";
  writer.join();
  server.resume();
  Result<std::optional<json::value>> queued = errc::unavailable;
  ASSERT_TRUE(eventually([&] { return (queued = store->get("queued")).ok(); }));
  EXPECT_FALSE(queued->has_value());
}

TEST_F(RedisStoreTest, CallsFromManyThreadsAtOnceAllGetTheirOwnReplies) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  constexpr int kThreads = 8;
  constexpr int kEach = 150;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto key = "t" + std::to_string(t) + ":" + std::to_string(i);
        json::value value = json::object{{"thread", t}, {"i", i}};
        if (!store->set(key, value).ok()) ++wrong;
        auto back = store->get(key);
        if (!back.ok() || !*back || **back != value) ++wrong;
        if (!store->increment("total").ok()) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(**store->get("total"), json::value(kThreads * kEach));
}

TEST_F(RedisStoreTest, RawCommandsReachRedisAndErrorRepliesAreReplies) {
  auto store = open_or_fail(server.url(), {.key_prefix = "app:"});
  ASSERT_TRUE(store);
  EXPECT_EQ(store->key("events"), "app:events");
  auto id = store->command({"XADD", store->key("events"), "*", "type", "posts.list"});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->kind, Reply::Kind::string);
  auto range = store->command({"XRANGE", store->key("events"), "-", "+"});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->kind, Reply::Kind::array);
  ASSERT_EQ(range->elements.size(), 1u);
  EXPECT_EQ(range->elements[0].elements[0].text, id->text);
  EXPECT_EQ(range->elements[0].elements[1].elements[1].text, "posts.list");
  auto script =
      store->command({"EVAL", "return {1, 'two', redis.call('XLEN', KEYS[1])}", "1", store->key("events")});
  ASSERT_TRUE(script.ok());
  ASSERT_EQ(script->elements.size(), 3u);
  EXPECT_EQ(script->elements[2].integer, 1);
  auto unknown = store->command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->is_error());
  EXPECT_EQ(store->command(std::vector<std::string>{}).error(), errc::invalid_argument);
}

TEST_F(RedisStoreTest, AsyncCommandsRunTheirCallbackOnTheIoThreadWhereBlockingCallsAreRefused) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  std::promise<std::error_code> nested;
  std::promise<std::string> chained;
  store->command_async({"SET", "k", "1"}, [&](Result<Reply> reply) {
    EXPECT_TRUE(reply.ok());
    nested.set_value(store->get("k").error());  // would wait for this very thread
    store->command_async({"GET", "k"}, [&](Result<Reply> second) { chained.set_value(second->text); });
  });
  EXPECT_EQ(nested.get_future().get(), errc::would_deadlock);
  EXPECT_EQ(chained.get_future().get(), "1");
}

TEST_F(RedisStoreTest, TooManyCommandsInFlightFailWithBusy) {
  auto options = quick_options();
  options.max_pending = 4;
  auto store = open_or_fail(server.url(), options);
  ASSERT_TRUE(store);
  server.pause();  // nothing completes, so the async commands stay in flight
  std::atomic<int> busy{0}, finished{0};
  for (int i = 0; i < 10; ++i) {
    store->command_async({"PING"}, [&](Result<Reply> reply) {
      if (reply.error() == errc::busy) ++busy;
      ++finished;
    });
  }
  ASSERT_TRUE(eventually([&] { return busy.load() == 6; }));
  server.resume();
  ASSERT_TRUE(eventually([&] { return finished.load() == 10; }));
}

TEST_F(RedisStoreTest, SubscribeFromAHandlerIsRefusedButUnsubscribeWorks) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  std::promise<std::error_code> refused;
  Subscription subscription;
  Inbox marker;
  auto made = store->subscribe("ch", [&](std::string_view, const json::value&) {
    refused.set_value(store->subscribe("other", marker.handler()).error());
    subscription.unsubscribe();
  });
  ASSERT_TRUE(made.ok());
  subscription = std::move(*made);
  ASSERT_TRUE(store->publish("ch", 1).ok());
  EXPECT_EQ(refused.get_future().get(), errc::would_deadlock);
}

TEST_F(RedisStoreTest, TextPublishedByAnotherClientArrivesAsAJsonString) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  Inbox inbox;
  auto subscription = store->subscribe("ch", inbox.handler());
  ASSERT_TRUE(subscription.ok());
  ASSERT_TRUE(store->command({"PUBLISH", "ch", "plain text"}).ok());
  ASSERT_TRUE(store->command({"PUBLISH", "ch", "{\"json\":true}"}).ok());
  ASSERT_TRUE(eventually([&] { return inbox.size() == 2; }));
  EXPECT_EQ(inbox.received()[0].second, json::value("plain text"));
  EXPECT_EQ(inbox.received()[1].second, json::value(json::object{{"json", true}}));
}

TEST_F(RedisStoreTest, AValueThatIsNotJsonFailsWithInvalidValue) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->command({"SET", "raw", "not json"}).ok());
  EXPECT_EQ(store->get("raw").error(), errc::invalid_value);
  ASSERT_TRUE(store->command({"RPUSH", "list", "a"}).ok());
  EXPECT_EQ(store->get("list").error(), errc::wrong_type);
  EXPECT_EQ(store->increment("list").error(), errc::wrong_type);
}

TEST_F(RedisStoreTest, AStoreDestroyedWithCallsPendingFailsThemWithUnavailable) {
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(store);
  server.pause();
  std::promise<std::error_code> outcome;
  store->command_async({"PING"}, [&](Result<Reply> reply) { outcome.set_value(reply.error()); });
  store.reset();
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(future.get(), errc::unavailable);
  server.resume();
}

TEST_F(RedisStoreTest, AStoreReleasedByItsOwnCallbackClosesItsConnections) {
  auto observer = open_or_fail(server.url());
  auto store = open_or_fail(server.url());
  ASSERT_TRUE(observer && store);
  auto clients = [&] {
    auto list = observer->command({"CLIENT", "LIST"});
    return list.ok() ? std::count(list->text.begin(), list->text.end(), '\n') : -1;
  };
  EXPECT_EQ(clients(), 4);
  std::promise<void> called;
  auto* raw = store.get();
  // The callback holds the last reference: the store is destroyed on its own I/O thread.
  raw->command_async({"PING"}, [&called, owner = std::move(store)](Result<Reply>) mutable {
    owner.reset();
    called.set_value();
  });
  called.get_future().get();
  EXPECT_TRUE(eventually([&] { return clients() == 2; }));
  std::this_thread::sleep_for(50ms);  // lets the detached I/O thread finish before the leak check at exit
}

}  // namespace
}  // namespace igniter::store

#include "igniter/store/memory_store.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "unit/store/store_behaviour.hpp"

namespace igniter::store {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

// A clock that moves only when a test says so.
class ManualClock {
 public:
  std::function<TimePoint()> function() const {
    return [now = now_] { return now->load(); };
  }
  void advance(std::chrono::milliseconds by) { now_->store(now_->load() + by); }

 private:
  std::shared_ptr<std::atomic<TimePoint>> now_ = std::make_shared<std::atomic<TimePoint>>(TimePoint{} + 1h);
};

struct MemoryWorld {
  static constexpr std::chrono::milliseconds kTtl = 150ms;
  static constexpr bool kDrivenClock = true;
  static bool available(std::string&) { return true; }

  std::shared_ptr<Store> make(std::string prefix) { return root->with_prefix(std::move(prefix)); }
  bool after(std::chrono::milliseconds time, const std::function<bool()>& check) {
    clock.advance(time);
    return check();
  }
  // Delivery is synchronous: whatever is published has been delivered when publish() returns.
  bool eventually(const std::function<bool()>& check) { return check(); }

  ManualClock clock;
  std::shared_ptr<MemoryStore> root = std::make_shared<MemoryStore>(StoreOptions{.clock = clock.function()});
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreBehaviour, ::testing::Types<MemoryWorld>);
}  // namespace testing

namespace {

class MemoryStoreTest : public ::testing::Test {
 protected:
  ManualClock clock;
  MemoryStore store{StoreOptions{.clock = clock.function()}};
};

TEST_F(MemoryStoreTest, PurgeExpiredFreesEveryExpiredEntryAndNothingElse) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store.set("ttl:" + std::to_string(i), i, 10ms).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.set("kept:" + std::to_string(i), i).ok());
  ASSERT_TRUE(store.set("later", 0, 20ms).ok());
  clock.advance(10ms);
  EXPECT_EQ(store.size(), 111u);  // expired, but not yet freed
  EXPECT_EQ(store.purge_expired(), 100u);
  EXPECT_EQ(store.size(), 11u);
  EXPECT_EQ(store.purge_expired(), 0u);
  clock.advance(10ms);
  EXPECT_EQ(store.purge_expired(), 1u);
}

TEST_F(MemoryStoreTest, WritesFreeExpiredEntriesWithoutAPurge) {
  // Each write frees a few expired entries of the shard it lands in; as many new keys as expired
  // ones spread alike over the shards, and free them all.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store.set("old:" + std::to_string(i), i, 10ms).ok());
  clock.advance(10ms);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(store.increment("new:" + std::to_string(i)).ok());
  EXPECT_EQ(store.size(), 200u);
}

TEST_F(MemoryStoreTest, ReadingAnExpiredKeyFreesIt) {
  ASSERT_TRUE(store.set("k", 1, 10ms).ok());
  clock.advance(10ms);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(*store.has("k"));
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(MemoryStoreTest, ExpireMovesTheDeadline) {
  ASSERT_TRUE(store.set("k", 1, 10ms).ok());
  ASSERT_TRUE(*store.expire("k", 100ms));
  clock.advance(99ms);
  EXPECT_TRUE(*store.has("k"));
  clock.advance(1ms);
  EXPECT_FALSE(*store.has("k"));
}

TEST_F(MemoryStoreTest, AHugeTtlNeverOverflowsTheClock) {
  ASSERT_TRUE(store.set("k", 1, std::chrono::milliseconds::max()).ok());
  clock.advance(24h * 365 * 100);
  EXPECT_TRUE(*store.has("k"));
}

TEST_F(MemoryStoreTest, AValueFromAnArenaIsCopiedOutOfIt) {
  {
    boost::json::monotonic_resource arena;
    auto value = json::parse(R"({"a":[1,2,3],"b":"a string long enough not to be stored inline"})", &arena);
    ASSERT_TRUE(store.set("k", value).ok());
  }
  EXPECT_EQ(**store.get("k"),
            json::parse(R"({"a":[1,2,3],"b":"a string long enough not to be stored inline"})"));
}

TEST_F(MemoryStoreTest, HandlersRunOnThePublishingThreadBeforePublishReturns) {
  std::thread::id handler_thread;
  auto subscription = store.subscribe(
      "ch", [&](std::string_view, const json::value&) { handler_thread = std::this_thread::get_id(); });
  ASSERT_TRUE(subscription.ok());
  std::thread publisher([&] {
    ASSERT_TRUE(store.publish("ch", 1).ok());
    EXPECT_EQ(handler_thread, std::this_thread::get_id());
  });
  publisher.join();
}

TEST_F(MemoryStoreTest, HandlerMayUseTheStoreAndPublishFurther) {
  testing::Inbox inbox;
  auto relay = store.subscribe("in", [&](std::string_view, const json::value& message) {
    ASSERT_TRUE(store.set("last", message).ok());
    ASSERT_TRUE(store.publish("out", message).ok());
  });
  auto out = store.subscribe("out", inbox.handler());
  ASSERT_TRUE(relay.ok() && out.ok());
  ASSERT_TRUE(store.publish("in", "relayed").ok());
  EXPECT_EQ(inbox.size(), 1u);
  EXPECT_EQ(**store.get("last"), json::value("relayed"));
}

TEST_F(MemoryStoreTest, HandlerMaySubscribeFromInsideADelivery) {
  testing::Inbox late;
  std::optional<Subscription> added;
  auto first = store.subscribe("ch", [&](std::string_view, const json::value&) {
    if (!added) added.emplace(store.subscribe("ch", late.handler()).value());
  });
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store.publish("ch", 1).ok());  // the new subscriber is not in this delivery's snapshot
  EXPECT_EQ(late.size(), 0u);
  ASSERT_TRUE(store.publish("ch", 2).ok());
  EXPECT_EQ(late.size(), 1u);
}

TEST_F(MemoryStoreTest, UnsubscribeWaitsForTheHandlerRunningOnAnotherThread) {
  std::promise<void> entered, release;
  std::atomic<bool> finished{false};
  auto released = release.get_future().share();
  auto subscription = store.subscribe("ch", [&](std::string_view, const json::value&) {
    entered.set_value();
    released.wait();
    finished = true;
  });
  ASSERT_TRUE(subscription.ok());
  std::thread publisher([&] { ASSERT_TRUE(store.publish("ch", 1).ok()); });
  entered.get_future().wait();
  bool finished_when_unsubscribed = false;
  std::thread unsubscriber([&] {
    subscription->unsubscribe();
    finished_when_unsubscribed = finished.load();
  });
  release.set_value();
  unsubscriber.join();
  publisher.join();
  EXPECT_TRUE(finished_when_unsubscribed);
}

TEST_F(MemoryStoreTest, SubscriptionOutlivingTheStoreIsHarmless) {
  std::optional<Subscription> subscription;
  {
    MemoryStore short_lived;
    auto made = short_lived.subscribe("ch", [](std::string_view, const json::value&) {});
    ASSERT_TRUE(made.ok());
    subscription.emplace(std::move(*made));
  }
  subscription->unsubscribe();
  EXPECT_FALSE(subscription->active());
}

TEST_F(MemoryStoreTest, AnEmptyHandlerIsRejected) {
  EXPECT_EQ(store.subscribe("ch", MessageHandler{}).error(), errc::invalid_argument);
}

TEST_F(MemoryStoreTest, StoresWithoutSharedStateDoNotSeeEachOther) {
  MemoryStore other;
  ASSERT_TRUE(store.set("k", 1).ok());
  EXPECT_FALSE(*other.has("k"));
}

}  // namespace
}  // namespace igniter::store

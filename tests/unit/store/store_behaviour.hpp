#pragma once
// The behaviour every Store has, written once and instantiated for each store: with MemoryStore in
// memory_store_test.cpp and with RedisStore in tests/redis/redis_store_test.cpp.
//
// The type parameter is a "world" that owns the backend and says how time passes:
//   static bool available(std::string& why);               false: the tests skip, saying why
//   std::shared_ptr<Store> make(std::string prefix);      stores sharing one backend, keys prefixed
//   bool after(std::chrono::milliseconds, check);          lets the time pass, then expects check() (Redis
//   polls) bool eventually(check);                                 memory: check() now (delivery is
//   synchronous);
//                                                           Redis: polls check() for a few seconds
//   static constexpr std::chrono::milliseconds kTtl;        a TTL the world can wait for
//   static constexpr bool kDrivenClock;                     time is exact (the memory store's injected clock)

#include <gtest/gtest.h>

#include <atomic>
#include <boost/describe/class.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "igniter/store/store.hpp"

namespace igniter::store::testing {

using namespace std::chrono_literals;

// Collects the messages a subscription receives; usable from any thread.
class Inbox {
 public:
  MessageHandler handler() {
    return [this](std::string_view channel, const json::value& message) {
      std::lock_guard lock(mutex_);
      received_.emplace_back(std::string(channel), message);
    };
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  std::vector<std::pair<std::string, json::value>> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, json::value>> received_;
};

struct Profile {
  std::string name;
  int age = 0;
  std::vector<std::string> tags;
  friend bool operator==(const Profile&, const Profile&) = default;
};
BOOST_DESCRIBE_STRUCT(Profile, (), (name, age, tags))

template <class World>
class StoreBehaviour : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!World::available(why)) GTEST_SKIP() << why;
    world.emplace();
    store = world->make("");
    ASSERT_TRUE(store);
  }

  bool has(std::string_view key) {
    auto result = store->has(key);
    EXPECT_TRUE(result.ok()) << result.error().message();
    return result.ok() && *result;
  }

  std::optional<json::value> get(std::string_view key) {
    auto result = store->get(key);
    EXPECT_TRUE(result.ok()) << result.error().message();
    return result.ok() ? *result : std::nullopt;
  }

  std::optional<World> world;
  std::shared_ptr<Store> store;
};

TYPED_TEST_SUITE_P(StoreBehaviour);

TYPED_TEST_P(StoreBehaviour, GetOfAnAbsentKeyIsEmpty) {
  auto value = this->store->get("missing");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->has_value());
  EXPECT_FALSE(this->has("missing"));
}

TYPED_TEST_P(StoreBehaviour, SetThenGetRoundTripsEveryKindOfJson) {
  std::vector<json::value> values = {
      json::parse(R"({"user":{"id":7,"name":"Ada","roles":["admin","dev"]},"active":true,"score":9.5})"),
      json::array{1, "two", nullptr, false, json::object{{"k", "v"}}},
      json::value("text with \"quotes\", a\nnewline and unicode: \xc3\xa9\xe2\x82\xac"),
      json::value(""),
      json::value(std::int64_t{-42}),
      json::value(std::numeric_limits<std::uint64_t>::max()),
      json::value(0.1),
      json::value(-2.5e300),
      json::value(true),
      json::value(nullptr),
      json::object{},
      json::array{},
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto key = "value:" + std::to_string(i);
    ASSERT_TRUE(this->store->set(key, values[i]).ok()) << json::serialize(values[i]);
    auto back = this->get(key);
    ASSERT_TRUE(back.has_value()) << json::serialize(values[i]);
    EXPECT_EQ(*back, values[i]) << json::serialize(values[i]) << " came back as " << json::serialize(*back);
  }
}

TYPED_TEST_P(StoreBehaviour, NullIsAStoredValueNotAnAbsence) {
  ASSERT_TRUE(this->store->set("nothing", nullptr).ok());
  EXPECT_TRUE(this->has("nothing"));
  auto back = this->get("nothing");
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->is_null());
}

TYPED_TEST_P(StoreBehaviour, SetReplacesTheValue) {
  ASSERT_TRUE(this->store->set("k", "first").ok());
  ASSERT_TRUE(this->store->set("k", json::object{{"second", 2}}).ok());
  EXPECT_EQ(this->get("k"), json::value(json::object{{"second", 2}}));
}

TYPED_TEST_P(StoreBehaviour, ValueWithTtlIsThereUntilItExpires) {
  ASSERT_TRUE(this->store->set("session", "abc", TypeParam::kTtl).ok());
  EXPECT_TRUE(this->has("session"));
  if constexpr (TypeParam::kDrivenClock) {
    EXPECT_TRUE(this->world->after(TypeParam::kTtl - 1ms, [&] { return this->has("session"); }));
    EXPECT_TRUE(this->world->after(1ms, [&] { return !this->has("session"); }));
  } else {
    EXPECT_TRUE(this->world->after(TypeParam::kTtl, [&] { return !this->has("session"); }));
  }
  EXPECT_FALSE(this->get("session").has_value());
  auto removed = this->store->remove("session");
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE(*removed);
}

TYPED_TEST_P(StoreBehaviour, SetWithoutTtlClearsAnEarlierTtl) {
  ASSERT_TRUE(this->store->set("k", 1, TypeParam::kTtl).ok());
  ASSERT_TRUE(this->store->set("k", 2).ok());
  // Expiry of a marker set together with it shows the TTL has passed.
  ASSERT_TRUE(this->store->set("marker", 0, TypeParam::kTtl).ok());
  EXPECT_TRUE(this->world->after(TypeParam::kTtl, [&] { return !this->has("marker"); }));
  EXPECT_EQ(this->get("k"), json::value(2));
}

TYPED_TEST_P(StoreBehaviour, TtlThatIsNotPositiveIsRejected) {
  EXPECT_EQ(this->store->set("k", 1, 0ms).error(), errc::invalid_argument);
  EXPECT_EQ(this->store->set("k", 1, -5ms).error(), errc::invalid_argument);
  EXPECT_FALSE(this->has("k"));
}

TYPED_TEST_P(StoreBehaviour, RemoveDeletesAndSaysWhetherThereWasAValue) {
  ASSERT_TRUE(this->store->set("k", 1).ok());
  auto first = this->store->remove("k");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(this->has("k"));
  auto second = this->store->remove("k");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
}

TYPED_TEST_P(StoreBehaviour, IncrementStartsAnAbsentKeyAtZero) {
  EXPECT_EQ(*this->store->increment("hits"), 1);
  EXPECT_EQ(*this->store->increment("hits", 5), 6);
  EXPECT_EQ(*this->store->increment("hits", -10), -4);
  // A counter reads back as a JSON integer.
  EXPECT_EQ(this->get("hits"), json::value(-4));
}

TYPED_TEST_P(StoreBehaviour, IncrementAddsToAnIntegerWrittenWithSet) {
  ASSERT_TRUE(this->store->set("n", 41).ok());
  EXPECT_EQ(*this->store->increment("n"), 42);
  ASSERT_TRUE(set_as(*this->store, "u", std::uint64_t{7}).ok());
  EXPECT_EQ(*this->store->increment("u", 3), 10);
}

TYPED_TEST_P(StoreBehaviour, IncrementOfANonIntegerFailsWithWrongTypeAndKeepsTheValue) {
  std::vector<json::value> values = {json::value("12"), json::value(1.5),  json::object{{"n", 1}},
                                     json::array{1},    json::value(true), json::value(nullptr)};
  for (const auto& value : values) {
    ASSERT_TRUE(this->store->set("k", value).ok());
    EXPECT_EQ(this->store->increment("k").error(), errc::wrong_type) << json::serialize(value);
    EXPECT_EQ(this->get("k"), value);
  }
}

TYPED_TEST_P(StoreBehaviour, IncrementThatWouldOverflowFailsWithOutOfRange) {
  ASSERT_TRUE(this->store->set("big", std::numeric_limits<std::int64_t>::max()).ok());
  EXPECT_EQ(this->store->increment("big").error(), errc::out_of_range);
  EXPECT_EQ(this->get("big"), json::value(std::numeric_limits<std::int64_t>::max()));
}

TYPED_TEST_P(StoreBehaviour, IncrementKeepsTheTtl) {
  ASSERT_TRUE(this->store->set("k", 1, TypeParam::kTtl).ok());
  EXPECT_EQ(*this->store->increment("k"), 2);
  EXPECT_TRUE(this->world->after(TypeParam::kTtl, [&] { return !this->has("k"); }));
}

TYPED_TEST_P(StoreBehaviour, ExpireMakesAnExistingKeyExpire) {
  ASSERT_TRUE(this->store->set("k", "v").ok());
  auto expired = this->store->expire("k", TypeParam::kTtl);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(*expired);
  EXPECT_TRUE(this->has("k"));
  EXPECT_TRUE(this->world->after(TypeParam::kTtl, [&] { return !this->has("k"); }));
}

TYPED_TEST_P(StoreBehaviour, ExpireOfAnAbsentKeyIsFalse) {
  auto expired = this->store->expire("missing", 1000ms);
  ASSERT_TRUE(expired.ok());
  EXPECT_FALSE(*expired);
  EXPECT_FALSE(this->has("missing"));
}

TYPED_TEST_P(StoreBehaviour, ExpireWithZeroTtlDeletesAtOnce) {
  ASSERT_TRUE(this->store->set("k", "v").ok());
  auto expired = this->store->expire("k", 0ms);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(*expired);
  EXPECT_FALSE(this->has("k"));
}

TYPED_TEST_P(StoreBehaviour, PublishReachesASubscriber) {
  Inbox inbox;
  auto subscription = this->store->subscribe("news", inbox.handler());
  ASSERT_TRUE(subscription.ok()) << subscription.error().message();
  EXPECT_TRUE(subscription->active());
  EXPECT_EQ(subscription->channel(), "news");
  json::value message = json::object{{"title", "hello"}, {"ids", json::array{1, 2}}};
  ASSERT_TRUE(this->store->publish("news", message).ok());
  ASSERT_TRUE(this->world->eventually([&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox.received()[0].first, "news");
  EXPECT_EQ(inbox.received()[0].second, message);
}

TYPED_TEST_P(StoreBehaviour, PublishReachesEverySubscriberOfTheChannelAndNoOther) {
  Inbox first, second, other;
  auto a = this->store->subscribe("a", first.handler());
  auto b = this->store->subscribe("a", second.handler());
  auto c = this->store->subscribe("b", other.handler());
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_TRUE(this->store->publish("a", 1).ok());
  ASSERT_TRUE(this->store->publish("b", 2).ok());  // a marker: once it is in, "a" was delivered too
  ASSERT_TRUE(
      this->world->eventually([&] { return first.size() == 1 && second.size() == 1 && other.size() == 1; }));
  EXPECT_EQ(first.received()[0].second, json::value(1));
  EXPECT_EQ(second.received()[0].second, json::value(1));
  EXPECT_EQ(other.received()[0].second, json::value(2));
}

TYPED_TEST_P(StoreBehaviour, PublishWithoutSubscribersSucceeds) {
  EXPECT_TRUE(this->store->publish("nobody", "listens").ok());
}

TYPED_TEST_P(StoreBehaviour, UnsubscribedHandlerReceivesNothingMore) {
  Inbox inbox, marker;
  auto subscription = this->store->subscribe("ch", inbox.handler());
  auto markers = this->store->subscribe("marker", marker.handler());
  ASSERT_TRUE(subscription.ok() && markers.ok());
  ASSERT_TRUE(this->store->publish("ch", 1).ok());
  ASSERT_TRUE(this->world->eventually([&] { return inbox.size() == 1; }));
  subscription->unsubscribe();
  EXPECT_FALSE(subscription->active());
  subscription->unsubscribe();  // idempotent
  ASSERT_TRUE(this->store->publish("ch", 2).ok());
  ASSERT_TRUE(this->store->publish("marker", 0).ok());
  ASSERT_TRUE(this->world->eventually([&] { return marker.size() == 1; }));
  EXPECT_EQ(inbox.size(), 1u);
}

TYPED_TEST_P(StoreBehaviour, DestroyingTheHandleUnsubscribesOnlyThatSubscriber) {
  Inbox gone, kept;
  auto keep = this->store->subscribe("ch", kept.handler());
  ASSERT_TRUE(keep.ok());
  {
    auto temporary = this->store->subscribe("ch", gone.handler());
    ASSERT_TRUE(temporary.ok());
    Subscription moved = std::move(*temporary);  // the handle moves; the subscription stays
    EXPECT_FALSE(temporary->active());
    EXPECT_TRUE(moved.active());
  }
  ASSERT_TRUE(this->store->publish("ch", "after").ok());
  ASSERT_TRUE(this->world->eventually([&] { return kept.size() == 1; }));
  EXPECT_EQ(gone.size(), 0u);
}

TYPED_TEST_P(StoreBehaviour, ResubscribingAfterTheLastUnsubscribeReceivesAgain) {
  Inbox first, second;
  {
    auto subscription = this->store->subscribe("ch", first.handler());
    ASSERT_TRUE(subscription.ok());
  }
  auto again = this->store->subscribe("ch", second.handler());
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(this->store->publish("ch", "x").ok());
  ASSERT_TRUE(this->world->eventually([&] { return second.size() == 1; }));
  EXPECT_EQ(first.size(), 0u);
}

TYPED_TEST_P(StoreBehaviour, MessagesArriveInPublishOrder) {
  Inbox inbox;
  auto subscription = this->store->subscribe("seq", inbox.handler());
  ASSERT_TRUE(subscription.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(this->store->publish("seq", i).ok());
  ASSERT_TRUE(this->world->eventually([&] { return inbox.size() == 50; }));
  auto received = inbox.received();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(received[i].second, json::value(i));
}

TYPED_TEST_P(StoreBehaviour, HandlerMayUnsubscribeItself) {
  std::atomic<int> calls{0};
  Subscription subscription;
  auto made = this->store->subscribe("once", [&](std::string_view, const json::value&) {
    ++calls;
    subscription.unsubscribe();
  });
  ASSERT_TRUE(made.ok());
  subscription = std::move(*made);
  Inbox marker;
  auto markers = this->store->subscribe("marker", marker.handler());
  ASSERT_TRUE(markers.ok());
  ASSERT_TRUE(this->store->publish("once", 1).ok());
  ASSERT_TRUE(this->store->publish("once", 2).ok());
  ASSERT_TRUE(this->store->publish("marker", 0).ok());
  ASSERT_TRUE(this->world->eventually([&] { return marker.size() == 1; }));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(subscription.active());
}

TYPED_TEST_P(StoreBehaviour, AThrowingHandlerDoesNotKeepOthersFromTheMessage) {
  Inbox inbox;
  auto thrower = this->store->subscribe(
      "ch", [](std::string_view, const json::value&) { throw std::runtime_error("handler failure"); });
  auto receiver = this->store->subscribe("ch", inbox.handler());
  ASSERT_TRUE(thrower.ok() && receiver.ok());
  ASSERT_TRUE(this->store->publish("ch", 1).ok());
  ASSERT_TRUE(this->store->publish("ch", 2).ok());
  ASSERT_TRUE(this->world->eventually([&] { return inbox.size() == 2; }));
}

TYPED_TEST_P(StoreBehaviour, KeyPrefixSeparatesKeysAndChannels) {
  auto app1 = this->world->make("app1:");
  auto app2 = this->world->make("app2:");
  ASSERT_TRUE(app1->set("k", 1).ok());
  EXPECT_FALSE(*app2->has("k"));
  ASSERT_TRUE(app2->set("k", 2).ok());
  EXPECT_EQ(**app1->get("k"), json::value(1));
  EXPECT_EQ(**app2->get("k"), json::value(2));
  // The prefix is a plain prefix: an unprefixed store sees the full names.
  EXPECT_EQ(this->get("app1:k"), json::value(1));
  EXPECT_FALSE(this->has("k"));

  Inbox inbox1, inbox2;
  auto sub1 = app1->subscribe("ch", inbox1.handler());
  auto sub2 = app2->subscribe("ch", inbox2.handler());
  ASSERT_TRUE(sub1.ok() && sub2.ok());
  ASSERT_TRUE(app1->publish("ch", "for app1").ok());
  ASSERT_TRUE(this->store->publish("app2:ch", "for app2").ok());
  ASSERT_TRUE(this->world->eventually([&] { return inbox1.size() == 1 && inbox2.size() == 1; }));
  EXPECT_EQ(inbox1.received()[0], std::make_pair(std::string("ch"), json::value("for app1")));
  EXPECT_EQ(inbox2.received()[0], std::make_pair(std::string("ch"), json::value("for app2")));
}

TYPED_TEST_P(StoreBehaviour, TypedGetAndSetConvertDescribedStructs) {
  Profile ada{"Ada", 36, {"math", "engines"}};
  ASSERT_TRUE(set_as(*this->store, "profile", ada).ok());
  auto back = get_as<Profile>(*this->store, "profile");
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, ada);
  EXPECT_EQ(
      this->get("profile"),
      json::value(json::object{{"name", "Ada"}, {"age", 36}, {"tags", json::array{"math", "engines"}}}));
  EXPECT_EQ(get_as<Profile>(*this->store, "missing")->has_value(), false);
  ASSERT_TRUE(this->store->set("not-a-profile", "text").ok());
  EXPECT_EQ(get_as<Profile>(*this->store, "not-a-profile").error(), errc::wrong_type);
}

TYPED_TEST_P(StoreBehaviour, ConcurrentIncrementsAreNotLost) {
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!this->store->increment("counter").ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(this->get("counter"), json::value(kThreads * kEach));
}

REGISTER_TYPED_TEST_SUITE_P(
    StoreBehaviour, GetOfAnAbsentKeyIsEmpty, SetThenGetRoundTripsEveryKindOfJson,
    NullIsAStoredValueNotAnAbsence, SetReplacesTheValue, ValueWithTtlIsThereUntilItExpires,
    SetWithoutTtlClearsAnEarlierTtl, TtlThatIsNotPositiveIsRejected,
    RemoveDeletesAndSaysWhetherThereWasAValue, IncrementStartsAnAbsentKeyAtZero,
    IncrementAddsToAnIntegerWrittenWithSet, IncrementOfANonIntegerFailsWithWrongTypeAndKeepsTheValue,
    IncrementThatWouldOverflowFailsWithOutOfRange, IncrementKeepsTheTtl, ExpireMakesAnExistingKeyExpire,
    ExpireOfAnAbsentKeyIsFalse, ExpireWithZeroTtlDeletesAtOnce, PublishReachesASubscriber,
    PublishReachesEverySubscriberOfTheChannelAndNoOther, PublishWithoutSubscribersSucceeds,
    UnsubscribedHandlerReceivesNothingMore, DestroyingTheHandleUnsubscribesOnlyThatSubscriber,
    ResubscribingAfterTheLastUnsubscribeReceivesAgain, MessagesArriveInPublishOrder,
    HandlerMayUnsubscribeItself, AThrowingHandlerDoesNotKeepOthersFromTheMessage,
    KeyPrefixSeparatesKeysAndChannels, TypedGetAndSetConvertDescribedStructs, ConcurrentIncrementsAreNotLost);

}  // namespace igniter::store::testing

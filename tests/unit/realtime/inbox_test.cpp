#include "realtime/inbox.hpp"

#include "realtime/channel.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace igniter::realtime {
namespace {

StoredEventPtr event_of(std::uint64_t seq, std::size_t bytes, std::string channel = "news") {
  Event event;
  event.id = {1, seq};
  event.channel = std::move(channel);
  return std::make_shared<StoredEvent>(
      StoredEvent{std::move(event), Frame::copy_of(std::string(bytes, 'x'))});
}

TEST(Inbox, PublishesPastTheBoundFindNoRoomUntilTheShardTakes) {
  Inbox inbox(1000);
  EXPECT_TRUE(inbox.has_room(1000));
  EXPECT_TRUE(inbox.push({.event = event_of(1, 600), .task = {}}));  // was empty: wake the shard
  EXPECT_FALSE(inbox.push({.event = event_of(2, 300), .task = {}}));
  EXPECT_FALSE(inbox.has_room(101));
  EXPECT_FALSE(inbox.try_push({.event = event_of(3, 101), .task = {}}));
  EXPECT_EQ(inbox.bytes(), 900u);
  EXPECT_EQ(inbox.take(10'000).size(), 2u);
  EXPECT_EQ(inbox.bytes(), 0u);
  EXPECT_TRUE(inbox.has_room(1000));
}

TEST(Inbox, TakeStopsAtItsBudgetButAlwaysTakesOne) {
  Inbox inbox(100'000);
  for (std::uint64_t i = 1; i <= 5; ++i) inbox.push({.event = event_of(i, 400), .task = {}});
  auto batch = inbox.take(100);  // less than one event: still one
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].event->event.id.seq, 1u);
  batch = inbox.take(800);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].event->event.id.seq, 3u);
  EXPECT_EQ(inbox.bytes(), 800u);
}

TEST(Inbox, TasksRunBetweenTheEventsAroundThemAndSurviveDroppingTheBacklog) {
  Inbox inbox(100'000);
  std::vector<std::string> order;
  inbox.push({.event = event_of(1, 10), .task = {}});
  ASSERT_TRUE(inbox.try_push({.event = nullptr, .task = [&] { order.push_back("change"); }}));
  inbox.push({.event = event_of(2, 10), .task = {}});
  EXPECT_EQ(inbox.bytes(), 20u + Inbox::kTaskBytes);
  for (auto& item : inbox.take(100'000))
    item.task ? item.task() : order.push_back("event " + std::to_string(item.event->event.id.seq));
  EXPECT_EQ(order, (std::vector<std::string>{"event 1", "change", "event 2"}));

  inbox.push({.event = event_of(3, 10), .task = {}});
  inbox.push({.event = nullptr, .task = [] {}});
  inbox.push({.event = event_of(4, 10), .task = {}});
  EXPECT_EQ(inbox.drop_events(), 2u);
  auto left = inbox.take(100'000);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].task);
}

TEST(Inbox, DroppingTheBacklogKeepsControlEventsSoNoRevocationIsLost) {
  Inbox inbox(100'000);
  auto revoke = event_of(6, 40, std::string(kReservedChannelPrefix) + "revoke");
  inbox.push({.event = event_of(5, 10), .task = {}});
  inbox.push({.event = revoke, .task = {}});
  inbox.push({.event = event_of(7, 10), .task = {}});
  EXPECT_EQ(inbox.drop_events(), 2u);
  EXPECT_EQ(inbox.bytes(), 40u);
  auto left = inbox.take(100'000);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].event, revoke);
}

}  // namespace
}  // namespace igniter::realtime

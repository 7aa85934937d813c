#include "realtime/channel_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace igniter::realtime {
namespace {

// Stands for the connection object, which embeds its memberships.
struct Connection : Subscriber {
  explicit Connection(int id) : id(id) {}
  int id;
};

std::set<int> members_of(ChannelIndex& index, std::string_view channel) {
  std::set<int> ids;
  index.for_each(channel, [&](Subscriber& s) { ids.insert(static_cast<Connection&>(s).id); });
  return ids;
}

std::set<std::string> channels_of(const Subscriber& subscriber) {
  std::set<std::string> names;
  subscriber.for_each_channel([&](std::string_view name) { names.emplace(name); });
  return names;
}

TEST(ChannelIndex, SubscriberBookkeepingIsSmall) {
  static_assert(sizeof(Subscriber) <= 40);
  static_assert(sizeof(detail::ChannelMember) <= 16);
}

TEST(ChannelIndex, SubscribeOncePerChannel) {
  ChannelIndex index;
  Connection a(1);
  EXPECT_TRUE(index.subscribe(a, "posts"));
  EXPECT_FALSE(index.subscribe(a, "posts"));
  EXPECT_EQ(index.subscriber_count("posts"), 1u);
  EXPECT_EQ(a.channel_count(), 1u);
  EXPECT_TRUE(a.subscribed_to("posts"));
  EXPECT_FALSE(a.subscribed_to("other"));
}

TEST(ChannelIndex, ForEachVisitsOnlyThatChannelsMembers) {
  ChannelIndex index;
  Connection a(1), b(2), c(3);
  index.subscribe(a, "revalidation");
  index.subscribe(b, "revalidation");
  index.subscribe(b, "notifications.stream");
  index.subscribe(c, "notifications.stream");
  EXPECT_EQ(members_of(index, "revalidation"), (std::set<int>{1, 2}));
  EXPECT_EQ(members_of(index, "notifications.stream"), (std::set<int>{2, 3}));
  EXPECT_EQ(index.for_each("unknown", [](Subscriber&) { ADD_FAILURE(); }), 0u);
  EXPECT_EQ(index.channel_count(), 2u);
  EXPECT_EQ(index.channel_names(), (std::vector<std::string>{"notifications.stream", "revalidation"}));
}

TEST(ChannelIndex, UnsubscribeRepointsTheMemberMovedIntoTheHole) {
  ChannelIndex index;
  Connection a(1), b(2), c(3);
  for (Connection* s : {&a, &b, &c}) index.subscribe(*s, "x");
  EXPECT_TRUE(index.unsubscribe(a, "x"));  // c moves into a's place
  EXPECT_FALSE(index.unsubscribe(a, "x"));
  EXPECT_TRUE(index.unsubscribe(c, "x"));  // only correct if c's back-index was fixed
  EXPECT_EQ(members_of(index, "x"), std::set<int>{2});
  EXPECT_TRUE(index.unsubscribe(b, "x"));
  EXPECT_EQ(index.channel_count(), 0u);  // empty channels are erased
}

TEST(ChannelIndex, UnsubscribeRepointsTheMovedMembershipOfTheSubscriber) {
  ChannelIndex index;
  Connection a(1), b(2);
  // Three memberships: past the inline storage.
  for (const char* channel : {"c1", "c2", "c3"}) {
    index.subscribe(a, channel);
    index.subscribe(b, channel);
  }
  EXPECT_TRUE(index.unsubscribe(a, "c1"));  // a's "c3" membership moves into slot 0
  EXPECT_TRUE(index.unsubscribe(b, "c3"));  // moves a's c3 member inside channel c3
  EXPECT_TRUE(index.unsubscribe(a, "c3"));
  EXPECT_EQ(channels_of(a), std::set<std::string>{"c2"});
  EXPECT_EQ(members_of(index, "c1"), std::set<int>{2});
  EXPECT_EQ(index.subscriber_count("c3"), 0u);
  EXPECT_EQ(members_of(index, "c2"), (std::set<int>{1, 2}));
}

TEST(ChannelIndex, UnsubscribeAllLeavesEveryChannelAndErasesEmptyOnes) {
  ChannelIndex index;
  Connection a(1), b(2);
  for (const char* channel : {"c1", "c2", "c3", "c4", "c5"}) index.subscribe(a, channel);
  index.subscribe(b, "c3");
  index.unsubscribe_all(a);
  EXPECT_EQ(a.channel_count(), 0u);
  EXPECT_EQ(index.channel_names(), std::vector<std::string>{"c3"});
  EXPECT_EQ(members_of(index, "c3"), std::set<int>{2});
  EXPECT_TRUE(index.subscribe(a, "c1"));  // usable again
}

TEST(ChannelIndex, DestroyedSubscriberLeavesItsChannels) {
  ChannelIndex index;
  Connection b(2);
  {
    Connection a(1);
    index.subscribe(a, "x");
    index.subscribe(a, "y");
    index.subscribe(b, "x");
  }
  EXPECT_EQ(members_of(index, "x"), std::set<int>{2});
  EXPECT_EQ(index.subscriber_count("y"), 0u);
  EXPECT_EQ(index.channel_count(), 1u);
}

TEST(ChannelIndex, IndexDestroyedFirstLeavesSubscribersUnsubscribed) {
  Connection a(1);
  {
    ChannelIndex index;
    for (const char* channel : {"c1", "c2", "c3"}) index.subscribe(a, channel);
  }
  EXPECT_EQ(a.channel_count(), 0u);
}

TEST(ChannelIndex, WalkSurvivesRemovalsMadeByTheVisitor) {
  ChannelIndex index;
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < 10; ++i) {
    connections.push_back(std::make_unique<Connection>(i));
    index.subscribe(*connections.back(), "x");
    index.subscribe(*connections.back(), "y");
  }
  std::vector<int> visited;
  const std::size_t count = index.for_each("x", [&](Subscriber& s) {
    const int id = static_cast<Connection&>(s).id;
    visited.push_back(id);
    if (id == 3) {
      index.unsubscribe_all(s);                 // itself (the slow client case)
      index.unsubscribe_all(*connections[1]);   // one already visited
      index.unsubscribe(*connections[7], "x");  // one not visited yet
      index.unsubscribe(*connections[9], "y");  // another channel: swap-removes there
    }
  });
  EXPECT_EQ(count, 9u);
  EXPECT_EQ(std::set<int>(visited.begin(), visited.end()), (std::set<int>{0, 1, 2, 3, 4, 5, 6, 8, 9}));
  EXPECT_EQ(visited.size(), 9u);  // nobody twice
  EXPECT_EQ(members_of(index, "x"), (std::set<int>{0, 2, 4, 5, 6, 8, 9}));
  EXPECT_EQ(members_of(index, "y"), (std::set<int>{0, 2, 4, 5, 6, 7, 8}));
  // Back-indices are right after compaction: every remaining membership can still be removed.
  for (auto& connection : connections) index.unsubscribe_all(*connection);
  EXPECT_EQ(index.channel_count(), 0u);
}

TEST(ChannelIndex, MembersAddedDuringAWalkAreNotVisited) {
  ChannelIndex index;
  Connection a(1), b(2);
  index.subscribe(a, "x");
  std::vector<int> visited;
  index.for_each("x", [&](Subscriber& s) {
    visited.push_back(static_cast<Connection&>(s).id);
    index.subscribe(b, "x");
  });
  EXPECT_EQ(visited, std::vector<int>{1});
  EXPECT_EQ(members_of(index, "x"), (std::set<int>{1, 2}));
}

TEST(ChannelIndex, ChannelEmptiedDuringAWalkIsErasedAfterIt) {
  ChannelIndex index;
  Connection a(1), b(2);
  index.subscribe(a, "x");
  index.subscribe(b, "x");
  index.for_each("x", [&](Subscriber& s) { index.unsubscribe_all(s); });
  EXPECT_EQ(index.channel_count(), 0u);
  EXPECT_TRUE(index.subscribe(a, "x"));
  EXPECT_EQ(members_of(index, "x"), std::set<int>{1});
}

TEST(ChannelIndex, NestedWalksOfTheSameChannelAreSafe) {
  ChannelIndex index;
  Connection a(1), b(2), c(3);
  for (Connection* s : {&a, &b, &c}) index.subscribe(*s, "x");
  int inner_visits = 0;
  index.for_each("x", [&](Subscriber& outer) {
    if (static_cast<Connection&>(outer).id != 1) return;
    index.for_each("x", [&](Subscriber& inner) {
      ++inner_visits;
      if (static_cast<Connection&>(inner).id == 2) index.unsubscribe(inner, "x");
    });
  });
  EXPECT_EQ(inner_visits, 3);
  EXPECT_EQ(members_of(index, "x"), (std::set<int>{1, 3}));
}

TEST(ChannelIndex, MatchesAReferenceModelUnderRandomOperations) {
  ChannelIndex index;
  constexpr int kSubscribers = 12;
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < kSubscribers; ++i) connections.push_back(std::make_unique<Connection>(i));
  const std::vector<std::string> channels = {"a", "b", "c", "d", "e"};
  std::map<std::string, std::set<int>> model;
  std::mt19937 random(12345);
  for (int step = 0; step < 5000; ++step) {
    const int who = static_cast<int>(random() % kSubscribers);
    const std::string& channel = channels[random() % channels.size()];
    switch (random() % 8) {
      case 0:
      case 1:
      case 2:
        EXPECT_EQ(index.subscribe(*connections[who], channel), model[channel].insert(who).second);
        break;
      case 3:
      case 4:
        EXPECT_EQ(index.unsubscribe(*connections[who], channel), model[channel].erase(who) == 1);
        break;
      case 5:
        index.unsubscribe_all(*connections[who]);
        for (auto& [name, members] : model) members.erase(who);
        break;
      case 6: {
        // A walk that drops some subscribers of the walked channel, as fan-out does with slow clients.
        const int drop = static_cast<int>(random() % kSubscribers);
        index.for_each(channel, [&](Subscriber& s) {
          if (static_cast<Connection&>(s).id % 3 == drop % 3) {
            index.unsubscribe(s, channel);
            model[channel].erase(static_cast<Connection&>(s).id);
          }
        });
        break;
      }
      default:
        connections[who] = std::make_unique<Connection>(who);  // destroyed while subscribed
        for (auto& [name, members] : model) members.erase(who);
    }
    std::erase_if(model, [](const auto& entry) { return entry.second.empty(); });
    ASSERT_EQ(index.channel_count(), model.size()) << "step " << step;
    for (const auto& [name, members] : model) {
      ASSERT_EQ(members_of(index, name), members) << "step " << step << " channel " << name;
      ASSERT_EQ(index.subscriber_count(name), members.size());
    }
    for (const auto& connection : connections) {
      std::set<std::string> expected;
      for (const auto& [name, members] : model) {
        if (members.contains(connection->id)) expected.insert(name);
      }
      ASSERT_EQ(channels_of(*connection), expected) << "step " << step;
    }
  }
}

}  // namespace
}  // namespace igniter::realtime

#include "server/hub_replay.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

using Clock = std::chrono::system_clock;
constexpr std::uint64_t kEpoch = 77;

void record(realtime::History& history, std::initializer_list<const char*> channels) {
  for (const char* channel : channels) {
    realtime::Event event;
    event.channel = channel;
    event.time = Clock::now();
    history.record(std::move(event));
  }
}

auto any = [](const realtime::Event&) { return true; };

TEST(ChannelMatch, TellsThePlainNameFromItsAlias) {
  ChannelMatch names({"posts:{}", "users"});
  EXPECT_TRUE(names.alias("posts"));
  EXPECT_FALSE(names.plain("posts"));
  EXPECT_TRUE(names.plain("users"));
  EXPECT_FALSE(names.alias("users"));
  EXPECT_FALSE(names.alias("post"));
  EXPECT_FALSE(names.any("posts:{}:{}"));
  EXPECT_TRUE(names.plain("posts:{}"));  // as named: the alias's own name is held too
  EXPECT_TRUE(holds_plain({"posts:{}", "users"}, "users"));
}

TEST(PlanResume, AFreshStreamStartsAtTheNewestEventAndReplaysNothing) {
  realtime::History history(kEpoch);
  record(history, {"a", "a"});
  auto plan = plan_resume(history, "", Clock::now(), any);
  EXPECT_TRUE(plan.events.empty());
  EXPECT_FALSE(plan.resync);
  EXPECT_EQ(plan.position, (realtime::EventId{kEpoch, 2}));
  EXPECT_EQ(plan.replayed_through, 2u);
}

TEST(PlanResume, AKnownIdReplaysWhatFollowsItThroughFilter) {
  realtime::History history(kEpoch);
  record(history, {"a", "b", "a", "b"});
  auto plan = plan_resume(history, realtime::to_string({kEpoch, 1}), Clock::now(),
                          [](const realtime::Event& e) { return e.channel == "a"; });
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0]->event.id.seq, 3u);
  EXPECT_FALSE(plan.resync);
  EXPECT_EQ(plan.position, (realtime::EventId{kEpoch, 1}));  // continues from the client's own position
  EXPECT_EQ(plan.replayed_through, 3u);
}

TEST(PlanResume, AnIdWeNeverIssuedIsAResyncFromTheNewestEvent) {
  realtime::History history(kEpoch);
  record(history, {"a", "a", "a"});
  for (const char* id : {"3f2c-not-ours", "zz-1", "5-1"}) {
    auto plan = plan_resume(history, id, Clock::now(), any);
    EXPECT_TRUE(plan.resync) << id;
    EXPECT_EQ(plan.position, (realtime::EventId{kEpoch, 3})) << id;
    EXPECT_EQ(plan.replayed_through, 3u) << id;
  }
}

}  // namespace
}  // namespace igniter::server

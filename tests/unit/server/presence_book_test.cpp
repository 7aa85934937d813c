#include "server/presence_book.hpp"

#include <gtest/gtest.h>

#include "server/presence.hpp"

namespace igniter::server {
namespace {

using namespace std::chrono_literals;
using Clock = PresenceBook::Clock;

const Clock::time_point t0{std::chrono::seconds{1000}};

PresenceBook book(std::size_t max_members = 100, std::size_t max_bytes = 16) {
  return PresenceBook({"room", "revalidation"},
                      {.linger = 1s, .max_members_per_channel = max_members, .max_member_bytes = max_bytes});
}

TEST(PresenceBook, CountsStreamsListsMembersOnceAndAnonymousOnlyAsACount) {
  auto b = book();
  b.open(1, "42");
  b.join(1, "room", t0);
  b.open(2, "42");  // a second browser of the same user
  b.join(2, "room", t0);
  b.open(3, std::nullopt);
  b.join(3, "room", t0);
  auto room = b.local("room", t0);
  EXPECT_EQ(room.streams, 3u);
  EXPECT_EQ(room.anonymous, 1u);
  EXPECT_EQ(room.members, std::vector<std::string>{"42"});
  auto delta = b.take(t0);
  ASSERT_EQ(delta.changes.size(), 1u);  // one join, not two
  EXPECT_EQ(delta.changes[0].member, "42");
  EXPECT_TRUE(delta.changes[0].joined);
  EXPECT_EQ(delta.channels, std::vector<std::string>{"room"});
}

TEST(PresenceBook, UntrackedChannelsAndSecondJoinsAreIgnored) {
  auto b = book();
  b.open(1, "a");
  b.join(1, "elsewhere", t0);
  b.join(1, "room", t0);
  b.join(1, "room", t0);
  EXPECT_EQ(b.local("room", t0).streams, 1u);
  EXPECT_EQ(b.local("elsewhere", t0).streams, 0u);
  EXPECT_EQ(b.occupied(), std::vector<std::string>{"room"});
}

TEST(PresenceBook, AReloadWithinTheLingerIsNoLeaveAndNoJoin) {
  auto b = book();
  b.open(1, "42");
  b.join(1, "room", t0);
  b.take(t0);
  b.close(1, t0 + 10ms);
  b.open(2, "42");
  b.join(2, "room", t0 + 300ms);
  EXPECT_TRUE(b.take(t0 + 400ms).changes.empty());
  EXPECT_TRUE(b.take(t0 + 5s).changes.empty());
  EXPECT_EQ(b.local("room", t0 + 5s).members, std::vector<std::string>{"42"});
}

TEST(PresenceBook, AMemberLeavesWhenItsLingerEnds) {
  auto b = book();
  b.open(1, "42");
  b.join(1, "room", t0);
  b.take(t0);
  b.close(1, t0 + 10ms);
  EXPECT_EQ(b.local("room", t0 + 500ms).members, std::vector<std::string>{"42"});  // lingering
  EXPECT_EQ(b.local("room", t0 + 500ms).streams, 0u);
  EXPECT_TRUE(b.take(t0 + 500ms).changes.empty());
  auto delta = b.take(t0 + 1100ms);
  ASSERT_EQ(delta.changes.size(), 1u);
  EXPECT_FALSE(delta.changes[0].joined);
  EXPECT_TRUE(b.local("room", t0 + 1100ms).members.empty());
  EXPECT_TRUE(b.occupied().empty());
  EXPECT_EQ(b.streams(), 0u);
}

TEST(PresenceBook, LeavingOneChannelKeepsTheOthers) {
  auto b = book();
  b.open(1, "42");
  b.join(1, "room", t0);
  b.join(1, "revalidation", t0);
  b.leave(1, "room", t0);
  b.take(t0 + 2s);
  EXPECT_TRUE(b.local("room", t0 + 2s).members.empty());
  EXPECT_EQ(b.local("revalidation", t0 + 2s).members, std::vector<std::string>{"42"});
}

TEST(PresenceBook, MembersPastTheLimitsAreCountedAsAnonymous) {
  auto b = book(/*max_members=*/2, /*max_bytes=*/4);
  for (std::uint64_t s = 1; s <= 3; ++s) {
    b.open(s, std::to_string(s));
    b.join(s, "room", t0);
  }
  b.open(4, "toolong");
  b.join(4, "room", t0);
  b.open(5, "");
  b.join(5, "room", t0);
  auto room = b.local("room", t0);
  EXPECT_EQ(room.streams, 5u);
  EXPECT_EQ(room.anonymous, 3u);
  EXPECT_EQ(room.members, (std::vector<std::string>{"1", "2"}));
  // A listed member's own second stream still counts for it.
  b.open(6, "1");
  b.join(6, "room", t0);
  EXPECT_EQ(b.local("room", t0).anonymous, 3u);
}

TEST(PresenceEntries, RoundTripAndRejectWhatIsNotAnEntry) {
  LocalPresence local{.streams = 3, .anonymous = 1, .members = {"a", "b"}};
  auto decoded = decode_process_presence(encode_process_presence(local));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->streams, 3u);
  EXPECT_EQ(decoded->members, local.members);
  EXPECT_FALSE(decode_process_presence("nonsense"));
  EXPECT_FALSE(decode_process_presence(R"({"n":-1,"a":0,"m":[]})"));
  EXPECT_FALSE(decode_process_presence(R"({"n":1,"a":0,"m":[1]})"));
}

TEST(PresenceEntries, MergingListsEachMemberOnceAndTruncates) {
  std::vector<LocalPresence> processes{{.streams = 2, .anonymous = 1, .members = {"a"}},
                                       {.streams = 3, .anonymous = 1, .members = {"a", "b", "c"}}};
  auto all = merge_presence(processes, 10);
  EXPECT_EQ(all.count, 5u);
  EXPECT_EQ(all.anonymous, 2u);
  EXPECT_EQ(all.members, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(all.truncated);
  auto few = merge_presence(processes, 2);
  EXPECT_EQ(few.members, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(few.truncated);
}

}  // namespace
}  // namespace igniter::server

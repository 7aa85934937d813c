#include <gtest/gtest.h>

#include <limits>

#include "igniter/realtime/event.hpp"

namespace igniter::realtime {
namespace {

TEST(EventId, TextIsBase36EpochThenDecimalSeq) {
  EXPECT_EQ(to_string(EventId{36, 42}), "10-42");
  EXPECT_EQ(to_string(EventId{0, 0}), "0-0");
  EXPECT_EQ(to_string(EventId{35, 1}), "z-1");
}

TEST(EventId, RoundTripsThroughText) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  for (EventId id : {EventId{0, 0}, EventId{1, 1}, EventId{78'364'164'096ULL, 12345}, EventId{kMax, kMax}}) {
    const std::string text = to_string(id);
    auto parsed = parse_event_id(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, id);
  }
}

TEST(EventId, LongestTextFitsTheDeclaredMaximum) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(to_string(EventId{kMax, kMax}).size(), kMaxEventIdLength);
}

TEST(EventId, IgniterUuidsAreNotOurs) {
  EXPECT_FALSE(parse_event_id("5b115201-b283-406c-ba6c-6b3d2880b2c1"));
  EXPECT_FALSE(parse_event_id("db39c267-c386-4c5d-9f13-b7e04e9dbae8"));
  EXPECT_FALSE(parse_event_id("custom-id-1"));
  EXPECT_FALSE(parse_event_id("abc"));
}

TEST(EventId, MalformedTextIsRejected) {
  for (const char* text : {"", "-", "1-", "-1", "1--1", "1-1-1", "A-1", "1-a", " 1-1", "1-1 ", "+1-1", "1-+1",
                           "01-1", "1-01", "1_1", "1-1\n", "3w5e11264sgsg-1", "1-18446744073709551616",
                           "0000000000000000000000000000000001-1"}) {
    EXPECT_FALSE(parse_event_id(text)) << '"' << text << '"';
  }
}

TEST(EventId, OrdersBySeqWithinAnEpoch) {
  EXPECT_LT((EventId{7, 1}), (EventId{7, 2}));
  EXPECT_EQ((EventId{7, 2}), (EventId{7, 2}));
  EXPECT_NE((EventId{7, 2}), (EventId{8, 2}));
  EXPECT_GT((EventId{7, 10}), (EventId{7, 9}));
}

}  // namespace
}  // namespace igniter::realtime

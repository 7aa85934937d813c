#include "server/hub_admission.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

TEST(AddressLimits, AnAddressGetsNoMoreStreamsThanTheLimitUntilOneCloses) {
  AddressLimits limits(2);
  auto a = limits.acquire("10.0.0.1");
  auto b = limits.acquire("10.0.0.1");
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(limits.acquire("10.0.0.1"));
  EXPECT_TRUE(limits.acquire("10.0.0.2"));  // another address has its own count
  { auto released = std::move(a); }
  EXPECT_EQ(limits.open_from("10.0.0.1"), 1u);
  EXPECT_TRUE(limits.acquire("10.0.0.1"));
}

TEST(AddressLimits, AMovedSlotIsReleasedOnceAndARefusalCountsNothing) {
  AddressLimits limits(1);
  AddressSlot kept;
  {
    auto slot = limits.acquire("::1");
    kept = std::move(slot);
  }
  EXPECT_EQ(limits.open_from("::1"), 1u);
  EXPECT_FALSE(limits.acquire("::1"));
  EXPECT_EQ(limits.open_from("::1"), 1u);
  kept = AddressSlot();
  EXPECT_EQ(limits.open_from("::1"), 0u);
}

TEST(AddressLimits, ZeroMeansNoLimitApplies) {
  EXPECT_FALSE(AddressLimits(0).limited());
  EXPECT_TRUE(AddressLimits(1).limited());
}

TEST(ScreenChannel, RefusesBadNamesTooLongNamesAndChannelsPastTheLimit) {
  realtime::RealtimeOptions options;
  options.max_channel_name_length = 5;
  options.max_channels_per_connection = 1;
  EXPECT_EQ(screen_channel("", {}, {}, options).kind, ChannelScreen::refuse);
  EXPECT_EQ(screen_channel("a,b", {}, {}, options).kind, ChannelScreen::refuse);
  auto too_long = screen_channel("abcdef", {}, {}, options);
  EXPECT_EQ(too_long.kind, ChannelScreen::refuse);
  EXPECT_EQ(too_long.reason, "channel name is longer than 5 bytes");
  auto full = screen_channel("b", {}, {"a"}, options);
  EXPECT_EQ(full.kind, ChannelScreen::refuse);
  EXPECT_EQ(full.reason, "too many channels on this stream (limit 1)");
}

TEST(ScreenChannel, AnAliasIsItsOwnSubscriptionOfTheSameChannel) {
  realtime::RealtimeOptions options;
  auto alias = screen_channel("posts:{}", {"posts"}, {"posts"}, options);
  EXPECT_EQ(alias.kind, ChannelScreen::check);
  EXPECT_EQ(alias.channel, "posts");
  EXPECT_EQ(screen_channel("posts", {"posts"}, {"posts"}, options).kind, ChannelScreen::duplicate);
  EXPECT_EQ(screen_channel("posts", {}, {"posts"}, options).kind, ChannelScreen::held);
}

}  // namespace
}  // namespace igniter::server

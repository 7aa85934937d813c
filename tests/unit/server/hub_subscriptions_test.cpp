#include "server/hub_subscriptions.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

TEST(RemoveChannels, RemovesEachSpellingAsNamedAndReportsWhatWasAsked) {
  auto out = remove_channels({"a", "a:{}", "b"}, {"a:{}", "c"});
  EXPECT_EQ(out.held, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(out.removed, (std::vector<std::string>{"a:{}", "c"}));
}

TEST(ParseConnectionId, NonNumbersNameNoStream) {
  EXPECT_EQ(parse_connection_id("42"), 42u);
  EXPECT_EQ(parse_connection_id(""), 0u);
  EXPECT_EQ(parse_connection_id("x1"), 0u);
  EXPECT_EQ(parse_connection_id("99999999999999999999999"), 0u);
}

TEST(ChannelLedger, ChangesPastTheBurstWaitForTheRate) {
  auto t0 = ChannelLedger::Clock::time_point{} + std::chrono::hours(1);
  ChannelLedger ledger(1.0, 2.0, t0);
  EXPECT_TRUE(ledger.take_change(t0));
  EXPECT_TRUE(ledger.take_change(t0));
  EXPECT_FALSE(ledger.take_change(t0));
  EXPECT_TRUE(ledger.take_change(t0 + std::chrono::seconds(1)));
}

TEST(ChannelLedger, HoldsWhatTheStreamWillHold) {
  ChannelLedger ledger(1.0, 1.0, ChannelLedger::Clock::now());
  auto lock = ledger.hold();
  ledger.set_channels({"a", "b:{}"});
  EXPECT_EQ(ledger.channels(), (std::vector<std::string>{"a", "b:{}"}));
}

}  // namespace
}  // namespace igniter::server

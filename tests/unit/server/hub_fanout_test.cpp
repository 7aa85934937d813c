#include "server/hub_fanout.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

TEST(PassSlice, SmallPassesWriteInSlicesOfAtLeastThirtyTwoSessions) {
  EXPECT_EQ(pass_slice(1), 32u);
  EXPECT_EQ(pass_slice(1000), 32u);
}

TEST(PassSlice, LargePassesTakeAtMostOneHundredTwentyEightSlices) {
  EXPECT_EQ(pass_slice(10'000), 78u);
  for (std::size_t n : {4096u, 10'000u, 100'000u}) EXPECT_LE((n + pass_slice(n) - 1) / pass_slice(n), 128u);
}

TEST(PassBudget, APassTakesHalfASessionsBound) {
  EXPECT_EQ(pass_budget(1 << 20), 1u << 19);
}

}  // namespace
}  // namespace igniter::server

#include "server/hub_fanout.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

TEST(PassSlice, SmallPassesWriteInSlicesOfAtLeastThirtyTwoSessions) {
  EXPECT_EQ(pass_slice(1), 32u);
  EXPECT_EQ(pass_slice(1000), 32u);
}

TEST(PassSlice, LargePassesTakeAboutOneHundredTwentyEightSlices) {
  EXPECT_EQ(pass_slice(10'000), 78u);
  for (std::size_t n : {4096u, 10'000u, 100'000u}) {
    auto slices = (n + pass_slice(n) - 1) / pass_slice(n);  // the slice size rounds down: one more at most
    EXPECT_GE(slices, 128u) << n;
    EXPECT_LE(slices, 129u) << n;
  }
}

TEST(PassBudget, APassTakesHalfASessionsBound) {
  EXPECT_EQ(pass_budget(1 << 20), 1u << 19);
}

}  // namespace
}  // namespace igniter::server

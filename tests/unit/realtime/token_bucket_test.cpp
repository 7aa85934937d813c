#include "realtime/token_bucket.hpp"

#include <gtest/gtest.h>

namespace igniter::realtime {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, AllowsABurstThenTheSustainedRate) {
  const auto start = TokenBucket::Clock::time_point{} + 1h;
  TokenBucket bucket(10, 20, start);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(bucket.take(start)) << i;
  EXPECT_FALSE(bucket.take(start));
  EXPECT_FALSE(bucket.take(start + 50ms));  // half a token
  EXPECT_TRUE(bucket.take(start + 100ms));
  EXPECT_FALSE(bucket.take(start + 100ms));
  // Idle for a minute: the bucket is full again, never fuller.
  const auto later = start + 1min;
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(bucket.take(later)) << i;
  EXPECT_FALSE(bucket.take(later));
}

}  // namespace
}  // namespace igniter::realtime

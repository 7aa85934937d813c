#include "client/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace igniter::client::detail {
namespace {

using std::chrono::milliseconds;

// A backoff whose random numbers are always `r` (0 = the shortest delay, just below 1 = the longest).
Backoff fixed(double r, BackoffOptions options = {}) {
  return Backoff(options, [r] { return r; });
}

TEST(Backoff, DelaysDoubleFromInitialUpToTheCap) {
  auto longest = fixed(1.0);
  std::vector<long long> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(longest.next().count());
  EXPECT_EQ(delays, (std::vector<long long>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
}

TEST(Backoff, JitterStaysWithinHalfToAllOfTheCeiling) {
  auto shortest = fixed(0.0);
  EXPECT_EQ(shortest.next(), milliseconds(250));
  EXPECT_EQ(shortest.next(), milliseconds(500));
  Backoff random({.initial = milliseconds(100), .max = milliseconds(1000)});  // a real random source
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto ceiling = std::min<long long>(1000, 100LL << std::min(attempt, 20));
    auto delay = random.next().count();
    EXPECT_GE(delay, ceiling / 2) << "attempt " << attempt;
    EXPECT_LE(delay, ceiling) << "attempt " << attempt;
  }
}

TEST(Backoff, NeverGivesUpNorOverflows) {
  auto longest = fixed(1.0);
  for (int i = 0; i < 10'000; ++i) {
    auto delay = longest.next();
    ASSERT_GT(delay, milliseconds(0)) << "attempt " << i;
    ASSERT_LE(delay, milliseconds(30'000)) << "attempt " << i;
  }
  EXPECT_EQ(longest.next(), milliseconds(30'000));
  EXPECT_EQ(longest.attempts(), 64u);  // the count stops growing, the delays go on
}

TEST(Backoff, ResetStartsAgainFromTheFirstDelay) {
  auto longest = fixed(1.0);
  longest.next();
  longest.next();
  longest.next();
  EXPECT_EQ(longest.attempts(), 3u);
  longest.reset();
  EXPECT_EQ(longest.attempts(), 0u);
  EXPECT_EQ(longest.next(), milliseconds(500));
}

TEST(Backoff, OddOptionsAreMadeSane) {
  auto zero = fixed(1.0, {.initial = milliseconds(0), .max = milliseconds(0)});
  EXPECT_EQ(zero.next(), milliseconds(1));  // never a busy loop
  auto inverted = fixed(1.0, {.initial = milliseconds(800), .max = milliseconds(100)});
  EXPECT_EQ(inverted.next(), milliseconds(800));
}

}  // namespace
}  // namespace igniter::client::detail

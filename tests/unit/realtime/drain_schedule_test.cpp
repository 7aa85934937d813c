#include "realtime/drain_schedule.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace igniter::realtime {
namespace {

using std::chrono::milliseconds;

std::size_t total(const DrainPlan& plan) {
  return std::accumulate(plan.batches.begin(), plan.batches.end(), std::size_t{0},
                         [](std::size_t sum, const DrainBatch& b) { return sum + b.count; });
}

TEST(DrainSchedule, ManyStreamsSpreadOverTheWholeWindowInEqualBatches) {
  auto plan = plan_drain(10'000, {.window = milliseconds(5'000), .rate = 1'000, .max_batches = 20});
  ASSERT_EQ(plan.batches.size(), 20u);
  EXPECT_EQ(plan.window, milliseconds(5'000));
  EXPECT_EQ(plan.spacing, milliseconds(250));
  for (std::size_t k = 0; k < plan.batches.size(); ++k) {
    EXPECT_EQ(plan.batches[k].at, milliseconds(250) * static_cast<long>(k));
    EXPECT_EQ(plan.batches[k].count, 500u);
  }
  // The last batch closes one gap before the window ends, so its reconnects land inside it too.
  EXPECT_EQ(plan.batches.back().at + plan.spacing, plan.window);
}

TEST(DrainSchedule, BatchSizesDifferByAtMostOneAndAddUpToTheStreams) {
  auto plan = plan_drain(1'003, {.window = milliseconds(10'000), .rate = 1, .max_batches = 7});
  ASSERT_EQ(plan.batches.size(), 7u);
  EXPECT_EQ(total(plan), 1'003u);
  for (const auto& batch : plan.batches) {
    EXPECT_GE(batch.count, 143u);
    EXPECT_LE(batch.count, 144u);
  }
}

TEST(DrainSchedule, FewStreamsDrainFasterThanTheWindowAtTheRate) {
  // 300 streams at 1000/s: 300 ms, not the 5 s window.
  auto plan = plan_drain(300, {.window = milliseconds(5'000), .rate = 1'000, .max_batches = 20});
  EXPECT_EQ(plan.window, milliseconds(300));
  EXPECT_EQ(plan.spacing, milliseconds(15));
  EXPECT_EQ(total(plan), 300u);
  EXPECT_LT(plan.batches.back().at, milliseconds(300));
}

TEST(DrainSchedule, AHandfulOfStreamsClosesAtOnce) {
  auto plan = plan_drain(1, {.window = milliseconds(5'000), .rate = 1'000, .max_batches = 20});
  ASSERT_EQ(plan.batches.size(), 1u);
  EXPECT_EQ(plan.batches[0].at, milliseconds(0));
  EXPECT_EQ(plan.batches[0].count, 1u);
  EXPECT_EQ(drain_retry_hint(plan, 0.99), milliseconds(0));
}

TEST(DrainSchedule, NoBatchesMoreThanStreams) {
  auto plan = plan_drain(3, {.window = milliseconds(5'000), .rate = 0, .max_batches = 20});
  ASSERT_EQ(plan.batches.size(), 3u);
  for (const auto& batch : plan.batches) EXPECT_EQ(batch.count, 1u);
  EXPECT_EQ(plan.window, milliseconds(5'000));  // rate 0: the whole window, whatever the count
}

TEST(DrainSchedule, ZeroWindowClosesEverythingAtOnceWithoutJitter) {
  auto plan = plan_drain(5'000, {.window = milliseconds(0), .rate = 1'000, .max_batches = 20});
  ASSERT_EQ(plan.batches.size(), 1u);
  EXPECT_EQ(plan.batches[0].count, 5'000u);
  EXPECT_EQ(plan.spacing, milliseconds(0));
  EXPECT_EQ(drain_retry_hint(plan, 0.5), milliseconds(0));
}

TEST(DrainSchedule, NoStreamsNoBatches) {
  EXPECT_TRUE(plan_drain(0, {}).batches.empty());
}

TEST(DrainSchedule, RetryHintsFillTheGapBeforeTheNextBatch) {
  auto plan = plan_drain(10'000, {.window = milliseconds(5'000), .rate = 1'000, .max_batches = 20});
  EXPECT_EQ(drain_retry_hint(plan, 0.0), milliseconds(0));
  EXPECT_EQ(drain_retry_hint(plan, 0.5), milliseconds(125));
  EXPECT_EQ(drain_retry_hint(plan, 0.999999), milliseconds(249));
  EXPECT_EQ(drain_retry_hint(plan, 1.0), milliseconds(249));  // never reaches the next batch
  EXPECT_EQ(drain_retry_hint(plan, -1.0), milliseconds(0));
}

}  // namespace
}  // namespace igniter::realtime

// The handlers' pool: every job runs, a blocked job holds up no other, join runs what is queued.
#include "server/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace igniter::server {
namespace {

using namespace std::chrono_literals;

TEST(WorkerPool, RunsEveryJobPostedFromManyThreadsBeforeJoinReturns) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(4);
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t)
      posters.emplace_back([&] {
        for (int i = 0; i < 2500; ++i) pool.post([&] { ran.fetch_add(1, std::memory_order_relaxed); });
      });
    for (auto& poster : posters) poster.join();
    pool.join();
    EXPECT_EQ(ran.load(), 10000);
  }
}

TEST(WorkerPool, ABlockedJobDoesNotHoldUpTheNextOne) {
  // The first job blocks (a handler waiting on a database); the second must run on another worker,
  // even though the first was taken by the worker that was spinning for work.
  WorkerPool pool(2);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> second_ran;
  pool.post([released] { released.wait(); });
  pool.post([&] { second_ran.set_value(); });
  EXPECT_EQ(second_ran.get_future().wait_for(10s), std::future_status::ready);
  release.set_value();
  pool.join();
}

TEST(WorkerPool, AJobPostedRightBehindABlockedOneRunsThoughNothingIsPostedAfterIt) {
  // Both workers asleep; the first job wakes one and blocks at once. The second, posted while that worker
  // still counts as about to finish, wakes nobody; no push follows to notice the stall, so the watchdog
  // must hand it to the sleeping worker.
  WorkerPool pool(2);
  std::this_thread::sleep_for(20ms);  // past the spin: both workers sleep
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  pool.post([&started, released] {
    started.set_value();
    released.wait();
  });
  started.get_future().wait();
  std::promise<void> second_ran;
  pool.post([&] { second_ran.set_value(); });
  EXPECT_EQ(second_ran.get_future().wait_for(10s), std::future_status::ready);
  release.set_value();
  pool.join();
}

TEST(WorkerPool, JobsQueuedByJobsDuringJoinStillRun) {
  std::atomic<int> ran{0};
  WorkerPool pool(1);
  pool.post([&] {
    pool.post([&] { ran.fetch_add(1); });
    ran.fetch_add(1);
  });
  pool.join();
  EXPECT_EQ(ran.load(), 2);
  pool.post([&] { ran.fetch_add(1); });  // after join: dropped, not run
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPool, TakesMoveOnlyJobsAndDestroysThemOnceRun) {
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> watch = token;
  std::promise<int> seen;
  {
    WorkerPool pool(2);
    pool.post([owned = std::make_unique<std::shared_ptr<int>>(std::move(token)), &seen] {
      seen.set_value(**owned);
    });
    EXPECT_EQ(seen.get_future().get(), 7);
    pool.join();
  }
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace igniter::server

// The loops' threads: a job runs on the loop's thread right after the handler that asked for it, a job
// that blocks gives the loop to another thread, and the thread it leaves serves as a spare.
#include "server/loop_threads.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace igniter::server {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

/// One loop (kept from running out of work) and its threads; stopped and joined at the end.
struct OneLoop {
  explicit OneLoop(unsigned max_blocked = 4) : threads(max_blocked) { threads.start({&io}); }
  ~OneLoop() {
    io.stop();
    threads.join();
  }
  /// Runs `f` on the loop and waits for it.
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  LoopThreads threads;
};

TEST(LoopThreads, AJobRunsOnTheLoopsThreadOnceTheHandlerThatAskedForItReturns) {
  OneLoop loop;
  std::mutex mutex;
  std::vector<std::string> order;
  auto note = [&](std::string what) {
    std::lock_guard lock(mutex);
    order.push_back(std::move(what));
  };
  std::promise<std::thread::id> then_thread;
  auto handler_thread = loop.on_loop([&] {
    EXPECT_TRUE(loop.threads.can_run_next(0));
    loop.threads.run_next(
        0,
        [&] {
          note("work");
          return std::this_thread::get_id();
        },
        [&](std::thread::id work_thread) {
          note("then");
          EXPECT_EQ(work_thread, std::this_thread::get_id());
          then_thread.set_value(work_thread);
        });
    EXPECT_FALSE(loop.threads.can_run_next(0));  // one job at a time
    asio::post(loop.io, [&] { note("next handler"); });
    note("handler");
    return std::this_thread::get_id();
  });
  EXPECT_EQ(then_thread.get_future().get(), handler_thread);
  loop.on_loop([] { return 0; });
  EXPECT_EQ(order, (std::vector<std::string>{"handler", "work", "then", "next handler"}));
  EXPECT_EQ(loop.threads.hand_overs(), 0u);
}

/// Waits until no job that lost its loop runs any more (with one allowed: its thread is a spare then).
void wait_until_free(OneLoop& loop) {
  for (int i = 0; i < 5000 && !loop.on_loop([&] { return loop.threads.can_run_next(0); }); ++i)
    std::this_thread::sleep_for(1ms);
}

TEST(LoopThreads, AJobThatBlocksGivesTheLoopToAnotherThreadAndItsContinuationRunsThere) {
  OneLoop loop(1);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<std::thread::id> then_thread;
  auto first = loop.on_loop([&] {
    loop.threads.run_next(
        0,
        [released] {
          released.wait();
          return 7;
        },
        [&](int result) {
          EXPECT_EQ(result, 7);
          then_thread.set_value(std::this_thread::get_id());
        });
    return std::this_thread::get_id();
  });
  // The job blocks the thread that ran the loop; the loop goes on on another one, in milliseconds.
  auto start = LoopThreads::Clock::now();
  auto second = loop.on_loop([] { return std::this_thread::get_id(); });
  EXPECT_LT(LoopThreads::Clock::now() - start, 2s);
  EXPECT_NE(second, first);
  EXPECT_EQ(loop.threads.hand_overs(), 1u);
  release.set_value();
  EXPECT_EQ(then_thread.get_future().get(), second);  // posted to the loop, run by its new thread

  // The first thread is a spare now: the next job that blocks gives the loop back to it.
  wait_until_free(loop);
  std::promise<void> release_again;
  auto released_again = release_again.get_future().share();
  loop.on_loop([&] {
    loop.threads.run_next(
        0,
        [released_again] {
          released_again.wait();
          return 0;
        },
        [](int) {});
    return 0;
  });
  EXPECT_EQ(loop.on_loop([] { return std::this_thread::get_id(); }), first);
  EXPECT_EQ(loop.threads.hand_overs(), 2u);
  release_again.set_value();
}

TEST(LoopThreads, NoJobIsTakenWhileAsManyAsAllowedLostTheirLoopAndStillRun) {
  OneLoop loop(1);
  std::promise<void> release;
  auto released = release.get_future().share();
  loop.on_loop([&] {
    loop.threads.run_next(
        0,
        [released] {
          released.wait();
          return 0;
        },
        [](int) {});
    return 0;
  });
  while (loop.threads.hand_overs() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(loop.on_loop([&] { return loop.threads.can_run_next(0); }));
  release.set_value();
  wait_until_free(loop);
  EXPECT_TRUE(loop.on_loop([&] { return loop.threads.can_run_next(0); }));
}

TEST(LoopThreads, JoinWaitsForAJobThatLostItsLoop) {
  std::atomic<bool> finished{false};
  {
    OneLoop loop;
    loop.on_loop([&] {
      loop.threads.run_next(
          0,
          [&] {
            while (loop.threads.hand_overs() == 0) std::this_thread::sleep_for(1ms);
            std::this_thread::sleep_for(50ms);
            finished = true;
            return 0;
          },
          [](int) {});
      return 0;
    });
    while (loop.threads.hand_overs() == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(finished);
}

// The watchdog looks once or twice per job while jobs come: at the default priority those looks made the
// process claim a core from its neighbours (bench/notes.md, "The watchdog's weight").
TEST(LoopThreads, TheWatchdogRunsAtTheLowestPriority) {
  // The niceness of the thread named igniter-loopdog, or nullopt while it has not named itself yet.
  auto watchdog_nice = []() -> std::optional<int> {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::string name;
      std::getline(std::ifstream(task.path() / "comm"), name);
      if (name != "igniter-loopdog") continue;
      std::string stat;
      std::getline(std::ifstream(task.path() / "stat"), stat);
      // After "(comm) ": state is field 3; niceness is field 19, the 17th after the name.
      std::istringstream fields(stat.substr(stat.rfind(')') + 2));
      std::string field;
      for (int i = 0; i < 17; ++i) fields >> field;
      return std::stoi(field);
    }
    return std::nullopt;
  };
  OneLoop loop;
  // The watchdog names itself, then lowers its priority, as it starts: wait for both.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto nice = watchdog_nice();
  while (nice != LoopThreads::kWatchdogNice && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    nice = watchdog_nice();
  }
  ASSERT_TRUE(nice.has_value()) << "no thread named igniter-loopdog";
  EXPECT_EQ(*nice, LoopThreads::kWatchdogNice);
}

}  // namespace
}  // namespace igniter::server

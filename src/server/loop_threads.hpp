#pragma once
// The threads that run the shards' event loops, and how a loop's thread may run a handler itself.
//
// Handing a request to the worker pool costs more CPU than a fast handler does (bench/notes.md,
// "Worker hand-off": 6–9 µs a request, a second thread's wake-up and caches). So a loop's thread may run
// a job itself, right after the completion handler that asked for it returns (run_next). Such a job may
// still block — a handler that was fast so far waits on a lock or a database — and a loop must never wait
// for it: when a job has run for kHandOver, a watchdog gives the loop to another thread (a spare, or a
// new one), and the job's thread, once its job is done, posts the job's continuation to the loop and
// stays as a spare. The other connections of the loop wait for kHandOver, and the watchdog's wake-up, at
// most. The watchdog runs at the lowest priority (kWatchdogNice): on a machine whose cores are all busy,
// its wake-up waits for its turn.
//
// One thread runs a loop at a time, so what a shard owns is still touched by one thread at a time;
// which thread that is may change at a hand-over.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace igniter::server {

class LoopThreads {
 public:
  using Clock = std::chrono::steady_clock;
  /// How long a job runs on a loop's thread before the loop goes to another thread.
  static constexpr auto kHandOver = std::chrono::milliseconds(2);
  /// The watchdog thread's niceness (the lowest priority; see LoopThreads::start).
  static constexpr int kWatchdogNice = 19;

  /// `max_blocked`: how many jobs that lost their loop may still be running before run_next refuses more.
  explicit LoopThreads(unsigned max_blocked);
  ~LoopThreads();
  LoopThreads(const LoopThreads&) = delete;
  LoopThreads& operator=(const LoopThreads&) = delete;

  /// Runs each of `loops` on a thread of its own until it stops.
  void start(const std::vector<boost::asio::io_context*>& loops);

  /// Whether run_next on `loop` would take a job: none is waiting there yet, and fewer than
  /// `max_blocked` jobs that lost their loop are still running. Only on that loop's thread.
  bool can_run_next(std::size_t loop) const noexcept;

  /// From a completion handler running on `loop`: once it returns, this thread runs `work()`, then
  /// `then(result)` on the loop: at once when the thread still runs the loop, else posted to it. Only
  /// when can_run_next(loop).
  template <class Work, class Then>
  void run_next(std::size_t loop, Work work, Then then) {
    loops_[loop]->next = std::make_unique<Next<Work, Then>>(std::move(work), std::move(then));
  }

  /// After every loop stopped: waits for the jobs still running and ends every thread.
  void join();

  /// Loops given to another thread so far (served at /metrics as igniter_loop_hand_overs_total).
  std::uint64_t hand_overs() const noexcept { return hand_overs_.load(std::memory_order_relaxed); }

 private:
  struct Loop;
  struct Job {
    virtual ~Job() = default;
    /// Runs the work; false when the loop went to another thread meanwhile (the continuation is posted).
    virtual bool run(LoopThreads& threads, Loop& loop) = 0;
  };
  template <class Work, class Then>
  struct Next final : Job {
    Next(Work work, Then then) : work(std::move(work)), then(std::move(then)) {}
    bool run(LoopThreads& threads, Loop& loop) override {
      auto result = work();
      if (threads.leave(loop)) {
        then(std::move(result));
        return true;
      }
      boost::asio::post(*loop.io, [then = std::move(then), result = std::move(result)]() mutable {
        then(std::move(result));
      });
      return false;
    }
    Work work;
    Then then;
  };

  // A loop's phase, in the low two bits of Loop::state; the rest counts the jobs it ran.
  static constexpr std::uint64_t kIdle = 0, kInJob = 1, kTaken = 2, kPhase = 3;

  struct Loop {
    boost::asio::io_context* io = nullptr;
    std::unique_ptr<Job> next;                // set by a completion handler, run after it (loop's thread)
    std::atomic<std::uint64_t> state{kIdle};  // phase and count, see above
    std::atomic<Clock::rep> job_started{0};   // when the running job started
  };

  /// The body of every thread: runs `loop`, and after a job lost it, whichever loop it is given next.
  void serve(Loop* loop);
  /// Runs `loop` until it stops (true) or a job on this thread lost it (false).
  bool drive(Loop& loop);
  /// The job on `loop` is done: true when this thread still runs the loop.
  bool leave(Loop& loop) noexcept;
  /// Wakes the watchdog if it sleeps (a job starts).
  void rouse_watchdog();
  void watch();
  /// Gives `loop` to a spare thread or a new one (under mutex_).
  void hand_over(Loop& loop);
  /// A new thread that serves `loop` (under mutex_).
  void add_thread(Loop* loop);

  std::vector<std::unique_ptr<Loop>> loops_;
  unsigned max_blocked_;
  std::atomic<unsigned> blocked_{0};  // jobs that lost their loop, still running
  std::atomic<std::uint64_t> hand_overs_{0};
  std::atomic<bool> watchdog_asleep_{false};

  std::mutex mutex_;
  std::condition_variable wake_watchdog_;
  std::condition_variable wake_spares_;
  std::deque<Loop*> assigned_;  // loops handed over, for the spares to take (under mutex_)
  unsigned spares_ = 0;         // threads waiting for a loop (under mutex_)
  bool stopping_ = false;       // under mutex_
  std::vector<std::thread> threads_;
  std::thread watchdog_;
};

}  // namespace igniter::server

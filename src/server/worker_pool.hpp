#pragma once
// The threads that run handlers, which may block (AppOptions::worker_threads).
//
// At tens of thousands of requests a second the hand-off is what costs: with a plain pool every job finds
// its worker asleep, so each request pays a futex wake, a futex wait and two context switches — about
// two thirds of the server's CPU per request on the bench query (bench/notes.md, "Worker hand-off").
// So a job wakes a sleeping worker only when no awake one will take it soon:
// - a worker that runs out of jobs first spins for a short while before it sleeps, one spinner at a time
//   per core; while jobs are short (under kFresh, smoothed), a worker that started one under kFresh ago
//   is about to come back for the next one too;
// - a job posted while enough workers are awake in either way wakes nobody; one more than that wakes a
//   sleeper at once (with handlers that block, every job beyond the spinners does);
// - when jobs wait and none was taken for kStall, the awake workers counted on turned out to be blocked:
//   the next push wakes a sleeper, or, if none comes, a watchdog thread that ticks while jobs wait. A
//   blocking handler holds up the job behind it by about kStall under load, a few milliseconds at most.
//   A queue that moves, however slowly, gets no more threads: on busy cores they would only take turns.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace igniter::server {

class WorkerPool {
 public:
  /// Starts `threads` workers (at least one).
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues `job` (a move-only callable is fine) to run on one of the workers. Any thread. After join(),
  /// the job is dropped unrun.
  template <class F>
  void post(F&& job) {
    push(std::make_unique<Job<std::decay_t<F>>>(std::forward<F>(job)));
  }

  /// Runs what is queued (and what those jobs queue), then stops the workers and waits for them.
  void join();

 private:
  using Clock = std::chrono::steady_clock;
  struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
    Clock::time_point queued;  // when it was posted
  };
  template <class F>
  struct Job final : Task {
    explicit Job(F f) : f(std::move(f)) {}
    void run() override { f(); }
    F f;
  };

  void push(std::unique_ptr<Task> task);
  void work(std::size_t index);
  void watch();
  /// Whether a job just queued needs a sleeper woken: no awake worker will take it soon (under mutex_).
  bool sleeper_needed(Clock::time_point now) const noexcept;
  /// Jobs wait, and none was taken for kStall (under mutex_).
  bool stalled(Clock::time_point now) const noexcept;
  /// Spins until a job is queued or the spin time is up (without the lock). True when one is.
  bool spin_for_job() const noexcept;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable wake_watchdog_;
  std::deque<std::unique_ptr<Task>> jobs_;        // under mutex_
  std::atomic<std::size_t> queued_{0};            // jobs_.size(), for the spinner to watch without the lock
  Clock::time_point last_taken_;                  // when a worker last took a job (under mutex_)
  Clock::duration typical_job_{};                 // how long jobs take, smoothed (under mutex_)
  unsigned sleeping_ = 0;                         // workers waiting on wake_ (under mutex_)
  unsigned spinners_ = 0;                         // workers spinning (under mutex_)
  unsigned max_spinners_ = 1;                     // one per core, at most one per worker
  bool stopping_ = false;                         // join() was called (under mutex_)
  bool watchdog_idle_ = false;                    // the watchdog waits on wake_watchdog_ (under mutex_)
  std::vector<Clock::time_point> running_since_;  // per worker: when its job started, or {} (under mutex_)
  std::vector<std::thread> threads_;
  std::thread watchdog_;
};

}  // namespace igniter::server

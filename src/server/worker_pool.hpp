#pragma once
// The threads that run handlers, which may block (AppOptions::worker_threads).
//
// At tens of thousands of requests a second the hand-off is what costs: with a plain pool every job finds
// its worker asleep, so each request pays a futex wake, a futex wait and two context switches — about
// two thirds of the server's CPU per request on the bench query (bench/notes.md, "Worker hand-off").
// Here a worker that runs out of jobs first spins for a short while before it sleeps, one spinner at a
// time per core, and a job posted while a spinner watches the queue wakes nobody: under load the next job is
// taken by a thread that is already running. A job the spinners cannot take (more queued than there are
// spinners) wakes a sleeper at once, so a blocking handler never holds up the one behind it.

#include <atomic>
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
  struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct Job final : Task {
    explicit Job(F f) : f(std::move(f)) {}
    void run() override { f(); }
    F f;
  };

  void push(std::unique_ptr<Task> task);
  void work();
  /// Spins until a job is queued or the spin time is up (without the lock). True when one is.
  bool spin_for_job() const noexcept;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Task>> jobs_;  // under mutex_
  std::atomic<std::size_t> queued_{0};      // jobs_.size(), for the spinner to watch without the lock
  unsigned sleeping_ = 0;                   // workers waiting on wake_ (under mutex_)
  unsigned spinners_ = 0;                   // workers spinning (under mutex_)
  unsigned max_spinners_ = 1;               // one per core, at most one per worker
  bool stopping_ = false;                   // join() was called (under mutex_)
  std::vector<std::thread> threads_;
};

}  // namespace igniter::server

#include "server/worker_pool.hpp"

#include <algorithm>
#include <chrono>

#include "base/thread_name.hpp"

namespace igniter::server {

namespace {

// Long enough to cover the gap between two requests of a loaded server (a few to tens of microseconds),
// short enough that an idle server spends well under 1% of a core on it per request it serves.
constexpr auto kSpin = std::chrono::microseconds(50);
// A job started this recently is counted on to finish soon, while jobs typically take less than this
// (a fast handler takes a few microseconds).
constexpr auto kFresh = std::chrono::microseconds(50);
// A queue that has not moved for this long has only blocked workers to count on: a sleeper is woken.
// Short against any blocking call, long against the time a fast job takes.
constexpr auto kStall = std::chrono::microseconds(200);
// The watchdog's period while jobs come. Under load every push checks for a stall; the watchdog is for
// the job posted last, behind blocked workers, when no push follows it.
constexpr auto kWatchPeriod = std::chrono::milliseconds(2);

}  // namespace

WorkerPool::WorkerPool(unsigned threads)
    : max_spinners_(std::clamp(std::thread::hardware_concurrency(), 1u, std::max(threads, 1u))) {
  auto count = std::max(threads, 1u);
  running_since_.resize(count);
  threads_.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    threads_.emplace_back([this, i] {
      name_this_thread("igniter-worker");
      work(i);
    });
  watchdog_ = std::thread([this] {
    name_this_thread("igniter-pooldog");
    watch();
  });
}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::push(std::unique_ptr<Task> task) {
  auto now = Clock::now();
  task->queued = now;
  bool wake = false, watch = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;  // joined: nobody would run it
    jobs_.push_back(std::move(task));
    queued_.store(jobs_.size(), std::memory_order_release);
    if (sleeping_ > 0) {
      wake = sleeper_needed(now) || stalled(now);
      watch = !wake && watchdog_idle_;
    }
  }
  if (wake) wake_.notify_one();
  if (watch) wake_watchdog_.notify_one();
}

bool WorkerPool::sleeper_needed(Clock::time_point now) const noexcept {
  // Handlers that block (a database, Redis): a busy worker is no sign of a free one soon, so each spinner
  // takes one job and every job beyond them gets a sleeper at once.
  if (typical_job_ >= kFresh) return jobs_.size() > spinners_;
  // Short jobs: a spinner, or a worker that started its job under kFresh ago, comes back for the queue
  // soon; a sleeper is woken only when there is neither. If they turn out to be blocked, the queue stalls.
  if (spinners_ > 0) return false;
  for (auto since : running_since_)
    if (since != Clock::time_point{} && now - since < kFresh) return false;
  return true;
}

bool WorkerPool::stalled(Clock::time_point now) const noexcept {
  // The oldest job has waited kStall, and no job was taken in that time. A queue that moves, however
  // slowly (the cores are busy), gets no more threads to take turns on them.
  return !jobs_.empty() && now - std::max(jobs_.front()->queued, last_taken_) >= kStall;
}

void WorkerPool::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (jobs_.empty()) {
      watchdog_idle_ = true;
      wake_watchdog_.wait(lock);
      watchdog_idle_ = false;
      continue;
    }
    lock.unlock();
    std::this_thread::sleep_for(kWatchPeriod);
    lock.lock();
    if (sleeping_ > 0 && stalled(Clock::now())) wake_.notify_one();
  }
}

bool WorkerPool::spin_for_job() const noexcept {
  // Yielding, not pausing: on a machine with fewer cores than runnable threads (the I/O threads, other
  // workers) a spinner that yields gives them the core, and one that pauses takes it from them.
  auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    if (queued_.load(std::memory_order_acquire) > 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
}

void WorkerPool::work(std::size_t index) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (jobs_.empty() && !stopping_ && spinners_ < max_spinners_) {
      ++spinners_;
      lock.unlock();
      spin_for_job();
      lock.lock();
      --spinners_;
    }
    while (jobs_.empty() && !stopping_) {
      ++sleeping_;
      wake_.wait(lock);
      --sleeping_;
    }
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    auto task = std::move(jobs_.front());
    jobs_.pop_front();
    queued_.store(jobs_.size(), std::memory_order_release);
    running_since_[index] = last_taken_ = Clock::now();
    lock.unlock();
    task->run();
    task.reset();  // the job's captures die on this thread, outside the lock
    lock.lock();
    // How long jobs take, smoothed over the last few (an exponential average, 1/8 per job).
    auto took = Clock::now() - running_since_[index];
    typical_job_ += (took - typical_job_) / 8;
    running_since_[index] = {};
  }
}

void WorkerPool::join() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  wake_watchdog_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  std::lock_guard lock(mutex_);
  threads_.clear();
}

}  // namespace igniter::server

#include "server/worker_pool.hpp"

#include <algorithm>
#include <chrono>

namespace igniter::server {

namespace {

// Long enough to cover the gap between two requests of a loaded server (a few to tens of microseconds),
// short enough that an idle server spends well under 1% of a core on it per request it serves.
constexpr auto kSpin = std::chrono::microseconds(50);

}  // namespace

WorkerPool::WorkerPool(unsigned threads)
    : max_spinners_(std::clamp(std::thread::hardware_concurrency(), 1u, std::max(threads, 1u))) {
  threads_.reserve(std::max(threads, 1u));
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::push(std::unique_ptr<Task> task) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;  // joined: nobody would run it
    jobs_.push_back(std::move(task));
    queued_.store(jobs_.size(), std::memory_order_release);
    // Each spinner takes one job; any more need a sleeper.
    wake = sleeping_ > 0 && jobs_.size() > spinners_;
  }
  if (wake) wake_.notify_one();
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

void WorkerPool::work() {
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
    lock.unlock();
    task->run();
    task.reset();  // the job's captures die on this thread, outside the lock
    lock.lock();
  }
}

void WorkerPool::join() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  std::lock_guard lock(mutex_);
  threads_.clear();
}

}  // namespace igniter::server

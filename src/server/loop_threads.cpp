#include "server/loop_threads.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "base/thread_name.hpp"

namespace igniter::server {

LoopThreads::LoopThreads(unsigned max_blocked) : max_blocked_(max_blocked) {}

LoopThreads::~LoopThreads() {
  join();
}

void LoopThreads::start(const std::vector<boost::asio::io_context*>& loops) {
  for (auto* io : loops) {
    loops_.push_back(std::make_unique<Loop>());
    loops_.back()->io = io;
  }
  std::lock_guard lock(mutex_);
  for (auto& loop : loops_) add_thread(loop.get());
  watchdog_ = std::thread([this] {
    name_this_thread("igniter-loopdog");
    // The lowest priority, for this thread only (Linux: a thread id names one thread). It looks once or
    // twice per job while jobs come, and at the default weight those looks made the process claim a core
    // from its neighbours: a reader sharing a core with a busy loop waited up to 150 ms for it (bench/
    // notes.md, "The watchdog's weight"). A loop whose job blocks leaves its core, so the watchdog still
    // gets its turn. Where the call is refused, the watchdog runs at the default priority.
    setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWatchdogNice);
    watch();
  });
}

bool LoopThreads::can_run_next(std::size_t loop) const noexcept {
  return !loops_[loop]->next && blocked_.load(std::memory_order_relaxed) < max_blocked_;
}

void LoopThreads::serve(Loop* loop) {
  while (!drive(*loop)) {
    // A job on this thread lost its loop: wait as a spare for the next loop handed over.
    std::unique_lock lock(mutex_);
    blocked_.fetch_sub(1, std::memory_order_relaxed);
    ++spares_;
    wake_spares_.wait(lock, [&] { return stopping_ || !assigned_.empty(); });
    --spares_;
    if (assigned_.empty()) return;
    loop = assigned_.front();
    assigned_.pop_front();
  }
}

bool LoopThreads::drive(Loop& loop) {
  while (loop.io->run_one() > 0) {
    if (!loop.next) continue;
    auto job = std::move(loop.next);
    // The count makes each job's state distinct, so the watchdog never takes a later job for this one.
    auto state = loop.state.load(std::memory_order_relaxed);
    loop.job_started.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    // seq_cst pairs with the watchdog's: either it sees this job, or this thread sees it asleep.
    loop.state.store((state & ~kPhase) + (kPhase + 1) + kInJob, std::memory_order_seq_cst);
    if (watchdog_asleep_.load(std::memory_order_seq_cst)) rouse_watchdog();
    if (!job->run(*this, loop)) return false;
  }
  return true;  // stopped
}

bool LoopThreads::leave(Loop& loop) noexcept {
  auto state = loop.state.load(std::memory_order_relaxed);
  if ((state & kPhase) == kInJob &&
      loop.state.compare_exchange_strong(state, (state & ~kPhase) | kIdle, std::memory_order_acq_rel))
    return true;
  return false;  // taken by the watchdog: another thread runs the loop now
}

void LoopThreads::rouse_watchdog() {
  {
    std::lock_guard lock(mutex_);
    watchdog_asleep_.store(false, std::memory_order_relaxed);
  }
  wake_watchdog_.notify_one();
}

void LoopThreads::watch() {
  std::unique_lock lock(mutex_);
  std::vector<std::uint64_t> seen(loops_.size(), 0);
  constexpr auto hand_over_after = std::chrono::duration_cast<Clock::duration>(kHandOver).count();
  while (!stopping_) {
    bool busy = false;
    auto now = Clock::now().time_since_epoch().count();
    // The next look: when the oldest running job is due, and no later than kHandOver from now (a job that
    // starts after this look is due no earlier). So a blocked job is seen when it is due, and while jobs
    // run the watchdog wakes about once per kHandOver, whatever their number.
    auto next_look = now + hand_over_after;
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      auto& loop = *loops_[i];
      auto state = loop.state.load(std::memory_order_seq_cst);
      busy = busy || state != seen[i];
      seen[i] = state;
      if ((state & kPhase) != kInJob) continue;
      busy = true;
      auto started = loop.job_started.load(std::memory_order_relaxed);
      // A job that started after `state` was read shows a later start: never taken too early.
      if (now - started < hand_over_after) {
        next_look = std::min(next_look, started + hand_over_after);
        continue;
      }
      if (loop.state.compare_exchange_strong(state, (state & ~kPhase) | kTaken, std::memory_order_acq_rel))
        hand_over(loop);
    }
    if (busy) {
      wake_watchdog_.wait_until(lock, Clock::time_point(Clock::duration(next_look)),
                                [&] { return stopping_; });
      continue;
    }
    // No job ran since the last look: sleep until one starts.
    watchdog_asleep_.store(true, std::memory_order_seq_cst);
    bool started = false;
    for (std::size_t i = 0; i < loops_.size(); ++i)
      started = started || loops_[i]->state.load(std::memory_order_seq_cst) != seen[i];
    if (started) {
      watchdog_asleep_.store(false, std::memory_order_relaxed);
      continue;
    }
    wake_watchdog_.wait(lock, [&] { return stopping_ || !watchdog_asleep_.load(std::memory_order_relaxed); });
    watchdog_asleep_.store(false, std::memory_order_relaxed);
  }
}

void LoopThreads::hand_over(Loop& loop) {
  blocked_.fetch_add(1, std::memory_order_relaxed);
  hand_overs_.fetch_add(1, std::memory_order_relaxed);
  if (spares_ > 0) {
    assigned_.push_back(&loop);
    wake_spares_.notify_one();
    return;
  }
  add_thread(&loop);
}

void LoopThreads::add_thread(Loop* loop) {
  threads_.emplace_back([this, loop] {
    name_this_thread("igniter-loop");
    serve(loop);
  });
}

void LoopThreads::join() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_watchdog_.notify_all();
  wake_spares_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  // No thread is added once the watchdog is gone.
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

}  // namespace igniter::server

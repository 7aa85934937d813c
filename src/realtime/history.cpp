#include "history.hpp"

#include <random>
#include <utility>

namespace igniter::realtime {

std::uint64_t random_epoch() {
  // [36^7, 36^8): always 8 base-36 digits, and about 2.7e12 values, so restarts do not collide.
  constexpr std::uint64_t kLow = 78'364'164'096ULL;
  constexpr std::uint64_t kHigh = 2'821'109'907'456ULL;
  std::random_device device;
  const std::uint64_t bits = (std::uint64_t{device()} << 32) ^ device();
  return kLow + bits % (kHigh - kLow);
}

History::History(std::uint64_t epoch, HistoryLimits limits, std::uint64_t after_seq)
    : epoch_(epoch), limits_(limits), latest_seq_(after_seq), pruned_through_(after_seq) {}

StoredEventPtr History::record(Event event) {
  const std::string body = encode_event_body(event);
  return record(std::move(event), body);
}

StoredEventPtr History::record(Event event, const std::string& body) {
  // The expensive part (JSON) happens outside the lock; under it only the id line is prefixed.
  auto stored = std::make_shared<StoredEvent>(StoredEvent{std::move(event), Frame()});
  std::lock_guard lock(mutex_);
  stored->event.id = EventId{epoch_, latest_seq_ + 1};
  stored->frame = frame_with_id(stored->event.id, body);
  latest_seq_ = stored->event.id.seq;
  push_locked(stored);
  prune_locked(stored->event.time);
  return stored;
}

bool History::append(StoredEventPtr stored) {
  if (!stored || stored->event.id.epoch != epoch_) return false;
  std::lock_guard lock(mutex_);
  if (stored->event.id.seq <= latest_seq_) return false;
  latest_seq_ = stored->event.id.seq;
  const auto time = stored->event.time;
  push_locked(std::move(stored));
  prune_locked(time);
  return true;
}

void History::push_locked(StoredEventPtr stored) {
  bytes_ += cost(*stored);
  events_.push_back(std::move(stored));
  while (events_.size() > limits_.max_events || (bytes_ > limits_.max_bytes && events_.size() > 1))
    pop_oldest_locked();
  if (events_.empty()) pruned_through_ = latest_seq_;  // max_events == 0: nothing is ever replayable
}

void History::prune_locked(std::chrono::system_clock::time_point now) {
  const auto oldest_kept = now - limits_.max_age;
  while (!events_.empty() && events_.front()->event.time < oldest_kept) pop_oldest_locked();
}

void History::pop_oldest_locked() {
  pruned_through_ = events_.front()->event.id.seq;
  bytes_ -= cost(*events_.front());
  events_.pop_front();
}

bool History::start_locked(EventId last, ReplayResult& result, std::size_t& first) const {
  if (last.epoch != epoch_ || last.seq > latest_seq_) {
    result.gap = true;
    return false;
  }
  result.gap = last.seq < pruned_through_;
  auto after =
      std::upper_bound(events_.begin(), events_.end(), last.seq,
                       [](std::uint64_t seq, const StoredEventPtr& e) { return seq < e->event.id.seq; });
  first = static_cast<std::size_t>(after - events_.begin());
  return true;
}

ReplayResult History::replay_after(EventId last, std::chrono::system_clock::time_point now) {
  return replay_after(last, now, [](const Event&) { return true; });
}

EventId History::latest_id() const {
  std::lock_guard lock(mutex_);
  return EventId{epoch_, latest_seq_};
}

std::size_t History::size() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

void History::declare_gap() {
  std::lock_guard lock(mutex_);
  pruned_through_ = latest_seq_;
}

void History::prune(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  prune_locked(now);
}

}  // namespace igniter::realtime

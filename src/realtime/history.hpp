#pragma once
/// The recent events of one epoch, kept so that a reconnecting client can resume by event id.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "frame.hpp"
#include "igniter/realtime/event.hpp"

namespace igniter::realtime {

/// An event with the frame that carries it: live delivery and replay send the same bytes.
struct StoredEvent {
  Event event;
  Frame frame;
};

/// Shared, immutable stored event; held by the history and by every queue it was fanned out to.
using StoredEventPtr = std::shared_ptr<const StoredEvent>;

/// What a resume gets: the retained events after the client's id, and whether some are missing.
struct ReplayResult {
  std::vector<StoredEventPtr> events;  ///< In id order, each once.
  /// True when the client cannot be brought up to date by `events` alone: events after its id were
  /// pruned, its id is from another epoch, or its id is ahead of this history. The client must resync.
  bool gap = false;
};

/// Limits of a History.
struct HistoryLimits {
  std::size_t max_events = 10'000;                              ///< Most events kept.
  std::chrono::milliseconds max_age = std::chrono::minutes{5};  ///< Oldest event kept, relative to now.
  /// Most memory kept, estimated as twice each event's frame (the frame, and the parsed data beside it,
  /// about as large for most events); the oldest events go first. The newest event is always kept.
  std::size_t max_bytes = std::size_t{64} << 20;
};

/// A random epoch whose base-36 form is 8 characters long (never 0), for a new history.
std::uint64_t random_epoch();

/// The bounded, ordered log of recent events of one epoch; the source of event ids.
///
/// Thread-safe: events may be recorded from any thread and replayed from any shard. Each call holds
/// one mutex briefly (no JSON encoding under it). Time is passed in, never read, so that tests control it.
class History {
 public:
  /// An empty history for `epoch`, whose first event will get seq `after_seq + 1`.
  explicit History(std::uint64_t epoch, HistoryLimits limits = {}, std::uint64_t after_seq = 0);

  /// Assigns `event` the next id, encodes its frame once and retains it; returns the stored event to
  /// fan out. Ids and history order agree even when several threads record at once. Prunes by count
  /// and by age (relative to `event.time`).
  StoredEventPtr record(Event event);
  /// record() for an event whose body `encode_event_body(event)` the caller encoded already (to check
  /// its size before recording).
  StoredEventPtr record(Event event, const std::string& body);

  /// Retains an event whose id was assigned elsewhere (e.g. a shared log); false, and nothing kept,
  /// unless its epoch is this history's and its seq is above `latest_id().seq`.
  bool append(StoredEventPtr stored);

  /// The retained events after `last`, in order, and whether that is a gap (see ReplayResult).
  /// Not a gap when `last` is the newest id. On an epoch mismatch or a future id, `events` is empty;
  /// after a pruning gap it holds what is still retained. Prunes by age first, relative to `now`.
  ReplayResult replay_after(EventId last, std::chrono::system_clock::time_point now);

  /// Like replay_after, keeping only events for which `keep(const Event&)` is true. The lock is held only
  /// to copy the retained range (shared pointers, at most max_events of them); `keep` runs after it is
  /// released, so a long filter never stalls publishers, and `keep` may call into this history.
  template <class Keep>
  ReplayResult replay_after(EventId last, std::chrono::system_clock::time_point now, Keep&& keep);

  /// The id of the newest event ever recorded (seq 0 before the first), retained or not.
  EventId latest_id() const;
  /// The epoch of every id this history assigns.
  std::uint64_t epoch() const noexcept { return epoch_; }
  /// Events currently retained.
  std::size_t size() const;
  /// Declares that events up to the newest one may be missing here (they were lost on their way to this
  /// process): a resume from any id issued so far is then a gap, while later events replay as usual.
  void declare_gap();
  /// Drops events older than the age limit relative to `now` (call from a periodic timer so that an
  /// idle server releases memory).
  void prune(std::chrono::system_clock::time_point now);

 private:
  void push_locked(StoredEventPtr stored);
  void prune_locked(std::chrono::system_clock::time_point now);
  void pop_oldest_locked();
  static std::size_t cost(const StoredEvent& stored) noexcept { return 2 * stored.frame.size(); }
  // Validates `last` and finds the first retained event after it; false when nothing may be replayed.
  bool start_locked(EventId last, ReplayResult& result, std::size_t& first) const;

  const std::uint64_t epoch_;
  const HistoryLimits limits_;
  mutable std::mutex mutex_;
  std::deque<StoredEventPtr> events_;  // ascending seq
  std::size_t bytes_ = 0;              // cost() of the events retained
  std::uint64_t latest_seq_;           // newest seq recorded
  std::uint64_t pruned_through_;       // newest seq no longer retained (or never known)
};

template <class Keep>
ReplayResult History::replay_after(EventId last, std::chrono::system_clock::time_point now, Keep&& keep) {
  ReplayResult result;
  {
    std::lock_guard lock(mutex_);
    prune_locked(now);
    std::size_t first = 0;
    if (!start_locked(last, result, first)) return result;
    result.events.assign(events_.begin() + static_cast<std::ptrdiff_t>(first), events_.end());
  }
  // The events are immutable and shared: filtering them needs no lock.
  std::erase_if(result.events,
                [&](const StoredEventPtr& stored) { return !keep(std::as_const(stored->event)); });
  return result;
}

}  // namespace igniter::realtime

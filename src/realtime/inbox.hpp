#pragma once
/// The bounded queue a shard's fan-out takes its work from, in publish order.

#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "history.hpp"

namespace igniter::realtime {

/// One entry of an Inbox: an event to fan out, or a task to run at this point of the event order.
struct InboxItem {
  StoredEventPtr event;        ///< The event to deliver (null for a task).
  std::function<void()> task;  ///< Runs on the shard between the events around it (empty for an event).
};

/// A bounded FIFO of events and tasks for one shard: any thread pushes, the shard's thread takes.
///
/// A task (a live subscription change, say) takes effect after every event pushed before it and before
/// every event pushed after it, without anyone waiting for the shard. Bytes count event frames, and
/// kTaskBytes per task. Thread-safe: one mutex, held briefly (no allocation of frames under it).
class Inbox {
 public:
  /// What a task counts against the bound.
  static constexpr std::size_t kTaskBytes = 256;

  explicit Inbox(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Whether `bytes` more fit under the bound.
  bool has_room(std::size_t bytes) const;
  /// Appends an item whatever the bound (check has_room first, under the lock that orders publishers);
  /// true when the inbox was empty, i.e. the shard must be woken to take it.
  bool push(InboxItem item);
  /// Appends an item when it fits: nullopt when full (nothing appended), else whether the inbox was empty.
  std::optional<bool> try_push(InboxItem item);
  /// Removes and returns items from the front: the first one, then more while their bytes stay under
  /// `max_bytes` (so that one pass never takes more than a client can hold).
  std::vector<InboxItem> take(std::size_t max_bytes);
  /// Drops every waiting event but control events (reserved channels), keeping those and the tasks in
  /// order; returns how many events were dropped.
  std::size_t drop_events();
  /// Bytes waiting.
  std::size_t bytes() const;
  /// The bound.
  std::size_t max_bytes() const noexcept { return max_bytes_; }

 private:
  static std::size_t size_of(const InboxItem& item) noexcept {
    return item.event ? item.event->frame.size() : kTaskBytes;
  }

  mutable std::mutex mutex_;
  std::vector<InboxItem> items_;
  std::size_t bytes_ = 0;
  const std::size_t max_bytes_;
};

}  // namespace igniter::realtime

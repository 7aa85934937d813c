#include "inbox.hpp"

#include "channel.hpp"

namespace igniter::realtime {

bool Inbox::has_room(std::size_t bytes) const {
  std::lock_guard lock(mutex_);
  return bytes_ + bytes <= max_bytes_;
}

bool Inbox::push(InboxItem item) {
  const std::size_t bytes = size_of(item);
  std::lock_guard lock(mutex_);
  const bool was_empty = items_.empty();
  items_.push_back(std::move(item));
  bytes_ += bytes;
  return was_empty;
}

std::optional<bool> Inbox::try_push(InboxItem item) {
  const std::size_t bytes = size_of(item);
  std::lock_guard lock(mutex_);
  if (bytes_ + bytes > max_bytes_) return std::nullopt;
  const bool was_empty = items_.empty();
  items_.push_back(std::move(item));
  bytes_ += bytes;
  return was_empty;
}

std::vector<InboxItem> Inbox::take(std::size_t max_bytes) {
  std::vector<InboxItem> batch;
  std::lock_guard lock(mutex_);
  std::size_t bytes = 0, taken = 0;
  while (taken < items_.size() && (taken == 0 || bytes < max_bytes)) bytes += size_of(items_[taken++]);
  if (taken == items_.size()) {
    batch.swap(items_);
    bytes_ = 0;
  } else {
    batch.assign(std::make_move_iterator(items_.begin()),
                 std::make_move_iterator(items_.begin() + static_cast<std::ptrdiff_t>(taken)));
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(taken));
    bytes_ -= bytes;
  }
  return batch;
}

std::size_t Inbox::drop_events() {
  std::lock_guard lock(mutex_);
  const std::size_t before = items_.size();
  // Control events (a revocation) are kept like tasks: dropping one would leave a revoked stream open.
  std::erase_if(items_, [](const InboxItem& item) {
    return item.event != nullptr && !is_reserved_channel(item.event->event.channel);
  });
  bytes_ = 0;
  for (const auto& item : items_) bytes_ += size_of(item);
  return before - items_.size();
}

std::size_t Inbox::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace igniter::realtime

#include "store/subscriber_registry.hpp"

#include <algorithm>

namespace igniter::store::detail {

std::uint64_t SubscriberRegistry::next_id() {
  std::lock_guard lock(mutex_);
  return next_id_++;
}

SubscriberRegistry::Added SubscriberRegistry::add(std::string full_channel, std::string channel,
                                                  MessageHandler handler) {
  std::lock_guard lock(mutex_);
  auto subscriber = std::make_shared<Subscriber>(next_id_++, std::move(full_channel), std::move(channel),
                                                 std::move(handler));
  auto it = by_channel_.find(subscriber->full_channel);
  bool first = it == by_channel_.end();
  auto list = first ? std::make_shared<List>() : std::make_shared<List>(*it->second);
  list->push_back(subscriber);
  if (first) {
    by_channel_.emplace(subscriber->full_channel, std::move(list));
  } else {
    it->second = std::move(list);
  }
  by_id_.emplace(subscriber->listener.id(), subscriber);
  return {std::move(subscriber), first};
}

std::optional<SubscriberRegistry::Removed> SubscriberRegistry::remove(std::uint64_t id) noexcept {
  std::shared_ptr<Subscriber> subscriber;
  bool now_empty = false;
  {
    std::lock_guard lock(mutex_);
    auto found = by_id_.find(id);
    if (found == by_id_.end()) return std::nullopt;
    subscriber = std::move(found->second);
    by_id_.erase(found);
    auto it = by_channel_.find(subscriber->full_channel);
    if (it != by_channel_.end()) {
      auto list = std::make_shared<List>(*it->second);
      std::erase(*list, subscriber);
      if (list->empty()) {
        by_channel_.erase(it);
        now_empty = true;
      } else {
        it->second = std::move(list);
      }
    }
  }
  // Outside the registry lock: this waits for a delivery in progress, which may itself take the lock.
  subscriber->listener.deactivate();
  return Removed{subscriber->full_channel, now_empty};
}

std::shared_ptr<const SubscriberRegistry::List> SubscriberRegistry::find(
    std::string_view full_channel) const {
  std::lock_guard lock(mutex_);
  auto it = by_channel_.find(full_channel);
  return it == by_channel_.end() ? nullptr : it->second;
}

bool SubscriberRegistry::has(std::string_view full_channel) const {
  std::lock_guard lock(mutex_);
  return by_channel_.find(full_channel) != by_channel_.end();
}

std::vector<std::string> SubscriberRegistry::channels() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  names.reserve(by_channel_.size());
  for (const auto& [name, list] : by_channel_) names.push_back(name);
  return names;
}

}  // namespace igniter::store::detail

#include "channel_index.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace igniter::realtime {

Subscriber::~Subscriber() {
  if (size_ > 0) memberships()[0].channel->index->unsubscribe_all(*this);
  release_storage();
}

bool Subscriber::subscribed_to(std::string_view channel) const noexcept {
  const Membership* list = memberships();
  return std::any_of(list, list + size_, [&](const Membership& m) { return m.channel->name == channel; });
}

std::uint32_t Subscriber::find(const detail::ChannelEntry* channel) const noexcept {
  const Membership* list = memberships();
  for (std::uint32_t i = 0; i < size_; ++i) {
    if (list[i].channel == channel) return i;
  }
  return kNotFound;
}

void Subscriber::reserve_one() {
  if (size_ < capacity_) return;
  const std::uint32_t capacity = capacity_ * 2;
  auto* heap = new Membership[capacity];
  std::memcpy(heap, memberships(), sizeof(Membership) * size_);
  if (capacity_ > kInlineMemberships) delete[] heap_;
  heap_ = heap;
  capacity_ = capacity;
}

void Subscriber::release_storage() noexcept {
  assert(size_ == 0);
  if (capacity_ > kInlineMemberships) {
    delete[] heap_;
    capacity_ = kInlineMemberships;
  }
}

ChannelIndex::~ChannelIndex() {
  // Subscribers may outlive the index: leave them unsubscribed rather than pointing at freed channels.
  for (auto& [name, channel] : channels_) {
    for (const auto& member : channel.members) {
      if (member.subscriber != nullptr) member.subscriber->size_ = 0;
    }
  }
  for (auto& [name, channel] : channels_) {
    for (const auto& member : channel.members) {
      if (member.subscriber != nullptr) member.subscriber->release_storage();
    }
  }
}

bool ChannelIndex::subscribe(Subscriber& subscriber, std::string_view channel_name) {
  assert(subscriber.size_ == 0 || subscriber.memberships()[0].channel->index == this);
  auto found = channels_.find(channel_name);
  if (found != channels_.end() && subscriber.find(&found->second) != Subscriber::kNotFound) return false;
  subscriber.reserve_one();
  if (found == channels_.end()) {
    found = channels_.try_emplace(std::string(channel_name)).first;
    found->second.name = found->first;
    found->second.index = this;
  }
  Channel& channel = found->second;
  try {
    channel.members.push_back({&subscriber, subscriber.size_});
  } catch (...) {
    erase_if_unused(channel);
    throw;
  }
  subscriber.memberships()[subscriber.size_++] = {&channel,
                                                  static_cast<std::uint32_t>(channel.members.size() - 1)};
  ++channel.live;
  return true;
}

bool ChannelIndex::unsubscribe(Subscriber& subscriber, std::string_view channel_name) noexcept {
  auto found = channels_.find(channel_name);
  if (found == channels_.end()) return false;
  const std::uint32_t slot = subscriber.find(&found->second);
  if (slot == Subscriber::kNotFound) return false;
  remove_membership(subscriber, slot);
  return true;
}

void ChannelIndex::unsubscribe_all(Subscriber& subscriber) noexcept {
  // Removing from the back never moves another membership.
  while (subscriber.size_ > 0) remove_membership(subscriber, subscriber.size_ - 1);
  subscriber.release_storage();
}

void ChannelIndex::remove_membership(Subscriber& subscriber, std::uint32_t slot) noexcept {
  Subscriber::Membership* list = subscriber.memberships();
  Channel& channel = *list[slot].channel;
  const std::uint32_t position = list[slot].position;

  // Channel side: during a walk leave a hole (the walk indexes the vector), else swap-remove and
  // repoint the moved member's membership at its new position.
  --channel.live;
  if (channel.walks > 0) {
    channel.members[position].subscriber = nullptr;
    channel.has_holes = true;
  } else {
    const detail::ChannelMember moved = channel.members.back();
    channel.members[position] = moved;
    moved.subscriber->memberships()[moved.slot].position = position;
    channel.members.pop_back();
  }

  // Subscriber side: swap-remove and repoint the moved membership's member entry at its new slot.
  const std::uint32_t last = subscriber.size_ - 1;
  if (slot != last) {
    list[slot] = list[last];
    list[slot].channel->members[list[slot].position].slot = slot;
  }
  --subscriber.size_;

  erase_if_unused(channel);
}

void ChannelIndex::end_walk(Channel& channel) noexcept {
  if (--channel.walks > 0) return;
  if (channel.has_holes) {
    // Stable compaction keeps delivery order; each kept member's membership learns its new position.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < channel.members.size(); ++i) {
      const detail::ChannelMember member = channel.members[i];
      if (member.subscriber == nullptr) continue;
      channel.members[kept] = member;
      member.subscriber->memberships()[member.slot].position = static_cast<std::uint32_t>(kept);
      ++kept;
    }
    channel.members.resize(kept);
    channel.has_holes = false;
  }
  erase_if_unused(channel);
}

void ChannelIndex::erase_if_unused(Channel& channel) noexcept {
  if (channel.live != 0 || channel.walks != 0) return;
  // Look the node up by its own name, then erase by iterator: erasing by a key that lives in the node
  // itself is not safe.
  channels_.erase(channels_.find(channel.name));
}

std::size_t ChannelIndex::subscriber_count(std::string_view channel_name) const noexcept {
  auto found = channels_.find(channel_name);
  return found == channels_.end() ? 0 : found->second.live;
}

std::vector<std::string> ChannelIndex::channel_names() const {
  std::vector<std::string> names;
  names.reserve(channels_.size());
  for (const auto& entry : channels_) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace igniter::realtime

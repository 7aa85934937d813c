#pragma once
/// Which subscribers of one shard listen to which channel.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace igniter::realtime {

class ChannelIndex;
namespace detail {
struct ChannelEntry;
}

/// The channel memberships of one subscriber, embedded in the connection object (as a base or member).
///
/// Up to two memberships are stored inline; more move to one heap array. Non-copyable and
/// non-movable, since the index points at it. Destroying a subscriber that is still subscribed removes
/// it from its index; an index destroyed first leaves its subscribers unsubscribed. Single-threaded:
/// touch it only on the shard owning its index.
class Subscriber {
 public:
  Subscriber() noexcept : inline_{} {}
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  ~Subscriber();

  /// Number of channels subscribed to.
  std::size_t channel_count() const noexcept { return size_; }
  /// True when subscribed to `channel`.
  bool subscribed_to(std::string_view channel) const noexcept;
  /// Calls `fn(std::string_view channel)` for every channel subscribed to (in no particular order).
  template <class Fn>
  void for_each_channel(Fn&& fn) const;

 private:
  friend class ChannelIndex;
  static constexpr std::uint32_t kInlineMemberships = 2;
  static constexpr std::uint32_t kNotFound = ~std::uint32_t{0};

  struct Membership {
    detail::ChannelEntry* channel;
    std::uint32_t position;  // index of this subscriber in the channel's member list
  };

  Membership* memberships() noexcept { return capacity_ > kInlineMemberships ? heap_ : inline_; }
  const Membership* memberships() const noexcept { return capacity_ > kInlineMemberships ? heap_ : inline_; }
  std::uint32_t find(const detail::ChannelEntry* channel) const noexcept;
  void reserve_one();
  void release_storage() noexcept;

  union {
    Membership inline_[kInlineMemberships];
    Membership* heap_;
  };
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = kInlineMemberships;  // above kInlineMemberships: heap_ is live
};

namespace detail {

/// One subscriber's place in a channel.
struct ChannelMember {
  Subscriber* subscriber;  // null: removed during a walk, compacted when the walk ends
  std::uint32_t slot;      // index of the matching membership in the subscriber's list
};

/// One channel of a ChannelIndex.
struct ChannelEntry {
  std::string_view name;  // views the map key
  ChannelIndex* index = nullptr;
  std::vector<ChannelMember> members;
  std::uint32_t live = 0;   // members not removed
  std::uint32_t walks = 0;  // for_each calls in progress on this channel
  bool has_holes = false;   // removed members waiting for compaction
};

}  // namespace detail

/// Channel name to subscribers, for one shard: the fan-out table.
///
/// subscribe, unsubscribe and delivery cost O(1) per membership (one hash lookup, swap-removal with
/// back-indices on both sides); `for_each` visits the members of one channel only. A channel exists
/// while it has subscribers. Single-threaded: owned by one shard, never shared.
class ChannelIndex {
 public:
  ChannelIndex() = default;
  ChannelIndex(const ChannelIndex&) = delete;
  ChannelIndex& operator=(const ChannelIndex&) = delete;
  ~ChannelIndex();

  /// Subscribes `subscriber` to `channel` (a canonical, validated name); false when it already was.
  /// A subscriber belongs to at most one index. Throws only std::bad_alloc, leaving nothing changed.
  bool subscribe(Subscriber& subscriber, std::string_view channel);

  /// Unsubscribes `subscriber` from `channel`; false when it was not subscribed.
  bool unsubscribe(Subscriber& subscriber, std::string_view channel) noexcept;

  /// Unsubscribes `subscriber` from every channel and releases its membership storage.
  void unsubscribe_all(Subscriber& subscriber) noexcept;

  /// Calls `fn(Subscriber&)` for each subscriber of `channel`; returns how many were visited.
  ///
  /// `fn` may subscribe or unsubscribe anyone (e.g. drop a slow client) without disturbing the walk:
  /// removed members not visited yet are skipped, members added meanwhile are not visited, and an
  /// emptied channel is erased when the walk ends.
  template <class Fn>
  std::size_t for_each(std::string_view channel, Fn&& fn);

  /// Subscribers of `channel` (0 for an unknown channel).
  std::size_t subscriber_count(std::string_view channel) const noexcept;
  /// Channels with at least one subscriber.
  std::size_t channel_count() const noexcept { return channels_.size(); }
  /// Calls `fn(std::string_view channel, std::size_t subscribers)` for every channel, for metrics.
  template <class Fn>
  void for_each_channel(Fn&& fn) const;
  /// The names of every channel with subscribers, sorted.
  std::vector<std::string> channel_names() const;

 private:
  friend class Subscriber;
  using Channel = detail::ChannelEntry;

  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };

  void remove_membership(Subscriber& subscriber, std::uint32_t slot) noexcept;
  void end_walk(Channel& channel) noexcept;
  void erase_if_unused(Channel& channel) noexcept;

  std::unordered_map<std::string, Channel, NameHash, std::equal_to<>> channels_;
};

template <class Fn>
void Subscriber::for_each_channel(Fn&& fn) const {
  const Membership* list = memberships();
  for (std::uint32_t i = 0; i < size_; ++i) fn(list[i].channel->name);
}

template <class Fn>
std::size_t ChannelIndex::for_each(std::string_view channel_name, Fn&& fn) {
  auto found = channels_.find(channel_name);
  if (found == channels_.end()) return 0;
  Channel& channel = found->second;
  ++channel.walks;
  struct WalkEnd {
    ChannelIndex* index;
    Channel* channel;
    ~WalkEnd() { index->end_walk(*channel); }
  } walk_end{this, &channel};
  // Indexing, not iterators: fn may append to the vector. Members appended during the walk sit past
  // `end`; removed ones become null slots until the walk ends.
  const std::size_t end = channel.members.size();
  std::size_t visited = 0;
  for (std::size_t i = 0; i < end; ++i) {
    Subscriber* subscriber = channel.members[i].subscriber;
    if (subscriber == nullptr) continue;
    ++visited;
    fn(*subscriber);
  }
  return visited;
}

template <class Fn>
void ChannelIndex::for_each_channel(Fn&& fn) const {
  for (const auto& [name, channel] : channels_) fn(std::string_view(name), std::size_t{channel.live});
}

}  // namespace igniter::realtime

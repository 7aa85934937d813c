#include "igniter/store/memory_store.hpp"

#include <array>
#include <limits>
#include <mutex>
#include <set>
#include <utility>

#include "store/subscriber_registry.hpp"

namespace igniter::store {

namespace {

using TimePoint = std::chrono::steady_clock::time_point;
constexpr TimePoint kNever = TimePoint::max();
constexpr std::size_t kShardCount = 16;
// Expired entries each write frees on its way, so memory stays bounded without purge_expired().
constexpr std::size_t kPurgePerWrite = 8;

struct Entry {
  // Shared so that get() copies the JSON after releasing the shard lock.
  std::shared_ptr<const json::value> value;
  TimePoint expires = kNever;
};

struct Shard {
  using Entries = detail::StringMap<Entry>;

  std::mutex mutex;
  Entries entries;
  // Deadline order, for purging; the views point at the keys of `entries` (stable across rehashing).
  std::set<std::pair<TimePoint, std::string_view>> expiries;

  void erase(Entries::iterator it) {
    if (it->second.expires != kNever) expiries.erase({it->second.expires, it->first});
    entries.erase(it);
  }

  void set_expiry(Entries::iterator it, TimePoint expires) {
    if (it->second.expires != kNever) expiries.erase({it->second.expires, it->first});
    it->second.expires = expires;
    if (expires != kNever) expiries.emplace(expires, it->first);
  }

  // The live entry for `key`, erasing it if it has expired.
  Entries::iterator find_live(std::string_view key, TimePoint now) {
    auto it = entries.find(key);
    if (it != entries.end() && it->second.expires <= now) {
      erase(it);
      return entries.end();
    }
    return it;
  }

  std::size_t purge(TimePoint now, std::size_t limit) {
    std::size_t purged = 0;
    while (purged < limit && !expiries.empty() && expiries.begin()->first <= now) {
      auto it = entries.find(expiries.begin()->second);
      if (it == entries.end()) {  // cannot happen while the two stay in step; never loop on it
        expiries.erase(expiries.begin());
        continue;
      }
      erase(it);
      ++purged;
    }
    return purged;
  }
};

TimePoint deadline(TimePoint now, std::chrono::milliseconds ttl) {
  if (ttl >= std::chrono::duration_cast<std::chrono::milliseconds>(kNever - now))
    return kNever - TimePoint::duration(1);
  return now + ttl;
}

}  // namespace

struct MemoryStore::State final : detail::SubscriptionOwner {
  explicit State(StoreOptions& options) : clock(std::move(options.clock)), logger(options.logger) {}

  void unsubscribe(std::uint64_t id) noexcept override { subscribers.remove(id); }

  TimePoint now() const { return clock ? clock() : std::chrono::steady_clock::now(); }
  Shard& shard_for(std::string_view key) { return shards[detail::StringHash{}(key) % kShardCount]; }

  std::array<Shard, kShardCount> shards;
  std::function<TimePoint()> clock;
  Logger* logger;
  detail::SubscriberRegistry subscribers;
};

MemoryStore::MemoryStore(StoreOptions options) : prefix_(options.key_prefix) {
  state_ = std::make_shared<State>(options);
}

MemoryStore::MemoryStore(std::shared_ptr<State> state, std::string key_prefix)
    : state_(std::move(state)), prefix_(std::move(key_prefix)) {}

MemoryStore::~MemoryStore() = default;

std::shared_ptr<MemoryStore> MemoryStore::with_prefix(std::string key_prefix) const {
  return std::shared_ptr<MemoryStore>(new MemoryStore(state_, std::move(key_prefix)));
}

std::string MemoryStore::full_name(std::string_view name) const {
  std::string full;
  full.reserve(prefix_.size() + name.size());
  full.append(prefix_).append(name);
  return full;
}

Result<std::optional<json::value>> MemoryStore::get(std::string_view key) {
  auto full = full_name(key);
  auto now = state_->now();
  std::shared_ptr<const json::value> value;
  {
    auto& shard = state_->shard_for(full);
    std::lock_guard lock(shard.mutex);
    auto it = shard.find_live(full, now);
    if (it == shard.entries.end()) return std::optional<json::value>{};
    value = it->second.value;
  }
  return std::optional<json::value>(*value);
}

Result<void> MemoryStore::set(std::string_view key, const json::value& value,
                              std::optional<std::chrono::milliseconds> ttl) {
  if (ttl && ttl->count() <= 0) return errc::invalid_argument;
  // A copy in the default memory resource: `value` may live in a caller's arena that dies before us.
  auto copy = std::make_shared<const json::value>(value, boost::json::storage_ptr());
  auto full = full_name(key);
  auto now = state_->now();
  std::shared_ptr<const json::value> previous;  // released after the lock
  auto& shard = state_->shard_for(full);
  std::lock_guard lock(shard.mutex);
  shard.purge(now, kPurgePerWrite);
  auto it = shard.entries.try_emplace(std::move(full)).first;
  previous = std::exchange(it->second.value, std::move(copy));
  shard.set_expiry(it, ttl ? deadline(now, *ttl) : kNever);
  return {};
}

Result<bool> MemoryStore::remove(std::string_view key) {
  auto full = full_name(key);
  auto now = state_->now();
  auto& shard = state_->shard_for(full);
  std::lock_guard lock(shard.mutex);
  auto it = shard.find_live(full, now);
  if (it == shard.entries.end()) return false;
  shard.erase(it);
  return true;
}

Result<bool> MemoryStore::has(std::string_view key) {
  auto full = full_name(key);
  auto now = state_->now();
  auto& shard = state_->shard_for(full);
  std::lock_guard lock(shard.mutex);
  return shard.find_live(full, now) != shard.entries.end();
}

Result<std::int64_t> MemoryStore::increment(std::string_view key, std::int64_t by) {
  auto full = full_name(key);
  auto now = state_->now();
  auto& shard = state_->shard_for(full);
  std::lock_guard lock(shard.mutex);
  shard.purge(now, kPurgePerWrite);
  auto it = shard.find_live(full, now);
  std::int64_t current = 0;
  if (it == shard.entries.end()) {
    it = shard.entries.try_emplace(std::move(full)).first;
  } else if (const auto& value = *it->second.value; value.is_int64()) {
    current = value.get_int64();
  } else if (value.is_uint64() &&
             value.get_uint64() <= std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
    current = static_cast<std::int64_t>(value.get_uint64());
  } else {
    return errc::wrong_type;
  }
  std::int64_t next = 0;
  // An absent key starts at 0, which cannot overflow: only an existing entry gets here.
  if (__builtin_add_overflow(current, by, &next)) return errc::out_of_range;
  it->second.value = std::make_shared<const json::value>(next);
  return next;
}

Result<bool> MemoryStore::expire(std::string_view key, std::chrono::milliseconds ttl) {
  auto full = full_name(key);
  auto now = state_->now();
  auto& shard = state_->shard_for(full);
  std::lock_guard lock(shard.mutex);
  shard.purge(now, kPurgePerWrite);
  auto it = shard.find_live(full, now);
  if (it == shard.entries.end()) return false;
  if (ttl.count() <= 0) {
    shard.erase(it);
  } else {
    shard.set_expiry(it, deadline(now, ttl));
  }
  return true;
}

Result<void> MemoryStore::publish(std::string_view channel, const json::value& message) {
  auto subscribers = state_->subscribers.find(full_name(channel));
  if (!subscribers) return {};
  for (const auto& subscriber : *subscribers) subscriber->deliver(state_->logger, message);
  return {};
}

Result<Subscription> MemoryStore::subscribe(std::string_view channel, MessageHandler handler) {
  if (!handler) return errc::invalid_argument;
  auto added = state_->subscribers.add(full_name(channel), std::string(channel), std::move(handler));
  std::weak_ptr<detail::SubscriptionOwner> owner = state_;
  return Subscription(std::move(owner), added.subscriber->listener.id(), std::string(channel));
}

std::size_t MemoryStore::purge_expired() {
  auto now = state_->now();
  std::size_t purged = 0;
  for (auto& shard : state_->shards) {
    std::lock_guard lock(shard.mutex);
    purged += shard.purge(now, std::numeric_limits<std::size_t>::max());
  }
  return purged;
}

std::size_t MemoryStore::size() const {
  std::size_t total = 0;
  for (auto& shard : state_->shards) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace igniter::store

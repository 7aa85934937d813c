#pragma once
/// MemoryStore: the in-process store, the embedded default.

#include <cstddef>
#include <memory>
#include <string>

#include "igniter/store/store.hpp"

namespace igniter::store {

/// A thread-safe in-process store: keys live in a sharded hash map, each shard behind its own mutex.
///
/// TTLs: an expired key is gone for every call at once and its memory is freed when it is next
/// touched, a little at a time by later writes, or all at once by purge_expired(), which the owner
/// should call periodically (every few seconds) from a timer. Time comes from StoreOptions::clock.
///
/// Publish/subscribe: publish() runs the channel's handlers synchronously on the publishing thread,
/// one after another, after it has released every store lock; so a handler may call the store
/// (even publish or unsubscribe). Messages a thread publishes on a channel reach each subscriber in
/// that order; publishers on different threads are not ordered with each other.
class MemoryStore final : public Store {
 public:
  /// An empty store. Uses options.key_prefix and options.clock; the Redis options are ignored.
  explicit MemoryStore(StoreOptions options = {});
  ~MemoryStore() override;

  Result<std::optional<json::value>> get(std::string_view key) override;
  Result<void> set(std::string_view key, const json::value& value,
                   std::optional<std::chrono::milliseconds> ttl = {}) override;
  Result<bool> remove(std::string_view key) override;
  Result<bool> has(std::string_view key) override;
  Result<std::int64_t> increment(std::string_view key, std::int64_t by = 1) override;
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) override;
  Result<void> publish(std::string_view channel, const json::value& message) override;
  Result<Subscription> subscribe(std::string_view channel, MessageHandler handler) override;

  /// Frees every expired entry now and returns how many there were. Cost: proportional to that number.
  std::size_t purge_expired();
  /// Entries held, counting expired ones not yet freed.
  std::size_t size() const;
  /// Another store over the same data and subscribers whose keys and channels get `key_prefix` (instead
  /// of this one's): several apps sharing one process, as they would share one Redis.
  std::shared_ptr<MemoryStore> with_prefix(std::string key_prefix) const;

 private:
  struct State;
  MemoryStore(std::shared_ptr<State> state, std::string key_prefix);
  std::string full_name(std::string_view name) const;

  std::shared_ptr<State> state_;
  std::string prefix_;
};

}  // namespace igniter::store

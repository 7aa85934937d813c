#pragma once
/// The store: a key/value cache with TTLs and a publish/subscribe bus, with JSON values.
///
/// Two implementations: MemoryStore (in-process, the default) and RedisStore (shared by several
/// processes). from_url() picks one from a URL such as "memory://" or "redis://host:6379/0".

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/json/value.hpp"
#include "igniter/store/error.hpp"
#include "igniter/store/subscription.hpp"

namespace igniter::store {

/// Receives one published message: the channel as the subscriber named it, and the message.
using MessageHandler = std::function<void(std::string_view channel, const json::value& message)>;

/// Settings common to every store. Fields that only one store uses say so.
struct StoreOptions {
  /// Prepended to every key and channel ("app1:"), so that several apps can share one Redis.
  std::string key_prefix{};
  /// Redis: how long a blocking call waits for its reply; also the deadline to connect and log in, and how
  /// long a reply may be overdue before the connection is deemed dead and reopened.
  std::chrono::milliseconds timeout{2000};
  /// Redis: from_url() fails unless the first connection succeeds within `timeout`; false starts the
  /// store disconnected and lets it connect in the background.
  bool require_connection = true;
  /// Redis: commands in flight beyond this many fail at once with errc::busy (no unbounded queue).
  std::size_t max_pending = 65536;
  /// Redis: the largest reply accepted (its strings plus ~80 bytes per element, and what is buffered of it
  /// while it arrives); a larger one closes the connection like a protocol error (errc::reply_too_large).
  std::size_t max_reply_bytes = 64 * 1024 * 1024;
  /// Redis: first delay before reconnecting; doubles after each failed attempt.
  std::chrono::milliseconds reconnect_min{100};
  /// Redis: the longest delay between reconnection attempts.
  std::chrono::milliseconds reconnect_max{5000};
  /// Where connection changes and handler exceptions are reported; not owned, must outlive the store.
  Logger* logger = nullptr;
  /// Memory store: the time source for TTLs (std::chrono::steady_clock when empty); tests drive their own.
  std::function<std::chrono::steady_clock::time_point()> clock{};
};

/// A key/value store with TTLs and publish/subscribe. Values are JSON.
///
/// Every member may be called from any thread at the same time. Keys and channels are separate
/// namespaces. A counter written by increment() reads back through get() as a JSON integer, and any
/// JSON integer can be incremented; other values make increment() fail with errc::wrong_type.
/// RedisStore calls block the calling thread until Redis answers (at most StoreOptions::timeout).
class Store {
 public:
  virtual ~Store() = default;
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The value under `key`, or nullopt when there is none or it has expired.
  virtual Result<std::optional<json::value>> get(std::string_view key) = 0;
  /// Stores `value` under `key`, replacing any value and TTL; with `ttl`, the key expires after it.
  /// A ttl that is not positive fails with errc::invalid_argument.
  virtual Result<void> set(std::string_view key, const json::value& value,
                           std::optional<std::chrono::milliseconds> ttl = {}) = 0;
  /// Deletes `key` (the seed's `delete`); true when there was a value to delete.
  virtual Result<bool> remove(std::string_view key) = 0;
  /// True when `key` holds a value that has not expired.
  virtual Result<bool> has(std::string_view key) = 0;
  /// Adds `by` to the integer under `key` (0 when absent, created without TTL; an existing TTL is kept)
  /// and returns the new value. errc::wrong_type when the value is not an integer, errc::out_of_range on
  /// overflow.
  virtual Result<std::int64_t> increment(std::string_view key, std::int64_t by = 1) = 0;
  /// Makes `key` expire after `ttl` (a ttl that is not positive deletes it now); false when absent.
  virtual Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) = 0;
  /// Sends `message` to every current subscriber of `channel` (in every process, for Redis).
  virtual Result<void> publish(std::string_view channel, const json::value& message) = 0;
  /// Calls `handler` for each message published on `channel` until the returned handle goes.
  /// Which thread runs the handler depends on the store (see MemoryStore and RedisStore); a handler
  /// must not throw (exceptions are caught, logged and dropped). For RedisStore, messages published
  /// after subscribe() returns are delivered.
  virtual Result<Subscription> subscribe(std::string_view channel, MessageHandler handler) = 0;
};

/// Opens the store a URL names: "", "memory" or "memory://" give a MemoryStore;
/// "redis://[user:password@]host[:port][/db]" a RedisStore (see RedisStore::open for its errors).
/// Anything else fails with errc::invalid_url.
Result<std::shared_ptr<Store>> from_url(std::string_view url, StoreOptions options = {});

/// Same as above; a null `url` (an unset environment variable) means the memory store.
Result<std::shared_ptr<Store>> from_url(const char* url, StoreOptions options = {});

/// The value under `key` converted to T with boost::json::value_to; errc::wrong_type if it does not fit.
template <class T>
Result<std::optional<T>> get_as(Store& store, std::string_view key) {
  auto value = store.get(key);
  if (!value) return value.error();
  if (!*value) return std::optional<T>{};
  auto converted = boost::json::try_value_to<T>(**value);
  if (!converted) return errc::wrong_type;
  return std::optional<T>(std::move(*converted));
}

/// Stores `value` converted to JSON with boost::json::value_from (described structs, containers...).
template <class T>
Result<void> set_as(Store& store, std::string_view key, const T& value,
                    std::optional<std::chrono::milliseconds> ttl = {}) {
  return store.set(key, boost::json::value_from(value), ttl);
}

}  // namespace igniter::store

#pragma once
// The local side of publish/subscribe, shared by both stores: which handlers listen on which channel.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/json/value.hpp"
#include "igniter/store/store.hpp"

namespace igniter::store::detail {

// Hash and equality that let a std::string-keyed unordered_map be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};
template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

// Runs a handler unless it has been deactivated. The recursive mutex is what lets deactivate() promise
// that no call is in progress on another thread when it returns, while a handler may still deactivate
// itself (or deliver recursively, by publishing from inside a handler) on its own thread.
template <class... Args>
class Listener {
 public:
  using Handler = std::function<void(Args...)>;
  Listener(std::uint64_t id, Handler handler) : id_(id), handler_(std::move(handler)) {}

  std::uint64_t id() const noexcept { return id_; }

  void call(Logger* logger, Args... args) noexcept {
    std::lock_guard lock(mutex_);
    if (!active_) return;
    try {
      handler_(args...);
    } catch (const std::exception& e) {
      if (logger) logger->error(std::string("store: a handler threw: ") + e.what());
    } catch (...) {
      if (logger) logger->error("store: a handler threw a non-exception");
    }
  }

  // The handler object itself is left alone: it may be the one running this call, on this thread.
  void deactivate() noexcept {
    std::lock_guard lock(mutex_);
    active_ = false;
  }

 private:
  std::uint64_t id_;
  std::recursive_mutex mutex_;
  bool active_ = true;
  Handler handler_;
};

// A subscriber of one channel; `channel` is the name its handler is given (without the key prefix).
struct Subscriber {
  Subscriber(std::uint64_t id, std::string full_channel, std::string channel, MessageHandler handler)
      : listener(id, std::move(handler)),
        full_channel(std::move(full_channel)),
        channel(std::move(channel)) {}

  void deliver(Logger* logger, const json::value& message) noexcept {
    listener.call(logger, channel, message);
  }

  Listener<std::string_view, const json::value&> listener;
  std::string full_channel;
  std::string channel;
};

// Channel -> subscribers. Each channel's list is copy-on-write, so a publisher takes a snapshot under
// the lock and delivers after releasing it.
class SubscriberRegistry {
 public:
  using List = std::vector<std::shared_ptr<Subscriber>>;

  struct Added {
    std::shared_ptr<Subscriber> subscriber;
    bool first_in_channel;
  };
  struct Removed {
    std::string full_channel;
    bool channel_now_empty;
  };

  std::uint64_t next_id();
  Added add(std::string full_channel, std::string channel, MessageHandler handler);
  // Unregisters and deactivates (waiting for a call in progress elsewhere); nullopt for an unknown id.
  std::optional<Removed> remove(std::uint64_t id) noexcept;
  std::shared_ptr<const List> find(std::string_view full_channel) const;
  bool has(std::string_view full_channel) const;
  std::vector<std::string> channels() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  StringMap<std::shared_ptr<const List>> by_channel_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Subscriber>> by_id_;
};

}  // namespace igniter::store::detail

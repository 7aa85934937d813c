#pragma once
/// Subscription: the RAII handle that keeps a store subscription (or listener) alive.

#include <cstdint>
#include <memory>
#include <string>

namespace igniter::store {

namespace detail {
/// What a Subscription calls back to end itself; implemented by the stores.
class SubscriptionOwner {
 public:
  /// Removes subscription `id`; afterwards its handler is not running and will not be called again.
  virtual void unsubscribe(std::uint64_t id) noexcept = 0;

 protected:
  ~SubscriptionOwner() = default;
};
}  // namespace detail

/// A move-only handle on a subscription: the handler stays registered while the handle lives.
///
/// Destroying, resetting or calling unsubscribe() ends it. When unsubscribe() returns, the handler is
/// not running on another thread and will not be called again (a handler may unsubscribe itself). Do not
/// end a subscription while holding a lock that its handler takes. Outliving the store is fine: the
/// handle then does nothing.
class Subscription {
 public:
  /// An empty handle, subscribed to nothing.
  Subscription() = default;
  /// Made by the stores; users get handles from Store::subscribe().
  Subscription(std::weak_ptr<detail::SubscriptionOwner> owner, std::uint64_t id, std::string channel) noexcept
      : owner_(std::move(owner)), id_(id), channel_(std::move(channel)) {}
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { unsubscribe(); }

  /// Ends the subscription; idempotent. Blocks while the handler is running on another thread.
  void unsubscribe() noexcept;
  /// Same as unsubscribe(), named like a smart pointer's.
  void reset() noexcept { unsubscribe(); }
  /// True until unsubscribe() (an empty or moved-from handle is inactive).
  bool active() const noexcept { return id_ != 0; }
  /// The channel as passed to subscribe() (without the key prefix); empty for connection listeners.
  const std::string& channel() const noexcept { return channel_; }

 private:
  std::weak_ptr<detail::SubscriptionOwner> owner_;
  std::uint64_t id_ = 0;
  std::string channel_;
};

}  // namespace igniter::store

#pragma once
// Live subscription changes: POST <sse path>/subscriptions adds and removes channels of an open stream
// (Hub::change_subscriptions in hub_subscriptions.cpp). The stream's side of it — its change budget and
// the channels it will hold once queued changes apply — is a ChannelLedger the session owns.

#include <boost/describe/class.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "igniter/json/rules.hpp"
#include "realtime/token_bucket.hpp"

namespace igniter::server {

/// The body of POST <sse path>/subscriptions: live channel changes of an open stream.
struct SubscriptionChange {
  std::string connectionId;              ///< From the stream's `connected` frame.
  std::string token;                     ///< From the same frame; binds the change to that stream.
  std::vector<std::string> subscribe;    ///< Channels to add.
  std::vector<std::string> unsubscribe;  ///< Channels to remove.
  static void rules(json::Rules<SubscriptionChange>& r) {
    r.field(&SubscriptionChange::subscribe).optional().max_items(100);
    r.field(&SubscriptionChange::unsubscribe).optional().max_items(100);
  }
};
BOOST_DESCRIBE_STRUCT(SubscriptionChange, (), (connectionId, token, subscribe, unsubscribe))

/// One stream's live changes, on worker threads: one at a time per stream, each queued to the shard in
/// event order while held, so `channels()` is what the stream holds once every queued change has been
/// applied there. Any thread (own mutex).
class ChannelLedger {
 public:
  using Clock = realtime::TokenBucket::Clock;

  /// At most `rate` changes per second on average and `burst` at once, from `now`.
  ChannelLedger(double rate, double burst, Clock::time_point now) : bucket_(rate, burst, now) {}

  /// Spends one change of the stream's budget; false when its rate is exceeded (nothing spent).
  bool take_change(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return bucket_.take(now);
  }
  /// Holds the ledger for one change, from reading channels() to set_channels().
  std::unique_lock<std::mutex> hold() { return std::unique_lock(mutex_); }
  /// The channels as named (`x` or `x:{}`), for the per-stream channel limit. Under hold(), or before the
  /// stream is registered (nobody else can reach it then).
  const std::vector<std::string>& channels() const noexcept { return channels_; }
  void set_channels(std::vector<std::string> channels) { channels_ = std::move(channels); }

 private:
  std::mutex mutex_;
  realtime::TokenBucket bucket_;
  std::vector<std::string> channels_;
};

/// `held` after removing `unsubscribe` (first, so that a stream at its limit can swap channels).
struct Unsubscribed {
  std::vector<std::string> held;     ///< What the stream holds afterwards.
  std::vector<std::string> removed;  ///< The channels to unsubscribe, as the client named them.
};
Unsubscribed remove_channels(std::vector<std::string> held, const std::vector<std::string>& unsubscribe);

/// The stream id of a `connectionId`; 0 (no stream has it) when it is not a decimal number.
std::uint64_t parse_connection_id(std::string_view text) noexcept;

}  // namespace igniter::server

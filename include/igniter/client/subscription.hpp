#pragma once
/// Subscription: one SSE stream from an igniter-cpp app, kept open on a background thread — channels
/// changed live, resume from the last event id, reconnect with backoff that never gives up.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/client/reply.hpp"
#include "igniter/json/decode.hpp"
#include "igniter/json/value.hpp"

namespace igniter::client {

namespace detail {
class SubscriptionState;
}

/// Where a subscription's stream is.
enum class State {
  connecting,    ///< opening a connection (the first, or the next after a drop)
  open,          ///< the server's `connected` frame arrived; events flow
  reconnecting,  ///< the stream failed or ended; the next attempt is waiting for its backoff delay
  closed,        ///< close() was called; nothing more happens
};

/// "connecting", "open", "reconnecting" or "closed".
std::string_view to_string(State state) noexcept;

/// One event received on the stream.
struct Event {
  std::string id;                   ///< Its `id:`, a resumable cursor ("" for a stream query's first data).
  std::string type;                 ///< Its `event:` type: "message", "revalidate", ...
  std::string channel;              ///< The envelope's channel.
  json::value data;                 ///< The envelope's payload (the raw text when the frame was not JSON).
  std::vector<std::string> scopes;  ///< The envelope's scopes (empty for an unscoped event).
  std::string timestamp;            ///< The envelope's ISO-8601 publication time.

  /// The payload decoded into T (a described struct, a vector...), with issues when it does not fit.
  template <class T>
  json::Decoded<T> as() const {
    return json::decode<T>(data);
  }
};

/// A channel the server would not give this stream, and why.
struct RefusedChannel {
  std::string channel;
  std::string reason;
};

/// The `connected` frame that opens each stream (each reconnect too).
struct Connected {
  std::string connection_id;            ///< This stream's id on the server (for live channel changes).
  std::vector<std::string> channels;    ///< Channels the stream receives.
  std::vector<RefusedChannel> refused;  ///< Channels it asked for and may not read.
  std::vector<std::string> scopes;      ///< Scopes the server granted it.
  std::string last_event_id;            ///< Where the stream continues from.
  /// The server could not replay everything after the id this stream resumed from (its history moved
  /// on, or it restarted): events were missed, so state derived from them must be fetched again. A
  /// `revalidate` event with `queryKeys: [""]` follows (for Igniter.js clients); it is delivered too.
  bool resync = false;
};

/// A change of a subscription's state, as `on_state` reports it.
struct StateChange {
  State state = State::connecting;
  Error error;  ///< reconnecting: why the stream failed or ended (ec is empty otherwise).
  std::chrono::milliseconds retry_in{0};  ///< reconnecting: the delay before the next attempt.
  unsigned attempt = 0;                   ///< Failed attempts since the last `connected` frame.
};

/// The answer to a live channel change.
struct ChannelChange {
  std::vector<std::string> subscribed;    ///< Channels added to the open stream.
  std::vector<RefusedChannel> refused;    ///< Channels the server refused, with reasons.
  std::vector<std::string> unsubscribed;  ///< Channels removed from it.
  /// No open stream took the change (none was open, or the server no longer knew it): the channel set
  /// was updated and the next connection asks for it, resuming from the last event id, so no event is
  /// lost. The lists above are then empty; `on_connected` reports what was admitted.
  bool deferred = false;
};

/// The reconnect delays: attempt n waits a random time in [d/2, d], d = min(max, initial · 2^n); the
/// count restarts at each `connected` frame. There is no last attempt.
struct BackoffOptions {
  std::chrono::milliseconds initial{500};  ///< First delay before jitter.
  std::chrono::milliseconds max{30'000};   ///< Largest delay before jitter.
};

/// What a subscription asks for and whom it tells. Every callback runs on the subscription's own
/// thread, one at a time, in the order things happened; a callback must not throw (an exception it
/// throws is swallowed) and must not destroy the Subscription (calling its other methods is fine).
/// The stream's head is bounded by the client's ClientOptions::max_header_bytes and
/// max_interim_responses; failures inside the client (errc::internal_error) are reported as
/// `reconnecting` with that error, never thrown.
struct SubscribeOptions {
  std::vector<std::string> channels;  ///< Channels to receive; empty: the server's default set (its
                                      ///< revalidation channel and stream queries), kept from then on.
  std::vector<std::string> scopes;    ///< Narrows the scopes the server grants; empty: all of them.
  std::string last_event_id;          ///< Resume from this id on the first connection ("" : from now).
  std::function<void(const Event&)> on_event;          ///< Each event, in order, each once.
  std::function<void(const Connected&)> on_connected;  ///< Each `connected` frame (first and reconnects).
  std::function<void(const StateChange&)> on_state;    ///< Each change of State.
  BackoffOptions backoff;                              ///< Reconnect delays.
  /// With no byte (not even a keepalive) for this long, the stream is taken for dead and reopened; keep
  /// it above the server's keepalive interval (15 s by default). Zero: wait forever.
  std::chrono::milliseconds idle_timeout{45'000};
  std::string path = "/sse/events";  ///< The stream's path under the client's base URL.
  /// A larger frame (or a line of one) drops the stream (errc::frame_too_large), which then reconnects.
  std::size_t max_frame_bytes = 16 << 20;
  /// A longer event id (`id:`, or the `connected` frame's lastEventId) is ignored, as one holding NUL is:
  /// it goes back to the server as the Last-Event-ID header.
  std::size_t max_event_id_bytes = 1024;
};

/// One SSE stream kept open by a background thread that the Subscription owns: it connects, delivers
/// frames to the callbacks, and after any failure reconnects (with BackoffOptions delays, forever),
/// sending `Last-Event-ID` with the last id it received, so the server replays what was missed, once
/// and in order — or says `resync` when it cannot. Each connection attempt sends the client's current
/// headers and cookies. Every member function may be called from any thread, callbacks included;
/// destroying the Subscription closes it. Move-only; a moved-from or default Subscription is empty.
class Subscription {
 public:
  Subscription() = default;
  ~Subscription();
  Subscription(Subscription&&) noexcept;
  Subscription& operator=(Subscription&&) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  /// Adds channels to the open stream without reopening it (`POST <base>/sse/events/subscriptions`
  /// with the stream's connection id and token), and to the set every reconnect asks for. Blocks until
  /// the server has applied the change, so an event published afterwards follows it; a stream query's
  /// first data then arrives on the stream. See ChannelChange::deferred for when no stream takes it.
  Reply<ChannelChange> subscribe(std::vector<std::string> channels);
  /// Removes channels, the same way.
  Reply<ChannelChange> unsubscribe(std::vector<std::string> channels);

  /// The id of the last event received (or of the last `connected` frame): where a reconnect resumes.
  std::string last_event_id() const;
  /// The current state.
  State state() const;
  /// Waits until the stream is open (its `connected` frame arrived) or `timeout` passes; true when open.
  /// Events published after it returned true reach this subscription.
  bool wait_open(std::chrono::milliseconds timeout) const;
  /// The channels the next connection would ask for.
  std::vector<std::string> channels() const;

  /// Stops the stream: closes the connection or cancels the wait, joins the thread (unless called from
  /// one of its callbacks, where it only stops it), then reports State::closed. Idempotent.
  void close();

  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  friend class Client;
  explicit Subscription(std::shared_ptr<detail::SubscriptionState> state);
  std::shared_ptr<detail::SubscriptionState> state_;
};

}  // namespace igniter::client

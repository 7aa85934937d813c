#pragma once
/// Realtime events as the application publishes them and as the hub stores, replays and frames them.

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/json/value.hpp"

namespace igniter::realtime {

/// The position of an event in one event history: resumable cursor sent as the SSE `id:`.
///
/// `epoch` names one history (a server run, or a cluster's shared log); `seq` counts from 1 within it,
/// and `seq == 0` is the position before the first event. Ids from different epochs are unrelated:
/// ordering compares epoch first only so that the type can be sorted, never to compare histories.
struct EventId {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;

  friend constexpr auto operator<=>(const EventId&, const EventId&) = default;
};

/// Longest text form of an EventId (13 base-36 digits, '-', 20 decimal digits).
inline constexpr std::size_t kMaxEventIdLength = 34;

/// Writes `<epoch in base 36>-<seq in decimal>` (e.g. `k3x9a2mq-42`) to `out`; returns the length.
std::size_t format_event_id(EventId id, char (&out)[kMaxEventIdLength]) noexcept;

/// The text form of `id`, as sent in `id:` lines and accepted back in `Last-Event-ID`.
std::string to_string(EventId id);

/// Parses the canonical text form; nullopt for anything else (other servers' UUIDs, garbage, overflow,
/// upper case, leading zeros), so that `to_string(*parse_event_id(s)) == s` whenever it succeeds.
std::optional<EventId> parse_event_id(std::string_view text) noexcept;

/// Event type of custom messages: the only type the Igniter.js client delivers to `useRealtime`.
inline constexpr std::string_view kMessageType = "message";
/// Event type of revalidation events.
inline constexpr std::string_view kRevalidateType = "revalidate";
/// The channel every Igniter.js client subscribes to for revalidation events.
inline constexpr std::string_view kRevalidationChannel = "revalidation";

/// One published event: what is stored in the history and framed for subscribers.
struct Event {
  EventId id;                                    ///< Assigned by the history when the event is recorded.
  std::string channel;                           ///< Canonical channel name (see `canonical_channel`).
  std::string type = std::string(kMessageType);  ///< SSE `event:` value: "message" or "revalidate".
  std::vector<std::string> scopes;               ///< Empty: every subscriber of the channel; else any match.
  json::value data;                              ///< The payload, sent as the envelope's `data`.
  std::chrono::system_clock::time_point time;    ///< Publication time: envelope `timestamp`, history age.
};

/// How `publish` frames and targets a custom message.
struct PublishOptions {
  /// Only connections holding at least one of these scopes receive it; empty: every subscriber.
  std::vector<std::string> scopes;
  /// SSE event type; keep "message" for Igniter.js clients (they ignore every other type) and put a
  /// custom kind inside the payload instead.
  std::string type = std::string(kMessageType);
};

}  // namespace igniter::realtime

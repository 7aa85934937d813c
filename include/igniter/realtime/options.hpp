#pragma once
/// Settings of the realtime hub, given once when the app is built.

#include <chrono>
#include <cstddef>
#include <string>

namespace igniter::realtime {

/// Realtime hub settings; an aggregate meant for designated initializers.
struct RealtimeOptions {
  /// Interval between `: keepalive` comments on an idle stream (Igniter.js uses 30 s).
  std::chrono::milliseconds keepalive_interval = std::chrono::seconds{15};
  /// `retry:` hint on the first frame: native EventSource reconnect delay.
  std::chrono::milliseconds retry_hint = std::chrono::milliseconds{2000};
  /// Most events kept for `Last-Event-ID` resume; older ones make a resume report a gap.
  std::size_t history_max_events = 10'000;
  /// Longest time an event is kept for resume.
  std::chrono::milliseconds history_max_age = std::chrono::minutes{5};
  /// Bytes a connection may have pending; a client that falls further behind is disconnected.
  std::size_t max_pending_bytes = std::size_t{1} << 20;
  /// Give connections the scopes their `scopes` parameter claims, as Igniter.js does (unsafe).
  bool trust_client_scopes = false;
  /// Path of the SSE endpoint, under the app's base path.
  std::string sse_path = "/sse/events";
};

}  // namespace igniter::realtime

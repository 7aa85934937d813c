#pragma once
/// Settings of the realtime hub, given once when the app is built.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace igniter::realtime {

/// Realtime hub settings; an aggregate meant for designated initializers.
///
/// The `max_*` fields bound what a client (or a publisher) can make the hub hold; see docs/realtime.md
/// ("Limits") for what happens when each is reached.
struct RealtimeOptions {
  /// Interval between `: keepalive` comments on an idle stream (Igniter.js uses 30 s).
  std::chrono::milliseconds keepalive_interval = std::chrono::seconds{15};
  /// `retry:` hint on the first frame: native EventSource reconnect delay.
  std::chrono::milliseconds retry_hint = std::chrono::milliseconds{2000};
  /// Most events kept for `Last-Event-ID` resume; older ones make a resume report a gap.
  std::size_t history_max_events = 10'000;
  /// Longest time an event is kept for resume.
  std::chrono::milliseconds history_max_age = std::chrono::minutes{5};
  /// Most memory the history keeps for resume, counted as twice each event's frame (the frame, and its
  /// parsed data beside it); past it the oldest events go (a resume before them is a resync).
  std::size_t history_max_bytes = std::size_t{64} << 20;
  /// Bytes a connection may have pending; a client that falls further behind is disconnected.
  std::size_t max_pending_bytes = std::size_t{1} << 20;
  /// A stream whose pending write has not completed for this long (its client reads nothing, or too
  /// little for the kernel to take more) is closed as a slow client; it reconnects with Last-Event-ID and
  /// misses nothing. Checked at keepalive ticks: the cut comes after this rounded up to whole
  /// keepalive_intervals, and up to one interval more. 0 = never; then only the max_pending_bytes bound
  /// cuts a client that stops reading, and one that stops before its bound fills holds its memory.
  std::chrono::milliseconds write_stall_timeout = std::chrono::seconds{60};
  /// Kernel send buffer of each stream's socket, in bytes (8 KiB or more); 0 = the kernel's autotuning.
  std::size_t stream_send_buffer_bytes = std::size_t{128} << 10;
  /// Largest event frame publish accepts (also capped at half of max_pending_bytes); larger: event_too_large.
  std::size_t max_event_bytes = std::size_t{64} << 10;
  /// Bytes of events waiting for one shard's fan-out; a publish that would exceed it fails (overloaded).
  std::size_t max_inbox_bytes = std::size_t{64} << 20;
  /// Channels one stream may be subscribed to; the extra ones are refused (at connect and on changes).
  /// A stream's `channels` list is read up to twice this; one refused entry stands for the rest.
  std::size_t max_channels_per_connection = 128;
  /// Longest channel name a stream may subscribe to, in bytes (at most 200, the publish limit).
  std::size_t max_channel_name_length = 200;
  /// Live subscription changes one stream may make per second, sustained; more are answered 429.
  double subscription_changes_per_second = 10;
  /// Live subscription changes one stream may make in a burst (on top of the sustained rate).
  double subscription_change_burst = 20;
  /// Open streams per client IP address; 0 = no limit (behind a proxy every client shares its address).
  std::size_t max_streams_per_address = 0;
  /// Channels the app publishes to by name: /metrics reports their subscribers one by one (besides
  /// revalidation and every stream action); every other channel is summed into one series.
  std::vector<std::string> metrics_channels;
  /// Hand the kernel the writes of many streams with one system call (Linux io_uring, where the kernel
  /// and its sandbox allow it; otherwise, and over TLS, every stream write is a system call of its own).
  /// Each write is still tried at once and never waits; off: one system call per write everywhere.
  bool batched_writes = true;
  /// Give connections the scopes their `scopes` parameter claims, as Igniter.js does (unsafe).
  bool trust_client_scopes = false;
  /// Path of the SSE endpoint, under the app's base path.
  std::string sse_path = "/sse/events";
};

}  // namespace igniter::realtime

#pragma once
// The realtime counters: RealtimeStats and the Prometheus text of /metrics. Hub::stats and
// Hub::prometheus_metrics (hub_stats.cpp) read per-shard relaxed atomics only, never waiting for a shard;
// the text itself is a pure function of the numbers (unit-tested).

#include <cstdint>
#include <string>

#include "igniter/server/realtime.hpp"

namespace igniter::server {

/// Everything /metrics reports about realtime, read at one moment.
struct MetricsSnapshot {
  RealtimeStats stats;                  ///< Streams, events, subscribers per declared channel.
  std::uint64_t http_connections = 0;   ///< Open connections (HTTP and SSE).
  std::uint64_t refused_publishes = 0;  ///< Publishes refused: event too large or hub overloaded.
  std::uint64_t other_subscribers = 0;  ///< Subscriptions to channels the app did not declare, summed.
};

/// The Prometheus text exposition (version 0.0.4) of `snapshot`: one series per counter, one
/// `igniter_channel_subscribers{channel="..."}` per declared channel (quotes and backslashes escaped).
std::string prometheus_text(const MetricsSnapshot& snapshot);

}  // namespace igniter::server

#include "server/hub_stats.hpp"

#include <sstream>

#include "server/app_impl.hpp"
#include "server/hub.hpp"

namespace igniter::server {

std::string prometheus_text(const MetricsSnapshot& snapshot) {
  const auto& s = snapshot.stats;
  std::ostringstream out;
  auto counter = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
  };
  counter("igniter_http_connections", "gauge", "Open connections (HTTP and SSE).", snapshot.http_connections);
  counter("igniter_sse_connections", "gauge", "Open SSE streams.", s.connections);
  counter("igniter_events_published_total", "counter", "Realtime events recorded.", s.events_published);
  counter("igniter_events_refused_total", "counter", "Publishes refused: event too large or hub overloaded.",
          snapshot.refused_publishes);
  counter("igniter_events_delivered_total", "counter", "Frames queued to subscribers.", s.events_delivered);
  counter("igniter_events_dropped_total", "counter", "Frames refused by a full subscriber queue.",
          s.events_dropped);
  counter("igniter_slow_client_disconnects_total", "counter", "Streams cut for falling behind.",
          s.slow_client_disconnects);
  counter("igniter_resyncs_total", "counter", "Resumes that could not be replayed.", s.resyncs);
  counter("igniter_stream_writes_batched_total", "counter",
          "Stream writes handed to the kernel in batches, one system call for many (io_uring).",
          s.batched_writes);
  counter("igniter_other_channel_subscribers", "gauge",
          "Subscriptions to channels the app did not declare (client-chosen names), summed.",
          snapshot.other_subscribers);
  out << "# HELP igniter_channel_subscribers Subscriptions per declared channel (revalidation, stream "
         "actions, RealtimeOptions::metrics_channels).\n# TYPE igniter_channel_subscribers gauge\n";
  for (const auto& [channel, n] : s.subscribers) {
    out << "igniter_channel_subscribers{channel=\"";
    for (char c : channel) {
      if (c == '"' || c == '\\') out << '\\';
      out << c;
    }
    out << "\"} " << n << '\n';
  }
  return out.str();
}

RealtimeStats Hub::stats() const {
  RealtimeStats out;
  out.connections = connections.load(std::memory_order_relaxed);
  out.events_published = published.load(std::memory_order_relaxed);
  out.slow_client_disconnects = slow_disconnects.load(std::memory_order_relaxed);
  out.resyncs = resyncs.load(std::memory_order_relaxed);
  // Per-shard atomics only: a scrape never waits for a shard (nor makes one wait), from any thread.
  std::lock_guard lock(publish_mutex_);
  for (auto* shard : shards_) {
    auto& rt = *shard->realtime;
    out.events_delivered += rt.delivered.load(std::memory_order_relaxed);
    out.events_dropped += rt.dropped.load(std::memory_order_relaxed);
    out.batched_writes += rt.batched_writes.load(std::memory_order_relaxed);
    const auto& names = rt.gauges->declared();
    for (std::size_t i = 0; i < names.size(); ++i) out.subscribers[names[i]] += rt.gauges->subscribers(i);
  }
  return out;
}

std::string Hub::prometheus_metrics() const {
  MetricsSnapshot snapshot{.stats = stats(),
                           .http_connections = app_.connections.open.load(std::memory_order_relaxed),
                           .refused_publishes = refused_publishes.load(std::memory_order_relaxed)};
  {
    std::lock_guard lock(publish_mutex_);
    for (auto* shard : shards_) snapshot.other_subscribers += shard->realtime->gauges->other();
  }
  return prometheus_text(snapshot);
}

}  // namespace igniter::server

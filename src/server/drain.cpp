#include "server/drain.hpp"

#include <boost/asio/post.hpp>
#include <random>
#include <stdexcept>
#include <string>

#include "server/app_impl.hpp"
#include "server/sse_session.hpp"

namespace igniter::server {

namespace asio = boost::asio;
using std::chrono::milliseconds;

realtime::DrainSettings drain_settings(const AppOptions& options) {
  if (options.drain_window.count() < 0 || options.drain_rate < 0)
    throw std::invalid_argument("AppOptions::drain_window and drain_rate must not be negative");
  if (options.drain_window.count() > 0 && options.drain_window >= options.shutdown_timeout)
    throw std::invalid_argument("AppOptions::drain_window (" + std::to_string(options.drain_window.count()) +
                                " ms) must be shorter than shutdown_timeout (" +
                                std::to_string(options.shutdown_timeout.count()) +
                                " ms): the stop would cut the last batches of streams off");
  return {.window = options.drain_window, .rate = options.drain_rate, .max_batches = options.drain_batches};
}

namespace {

// A frame with only a comment and `retry:` dispatches no event: an EventSource takes it as its next
// reconnect delay, and resumes elsewhere with Last-Event-ID once the stream ends. A zero window is the
// stop without draining: no hint, clients come back after the first frame's (RealtimeOptions::retry_hint).
template <class Drain>
std::string last_frame(const Drain& drain, double uniform) {
  if (drain.settings.window.count() == 0) return ": draining\n\n";
  return ": draining\nretry: " + std::to_string(realtime::drain_retry_hint(drain.plan, uniform).count()) +
         "\n\n";
}

}  // namespace

struct StreamDrain::PerShard {
  PerShard(Shard& s, realtime::DrainSettings settings)
      : shard(s), timer(s.io), settings(settings), random(std::random_device{}()) {}
  Shard& shard;
  asio::steady_timer timer;
  realtime::DrainSettings settings;
  std::minstd_rand random;
  realtime::DrainPlan plan;
  std::vector<std::weak_ptr<SseSession>> streams;  // as the shard held them when the drain began
  std::size_t batch = 0;                           // the next batch
  std::size_t cursor = 0;                          // its first stream
  asio::steady_timer::time_point began;
};

StreamDrain::StreamDrain(const std::vector<std::unique_ptr<Shard>>& shards,
                         realtime::DrainSettings settings) {
  auto per_shard = settings;
  if (!shards.empty()) per_shard.rate = settings.rate / static_cast<double>(shards.size());
  for (const auto& shard : shards) shards_.push_back(std::make_unique<PerShard>(*shard, per_shard));
}

StreamDrain::~StreamDrain() = default;

void StreamDrain::start() {
  for (auto& drain : shards_) asio::post(drain->shard.io, [this, &drain = *drain] { plan(drain); });
}

void StreamDrain::plan(PerShard& drain) {
  for (auto& session : drain.shard.realtime->sessions) drain.streams.push_back(session.weak_from_this());
  drain.plan = realtime::plan_drain(drain.streams.size(), drain.settings);
  drain.began = asio::steady_timer::clock_type::now();
  next_batch(drain);
}

void StreamDrain::next_batch(PerShard& drain) {
  if (drain.batch == drain.plan.batches.size()) return sweep(drain);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto end = drain.cursor + drain.plan.batches[drain.batch].count;
  for (; drain.cursor < end; ++drain.cursor) {
    auto session = drain.streams[drain.cursor].lock();
    if (!session || session->closed()) continue;
    session->end(realtime::Frame::copy_of(last_frame(drain, uniform(drain.random))));
  }
  drain.shard.realtime->flush_dirty();
  if (++drain.batch == drain.plan.batches.size()) return sweep(drain);
  drain.timer.expires_at(drain.began + drain.plan.batches[drain.batch].at);
  drain.timer.async_wait([this, &drain](boost::system::error_code ec) {
    if (!ec) next_batch(drain);
  });
}

void StreamDrain::sweep(PerShard& drain) {
  std::vector<std::shared_ptr<SseSession>> late;
  for (auto& session : drain.shard.realtime->sessions)
    if (!session.closed()) late.push_back(session.shared_from_this());
  for (auto& session : late) session->end(realtime::Frame::copy_of(last_frame(drain, 0.0)));
  if (!late.empty()) drain.shard.realtime->flush_dirty();
  drain.timer.expires_after(milliseconds(100));
  drain.timer.async_wait([this, &drain](boost::system::error_code ec) {
    if (!ec) sweep(drain);
  });
}

}  // namespace igniter::server

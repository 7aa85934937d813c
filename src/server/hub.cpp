#include "server/hub.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include "igniter/realtime/error.hpp"
#include "realtime/channel.hpp"
#include "realtime/frame.hpp"
#include "server/app_impl.hpp"
#include "server/presence.hpp"
#include "server/sse_session.hpp"
#include "server/stream_frames.hpp"

namespace igniter::server {

namespace asio = boost::asio;

using SystemClock = std::chrono::system_clock;

namespace {

// The sequence number of the last event the calling thread published here (Hub::published_on_this_thread).
thread_local std::uint64_t published_here = 0;

realtime::HistoryLimits limits_of(const realtime::RealtimeOptions& o) {
  return {.max_events = o.history_max_events, .max_age = o.history_max_age, .max_bytes = o.history_max_bytes};
}

/// net.core.wmem_max: the most SO_SNDBUF may ask for (Linux doubles it); 0 when it cannot be read.
std::size_t kernel_send_buffer_max() {
  std::ifstream file("/proc/sys/net/core/wmem_max");
  std::size_t max = 0;
  file >> max;
  return max;
}

std::unique_ptr<Cluster> open_cluster(const std::shared_ptr<store::Store>& store,
                                      const realtime::RealtimeOptions& options, Logger& logger) {
  auto redis = std::dynamic_pointer_cast<store::RedisStore>(store);
  if (!redis) return nullptr;
  auto cluster = Cluster::open(std::move(redis), options.history_max_events, logger);
  if (!cluster)
    throw std::runtime_error("realtime: cannot set up the Redis stream: " + cluster.error().message());
  return std::move(*cluster);
}

}  // namespace

Hub::Hub(App::Impl& app, realtime::RealtimeOptions options)
    : app_(app),
      options_(std::move(options)),
      cluster_(open_cluster(app.store, options_, app.logger)),
      history_(cluster_ ? cluster_->epoch() : realtime::random_epoch(), limits_of(options_)),
      addresses_(options_.max_streams_per_address) {
  const auto send_buffer = options_.stream_send_buffer_bytes;
  if (send_buffer != 0 && (send_buffer < kMinStreamSendBuffer || send_buffer > kMaxStreamSendBuffer))
    throw std::invalid_argument("RealtimeOptions::stream_send_buffer_bytes is " +
                                std::to_string(send_buffer) +
                                ": give 0 (the kernel's autotuning) or a number of bytes from " +
                                std::to_string(kMinStreamSendBuffer) + " (8 KiB) to " +
                                std::to_string(kMaxStreamSendBuffer) + " (1 GiB)");
  // The kernel clamps what a socket asks for (half the buffer: Linux doubles it) to wmem_max, silently.
  if (auto max = kernel_send_buffer_max(); send_buffer != 0 && max != 0 && send_buffer / 2 > max)
    app_.logger.warn("realtime: RealtimeOptions::stream_send_buffer_bytes is " + std::to_string(send_buffer) +
                     " but net.core.wmem_max (" + std::to_string(max) +
                     ") caps each stream's send buffer at " + std::to_string(2 * max) +
                     " bytes; raise the sysctl for more");
  for (const auto& name : options_.metrics_channels)
    if (auto ec = realtime::check_channel_name(realtime::canonical_channel(name)))
      throw std::invalid_argument("RealtimeOptions::metrics_channels: \"" + name + "\": " + ec.message());
}

Hub::~Hub() {
  presence_.reset();               // its thread publishes through the cluster
  if (cluster_) cluster_->stop();  // its reader thread feeds history_: stop it first
}

std::size_t Hub::max_event_frame() const noexcept {
  // An event and its `x:{}` copy (3 bytes more) must fit in an empty queue: else a subscriber of both
  // spellings would be cut as slow, and cut again on every resume until the event left the history.
  std::size_t half = options_.max_pending_bytes / 2;
  return std::min(options_.max_event_bytes, half > 8 ? half - 8 : 0);
}

Result<realtime::EventId> Hub::publish(realtime::Event event) {
  if (event.time == SystemClock::time_point{}) event.time = SystemClock::now();
  auto body = realtime::encode_event_body(event);
  const std::size_t frame_bytes = body.size() + kIdLineBytes;
  if (frame_bytes > max_event_frame()) {
    refused_publishes.fetch_add(1, std::memory_order_relaxed);
    return realtime::Error::event_too_large;
  }
  auto full = [&] {
    return std::any_of(shards_.begin(), shards_.end(),
                       [&](Shard* shard) { return !shard->realtime->inbox->has_room(frame_bytes); });
  };
  if (cluster_) {
    {
      std::lock_guard lock(publish_mutex_);
      if (full()) {
        refused_publishes.fetch_add(1, std::memory_order_relaxed);
        return realtime::Error::overloaded;
      }
    }
    return cluster_->publish(event);
  }
  // One lock around recording and enqueueing, so that every shard receives events in id order. Only
  // the shards take from the inboxes meanwhile: room checked here is still there when pushing.
  std::lock_guard lock(publish_mutex_);
  if (full()) {
    refused_publishes.fetch_add(1, std::memory_order_relaxed);
    return realtime::Error::overloaded;
  }
  auto stored = history_.record(std::move(event), body);
  // Cached answers a revalidation reaches go before any client can hear of it (docs/query-cache.md).
  if (app_.query_cache) app_.query_cache->observe(stored->event);
  fan_out_locked(stored);
  published_here = stored->event.id.seq;
  return stored->event.id;
}

std::uint64_t Hub::published_on_this_thread() noexcept {
  return published_here;
}

bool Hub::taken(std::uint64_t seq) const {
  return seq <= taken_through();
}

std::uint64_t Hub::taken_through() const {
  // No lock a publisher holds: shards_ changes only in start() and stop(), while no loop or worker runs,
  // and the caller's own events were pushed to every inbox before it looks.
  auto through = std::numeric_limits<std::uint64_t>::max();
  for (auto* shard : shards_) {
    auto& rt = *shard->realtime;
    // An empty inbox took (or dropped) everything pushed before this look.
    auto seq = rt.taken_seq.load(std::memory_order_seq_cst);
    if (rt.inbox->bytes() != 0) through = std::min(through, seq);
  }
  return through;
}

void Hub::when_taken(std::uint64_t seq, asio::io_context& io, std::function<void()> then) {
  {
    std::lock_guard lock(taken_mutex_);
    // seq_cst pairs with release_taken's callers: either a take after this sees the waiter, or this
    // look sees that take.
    taken_awaited_.store(true, std::memory_order_seq_cst);
    if (!taken(seq)) {
      taken_waiters_.push_back({seq, &io, std::move(then)});
      return;
    }
    if (taken_waiters_.empty()) taken_awaited_.store(false, std::memory_order_relaxed);
  }
  asio::post(io, std::move(then));
}

void Hub::release_taken() {
  std::vector<TakenWaiter> ready;
  {
    std::lock_guard lock(taken_mutex_);
    auto through = taken_through();
    auto waiting = std::partition(taken_waiters_.begin(), taken_waiters_.end(),
                                  [&](const TakenWaiter& waiter) { return waiter.seq > through; });
    std::move(waiting, taken_waiters_.end(), std::back_inserter(ready));
    taken_waiters_.erase(waiting, taken_waiters_.end());
    if (taken_waiters_.empty()) taken_awaited_.store(false, std::memory_order_relaxed);
  }
  for (auto& waiter : ready) asio::post(*waiter.io, std::move(waiter.then));
}

bool Hub::run_in_event_order(Shard& shard, std::function<void()> task) {
  auto& rt = *shard.realtime;
  if (!rt.inbox) {  // not started: nothing to order against
    asio::post(shard.io, std::move(task));
    return true;
  }
  auto first = rt.inbox->try_push({.event = nullptr, .task = std::move(task)});
  if (!first) return false;
  if (*first) asio::post(shard.io, [this, &shard] { start_pass(shard); });
  return true;
}

bool Hub::run_on_every_shard(const std::function<void(Shard&)>& task) {
  std::vector<Shard*> shards;
  {
    std::lock_guard lock(publish_mutex_);
    shards = shards_;
  }
  bool all = true;
  for (auto* shard : shards) all = run_in_event_order(*shard, [task, shard] { task(*shard); }) && all;
  return all;
}

void Hub::broadcast_resync() {
  // Events were lost on the way to this process: every client here refetches, and resumes from before
  // now are gaps.
  history_.declare_gap();
  if (app_.query_cache) app_.query_cache->flush();  // revalidations may be among the lost events
  auto frame = refetch_frame(history_.latest_id(), SystemClock::now());
  std::lock_guard lock(publish_mutex_);
  resyncs.fetch_add(1, std::memory_order_relaxed);
  for (auto* shard : shards_) {
    asio::post(shard->io, [shard, frame] {
      auto& rt = *shard->realtime;
      for (auto& session : rt.sessions) session.enqueue(frame);
      rt.flush_dirty();
    });
  }
}

void Hub::open_send_batch(RealtimeShard& rt) {
  if (!options_.batched_writes || rt.batch) return;
  std::string why;
  rt.batch = SendBatch::open(RealtimeShard::kBatch, why);
  rt.batched.reserve(RealtimeShard::kBatch);
  if (!rt.batch && !batch_refusal_logged_.exchange(true))
    app_.logger.info("realtime: " + why + "; each stream write is a system call of its own");
}

void Hub::start() {
  {
    std::lock_guard lock(publish_mutex_);
    shards_.clear();
    streams_.clear();
    for (const auto& action : app_.routes.actions)
      if (action.stream) streams_.emplace(action.key, &action);
    // The channels /metrics names: the app's own, never the ones clients make up.
    auto declared = known_channels();
    for (const auto& name : options_.metrics_channels)
      declared.emplace_back(realtime::canonical_channel(name));
    for (auto& shard : app_.shards) {
      shard->realtime->inbox = std::make_unique<realtime::Inbox>(options_.max_inbox_bytes);
      shard->realtime->gauges = std::make_unique<realtime::ChannelGauges>(declared);
      // On the shard's own thread: the kernel ties a ring to the thread that makes it, and when the ring
      // closes it interrupts that thread's blocking calls (a recv with SO_RCVTIMEO fails with EINTR), so
      // the thread that started the app must not be it.
      asio::post(shard->io, [this, &rt = *shard->realtime] { open_send_batch(rt); });
      shards_.push_back(shard.get());
      keepalive_tick(*shard);
    }
  }
  if (presence_) presence_->start();
  if (cluster_ && !cluster_started_) {
    cluster_started_ = true;
    cluster_->start({.event =
                         [this](realtime::Event event) {
                           auto body = realtime::encode_event_body(event);
                           auto id = event.id;
                           if (body.size() + kIdLineBytes > max_event_frame()) {
                             // Another process took it (a larger limit there?): skipping it must not be
                             // silent, and sending it would cut every subscriber.
                             app_.logger.error("realtime: event " + realtime::to_string(id) +
                                               " from the cluster exceeds max_event_bytes: streams refetch");
                             broadcast_resync();
                             return;
                           }
                           auto stored = std::make_shared<realtime::StoredEvent>(
                               realtime::StoredEvent{std::move(event), realtime::frame_with_id(id, body)});
                           std::lock_guard lock(publish_mutex_);
                           if (!history_.append(stored)) return;
                           if (app_.query_cache) app_.query_cache->observe(stored->event);
                           fan_out_locked(stored);
                         },
                     .gap = [this] { broadcast_resync(); },
                     .read =
                         [this](realtime::EventId id) {
                           if (app_.query_cache) app_.query_cache->read_to(id);
                         }});
  }
}

void Hub::track_presence(PresenceOptions options, Realtime& realtime) {
  if (presence_) throw std::logic_error("Realtime::track_presence: called twice");
  // Streams already open would never be counted, and the endpoint's route table is read-only by now.
  if (app_.lifecycle.running)
    throw std::logic_error(
        "Realtime::track_presence: the server is running; call it before App::start or App::listen");
  bool http = options.serve_http;
  presence_ = std::make_unique<PresenceTracker>(
      std::move(options), std::dynamic_pointer_cast<store::RedisStore>(app_.store), realtime, app_.logger);
  if (http) app_.add_presence_endpoint();
}

void Hub::stop() {
  if (presence_) presence_->stop();
  {
    // The loops have stopped: nothing takes any more. The answers still waiting go with their sessions,
    // while the shards they belong to still exist.
    std::lock_guard lock(taken_mutex_);
    taken_waiters_.clear();
  }
  std::lock_guard lock(publish_mutex_);
  shards_.clear();
}

void Hub::keepalive_tick(Shard& shard) {
  auto& rt = *shard.realtime;
  rt.keepalive.expires_after(options_.keepalive_interval);
  rt.keepalive.async_wait([this, &shard](boost::system::error_code ec) {
    if (ec) return;
    auto& rt = *shard.realtime;
    ++rt.tick;
    std::vector<std::shared_ptr<SseSession>> sessions;
    for (auto& session : rt.sessions) sessions.push_back(session.shared_from_this());
    for (auto& session : sessions) session->keepalive(rt.tick - 1);
    rt.dirty.clear();
    history_.prune(SystemClock::now());
    keepalive_tick(shard);
  });
}

}  // namespace igniter::server

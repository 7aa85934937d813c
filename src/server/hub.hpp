#pragma once
// The realtime hub's transport side, a coordinator of units with one purpose each (docs/architecture.md,
// "Where things are"): publishing and the shards' event-order tasks here (hub.cpp); admission
// (hub_admission.*), fan-out passes (hub_fanout.*), resume and replay (hub_replay.*), live subscription
// changes (hub_subscriptions.*), counters and /metrics (hub_stats.*), revocations (revocation.*). Per-shard
// state is RealtimeShard (realtime_shard.*); one stream is an SseSession (sse_session.*). The socket-free
// logic below them lives in src/realtime/.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "igniter/http/request.hpp"
#include "igniter/realtime/options.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/realtime.hpp"
#include "realtime/history.hpp"
#include "server/cluster.hpp"
#include "server/hub_admission.hpp"
#include "server/hub_subscriptions.hpp"
#include "server/realtime_shard.hpp"
#include "server/revocation.hpp"

namespace igniter {
struct Action;
}

namespace igniter::server {

class ChannelMatch;
class PresenceTracker;
struct Shard;
class SseSession;
class Stream;

/// Bounds of RealtimeOptions::stream_send_buffer_bytes (other than 0): below 8 KiB a stream would write a
/// frame or two per system call (the kernel's own floor is ~4.6 KiB); the top keeps SO_SNDBUF's int.
inline constexpr std::size_t kMinStreamSendBuffer = std::size_t{8} << 10;
inline constexpr std::size_t kMaxStreamSendBuffer = std::size_t{1} << 30;

class Hub {
 public:
  Hub(App::Impl& app, realtime::RealtimeOptions options);
  ~Hub();

  /// Records `event` (assigning its id) and fans it out to every shard. Any thread.
  /// Errors: realtime::Error::event_too_large when its frame exceeds max_event_frame() (nothing is
  /// recorded, no subscriber is affected); realtime::Error::overloaded when a shard's inbox is full
  /// (nothing is recorded). With a Redis store the event goes through the cluster's stream and comes back
  /// to every process's shards from there; the error then may say why Redis did not take it.
  Result<realtime::EventId> publish(realtime::Event event);

  /// Runs `task` on `shard`'s thread after every event already published and before every event published
  /// later (a subscription change, a revocation). Any thread; never waits. False when the shard's inbox is
  /// full (nothing queued).
  bool run_in_event_order(Shard& shard, std::function<void()> task);
  /// run_in_event_order on every shard, with the shard (e.g. to walk `shard.realtime->sessions` and close
  /// or re-scope streams); false when some shard's inbox was full (the others run it).
  bool run_on_every_shard(const std::function<void(Shard&)>& task);

  /// Takes over a connection whose request is for the SSE endpoint (called on its shard's thread).
  void open(Shard& shard, Stream stream, Request request, std::string request_id);

  /// Answers POST <sse path>/subscriptions: live channel changes of an open stream. Worker thread; never
  /// waits for the stream's shard (the change is queued in event order, see run_in_event_order).
  Response change_subscriptions(Ctx& ctx, const SubscriptionChange& change);

  /// Attaches to the shards and starts their timers; called when the server starts, before its loops run.
  void start();
  /// Detaches from the shards (events published later are only recorded); called when the server stopped.
  void stop();

  /// Back-pressure on publishers (docs/realtime.md, "Publishers wait for the fan-out"): the sequence number
  /// of the last event this thread published here (0: none). A request whose handler published answers
  /// once every shard has taken its events from its inbox, so a closed-loop publisher goes at the pace
  /// of the fan-out instead of filling the inboxes. Events that go through the cluster's stream are not
  /// counted (their ids come from Redis).
  static std::uint64_t published_on_this_thread() noexcept;
  /// Whether every shard took the events up to `seq` from its inbox (or dropped them). Any thread.
  bool taken(std::uint64_t seq) const;
  /// Posts `then` to `io` once taken(seq): at once when it is, else after the take that makes it so.
  /// Any thread; never waits.
  void when_taken(std::uint64_t seq, boost::asio::io_context& io, std::function<void()> then);

  /// The counters; reads per-shard atomics only, never waits for a shard. Any thread.
  RealtimeStats stats() const;
  /// The counters in Prometheus text format (one series per declared channel). Any thread, never waits.
  std::string prometheus_metrics() const;

  const realtime::RealtimeOptions& options() const noexcept { return options_; }
  realtime::History& history() noexcept { return history_; }
  /// The largest event frame publish accepts: max_event_bytes, capped so that an event and its `:{}`
  /// copy fit in any connection's empty queue (half of max_pending_bytes).
  std::size_t max_event_frame() const noexcept;

  Realtime::ScopeResolver scope_resolver;
  Realtime::ChannelGuard channel_guard;

  // Counters (relaxed atomics; read by stats()).
  std::atomic<std::uint64_t> connections{0}, published{0}, delivered{0}, dropped{0}, slow_disconnects{0},
      resyncs{0}, refused_publishes{0};

  App::Impl& app() noexcept { return app_; }
  /// Starts tracking presence (Realtime::track_presence); before start(). Throws on bad options.
  void track_presence(PresenceOptions options, Realtime& realtime);
  /// The presence tracker, or null when the app tracks none. Any thread.
  PresenceTracker* presence() const noexcept { return presence_.get(); }
  /// Runs procedures, guard and stream handlers for `channels` with `ctx`'s request. Worker thread.
  /// `held` are the channels the stream holds already (as named); admitted ones are appended to it, and
  /// channels past RealtimeOptions::max_channels_per_connection are refused.
  Admission admit(Ctx& ctx, const std::vector<std::string>& channels, std::vector<std::string>& held);
  /// Every channel a connection gets when it names none: revalidation and every stream action.
  std::vector<std::string> known_channels() const;
  /// Registers an open session for live subscription changes; unregisters on close.
  void register_session(std::uint64_t id, const std::shared_ptr<SseSession>& session);
  void unregister_session(std::uint64_t id);
  std::uint64_t next_connection_id() { return next_connection_.fetch_add(1, std::memory_order_relaxed) + 1; }
  /// Queues the next page of a replay too large for the connection's bound (as the client reads), and
  /// subscribes the connection to its channels once it has caught up. Shard thread.
  void continue_replay(SseSession& session);

 private:
  // hub.cpp
  // Events were lost on the way to this process: every stream here refetches.
  void broadcast_resync();
  void keepalive_tick(Shard& shard);
  // Gives a shard its SendBatch (RealtimeOptions::batched_writes), saying once why when the kernel refuses.
  // Shard thread.
  void open_send_batch(RealtimeShard& rt);

  // hub_fanout.cpp: recorded events reach the shards' inboxes; passes turn them into writes.
  void fan_out_locked(const realtime::StoredEventPtr& stored);
  // A shard's inbox overflowed with events another process recorded: drop its backlog and make its
  // streams refetch (nothing is lost silently).
  void overflow_locked(Shard& shard, realtime::EventId at);
  // Takes the inbox (up to half a session's bound) and starts writing it out, together with the sessions
  // the last pass left for this one; no-op while a pass runs.
  void start_pass(Shard& shard);
  // Writes to the running pass's next slice of sessions, after taking what arrived meanwhile (within the
  // pass's budget); starts the next pass after the last slice.
  void continue_pass(Shard& shard);
  // Delivers (or runs) inbox items taken by a pass, within `budget` bytes; returns the bytes taken.
  std::size_t take_inbox(Shard& shard, std::size_t budget);

  // hub_replay.cpp: opens an admitted stream: `connected` frame, first data, replay, then live.
  void start_stream(Shard& shard, Stream stream, Grant grant, Admission admission,
                    const std::string& last_event_id, AddressSlot slot);
  // Queues replayed events while they fit in the session's bound; false when some are left for later.
  bool replay_page(SseSession& session, const std::vector<realtime::StoredEventPtr>& events,
                   const ChannelMatch& channels);
  // Subscribes a session that has caught up, skipping live copies of what it was replayed.
  void go_live(SseSession& session, const std::vector<std::string>& channels, std::uint64_t replayed_through);

  // revocation.cpp: a control event (reserved channel: a revocation) reached this shard in event order:
  // applies it to the shard's streams instead of delivering it. Shard thread.
  void apply_control(Shard& shard, const realtime::Event& event);
  // Applies to a new session the revocations recorded after `since` (while its credentials were being
  // checked): drops scopes, or clears them and returns true when the stream must end.
  bool catch_up_revocations(SseSession& session, realtime::EventId since);

  App::Impl& app_;
  realtime::RealtimeOptions options_;
  std::unique_ptr<Cluster> cluster_;  // with a Redis store: the shared stream (before history_: its epoch)
  bool cluster_started_ = false;
  std::atomic<bool> batch_refusal_logged_{false};  // any shard thread
  realtime::History history_;
  // Requests waiting for their events to be taken (when_taken); released by the shards after each take.
  struct TakenWaiter {
    std::uint64_t seq;
    boost::asio::io_context* io;
    std::function<void()> then;
  };
  void release_taken();
  // Every shard took the events up to this sequence number (the largest one when no inbox holds any).
  std::uint64_t taken_through() const;
  std::mutex taken_mutex_;
  std::vector<TakenWaiter> taken_waiters_;  // under taken_mutex_
  std::atomic<bool> taken_awaited_{false};  // taken_waiters_ is not empty

  // Record + enqueue in one order for every shard; guards shards_ (written by start() and stop() only,
  // while no loop or worker runs: taken_through reads it without the lock).
  mutable std::mutex publish_mutex_;
  std::vector<Shard*> shards_;
  std::unordered_map<std::string, const Action*> streams_;  // stream actions by channel
  std::atomic<std::uint64_t> next_connection_{0};
  mutable std::mutex sessions_mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<SseSession>> sessions_;
  AddressLimits addresses_;                    // max_streams_per_address
  std::unique_ptr<PresenceTracker> presence_;  // null unless the app tracks presence
};

}  // namespace igniter::server

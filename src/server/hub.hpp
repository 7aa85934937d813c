#pragma once
// The realtime hub's transport side: SSE connections on the shards, fan-out of recorded events to them,
// resume from the history, live subscription changes. The socket-free logic lives in src/realtime/.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/describe/class.hpp>

#include "igniter/http/request.hpp"
#include "igniter/json/rules.hpp"
#include "igniter/realtime/options.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/realtime.hpp"
#include "realtime/channel_gauges.hpp"
#include "realtime/channel_index.hpp"
#include "realtime/history.hpp"
#include "realtime/inbox.hpp"
#include "server/cluster.hpp"
#include "server/revocation.hpp"

namespace igniter {
struct Action;
}

namespace igniter::server {

class Stream;

struct Shard;
class SseSession;
using SseHook = boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
using SseList = boost::intrusive::list<SseSession, boost::intrusive::base_hook<SseHook>,
                                       boost::intrusive::constant_time_size<false>>;

/// The realtime state of one shard; touched only on that shard's thread (except `inbox` and `gauges`).
struct RealtimeShard {
  explicit RealtimeShard(boost::asio::io_context& io);
  ~RealtimeShard();  // unlinks the sessions; they die with the io_context handlers that own them

  realtime::ChannelIndex index;
  SseList sessions;
  std::vector<SseSession*> dirty;  // sessions with frames queued this turn, flushed once at its end
  /// One gather-write for every session queued to since the last flush (outside fan-out passes: replays,
  /// subscription changes, stream handlers' first data).
  void flush_dirty();
  /// Subscribes through the index, keeping the metrics gauges in step; false when it already was.
  bool subscribe(realtime::Subscriber& session, std::string_view channel);
  /// Unsubscribes through the index, keeping the gauges in step; false when it was not subscribed.
  bool unsubscribe(realtime::Subscriber& session, std::string_view channel);
  /// Unsubscribes from every channel (a closing session).
  void unsubscribe_all(realtime::Subscriber& session);
  boost::asio::steady_timer keepalive;
  std::uint32_t tick = 0;  // keepalive ticks so far (sessions remember the tick of their last write)
  std::string alias;       // scratch: the `<channel>:{}` alias of the event being fanned out

  // Set by Hub::start before the loops run. Publishers (and subscription changes) push to the inbox
  // from any thread; stats() reads the gauges from any thread.
  std::unique_ptr<realtime::Inbox> inbox;
  std::unique_ptr<realtime::ChannelGauges> gauges;

  // Fan-out runs in passes (Hub::start_pass): a pass queues what the inbox holds to the subscribers,
  // then writes to them slice by slice, yielding to the loop between slices so that requests (the
  // publishers' too) keep being served. Events arriving meanwhile wait for the next pass: under load
  // every write carries many frames, and an idle shard starts a pass at once.
  std::vector<std::shared_ptr<SseSession>> pass;  // the sessions the running pass writes to
  std::size_t pass_cursor = 0;                    // the next one
  bool pass_running = false;

  // Written by this shard only, read by stats() from anywhere.
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
};

/// One open stream's share of RealtimeOptions::max_streams_per_address; released when destroyed.
class AddressSlot {
 public:
  AddressSlot() = default;
  AddressSlot(Hub* hub, std::string address) : hub_(hub), address_(std::move(address)) {}
  AddressSlot(AddressSlot&& other) noexcept
      : hub_(std::exchange(other.hub_, nullptr)), address_(std::move(other.address_)) {}
  AddressSlot& operator=(AddressSlot&& other) noexcept;
  ~AddressSlot();
  explicit operator bool() const noexcept { return hub_ != nullptr; }

 private:
  Hub* hub_ = nullptr;
  std::string address_;
};

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

/// A channel as the connection asked for it, after admission.
struct Admission {
  std::vector<std::string> channels;                         // admitted, as asked (`x` or its alias `x:{}`)
  std::vector<realtime::RefusedChannel> refused;             // with reasons
  std::vector<std::pair<std::string, json::value>> initial;  // stream channels' first data, in order
};

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
  /// Closes every stream (shutdown); each shard closes its own.
  void close_all();

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
  friend class AddressSlot;

  void fan_out_locked(const realtime::StoredEventPtr& stored);
  void broadcast_resync();
  // A shard's inbox overflowed with events another process recorded: drop its backlog and make its
  // streams refetch (nothing is lost silently).
  void overflow_locked(Shard& shard, realtime::EventId at);
  // Takes the inbox (up to half a session's bound) and starts writing it out; no-op while a pass runs.
  void start_pass(Shard& shard);
  // Writes to the running pass's next slice of sessions; starts the next pass after the last slice.
  void continue_pass(Shard& shard);
  void keepalive_tick(Shard& shard);
  // A control event (reserved channel: a revocation) reached this shard in event order: applies it to the
  // shard's streams instead of delivering it (src/server/revocation.cpp). Shard thread.
  void apply_control(Shard& shard, const realtime::Event& event);
  // Queues replayed events while they fit in the session's bound; false when some are left for later.
  bool replay_page(SseSession& session, const std::vector<realtime::StoredEventPtr>& events,
                   const std::vector<std::string>& channels);
  // Subscribes a session that has caught up, skipping live copies of what it was replayed.
  void go_live(SseSession& session, const std::vector<std::string>& channels, std::uint64_t replayed_through);
  void start_stream(Shard& shard, Stream stream, Grant grant, Admission admission,
                    const std::string& last_event_id, AddressSlot slot);
  // A slot for one more stream from `address`; empty when the address holds max_streams_per_address.
  AddressSlot acquire_address(std::string address);
  void release_address(const std::string& address);
  // Applies to a new session the revocations recorded after `since` (while its credentials were being
  // checked): drops scopes, or clears them and returns true when the stream must end (revocation.cpp).
  bool catch_up_revocations(SseSession& session, realtime::EventId since);

  App::Impl& app_;
  realtime::RealtimeOptions options_;
  std::unique_ptr<Cluster> cluster_;  // with a Redis store: the shared stream (before history_: its epoch)
  bool cluster_started_ = false;
  realtime::History history_;
  mutable std::mutex publish_mutex_;  // record + enqueue in one order for every shard; guards shards_
  std::vector<Shard*> shards_;
  std::unordered_map<std::string, const Action*> streams_;  // stream actions by channel
  std::atomic<std::uint64_t> next_connection_{0};
  mutable std::mutex sessions_mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<SseSession>> sessions_;
  std::mutex addresses_mutex_;
  std::unordered_map<std::string, std::size_t> streams_by_address_;  // only with max_streams_per_address
};

}  // namespace igniter::server

#pragma once
// One open SSE stream: a subscriber in its shard's channel index, a bounded queue of shared frames, and
// a socket written with one gather-write for everything pending (see Hub::start_pass).

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "realtime/channel_index.hpp"
#include "realtime/outbound_queue.hpp"
#include "realtime/scope_set.hpp"
#include "server/hub.hpp"
#include "server/stream.hpp"

namespace igniter::server {

class SseSession : public std::enable_shared_from_this<SseSession>,
                   public realtime::Subscriber,
                   public SseHook {
 public:
  SseSession(Hub& hub, Shard& shard, Stream stream, std::uint64_t id, std::array<std::uint64_t, 2> token,
             realtime::ScopeSet scopes, AddressSlot slot = {});
  ~SseSession();

  std::uint64_t id() const noexcept { return id_; }
  bool token_matches(std::string_view token) const noexcept;
  std::string token_text() const;
  const realtime::ScopeSet& scopes() const noexcept { return scopes_; }
  /// The shard that owns this stream (its thread is the only one touching the session's delivery state).
  Shard& shard() const noexcept { return shard_; }
  /// Replaces the scopes (a revocation dropping one); later events are filtered by the new set. Shard thread.
  void set_scopes(realtime::ScopeSet scopes) noexcept { scopes_ = std::move(scopes); }
  /// Scopes resolved for this stream that its client narrowed away: not held, yet a revocation of one of
  /// them reaches the stream (see Hub::apply_control). Usually empty.
  const std::vector<std::string>& withheld() const noexcept { return withheld_; }
  void withhold(std::vector<std::string> scopes) noexcept { withheld_ = std::move(scopes); }

  /// The stream's live subscription changes (any thread; see ChannelLedger).
  ChannelLedger& ledger() noexcept { return ledger_; }

  /// Bytes the queue takes before reaching its bound.
  std::size_t room() const noexcept { return queue_.limit() - queue_.pending_bytes(); }
  /// Whether nothing is queued.
  bool queue_empty() const noexcept { return queue_.empty(); }

  // A replay larger than the bound is sent page by page (Hub::continue_replay, as the client reads);
  // live delivery starts when it has caught up. Shard thread.
  /// The last event replayed so far.
  realtime::EventId replay_cursor() const noexcept { return replay_cursor_; }
  void replayed(realtime::EventId through) noexcept { replay_cursor_ = through; }
  /// Pages the rest of the replay; the stream goes live on `channels` once caught up.
  void page_rest(std::vector<std::string> channels) {
    replay_channels_ = std::move(channels);
    replaying_ = true;
  }
  /// Whether a replay is being paged.
  bool paging() const noexcept { return replaying_; }
  /// While paging: the channels the stream goes live on (a live change edits them).
  std::vector<std::string>& paging_channels() noexcept { return replay_channels_; }
  /// Ends paging: returns the channels to go live on.
  std::vector<std::string> finish_paging() noexcept {
    replaying_ = false;
    return std::exchange(replay_channels_, {});
  }

  /// Queues bytes; false when the bound was reached (the session is then closed as a slow client).
  bool enqueue(realtime::Frame frame);
  /// Queues bytes if they fit in the bound; false (and nothing else happens) when they do not.
  bool try_enqueue(const realtime::Frame& frame);
  /// Queues a live event if this session should see it (scopes, resume overlap). Shard thread.
  void deliver(const realtime::StoredEvent& event) { deliver(event, event.frame); }
  /// As above, with the event's bytes as this subscription spells its channel (the `x:{}` alias).
  void deliver(const realtime::StoredEvent& event, const realtime::Frame& frame);
  /// Writes what is queued (one gather-write; more follow as each completes, unless a pass is to write).
  void flush();
  /// As flush(), the write joining its shard's batch when there is one (plain TCP): whoever calls this
  /// sends the batch (RealtimeShard::send_batch) before returning to the loop. Shard thread.
  void flush_batched();
  /// The result of a batched write: the bytes the socket took, or -errno.
  void on_batched(int result);
  /// Takes the session off its shard's dirty list for a fan-out pass: true when no pass was to write to
  /// it yet (the caller then adds it to one), false when a pass will already. Shard thread.
  bool schedule() noexcept {
    dirty_ = false;
    return !std::exchange(scheduled_, true);
  }
  /// Starts watching the socket for the client going away (or sending anything: the stream ends).
  void watch();
  /// At each keepalive tick: closes the stream if its write stalled (write_stall_timeout), else sends a
  /// keepalive comment if nothing was written since `tick`.
  void keepalive(std::uint32_t tick);
  /// Events with seq up to this one were replayed already: skip them when they arrive live.
  void skip_through(std::uint64_t seq) noexcept { skip_through_ = seq; }
  void close();
  bool closed() const noexcept { return closed_; }
  /// end() was called: its last frame is on its way, and nothing more is queued or subscribed.
  bool ending() const noexcept { return ending_; }
  /// Ends the stream gracefully (a revocation): nothing more is queued after `last`, and the connection
  /// closes once everything queued is written, or at the next keepalive tick if the client does not
  /// read it. Shard thread.
  void end(realtime::Frame last);

 private:
  void on_written(boost::system::error_code ec, std::size_t bytes);
  // Takes the session off the dirty and pass lists; true when it has bytes to write and may write now.
  bool take_turn() noexcept;
  // Marks a write as under way (flush, flush_batched).
  void start_write() noexcept;
  // The pending write has not moved for RealtimeOptions::write_stall_timeout (at a keepalive tick).
  bool write_stalled() const;

  Hub& hub_;
  Shard& shard_;
  Stream stream_;  // plain TCP or TLS: one branch per write, the same queue and bound either way
  realtime::OutboundQueue queue_;
  realtime::ScopeSet scopes_;
  std::vector<std::string> withheld_;
  std::uint64_t id_;
  std::array<std::uint64_t, 2> token_;
  std::uint64_t skip_through_ = 0;
  // A replay larger than the bound is sent page by page; live delivery starts when it has caught up.
  std::vector<std::string> replay_channels_;  // channels to subscribe to then (empty when not paging)
  realtime::EventId replay_cursor_{};         // last event replayed so far
  bool replaying_ = false;
  ChannelLedger ledger_;      // live subscription changes (worker threads, own mutex)
  AddressSlot address_slot_;  // this stream's share of max_streams_per_address (empty when unlimited)
  std::uint32_t last_write_tick_ = 0;     // the keepalive tick of the last completed write
  std::uint32_t write_started_tick_ = 0;  // the tick the pending write started in (while writing_)
  bool writing_ = false;
  bool dirty_ = false;
  bool scheduled_ = false;  // in a pass's list (running or next) that has yet to write to it
  bool closed_ = false;
  bool ending_ = false;  // end() was called: nothing more is queued; closes when written
  char read_byte_ = 0;
};

}  // namespace igniter::server

#pragma once
// The realtime state of one shard: its streams, its channel index, the pass that writes to them, the
// counters it publishes. Touched only by the shard's thread, except `inbox` and `gauges` (see below).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "realtime/channel_gauges.hpp"
#include "realtime/channel_index.hpp"
#include "realtime/inbox.hpp"
#include "server/send_batch.hpp"

namespace igniter::server {

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
  /// subscription changes, stream handlers' first data), sent as one batch.
  void flush_dirty();
  /// The writes of a pass's slice (or of flush_dirty) go to the kernel together: one system call for up
  /// to kBatch plain-TCP streams (send_batch.hpp). Null without io_uring, or with
  /// RealtimeOptions::batched_writes off: each stream writes on its own.
  static constexpr std::size_t kBatch = 64;
  std::unique_ptr<SendBatch> batch;
  std::vector<SseSession*> batched;  // the sessions whose writes `batch` holds, in the order added
  /// Whether a stream's write may join `batch` (SseSession::flush_batched).
  bool batching() const noexcept { return batch && !batch->broken(); }
  /// Sends what `batch` holds; each session goes on from its write's result. Called before the shard's
  /// thread returns to its loop whenever a session may have joined the batch.
  void send_batch();
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

  // Fan-out runs in passes (src/server/hub_fanout.cpp): a pass queues what the inbox holds to the
  // subscribers, then writes to them slice by slice, yielding to the loop between slices so that
  // requests (the publishers' too) keep being served. Events arriving meanwhile are queued between two
  // slices: the sessions the pass has yet to write carry them in the same write, the ones it wrote
  // already get them at the same place of the next pass. Every session gets one write per pass (under
  // load every write carries many frames), and no event waits more than one pass for any session.
  std::vector<std::shared_ptr<SseSession>> pass;  // the sessions the running pass writes to
  std::vector<std::shared_ptr<SseSession>> next;  // the sessions the next pass writes to, so far
  std::size_t pass_cursor = 0;                    // the next one
  std::size_t pass_taken = 0;                     // bytes of the inbox the running pass took so far
  bool pass_running = false;

  // Written by this shard only, read by stats() from anywhere.
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> batched_writes{0};  // stream writes sent in a batch
  // The sequence number of the last event a pass took from the inbox (Hub::taken).
  std::atomic<std::uint64_t> taken_seq{0};
};

}  // namespace igniter::server

#include "server/sse_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/container/static_vector.hpp>
#include <cerrno>
#include <cstdio>

#include "server/app_impl.hpp"

namespace igniter::server {

namespace asio = boost::asio;

SseSession::SseSession(Hub& hub, Shard& shard, Stream stream, std::uint64_t id,
                       std::array<std::uint64_t, 2> token, realtime::ScopeSet scopes, AddressSlot slot)
    : hub_(hub),
      shard_(shard),
      stream_(std::move(stream)),
      queue_(hub.options().max_pending_bytes),
      scopes_(std::move(scopes)),
      id_(id),
      token_(token),
      ledger_(hub.options().subscription_changes_per_second, hub.options().subscription_change_burst,
              ChannelLedger::Clock::now()),
      address_slot_(std::move(slot)),
      last_write_tick_(shard.realtime->tick) {
  shard_.realtime->sessions.push_back(*this);
  hub_.connections.fetch_add(1, std::memory_order_relaxed);
}

SseSession::~SseSession() {
  hub_.connections.fetch_sub(1, std::memory_order_relaxed);
  hub_.app().connections.open.fetch_sub(1, std::memory_order_relaxed);
}

std::string SseSession::token_text() const {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(token_[0]),
                static_cast<unsigned long long>(token_[1]));
  return text;
}

bool SseSession::token_matches(std::string_view token) const noexcept {
  auto expected = token_text();
  if (token.size() != expected.size()) return false;
  unsigned char diff = 0;  // constant time: no early exit on the first differing byte
  for (std::size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(token[i] ^ expected[i]);
  return diff == 0;
}

bool SseSession::enqueue(realtime::Frame frame) {
  if (closed_ || ending_) return false;
  if (!queue_.push(std::move(frame))) {
    // The client stopped reading: cut it off; it comes back with Last-Event-ID and misses nothing.
    shard_.realtime->dropped.fetch_add(1, std::memory_order_relaxed);
    hub_.slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    close();
    return false;
  }
  if (!dirty_) {
    dirty_ = true;
    shard_.realtime->dirty.push_back(this);
  }
  return true;
}

bool SseSession::try_enqueue(const realtime::Frame& frame) {
  if (closed_ || ending_ || !queue_.push(frame)) return false;
  if (!dirty_) {
    dirty_ = true;
    shard_.realtime->dirty.push_back(this);
  }
  return true;
}

void SseSession::deliver(const realtime::StoredEvent& stored, const realtime::Frame& frame) {
  if (stored.event.id.seq <= skip_through_ || !scopes_.admits(stored.event.scopes)) return;
  if (enqueue(frame)) {
    auto& delivered = shard_.realtime->delivered;
    delivered.store(delivered.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
}

bool SseSession::take_turn() noexcept {
  dirty_ = false;
  scheduled_ = false;
  return !closed_ && !writing_ && !queue_.empty();
}

void SseSession::start_write() noexcept {
  writing_ = true;
  write_started_tick_ = shard_.realtime->tick;
}

void SseSession::flush() {
  if (!take_turn()) return;
  std::array<realtime::ConstBuffer, SendBatch::kMaxBuffers> slices;
  auto count = queue_.gather(slices);
  boost::container::static_vector<asio::const_buffer, SendBatch::kMaxBuffers> buffers;
  for (std::size_t i = 0; i < count; ++i) buffers.emplace_back(slices[i].data, slices[i].size);
  start_write();
  stream_.async_write_some(buffers,
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t bytes) {
                             self->on_written(ec, bytes);
                           });
}

void SseSession::flush_batched() {
  auto& rt = *shard_.realtime;
  if (!rt.batching() || stream_.is_tls()) return flush();
  if (!take_turn()) return;
  std::array<realtime::ConstBuffer, SendBatch::kMaxBuffers> slices;
  auto count = queue_.gather(slices);
  start_write();
  rt.batched.push_back(this);  // first: were it to throw, the batch and its list would not part
  rt.batch->add(stream_.socket().native_handle(), {slices.data(), count});
  if (rt.batch->full()) rt.send_batch();
}

void SseSession::on_batched(int result) {
  if (result >= 0) return on_written({}, static_cast<std::size_t>(result));
  if (result != -EAGAIN) return on_written({-result, boost::system::system_category()}, 0);
  // The socket took nothing (its buffer is full): the write goes the usual way, Asio's reactor waiting
  // for room.
  writing_ = false;
  flush();
}

void SseSession::on_written(boost::system::error_code ec, std::size_t bytes) {
  writing_ = false;
  if (closed_) return;
  if (ec) return close();
  queue_.consume(bytes);
  last_write_tick_ = shard_.realtime->tick;
  if (ending_ && queue_.empty()) return close();
  bool paged = false;
  if (replaying_ && queue_.pending_bytes() <= queue_.limit() / 2) {
    hub_.continue_replay(*this);
    auto& rt = *shard_.realtime;  // only this session was queued to: leave no stale entry behind
    auto dirty = std::move(rt.dirty);
    rt.dirty.clear();
    paged = true;
  }
  // Frames queued since this write started go out now, unless a fan-out pass is to write to this
  // session: then they wait for its turn and share that write with whatever else the pass brings.
  if (paged || !scheduled_) flush();
}

void SseSession::watch() {
  // SSE clients send nothing after the request: a completed read means they went away, or sent what no
  // stream answers (a pipelined request, junk). Either way the stream ends: reading on to skip the bytes
  // would let a client have this thread take its uploads one byte at a time.
  stream_.async_read_some(
      asio::buffer(&read_byte_, 1),
      [self = shared_from_this()](boost::system::error_code, std::size_t) { self->close(); });
}

void SseSession::keepalive(std::uint32_t tick) {
  if (ending_) return close();  // ended a tick ago and its client still has not read the rest
  if (closed_) return;
  if (writing_ && write_stalled()) {
    // Its pending write has not completed for write_stall_timeout: the client reads nothing (it may never
    // have read at all), or too little for the kernel to take more, and holds its queue and socket
    // buffer. Cut off as a slow client: it comes back with Last-Event-ID and misses nothing.
    hub_.slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    return close();
  }
  if (writing_ || !queue_.empty() || last_write_tick_ == tick) return;
  static const realtime::Frame kKeepalive = realtime::Frame::copy_of(realtime::kKeepaliveBytes);
  if (enqueue(kKeepalive)) flush();
}

bool SseSession::write_stalled() const {
  const auto& options = hub_.options();
  if (options.write_stall_timeout.count() <= 0 || options.keepalive_interval.count() <= 0) return false;
  // Ticks come every keepalive_interval; the write started somewhere in tick write_started_tick_, so it
  // has waited at least (elapsed - 1) intervals: cut once that reaches the timeout.
  const auto timeout = options.write_stall_timeout.count(), interval = options.keepalive_interval.count();
  const auto needed =
      static_cast<std::uint64_t>(timeout / interval + (timeout % interval != 0));  // no overflow
  const std::uint32_t elapsed = shard_.realtime->tick - write_started_tick_;
  return elapsed > needed;
}

void SseSession::end(realtime::Frame last) {
  if (closed_ || ending_) return;
  shard_.realtime->unsubscribe_all(*this);  // with its gauges (/metrics), as close() does
  replaying_ = false;
  std::vector<std::string>().swap(replay_channels_);
  if (!enqueue(std::move(last))) return;  // over its bound: closed as a slow client
  ending_ = true;
}

void SseSession::close() {
  if (closed_) return;
  closed_ = true;
  hub_.unregister_session(id_);
  shard_.realtime->unsubscribe_all(*this);
  queue_.clear();
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  unlink();
}

}  // namespace igniter::server

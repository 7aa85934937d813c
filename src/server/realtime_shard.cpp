#include "server/realtime_shard.hpp"

#include "server/sse_session.hpp"

#include <algorithm>
#include <array>

namespace igniter::server {

RealtimeShard::RealtimeShard(boost::asio::io_context& io) : keepalive(io) {}
RealtimeShard::~RealtimeShard() {
  sessions.clear();
}

void RealtimeShard::flush_dirty() {
  auto sessions = std::move(dirty);
  dirty.clear();
  for (auto* session : sessions) session->flush_batched();
  send_batch();
}

void RealtimeShard::send_batch() {
  if (!batch || batch->size() == 0) return;
  auto sessions = std::move(batched);
  batched.clear();
  auto sent = batch->send();
  std::array<int, kBatch> results;  // a copy: the batch is free for new writes while they are handed out
  std::copy(sent.begin(), sent.end(), results.begin());
  batched_writes.store(batched_writes.load(std::memory_order_relaxed) + sent.size(),
                       std::memory_order_relaxed);
  // Sessions stay alive meanwhile: a pass holds its own, and a dirty session closed by an earlier result
  // here is only unlinked (its handlers own it).
  for (std::size_t i = 0; i < sent.size(); ++i) sessions[i]->on_batched(results[i]);
}

bool RealtimeShard::subscribe(realtime::Subscriber& session, std::string_view channel) {
  if (!index.subscribe(session, channel)) return false;
  if (gauges) gauges->add(channel, +1);
  return true;
}

bool RealtimeShard::unsubscribe(realtime::Subscriber& session, std::string_view channel) {
  if (!index.unsubscribe(session, channel)) return false;
  if (gauges) gauges->add(channel, -1);
  return true;
}

void RealtimeShard::unsubscribe_all(realtime::Subscriber& session) {
  if (gauges) session.for_each_channel([&](std::string_view channel) { gauges->add(channel, -1); });
  index.unsubscribe_all(session);
}

}  // namespace igniter::server

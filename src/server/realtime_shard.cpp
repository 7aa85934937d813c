#include "server/realtime_shard.hpp"

#include "server/sse_session.hpp"

namespace igniter::server {

RealtimeShard::RealtimeShard(boost::asio::io_context& io) : keepalive(io) {}
RealtimeShard::~RealtimeShard() {
  sessions.clear();
}

void RealtimeShard::flush_dirty() {
  auto batch = std::move(dirty);
  dirty.clear();
  for (auto* session : batch) session->flush();
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

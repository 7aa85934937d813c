#include "server/stream_frames.hpp"

#include <sstream>

#include "realtime/channel.hpp"

namespace igniter::server {

const realtime::Frame& stream_head() {
  static const realtime::Frame head = realtime::Frame::copy_of(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache, no-transform\r\n"
      "Connection: keep-alive\r\n"
      "X-Accel-Buffering: no\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Server: igniter-cpp\r\n"
      "\r\n");
  return head;
}

realtime::Frame stream_head(std::chrono::seconds hsts_max_age) {
  if (hsts_max_age.count() <= 0) return stream_head();
  auto plain = stream_head().view();
  plain.remove_suffix(2);  // the blank line that ends the head
  return realtime::Frame::copy_of(std::string(plain) + "Strict-Transport-Security: max-age=" +
                                  std::to_string(hsts_max_age.count()) + "\r\n\r\n");
}

std::string serialize_closing(const Response& response, std::chrono::seconds hsts_max_age) {
  std::ostringstream out;
  out << "HTTP/1.1 " << response.status() << " Refused\r\nConnection: close\r\n"
      << "X-Content-Type-Options: nosniff\r\n";
  if (hsts_max_age.count() > 0)
    out << "Strict-Transport-Security: max-age=" << hsts_max_age.count() << "\r\n";
  if (!response.content_type().empty()) out << "Content-Type: " << response.content_type() << "\r\n";
  for (const auto& [name, value] : response.headers()) out << name << ": " << value << "\r\n";
  out << "Content-Length: " << response.body().size() << "\r\n\r\n" << response.body();
  return out.str();
}

realtime::Frame alias_frame(const realtime::StoredEvent& stored, std::string_view alias) {
  realtime::Event aliased = stored.event;
  aliased.channel = alias;
  return realtime::frame_with_id(stored.event.id, realtime::encode_event_body(aliased));
}

realtime::Frame refetch_frame(realtime::EventId id, std::chrono::system_clock::time_point now) {
  realtime::Event refetch{.channel = std::string(realtime::kRevalidationChannel),
                          .type = std::string(realtime::kRevalidateType),
                          .data = realtime::revalidate_payload({""}, nullptr, now),
                          .time = now};
  return realtime::frame_with_id(id, realtime::encode_event_body(refetch));
}

}  // namespace igniter::server

// The C++ client's reading of an event stream, from a hostile server: the answer's head through Beast's
// parser as Subscription::run sets it up (no body limit, 16 KiB reads into a buffer_body), a refusal's
// body (at most 64 KiB) through interpret_answer, and a 200 text/event-stream body through SseParser
// (max_frame_bytes) with each frame converted as Subscription::deliver does (parse_connected,
// make_event), and parse_channel_change on the frame's JSON.
//
// Input: one control byte (bit 7: then send the last 64 bytes again for 1-8 MiB, bits 0-2; bits 3-6: read
// size), then what the server sends. Run with -malloc_limit_mb below 8: memory must stay bounded by
// max_frame_bytes (1 MiB here) however long a line or a chunk-size line is.
//
// This mirrors src/client/subscription.cpp (whose socket the harness cannot replace): keep them in step.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>

#include "client/sse_parser.hpp"
#include "client/wire.hpp"
#include "support.hpp"

namespace http = boost::beast::http;
using namespace igniter::client::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::size_t extra = (control & 0x80) ? (std::size_t{(control & 7u) + 1u} << 20) : 0;
  const std::size_t piece = std::size_t{1} << (((control >> 3) & 0xf) % 17);
  igniter::fuzz::EndlessStream stream(input.rest(), extra, piece);

  boost::beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  boost::system::error_code ec;
  http::read_header(stream, buffer, parser, ec);
  if (ec) return 0;
  char chunk[16 * 1024];
  auto read = [&]() -> std::pair<boost::system::error_code, std::string_view> {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    boost::system::error_code ec;
    http::read_some(stream, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    return {ec, std::string_view(chunk, sizeof chunk - parser.get().body().size)};
  };

  auto status = parser.get().result_int();
  if (status != 200) {
    std::string body;
    while (!parser.is_done() && body.size() < 64 * 1024) {
      auto [ec, bytes] = read();
      body.append(bytes);
      if (ec) break;
    }
    auto refusal = interpret_answer(status, body);
    if (!refusal) (void)refusal.error().issues.size();
    return 0;
  }
  SseParser sse(1 << 20, "k3x9a2mq-1");
  std::size_t frames = 0;
  while (!parser.is_done()) {
    auto [ec, bytes] = read();
    if (!bytes.empty()) {
      bool fits = sse.feed(bytes, [&](const SseFrame& frame) {
        ++frames;
        if (frame.data.size() > (1 << 20)) igniter::fuzz::fail("a frame past max_frame_bytes was delivered");
        if (frame.event == "connected") {
          (void)parse_connected(frame.data);
        } else {
          auto event = make_event(frame.id.value_or(""), frame.event, frame.data);
          if (event.data.is_object()) (void)parse_channel_change(event.data);
        }
        return true;
      });
      if (!fits) break;
    }
    if (ec) break;
  }
  return 0;
}

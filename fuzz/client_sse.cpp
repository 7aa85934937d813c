// The C++ client's reading of an event stream, from a hostile server, as Subscription::run does it: the
// real ResponseReader with the client's head limits and no body limit, fed reads of the control byte's
// size; the head once head_done(); a refusal's body (at most 64 KiB) through interpret_answer; a 200
// body, as it arrives, through the real SseParser (max_frame_bytes 1 MiB, max_event_id_bytes 1024) and
// dropped after each feed, each frame converted as Subscription::deliver does (parse_connected,
// make_event, parse_channel_change).
//
// Input: one control byte (bit 7: then send the last 64 bytes again for 1-8 MiB, bits 0-2; bits 3-6: read
// size), then what the server sends. Run with -malloc_limit_mb below 8: memory must stay bounded by
// max_frame_bytes and max_header_bytes however long a line or a chunk-size line is.

#include <cstdint>
#include <string>
#include <string_view>

#include "client/response_reader.hpp"
#include "client/sse_parser.hpp"
#include "client/wire.hpp"
#include "support.hpp"

using namespace igniter::client::detail;

namespace {

constexpr std::size_t kMaxFrame = 1 << 20;
constexpr std::size_t kMaxId = 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::size_t extra = (control & 0x80) ? (std::size_t{(control & 7u) + 1u} << 20) : 0;
  const std::size_t piece = std::size_t{1} << (((control >> 3) & 0xf) % 15);  // at most 16 KiB
  igniter::fuzz::EndlessStream stream(input.rest(), extra, piece);

  static char buffer[16 * 1024];
  // One read into the reader; false at the end of the input or once the reader failed.
  ResponseReader reader(
      {.max_header_bytes = 64 << 10, .max_body_bytes = std::nullopt, .max_interim_responses = 5});
  auto read = [&]() {
    boost::system::error_code ec;
    auto n = stream.read_some(boost::asio::buffer(buffer, sizeof buffer), ec);
    if (ec) {
      reader.finish();
      return false;
    }
    return !reader.feed(std::string_view(buffer, n));
  };

  while (!reader.head_done())
    if (!read()) return 0;

  auto status = reader.response().result_int();
  if (status != 200) {
    std::string body;
    while (!reader.done() && body.size() < 64 * 1024) {
      bool more = read();
      body += reader.body();
      reader.body().clear();
      if (!more) break;
    }
    body += reader.body();
    auto refusal = interpret_answer(status, body);
    if (!refusal) (void)refusal.error().issues.size();
    return 0;
  }

  SseParser sse(kMaxFrame, "", kMaxId);
  std::size_t frames = 0;
  for (;;) {
    bool fits = sse.feed(reader.body(), [&](const SseFrame& frame) {
      ++frames;
      if (frame.data.size() > kMaxFrame) igniter::fuzz::fail("a frame past max_frame_bytes was delivered");
      if (frame.id && frame.id->size() > kMaxId) igniter::fuzz::fail("an id past max_id_bytes was kept");
      if (frame.event == "connected") {
        (void)parse_connected(frame.data);
      } else {
        auto event = make_event(frame.id.value_or(""), frame.event, frame.data);
        if (event.data.is_object()) (void)parse_channel_change(event.data);
      }
      return true;
    });
    reader.body().clear();
    if (sse.last_event_id().size() > kMaxId) igniter::fuzz::fail("last_event_id past max_id_bytes");
    if (!fits || reader.done()) break;
    if (!read()) {
      sse.feed(reader.body(), [](const SseFrame&) {});  // what arrived before the end or the failure
      break;
    }
  }
  return 0;
}

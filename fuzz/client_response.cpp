// The C++ client's reading of answers to calls, from a hostile server: the real ResponseReader with the
// limits ClientState::call gives it (64 KiB head, max_body_bytes 1 MiB, 5 interim answers; a HEAD for
// some answers), fed what arrives in reads of the control byte's size until it is done or fails (and
// finish() at the end of the input, as at a close). While an answer leaves the connection reusable (or
// would have, had the server waited for the next request before sending more), the next bytes are the
// answer to the next call, as on a kept-alive pooled connection. Each answer's
// Set-Cookie lines go through ClientState::take_cookie (parse_set_cookie, the cookie jar) and a jar of
// our own (its bounds checked), the jar into the next call's request headers, and status and body through
// interpret_answer.
//
// Input: one control byte (bit 7: then send the last 64 bytes again for 1-8 MiB, bits 0-2; bits 3-6: read
// size), then what the server sends. Run with -malloc_limit_mb below 8 so that a buffer growing with an
// endless line is found.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/client_state.hpp"
#include "client/response_reader.hpp"
#include "client/wire.hpp"
#include "support.hpp"

namespace http = boost::beast::http;
using namespace igniter::client::detail;

namespace {

constexpr std::size_t kMaxBody = 1 << 20;

// An EndlessStream read by the client's 16 KiB buffer (or smaller reads): the next piece, empty at the end.
std::string_view next_piece(igniter::fuzz::EndlessStream& stream, char* buffer, std::size_t size) {
  boost::system::error_code ec;
  auto n = stream.read_some(boost::asio::buffer(buffer, size), ec);
  return {buffer, ec ? 0 : n};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::size_t extra = (control & 0x80) ? (std::size_t{(control & 7u) + 1u} << 20) : 0;
  const std::size_t piece = std::size_t{1} << (((control >> 3) & 0xf) % 15);  // at most 16 KiB
  igniter::fuzz::EndlessStream stream(input.rest(), extra, piece);

  igniter::client::ClientOptions options;
  options.max_body_bytes = kMaxBody;
  ClientState client("http://127.0.0.1:1", options);
  CookieJar jar;  // the same Set-Cookie lines without the client's name and value checks
  static char buffer[16 * 1024];
  std::string carried;  // bytes that arrived after an answer, in the read that ended it
  for (int answer = 0; answer < 8; ++answer) {
    // The fourth call is a HEAD: its answer has no body whatever it announces.
    const bool head = answer == 3;
    ResponseReader reader(client.response_limits(kMaxBody), head);
    ResponseReader::error_code ec;
    bool ended = false;
    std::string_view bytes;
    while (!reader.done()) {
      if (!carried.empty()) {
        bytes = carried;
      } else {
        bytes = next_piece(stream, buffer, sizeof buffer);
      }
      if (bytes.empty()) {
        ended = true;
        ec = reader.finish();
        break;
      }
      ec = reader.feed(bytes);
      if (reader.body().size() > kMaxBody) igniter::fuzz::fail("a body past max_body_bytes was kept");
      if (ec) break;
      if (!reader.done()) carried.clear();
    }
    if (ec) {
      (void)transport_error(ec, "GET /", std::chrono::milliseconds(1000));
      break;
    }
    auto& response = reader.response();
    if (head && !response.body().empty()) igniter::fuzz::fail("the answer to a HEAD has a body");
    for (const auto& field : response.base()) {
      if (field.name() != http::field::set_cookie) continue;
      client.take_cookie(field.value());
      if (auto change = parse_set_cookie(field.value())) {
        if (change->remove)
          jar.remove(change->name);
        else
          (void)jar.set(change->name, change->value);
        if (jar.size() > CookieLimits{}.max_cookies || jar.bytes() > CookieLimits{}.max_jar_bytes)
          igniter::fuzz::fail("the cookie jar grew past its bounds");
      }
    }
    // The next call's request carries the jar as its Cookie header (as ClientState::call builds it): it
    // must not throw (Beast refuses a field value over 64 KiB).
    http::request<http::string_body> next{http::verb::get, "/api/v1/posts", 11};
    for (const auto& [name, value] : client.headers()) next.insert(name, value);
    auto reply = interpret_answer(response.result_int(), response.body());
    if (!reply) (void)reply.error().issues.size();
    if (reader.reusable()) {
      if (ended || reader.leftover() != 0) igniter::fuzz::fail("a connection with unread bytes was reusable");
      carried.clear();
      continue;
    }
    // Bytes after the answer make the client drop the connection. A server that had waited for the next
    // request would have sent them as the next answer: read them so, to reach answers past the first.
    if (ended || !reader.response().keep_alive() || reader.leftover() == 0) break;
    if (reader.leftover() > bytes.size()) igniter::fuzz::fail("leftover counts bytes never fed");
    carried = std::string(bytes.substr(bytes.size() - reader.leftover()));
  }
  return 0;
}

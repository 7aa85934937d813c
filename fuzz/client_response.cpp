// The C++ client's reading of an answer to a call, from a hostile server: Beast's response parser set up
// as ClientState::call sets it (64 KiB header limit, max_body_bytes), on one kept-alive connection's
// buffer answer after answer, each answer's Set-Cookie lines through the client's cookie jar (and the jar
// into the next call's request) and its status and body through interpret_answer (the envelope, an
// error's issues).
//
// Input: one control byte (bit 7: then send the last 64 bytes again for 1-8 MiB, bits 0-2; bits 3-6: read
// size), then what the server sends. Run with -malloc_limit_mb below 8 so that a buffer growing with an
// endless line is found.
//
// This mirrors the calls of src/client/client.cpp (whose socket the harness cannot replace): keep the two
// in step.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "client/client_state.hpp"
#include "client/wire.hpp"
#include "support.hpp"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::size_t extra = (control & 0x80) ? (std::size_t{(control & 7u) + 1u} << 20) : 0;
  const std::size_t piece = std::size_t{1} << (((control >> 3) & 0xf) % 17);
  igniter::fuzz::EndlessStream stream(input.rest(), extra, piece);

  igniter::client::ClientOptions options;
  options.max_body_bytes = 1 << 20;
  igniter::client::detail::ClientState client("http://127.0.0.1:1", options);
  boost::beast::flat_buffer buffer;  // the pooled connection's, kept across answers
  for (int answer = 0; answer < 8; ++answer) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(client.options().max_body_bytes);
    parser.header_limit(64 * 1024);
    boost::system::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec) {
      (void)igniter::client::detail::transport_error(ec, "GET /", std::chrono::milliseconds(1000));
      break;
    }
    auto& response = parser.get();
    for (const auto& field : response.base())
      if (field.name() == http::field::set_cookie) client.take_cookie(field.value());
    // The next call's request carries the jar as its Cookie header (as ClientState::call builds it).
    http::request<http::string_body> next{http::verb::get, "/api/v1/posts", 11};
    for (const auto& [name, value] : client.headers()) next.insert(name, value);
    auto reply = igniter::client::detail::interpret_answer(response.result_int(), response.body());
    if (!reply) (void)reply.error().issues.size();
    if (!response.keep_alive()) break;
  }
  return 0;
}

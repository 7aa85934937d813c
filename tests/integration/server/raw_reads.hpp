#pragma once
// Reads for tests that expect a server may not answer: they use ::recv, which honours the connection's
// receive timeout (asio's blocking reads retry past it), so a server that never answers fails the test
// in seconds instead of hanging it.

#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <string_view>

#include "support/http_client.hpp"

namespace igniter::test {

namespace asio = boost::asio;

/// What came back on a connection after sending `bytes`: everything read, and whether the server closed.
struct Exchange {
  std::string received;
  bool closed = false;
};

inline Exchange exchange(std::uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
  Connection c(port, timeout);
  c.send(bytes);
  Exchange out;
  char chunk[4096];
  for (;;) {
    auto n = ::recv(c.socket().native_handle(), chunk, sizeof chunk, 0);
    if (n <= 0) {
      out.closed = n == 0 || errno == ECONNRESET;
      break;
    }
    out.received.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

/// True when the server closes the connection within its timeout.
inline bool closed_within(Connection& c) {
  char chunk[4096];
  for (;;) {
    auto n = ::recv(c.socket().native_handle(), chunk, sizeof chunk, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false;
  }
}

inline std::size_t count_responses(std::string_view bytes) {
  std::size_t count = 0;
  for (auto at = bytes.find("HTTP/1.1 "); at != std::string_view::npos; at = bytes.find("HTTP/1.1 ", at + 1))
    ++count;
  return count;
}

inline unsigned first_status(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 9) != "HTTP/1.1 ") return 0;
  return static_cast<unsigned>(std::stoul(std::string(bytes.substr(9, 3))));
}

/// One response read within the connection's timeout, or status 0 when none came.
inline HttpResult try_read(Connection& c) {
  namespace http = boost::beast::http;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  std::string pending;
  char chunk[4096];
  while (!parser.is_done()) {
    auto n = ::recv(c.socket().native_handle(), chunk, sizeof chunk, 0);
    if (n <= 0) return {};
    pending.append(chunk, static_cast<std::size_t>(n));
    boost::beast::error_code ec;
    auto used = parser.put(asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec && ec != http::error::need_more) return {};
  }
  HttpResult out;
  out.status = parser.get().result_int();
  for (const auto& f : parser.get())
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = parser.get().body();
  out.keep_alive = parser.get().keep_alive();
  return out;
}

}  // namespace igniter::test

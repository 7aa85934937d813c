#pragma once
// Small coroutine helpers over raw Asio sockets: connect, write, read an HTTP answer, deadlines.
// Raw on purpose: the soak also speaks broken HTTP, and it must not depend on the client library.

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace soak {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// One TCP connection and the bytes read from it but not consumed yet.
struct Conn {
  std::shared_ptr<tcp::socket> sock;
  std::string buf;

  bool open() const { return sock && sock->is_open(); }
  void close() {
    boost::system::error_code ignored;
    if (sock) sock->close(ignored);
  }
};

/// Closes a socket when `after` passes, unless destroyed first (every wait in the soak is bounded).
class Deadline {
 public:
  Deadline(const std::shared_ptr<tcp::socket>& sock, std::chrono::steady_clock::duration after)
      : timer_(std::make_shared<asio::steady_timer>(sock->get_executor(), after)),
        fired_(std::make_shared<bool>(false)) {
    timer_->async_wait([sock, fired = fired_](boost::system::error_code ec) {
      if (ec) return;
      *fired = true;
      boost::system::error_code ignored;
      sock->close(ignored);
    });
  }
  ~Deadline() { timer_->cancel(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  bool fired() const { return *fired_; }

 private:
  std::shared_ptr<asio::steady_timer> timer_;
  std::shared_ptr<bool> fired_;
};

inline awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

/// Connects to 127.0.0.1:`port`; `rcvbuf` > 0 sets a small receive buffer first (a slow reader).
inline awaitable<bool> connect(Conn& c, std::uint16_t port, int rcvbuf = 0) {
  c.sock = std::make_shared<tcp::socket>(co_await asio::this_coro::executor);
  c.buf.clear();
  boost::system::error_code ec;
  c.sock->open(tcp::v4(), ec);
  if (ec) co_return false;
  if (rcvbuf > 0) c.sock->set_option(asio::socket_base::receive_buffer_size(rcvbuf), ec);
  Deadline deadline(c.sock, std::chrono::seconds(10));
  auto [error] =
      co_await c.sock->async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), use_tuple);
  co_return !error;
}

inline awaitable<bool> write_all(Conn& c, std::string_view bytes) {
  auto [error, n] = co_await asio::async_write(*c.sock, asio::buffer(bytes.data(), bytes.size()), use_tuple);
  co_return !error;
}

/// Appends what the socket has to `c.buf`; false on EOF or error.
inline awaitable<bool> read_more(Conn& c) {
  char chunk[16384];
  auto [error, n] = co_await c.sock->async_read_some(asio::buffer(chunk), use_tuple);
  if (error) co_return false;
  c.buf.append(chunk, n);
  co_return true;
}

/// An HTTP answer: status, head (lower-cased names not needed here) and body.
struct Answer {
  int status = 0;
  std::string head;
  std::string body;
};

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

/// Reads one final answer (skipping 1xx) with a Content-Length body (none: the head only, unless
/// `until_close`). Nullopt when the connection ends first or the head is absurd.
inline awaitable<std::optional<Answer>> read_answer(Conn& c, bool head_only = false) {
  for (;;) {
    auto end = c.buf.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.buf.size() > (1u << 20)) co_return std::nullopt;
      if (!co_await read_more(c)) co_return std::nullopt;
      continue;
    }
    Answer a;
    a.head = c.buf.substr(0, end + 2);
    if (a.head.size() < 12 || a.head.compare(0, 5, "HTTP/") != 0) co_return std::nullopt;
    a.status = std::atoi(a.head.c_str() + 9);
    if (a.status >= 100 && a.status < 200) {
      c.buf.erase(0, end + 4);
      continue;
    }
    std::size_t length = 0;
    auto h = lower(a.head);
    if (auto p = h.find("\r\ncontent-length:"); p != std::string::npos)
      length = std::strtoull(h.c_str() + p + 17, nullptr, 10);
    if (head_only) {
      c.buf.erase(0, end + 4);
      co_return a;
    }
    if (length > (64u << 20)) co_return std::nullopt;
    while (c.buf.size() < end + 4 + length)
      if (!co_await read_more(c)) co_return std::nullopt;
    a.body = c.buf.substr(end + 4, length);
    c.buf.erase(0, end + 4 + length);
    co_return a;
  }
}

/// A request with an optional Bearer token and JSON body.
inline std::string http_request(std::string_view method, std::string_view target, std::string_view token = {},
                                std::string_view json = {}, std::string_view extra_headers = {}) {
  std::string r;
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!token.empty()) r.append("Authorization: Bearer ").append(token).append("\r\n");
  if (!json.empty() || method == "POST" || method == "PATCH")
    r.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(json.size()))
        .append("\r\n");
  r.append(extra_headers);
  r.append("\r\n").append(json);
  return r;
}

/// A kept-alive API connection: one request at a time, reconnecting when the last one failed.
/// A failed call is not retried (a retried publish could be delivered twice).
struct Api {
  std::uint16_t port = 0;
  Conn conn;

  awaitable<std::optional<Answer>> call(std::string request,
                                        std::chrono::seconds timeout = std::chrono::seconds(10)) {
    if (!conn.open() && !co_await connect(conn, port)) co_return std::nullopt;
    Deadline deadline(conn.sock, timeout);
    std::optional<Answer> answer;
    if (co_await write_all(conn, request)) answer = co_await read_answer(conn);
    if (!answer || deadline.fired()) {
      conn.close();
      co_return std::nullopt;
    }
    if (lower(answer->head).find("\r\nconnection: close") != std::string::npos) conn.close();
    co_return answer;
  }
};

}  // namespace soak

#pragma once
// A blocking HTTP/1.1 client for integration tests: real sockets, bytes as a browser would send them.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/json/json.hpp"

namespace igniter::test {

/// A parsed response.
struct HttpResult {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (boost::beast::iequals(k, name)) return v;
    return {};
  }
  json::value json() const { return boost::json::parse(body); }
};

/// One client connection to 127.0.0.1:port. Every read has a timeout (so a hung server fails the test).
class Connection {
 public:
  explicit Connection(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : socket_(io_), timeout_(timeout) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    set_timeout(timeout);
  }

  void set_timeout(std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  /// Sends raw bytes.
  void send(std::string_view bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

  /// Reads and parses one response.
  HttpResult read_response(bool head = false) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    boost::beast::http::read(socket_, buffer_, parser);
    auto& msg = parser.get();
    HttpResult out;
    out.status = msg.result_int();
    for (const auto& f : msg) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = msg.body();
    out.keep_alive = msg.keep_alive();
    return out;
  }

  /// Sends a request and reads its response.
  HttpResult request(std::string_view method, std::string_view target, std::string_view body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string raw = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    bool has_type = false;
    for (const auto& [k, v] : headers) {
      raw += k + ": " + v + "\r\n";
      has_type = has_type || boost::beast::iequals(k, "content-type");
    }
    if (!body.empty() && !has_type) raw += "Content-Type: application/json\r\n";
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
      raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n";
    raw += body;
    send(raw);
    return read_response(method == "HEAD");
  }

  /// Reads whatever arrives until the peer closes (or the timeout passes); returns it.
  std::string read_until_close() {
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    char chunk[4096];
    for (;;) {
      boost::system::error_code ec;
      auto n = socket_.read_some(boost::asio::buffer(chunk), ec);
      if (ec) break;
      out.append(chunk, n);
    }
    return out;
  }

  /// True when the server has closed the connection (a read returns EOF or reset).
  bool closed_by_peer() {
    char byte;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
};

/// One request on a fresh connection.
inline HttpResult fetch(std::uint16_t port, std::string_view method, std::string_view target,
                        std::string_view body = {},
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  Connection c(port);
  return c.request(method, target, body, std::move(headers));
}

}  // namespace igniter::test

#pragma once
// A raw TCP server on 127.0.0.1 that plays a hostile HTTP server: each connection runs a test's script
// on its own thread with blocking socket calls, so a test writes exactly the bytes it wants (interim
// answers, extra answers, endless lines, huge cookie sets) and sees what the client sent.

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace igniter::test {

/// One accepted connection, as a script sees it.
class HostileConnection {
 public:
  HostileConnection(boost::asio::ip::tcp::socket socket, std::size_t index)
      : socket_(std::move(socket)), index_(index) {}

  /// This connection's number, from 0 in accept order.
  std::size_t index() const { return index_; }

  /// The next request's head (up to the blank line; requests here have no body); "" once the client
  /// has closed the connection.
  std::string read_request() {
    boost::system::error_code ec;
    auto n = boost::asio::read_until(socket_, buffer_, "\r\n\r\n", ec);
    if (ec) return {};
    std::string head(static_cast<const char*>(buffer_.data().data()), n);
    buffer_.consume(n);
    return head;
  }

  /// Writes all of `bytes`; false once the client is gone (it closed, or reset the connection).
  bool write(std::string_view bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  /// Waits until the client closes the connection (reading and dropping whatever it sends).
  void wait_closed() {
    char scratch[4096];
    boost::system::error_code ec;
    while (!ec) socket_.read_some(boost::asio::buffer(scratch), ec);
  }

  /// Wakes a blocked read or write (from another thread): the server is going away.
  void abort() { ::shutdown(socket_.native_handle(), SHUT_RDWR); }

 private:
  boost::asio::ip::tcp::socket socket_;
  boost::asio::streambuf buffer_;
  std::size_t index_;
};

/// A server whose every connection runs `script` on a thread of its own; the connection ends when the
/// script returns.
class HostileServer {
 public:
  using Script = std::function<void(HostileConnection&)>;

  explicit HostileServer(Script script)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), script_(std::move(script)) {
    accept_thread_ = std::thread([this] { accept(); });
  }
  ~HostileServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocked accept
    accept_thread_.join();
    {
      std::lock_guard lock(mutex_);
      for (auto& connection : connections_) connection->abort();
    }
    for (auto& thread : threads_) thread.join();
  }
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/api"; }
  /// Connections accepted so far.
  std::size_t accepted() const { return accepted_.load(); }

 private:
  void accept() {
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      auto connection = std::make_shared<HostileConnection>(std::move(socket), accepted_++);
      std::lock_guard lock(mutex_);
      connections_.push_back(connection);
      threads_.emplace_back([this, connection] {
        script_(*connection);
        connection->abort();  // the script is over: the client sees the connection end
      });
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Script script_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> accepted_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<HostileConnection>> connections_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

/// `HTTP/1.1 200 OK` with a JSON envelope body `{"data":<data>}` and `extra` header lines (each ending
/// in CRLF).
inline std::string json_answer(std::string_view data, std::string_view extra = {}) {
  std::string body = "{\"data\":" + std::string(data) + "}";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" + body;
}

}  // namespace igniter::test

#pragma once
// One TCP connection whose asynchronous operations the calling thread runs to completion, one at a time,
// on an io_context it owns with nobody else: blocking calls with deadlines, which another thread can
// still interrupt (by posting interrupt() to that io_context).

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "client/response_reader.hpp"

namespace igniter::client::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

class Connection {
 public:
  explicit Connection(asio::io_context& io) : io_(io), stream_(io) {}

  /// Resolves `host` and connects within `timeout`; beast::error::timeout past it.
  error_code connect(const std::string& host, const std::string& port, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    asio::ip::tcp::resolver resolver(io_);
    asio::steady_timer timer(io_);
    error_code result = asio::error::would_block;
    bool timed_out = false;
    asio::ip::tcp::resolver::results_type endpoints;
    resolver_ = &resolver;
    timer.expires_at(deadline);
    timer.async_wait([&](error_code ec) {
      if (ec) return;
      timed_out = true;
      resolver.cancel();
    });
    resolver.async_resolve(host, port, [&](error_code ec, asio::ip::tcp::resolver::results_type found) {
      result = ec;
      endpoints = std::move(found);
      timer.cancel();
    });
    run();
    resolver_ = nullptr;
    if (interrupted_) return asio::error::operation_aborted;
    if (timed_out) return beast::error::timeout;
    if (result) return result;
    stream_.expires_at(deadline);
    result = asio::error::would_block;
    stream_.async_connect(endpoints, [&](error_code ec, const asio::ip::tcp::endpoint&) { result = ec; });
    run();
    if (!result) {
      error_code ignored;
      stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  /// Writes a whole request before `deadline`.
  template <class Request>
  error_code write(Request& request, Clock::time_point deadline) {
    stream_.expires_at(deadline);
    error_code result = asio::error::would_block;
    http::async_write(stream_, request, [&](error_code ec, std::size_t) { result = ec; });
    run();
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  /// Reads what arrives (at most `size` bytes, into `data`) before `deadline`; `n` says how many.
  error_code read_some(char* data, std::size_t size, std::size_t& n, Clock::time_point deadline) {
    stream_.expires_at(deadline);
    return read_some(data, size, n);
  }

  /// Reads what arrives, waiting at most `timeout` for a byte (forever when zero).
  error_code read_some(char* data, std::size_t size, std::size_t& n, std::chrono::milliseconds timeout) {
    if (timeout.count() > 0)
      stream_.expires_after(timeout);
    else
      stream_.expires_never();
    return read_some(data, size, n);
  }

  /// Feeds `reader` from the socket until its answer is complete (only its head when `head_only`), before
  /// `deadline`. The reader bounds what it keeps, so a server that never ends a line costs nothing more.
  error_code read_answer(ResponseReader& reader, Clock::time_point deadline, bool head_only = false) {
    char buffer[16 * 1024];
    while (head_only ? !reader.head_done() : !reader.done()) {
      std::size_t n = 0;
      auto ec = read_some(buffer, sizeof buffer, n, deadline);
      if (n > 0)
        if (auto failed = reader.feed(std::string_view(buffer, n))) return failed;
      if (ec == asio::error::eof) return reader.finish();
      if (ec) return ec;
    }
    return {};
  }

  /// Bytes arrived that nobody asked for (or the socket failed): the connection cannot carry a request.
  bool has_unread_bytes() const noexcept {
    error_code ec;
    auto n = stream_.socket().available(ec);
    return ec || n > 0;
  }

  /// Waits `delay` on this io_context (interruptible); false when interrupted.
  bool wait(std::chrono::milliseconds delay) {
    asio::steady_timer timer(io_);
    timer_ = &timer;
    timer.expires_after(delay);
    timer.async_wait([](error_code) {});
    run();
    timer_ = nullptr;
    return !interrupted_;
  }

  /// Stops whatever runs now and every later operation. Call it on the io_context's thread (post it).
  void interrupt() noexcept {
    interrupted_ = true;
    if (resolver_) resolver_->cancel();
    if (timer_) timer_->cancel();
    close();
  }

  void close() noexcept {
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  bool is_open() const noexcept { return stream_.socket().is_open(); }
  bool interrupted() const noexcept { return interrupted_; }

 private:
  error_code read_some(char* data, std::size_t size, std::size_t& n) {
    error_code result = asio::error::would_block;
    n = 0;
    stream_.async_read_some(asio::buffer(data, size), [&](error_code ec, std::size_t got) {
      result = ec;
      n = got;
    });
    run();
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  // Runs the io_context until the operation just started (and anything posted to it) has finished.
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context& io_;
  beast::tcp_stream stream_;
  asio::ip::tcp::resolver* resolver_ = nullptr;  // while resolving, for interrupt()
  asio::steady_timer* timer_ = nullptr;          // while waiting, for interrupt()
  bool interrupted_ = false;
};

}  // namespace igniter::client::detail

#pragma once
// One TCP connection (plain, or TLS over it for https) whose asynchronous operations the calling thread runs
// to completion, one at a time, on an io_context it owns with nobody else: blocking calls with deadlines,
// which another thread can still interrupt (by posting interrupt() to that io_context).

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

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
  /// `tls`: the context of an https client (verification settings, trusted CAs); null for http.
  explicit Connection(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls = nullptr)
      : io_(io), stream_(io), tls_context_(std::move(tls)) {}

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
    if (interrupted_) return asio::error::operation_aborted;
    if (result || !tls_context_) return result;
    return handshake(host);
  }

  /// Writes a whole request before `deadline`.
  template <class Request>
  error_code write(Request& request, Clock::time_point deadline) {
    tcp().expires_at(deadline);
    error_code result = asio::error::would_block;
    if (tls_)
      http::async_write(*tls_, request, [&](error_code ec, std::size_t) { result = ec; });
    else
      http::async_write(stream_, request, [&](error_code ec, std::size_t) { result = ec; });
    run();
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  /// Reads what arrives (at most `size` bytes, into `data`) before `deadline`; `n` says how many.
  error_code read_some(char* data, std::size_t size, std::size_t& n, Clock::time_point deadline) {
    tcp().expires_at(deadline);
    return read_some(data, size, n);
  }

  /// Reads what arrives, waiting at most `timeout` for a byte (forever when zero).
  error_code read_some(char* data, std::size_t size, std::size_t& n, std::chrono::milliseconds timeout) {
    if (timeout.count() > 0)
      tcp().expires_after(timeout);
    else
      tcp().expires_never();
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
    auto n = tcp().socket().available(ec);
    if (tls_) n += SSL_pending(tls_->native_handle());
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
    tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }

  bool is_open() const noexcept { return tcp().socket().is_open(); }
  bool interrupted() const noexcept { return interrupted_; }

 private:
  error_code read_some(char* data, std::size_t size, std::size_t& n) {
    error_code result = asio::error::would_block;
    n = 0;
    auto done = [&](error_code ec, std::size_t got) {
      result = ec;
      n = got;
    };
    if (tls_)
      tls_->async_read_some(asio::buffer(data, size), done);
    else
      stream_.async_read_some(asio::buffer(data, size), done);
    run();
    // A server that closes without TLS's close_notify ends the stream like a plain close would: what
    // was read is judged by its framing (Content-Length, chunks), as over plain TCP.
    if (tls_ && result == asio::ssl::error::stream_truncated) result = asio::error::eof;
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  // TLS over the connected socket: SNI and the certificate checked against `host` (a name, or an IP
  // address literal against the certificate's IP entries), within the connect deadline already set.
  error_code handshake(const std::string& host) {
    tls_.emplace(std::move(stream_), *tls_context_);
    SSL* ssl = tls_->native_handle();
    error_code address_ec;
    (void)asio::ip::make_address(host, address_ec);
    if (address_ec) {
      if (!SSL_set_tlsext_host_name(ssl, host.c_str()) || !SSL_set1_host(ssl, host.c_str()))
        return asio::error::invalid_argument;
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    }
    static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(ssl, kHttp11, sizeof kHttp11);
    error_code result = asio::error::would_block;
    tls_->async_handshake(asio::ssl::stream_base::client, [&](error_code ec) { result = ec; });
    run();
    return interrupted_ ? asio::error::operation_aborted : result;
  }

  beast::tcp_stream& tcp() noexcept { return tls_ ? tls_->next_layer() : stream_; }
  const beast::tcp_stream& tcp() const noexcept { return tls_ ? tls_->next_layer() : stream_; }

  // Runs the io_context until the operation just started (and anything posted to it) has finished.
  void run() {
    io_.restart();
    io_.run();
  }

  asio::io_context& io_;
  beast::tcp_stream stream_;                                         // plain; moved into tls_ for https
  std::shared_ptr<asio::ssl::context> tls_context_;                  // null for http
  mutable std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;  // after connect, for https
  asio::ip::tcp::resolver* resolver_ = nullptr;                      // while resolving, for interrupt()
  asio::steady_timer* timer_ = nullptr;                              // while waiting, for interrupt()
  bool interrupted_ = false;
};

}  // namespace igniter::client::detail

#pragma once
// A server connection's byte stream: a plain TCP socket, or TLS over one. HttpSession and SseSession are
// written once against it; each operation branches once on which it is (no virtual call, no per-byte
// cost), so the plain path stays a socket call. It models Asio's AsyncReadStream and AsyncWriteStream,
// so Beast's HTTP reads and writes run on it unchanged.

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_stream.hpp>
#include <memory>
#include <type_traits>
#include <utility>

#include "server/drained_read.hpp"

namespace igniter::server {

class Stream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  /// TLS over the socket; flat_stream coalesces a gather-write into one TLS record (ssl::stream alone
  /// would encrypt and send only the first buffer of each write).
  using Tls = boost::beast::flat_stream<boost::asio::ssl::stream<Socket>>;
  using executor_type = Socket::executor_type;

  /// A plain TCP connection.
  explicit Stream(Socket socket) : socket_(std::move(socket)) {}
  /// A TLS connection with `context` (shared: it lives as long as the connection, whatever a reload
  /// installs for later ones). The handshake is still to be made (handshake()).
  Stream(Socket socket, std::shared_ptr<boost::asio::ssl::context> context)
      : socket_(socket.get_executor()),
        context_(std::move(context)),
        tls_(std::make_unique<Tls>(std::move(socket), *context_)) {}

  Stream(Stream&&) noexcept = default;
  Stream& operator=(Stream&&) noexcept = default;

  bool is_tls() const noexcept { return tls_ != nullptr; }
  executor_type get_executor() noexcept { return socket().get_executor(); }
  /// The TCP socket under it (for options, shutdown, close, waits on raw readiness).
  Socket& socket() noexcept { return tls_ ? tls_->next_layer().next_layer() : socket_; }
  const Socket& socket() const noexcept { return tls_ ? tls_->next_layer().next_layer() : socket_; }
  /// The TLS stream (is_tls() only).
  boost::asio::ssl::stream<Socket>& tls() noexcept { return tls_->next_layer(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& buffers) {
          if (tls_)
            tls_->async_read_some(buffers, std::move(handler));
          else if constexpr (std::is_convertible_v<MutableBuffers, boost::asio::mutable_buffer>)
            socket_.async_read_some(DrainedRead(buffers), std::move(handler));  // drained_read.hpp
          else
            socket_.async_read_some(buffers, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          if (tls_)
            tls_->async_write_some(buffers, std::move(handler));
          else
            socket_.async_write_some(buffers, std::move(handler));
        },
        token, buffers);
  }

 private:
  Socket socket_;  // the connection when plain; unused (never opened) under TLS
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace igniter::server

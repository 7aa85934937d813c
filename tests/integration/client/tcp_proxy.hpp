#pragma once
// A TCP proxy on 127.0.0.1 that forwards bytes to a server and can cut every connection at once, or
// refuse new ones for a while: a client behind it sees real drops (FIN on its socket), and the server
// sees its client go away, as with a network outage or a restarted load balancer.

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace igniter::test {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t target)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), target_(target) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TcpProxy() {
    on_io([this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      cut_now();
    });
    io_.stop();
    thread_.join();
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  /// Closes every open connection, both sides; returns once they are closed.
  void cut() {
    on_io([this] { cut_now(); });
  }

  /// Down: cuts every connection, then closes each new one at once. Up: forwards again.
  void set_down(bool down) {
    on_io([this, down] {
      down_ = down;
      if (down) cut_now();
    });
  }

  /// Connections forwarded so far.
  std::size_t accepted() const { return accepted_.load(); }
  /// Connections closed at once because the proxy was down.
  std::size_t refused() const { return refused_.load(); }

 private:
  struct Pipe {
    explicit Pipe(boost::asio::ip::tcp::socket c) : client(std::move(c)), server(client.get_executor()) {}
    boost::asio::ip::tcp::socket client;
    boost::asio::ip::tcp::socket server;
    std::array<char, 16 * 1024> up{};    // client -> server
    std::array<char, 16 * 1024> down{};  // server -> client
    void close() {
      boost::system::error_code ignored;
      client.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      client.close(ignored);
      server.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      server.close(ignored);
    }
  };

  template <class F>
  void on_io(F f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;  // closed
      if (down_) {
        ++refused_;
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        ++accepted_;
        start(std::move(socket));
      }
      accept();
    });
  }

  void start(boost::asio::ip::tcp::socket client) {
    auto pipe = std::make_shared<Pipe>(std::move(client));
    pipes_.push_back(pipe);
    pipe->server.async_connect({boost::asio::ip::make_address("127.0.0.1"), target_},
                               [this, pipe](boost::system::error_code ec) {
                                 if (ec) return pipe->close();
                                 relay(pipe, pipe->client, pipe->server, pipe->up);
                                 relay(pipe, pipe->server, pipe->client, pipe->down);
                               });
  }

  // Copies from -> to until either side ends; then closes both.
  void relay(std::shared_ptr<Pipe> pipe, boost::asio::ip::tcp::socket& from, boost::asio::ip::tcp::socket& to,
             std::array<char, 16 * 1024>& buffer) {
    from.async_read_some(boost::asio::buffer(buffer), [this, pipe, &from, &to, &buffer](
                                                          boost::system::error_code ec, std::size_t n) {
      if (ec) return pipe->close();
      boost::asio::async_write(to, boost::asio::buffer(buffer.data(), n),
                               [this, pipe, &from, &to, &buffer](boost::system::error_code ec, std::size_t) {
                                 if (ec) return pipe->close();
                                 relay(pipe, from, to, buffer);
                               });
    });
  }

  void cut_now() {
    for (auto& weak : pipes_)
      if (auto pipe = weak.lock()) pipe->close();
    pipes_.clear();
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t target_;
  std::thread thread_;
  std::vector<std::weak_ptr<Pipe>> pipes_;  // io thread only
  bool down_ = false;                       // io thread only
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> refused_{0};
};

}  // namespace igniter::test

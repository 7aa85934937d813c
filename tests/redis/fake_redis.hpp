#pragma once
// Redis stand-ins for tests of hostile or slow servers: FakeRedis answers each command with whatever
// bytes the test chooses (RESP or not); HoldingProxy sits in front of a real redis-server and can hold a
// connection's commands back, as a paused server or a congested network would, and let them through
// later. Both listen on 127.0.0.1, port 0, and use a thread per connection (tests open few).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace igniter::store::testing {

/// What FakeRedis sends back for one command.
struct FakeAnswer {
  std::string bytes;                   ///< sent as is (may be anything, or empty: no answer)
  std::size_t flood = 0;               ///< then this many 'x' bytes, until the client stops reading
  std::chrono::milliseconds delay{0};  ///< wait this long before answering
};

/// A command as the client sent it (an array of bulk strings).
using FakeCommand = std::vector<std::string>;

namespace detail {

inline int listen_on_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  ::listen(fd, 64);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

inline int connect_to_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    auto sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Takes one complete command off the front of `buffer`; nullopt while it is incomplete.
inline std::optional<FakeCommand> take_command(std::string& buffer) {
  std::size_t at = 0;
  auto line = [&]() -> std::optional<std::string> {
    auto end = buffer.find("\r\n", at);
    if (end == std::string::npos) return std::nullopt;
    auto text = buffer.substr(at, end - at);
    at = end + 2;
    return text;
  };
  auto head = line();
  if (!head || head->empty() || (*head)[0] != '*') return std::nullopt;
  FakeCommand command;
  for (long count = std::stol(head->substr(1)); count > 0; --count) {
    auto size_line = line();
    if (!size_line) return std::nullopt;
    auto size = std::stoul(size_line->substr(1));
    if (buffer.size() < at + size + 2) return std::nullopt;
    command.push_back(buffer.substr(at, size));
    at += size + 2;
  }
  buffer.erase(0, at);
  return command;
}

}  // namespace detail

/// A fake Redis: every command goes to `answer`, called on the connection's thread (may be called from
/// several connections' threads at once: make it thread-safe).
class FakeRedis {
 public:
  using Answer = std::function<FakeAnswer(const FakeCommand&)>;

  explicit FakeRedis(Answer answer) : answer_(std::move(answer)) {
    listener_ = detail::listen_on_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeRedis() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    for (auto& thread : threads_) thread.join();
    for (int fd : clients_) ::close(fd);
    ::close(listener_);
  }
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  /// Connections accepted so far.
  int connections() const { return connections_.load(); }
  /// Flood bytes the kernel took so far.
  std::size_t flooded() const { return flooded_.load(); }

  /// The usual answers: PING, SUBSCRIBE (confirming each channel), and +OK for anything else.
  static FakeAnswer usual(const FakeCommand& command) {
    if (command[0] == "PING") return {"+PONG\r\n"};
    if (command[0] == "SUBSCRIBE") {
      std::string out;
      for (std::size_t i = 1; i < command.size(); ++i)
        out += "*3\r\n$9\r\nsubscribe\r\n$" + std::to_string(command[i].size()) + "\r\n" + command[i] +
               "\r\n:" + std::to_string(i) + "\r\n";
      return {out};
    }
    return {"+OK\r\n"};
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      ++connections_;
      clients_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string buffer;
    char chunk[16384];
    for (;;) {
      auto got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(got));
      while (auto command = detail::take_command(buffer)) {
        auto answer = answer_(*command);
        if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
        if (!detail::send_all(fd, answer.bytes.data(), answer.bytes.size())) return;
        std::string flood(64 * 1024, 'x');
        for (std::size_t left = answer.flood; left > 0 && !stopping_;) {
          auto size = std::min(left, flood.size());
          if (!detail::send_all(fd, flood.data(), size)) return;
          flooded_ += size;
          left -= size;
        }
      }
    }
  }

  Answer answer_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<std::size_t> flooded_{0};
  std::mutex mutex_;
  std::vector<int> clients_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

/// A TCP proxy to a real Redis that can hold back what a client sends: after hold_when(marker), the
/// first connection to send `marker` has its bytes from then on kept (as in a socket buffer of a server
/// that is not reading) until release(), which delivers them, and the client's close if it closed
/// meanwhile. Other connections pass through.
class HoldingProxy {
 public:
  explicit HoldingProxy(std::uint16_t upstream) : upstream_(upstream) {
    listener_ = detail::listen_on_loopback(port_);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~HoldingProxy() {
    release();
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      for (int fd : sockets_) ::shutdown(fd, SHUT_RDWR);
    }
    released_.notify_all();
    acceptor_.join();
    for (auto& thread : threads_) thread.join();
    for (int fd : sockets_) ::close(fd);
    ::close(listener_);
  }
  HoldingProxy(const HoldingProxy&) = delete;
  HoldingProxy& operator=(const HoldingProxy&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  void hold_when(std::string marker) {
    std::lock_guard lock(mutex_);
    marker_ = std::move(marker);
  }
  /// True once a connection is being held.
  bool holding() {
    std::lock_guard lock(mutex_);
    return holding_;
  }
  void release() {
    std::lock_guard lock(mutex_);
    marker_.clear();
    released_flag_ = true;
    released_.notify_all();
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) return;
      int server = detail::connect_to_loopback(upstream_);
      std::lock_guard lock(mutex_);
      if (stopping_ || server < 0) {
        ::close(client);
        if (server >= 0) ::close(server);
        return;
      }
      sockets_.push_back(client);
      sockets_.push_back(server);
      threads_.emplace_back([this, client, server] { client_to_server(client, server); });
      threads_.emplace_back([client, server] {
        char chunk[16384];
        for (;;) {
          auto got = ::recv(server, chunk, sizeof chunk, 0);
          if (got <= 0 || !detail::send_all(client, chunk, static_cast<std::size_t>(got))) break;
        }
        ::shutdown(client, SHUT_WR);
      });
    }
  }

  void client_to_server(int client, int server) {
    char chunk[16384];
    bool held = false;
    std::string kept;
    for (;;) {
      auto got = ::recv(client, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      std::string_view bytes(chunk, static_cast<std::size_t>(got));
      if (!held) {
        std::lock_guard lock(mutex_);
        if (!marker_.empty() && !holding_ && bytes.find(marker_) != std::string_view::npos) {
          held = holding_ = true;
          released_flag_ = false;
        }
      }
      if (held) {
        kept.append(bytes);
        continue;
      }
      if (!detail::send_all(server, chunk, static_cast<std::size_t>(got))) break;
    }
    if (held) {
      std::unique_lock lock(mutex_);
      released_.wait(lock, [this] { return released_flag_ || stopping_.load(); });
      lock.unlock();
      detail::send_all(server, kept.data(), kept.size());
    }
    ::shutdown(server, SHUT_WR);
  }

  std::uint16_t upstream_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable released_;
  std::string marker_;
  bool holding_ = false;
  bool released_flag_ = false;
  std::vector<int> sockets_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace igniter::store::testing

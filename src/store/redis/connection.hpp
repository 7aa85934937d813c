#pragma once
// One connection to Redis: Asio does the transport, hiredis's reader parses the replies.
//
// We drive hiredis's RESP reader from an Asio socket rather than attaching a redisAsyncContext to
// Asio: that gives us connect and reply deadlines (hiredis 0.14's async API has none and resolves
// names with a blocking getaddrinfo), one write per burst of commands, and our own routing of
// subscription pushes (the async API's per-channel callback table loses a channel that is
// unsubscribed and subscribed again before Redis confirms).

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/store/redis_store.hpp"
#include "store/redis/reply_reader.hpp"

namespace igniter::store::redis {

// Every member, and every callback it makes, runs on the io_context's (single) thread.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Role { commands, subscriptions };

  struct Settings {
    RedisEndpoint endpoint;
    Role role = Role::commands;
    std::chrono::milliseconds timeout{2000};  // connect+handshake deadline; longest wait for a reply
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{5000};
    std::size_t max_reply_bytes = 64 * 1024 * 1024;  // a larger reply closes the connection
    Logger* logger = nullptr;
    // Set: asked before each attempt for the address to connect to (endpoint's host and port are then
    // unused); it answers, maybe later, on the io_context's thread. Its time is not part of `timeout`.
    std::function<void(std::function<void(Result<RedisAddress>)>)> locate{};
    // Leave a server whose ROLE is not master, and close the connection on a READONLY reply (Sentinel).
    bool require_master = false;
  };

  struct Events {
    std::function<void()> ready;                // connected and logged in
    std::function<void(std::error_code)> lost;  // a ready connection closed; its replies have failed
    std::function<void(std::error_code)> attempt_failed;  // a connection attempt failed
    std::function<void(Reply&&)> message;                 // subscriptions: a "message" push
  };

  Connection(boost::asio::io_context& io, Settings settings, Events events);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and reconnects with backoff whenever the connection is lost, until stop().
  void start();
  // Closes for good; pending replies fail with errc::unavailable. No event is reported.
  void stop();
  bool ready() const noexcept { return state_ == State::ready; }
  // The address of the current (or last) attempt.
  const RedisAddress& address() const noexcept { return address_; }
  // Closes the connection if it is open or opening and tries again at once, without backoff: the
  // master moved (+switch-master). Pending replies fail as in abort().
  void reconnect_now(std::error_code why);
  // Closes a ready connection as a protocol error (a reply the caller could not make sense of: the
  // stream of replies may be out of step) and reconnects with backoff.
  void abort(std::error_code why);

  // Queues one command; `done` gets its reply, or: errc::unavailable when it was never sent (not ready,
  // withdrawn, or the connection died before writing it), errc::timeout when it was written and the
  // connection died (or gave up waiting) before its reply came (it may have run). Exactly one call.
  // Returns a ticket for withdraw(), 0 when refused at once.
  std::uint64_t send(const std::vector<std::string>& args, ReplyHandler done);
  // A command that gets one reply per callback, in order (SUBSCRIBE a b c).
  std::uint64_t send(const std::vector<std::string>& args, std::vector<ReplyHandler> replies);
  // Takes back a command not yet handed to the socket: it will never reach Redis, and its handlers get
  // `error` now. False when it was already written (or answered): its reply, or the verdict on the
  // connection, is still to come.
  bool withdraw(std::uint64_t ticket, std::error_code error);

 private:
  enum class State { idle, locating, connecting, handshaking, ready, waiting, stopped };
  struct Pending {
    ReplyHandler done;
    std::chrono::steady_clock::time_point sent;
    std::uint64_t ticket = 0;
    bool written = false;  // handed to the socket: Redis may run it whatever happens to us
  };
  struct Queued {
    std::string bytes;
    std::uint64_t ticket = 0;
  };

  void connect();
  void resolve();
  void on_connected();
  std::uint64_t enqueue(const std::vector<std::string>& args, std::vector<ReplyHandler> replies);
  void flush();
  void read();
  void on_reply(Reply&& reply);
  void fail(std::error_code why, std::error_code pending_error);
  void arm_watchdog();
  void on_watchdog();
  void log(LogLevel level, const std::string& text) const;

  boost::asio::io_context& io_;
  Settings settings_;
  Events events_;
  State state_ = State::idle;
  // Bumped whenever a connection is torn down: completions of an older one compare and do nothing.
  std::uint64_t generation_ = 0;
  RedisAddress address_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer backoff_timer_;
  boost::asio::steady_timer watchdog_;
  std::chrono::milliseconds backoff_;
  std::chrono::steady_clock::time_point attempt_deadline_;
  std::chrono::steady_clock::time_point last_traffic_;
  std::chrono::steady_clock::time_point ready_since_;
  std::unique_ptr<ReplyReader> reader_;
  std::deque<Pending> pending_;
  std::deque<Queued> queued_;  // commands waiting for the current write to finish
  std::uint64_t next_ticket_ = 1;
  std::string writing_;  // the bytes of the write in progress
  bool write_in_progress_ = false;
  std::array<char, 16 * 1024> read_buffer_{};
};

// A Redis error reply as an error code: WRONGTYPE and "not an integer" are wrong_type, overflow is
// out_of_range, NOAUTH/WRONGPASS auth_failed, LOADING unavailable, the rest command_failed.
std::error_code error_from_reply(const Reply& reply);

}  // namespace igniter::store::redis

#pragma once
// One HTTP/1.1 connection: reads requests, routes them, runs actions (on the worker pool unless the action
// runs on the I/O thread), writes responses, keeps the connection alive.

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "server/app_impl.hpp"
#include "server/stream.hpp"

namespace igniter::server {

class HttpSession : public std::enable_shared_from_this<HttpSession>, public SessionHook {
 public:
  /// `redirect`: the TLS redirect listener's connection, whose every request is answered 308 to https.
  HttpSession(App::Impl& app, Shard& shard, Stream stream, bool redirect = false);
  ~HttpSession();

  void start();
  /// Called by the shard's sweeper when the current deadline has passed.
  void expire();
  /// Called when the app starts draining: idle connections close now, busy ones after their response.
  void drain();
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }

 private:
  enum class State : std::uint8_t {
    handshaking,
    reading_header,
    reading_body,
    handling,
    writing,
    lingering,
    closed
  };

  void handshake();
  void read_header();
  /// TLS between requests: waits (idle timeout) for the next request's first bytes, which may already be
  /// inside the TLS layer, where a wait on the socket would not see them.
  void await_next_request();
  void read_header_now();
  void on_header(boost::beast::error_code ec);
  void read_body();
  void on_body(boost::beast::error_code ec);
  void run_action(const Action& action, Request request);
  void respond(Response response, bool keep_alive);
  void respond_error(unsigned status, std::string_view message, bool keep_alive = false);
  /// Answers `status` with `code` and closes: for requests whose body, if any, is not read.
  void reject(unsigned status, std::string_view code, std::string_view message);
  /// Serializes the status line and headers of `response` (its body is body_) into head_.
  void write_head(const Response& response, bool keep_alive);
  void on_written(boost::beast::error_code ec, bool keep_alive);
  void close();
  void linger();
  void finish_close();
  void set_deadline(std::chrono::milliseconds timeout);
  /// The 308 to https of a redirect listener's request.
  Response redirect_to_https() const;

  App::Impl& app_;
  Shard& shard_;
  Stream stream_;
  boost::beast::flat_buffer buffer_;  // bounded: no line (request, header, chunk size, trailer) grows it
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::size_t chunk_extension_bytes_ = 0;  // of the current request, bounded by max_header_bytes
  std::function<void(std::uint64_t, boost::beast::string_view, boost::beast::error_code&)> on_chunk_header_;
  Request request_;
  const Action* action_ = nullptr;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::string head_;  // the answer being written: status line and headers
  std::string body_;  // and its body
  State state_ = State::reading_header;
  bool timed_out_ = false;
  bool first_request_ = true;
  bool handed_off_ = false;
  bool linger_ = false;    // close by draining the client's unread input first
  bool redirect_ = false;  // a redirect listener's connection
  std::string request_id_;
};

}  // namespace igniter::server

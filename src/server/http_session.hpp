#pragma once
// One HTTP/1.1 connection: reads requests, routes them, runs actions (on the worker pool unless the action
// runs on the I/O thread), writes responses, keeps the connection alive.
//
// A handler on the worker pool writes its own answer when the socket takes it whole (plain TCP): no hop
// back to the I/O thread, which meanwhile already waits for the next request's bytes ("reads ahead").
// `answer_` orders the two threads; see run_action.

#include <atomic>
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
  /// While a handler runs on the worker pool: waits for the next request's first bytes (or the end).
  void read_ahead();
  void on_read_ahead(boost::beast::error_code ec, std::size_t bytes);
  /// I/O thread: asks the worker to hand the connection back once its answer is out (false: it is out).
  bool claim_resume();
  /// I/O thread, the worker wrote the answer and the gate was claimed: go on with the connection.
  void resume();
  /// I/O thread, the answer is out: the next request starts with what the read ahead got.
  void continue_after_answer(boost::beast::error_code ec);
  /// Worker thread: writes the answer prepared in head_ and body_ with one non-blocking send. True when
  /// the socket took all of it; else `sent` is what it took and the I/O thread writes the rest.
  bool send_directly(std::size_t& sent);
  void respond(Response response, bool keep_alive);
  /// respond() once the shards took the events the handler published (`published`: the last one's
  /// sequence number, 0 = none; Hub::when_taken), so that publishers go at the pace of the fan-out.
  void respond_once_taken(std::uint64_t published, Response response, bool keep_alive);
  /// The last event the calling thread published since `before` (Hub::published_on_this_thread), or 0.
  static std::uint64_t published_since(std::uint64_t before) noexcept;
  /// Everything of an answer but its write: checks, head_, body_, the log line. Any thread that owns the
  /// session's answer (the I/O thread, or the worker that ran the handler).
  void prepare_answer(Response& response, bool keep_alive);
  /// Writes head_ and body_ from byte `sent` on, then on_written.
  void write_answer(std::size_t sent, bool keep_alive);
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
  /// The setup of the next request's read (parser, limits), without starting it.
  void prepare_request();
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
  using Clock = std::chrono::steady_clock;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::string head_;  // the answer being written: status line and headers
  std::string body_;  // and its body
  State state_ = State::reading_header;
  // A handler's answer against the read ahead. The I/O thread stores `pending` when it hands a handler to
  // the worker pool; the worker moves it to `written` once its answer is out, or, finding `awaited`
  // (the I/O thread claimed the connection back: bytes or an error arrived, or a drain), posts resume().
  enum class Answer : std::uint8_t { pending, awaited, written };
  std::atomic<Answer> answer_{Answer::written};
  std::atomic<Clock::rep> answered_at_{0};  // when the worker wrote its answer (steady clock)
  bool reading_ahead_ = false;              // I/O thread: the read ahead is outstanding
  bool resume_owed_ = false;                // I/O thread: it claimed the gate; the worker will post resume()
  bool parked_ = false;                     // I/O thread: the read ahead completed before the answer was out
  boost::beast::error_code parked_error_;   // and what it completed with
  std::string peer_client_;                 // the client's address when no proxy is trusted (per connection)
  bool timed_out_ = false;
  bool first_request_ = true;
  bool handed_off_ = false;
  bool linger_ = false;    // close by draining the client's unread input first
  bool redirect_ = false;  // a redirect listener's connection
  std::string request_id_;
};

}  // namespace igniter::server

#include "server/http_session.hpp"

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/container/static_vector.hpp>
#include <boost/url/parse.hpp>
#include <cstring>
#include <ctime>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

#include "base/utf8.hpp"
#include "server/hub.hpp"

namespace igniter::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

// Room in the read buffer past max_header_bytes: a header at the limit plus the start of what follows it.
// Nothing a client sends is kept in the buffer beyond this: chunk-size lines and trailers must fit in it.
constexpr std::size_t kReadSlack = 4096;

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9112 §6: the answer a request's Transfer-Encoding calls for before its body is read, or 0 when
// its framing is sound. A final coding other than `chunked` leaves the body's length unknown (400, and
// the connection must close, else the body would be read as the next request); `chunked` after another
// coding is valid HTTP, but this server decodes no other coding (501). HTTP/1.0 has no transfer codings
// and a Content-Length beside one is a smuggling attempt (400). Beast catches some of this, not all.
unsigned check_transfer_encoding(const http::request_parser<http::string_body>::value_type& head) {
  auto fields = head.equal_range(http::field::transfer_encoding);
  if (fields.first == fields.second) return 0;
  if (head.version() < 11 || head.count(http::field::content_length)) return 400;
  std::vector<std::string_view> codings;
  for (auto field = fields.first; field != fields.second; ++field) {
    std::string_view value(field->value().data(), field->value().size());
    while (!value.empty()) {
      auto comma = value.find(',');
      codings.push_back(trim(value.substr(0, comma)));
      value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    }
  }
  std::size_t chunked = 0;
  for (auto coding : codings) chunked += iequals(coding, "chunked") ? 1 : 0;
  if (codings.empty() || !iequals(codings.back(), "chunked") || chunked > 1) return 400;
  return codings.size() > 1 ? 501 : 0;
}

/// `target` with the printable bytes RFC 3986 leaves out but browsers and Node send raw (`{}` of the
/// Igniter.js `posts.list:{}` channel form, `|^"<>\``) percent-encoded, so that they parse as data.
std::string escape_lenient(std::string_view target) {
  static constexpr std::string_view kLenient = "{}|^\"<>\\`";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(target.size());
  for (char c : target) {
    if (kLenient.find(c) == std::string_view::npos) {
      out += c;
    } else {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  return out;
}

// The Date header's value, formatted again only when the second changes; per thread, since workers
// write answers too.
std::string_view http_date_now() {
  thread_local std::time_t second = -1;
  thread_local char text[40];
  thread_local std::size_t length = 0;
  if (std::time_t now = std::time(nullptr); now != second) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    second = now;
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  }
  return {text, length};
}

}  // namespace

HttpSession::HttpSession(App::Impl& app, Shard& shard, Stream stream, bool redirect)
    : app_(app),
      shard_(shard),
      stream_(std::move(stream)),
      buffer_(app.options.max_header_bytes + kReadSlack),
      redirect_(redirect) {
  // Chunk extensions are skipped, but a client could send any number of them: they count against the
  // header limit, per request.
  on_chunk_header_ = [this](std::uint64_t, beast::string_view extensions, beast::error_code& ec) {
    chunk_extension_bytes_ += extensions.size();
    if (chunk_extension_bytes_ > app_.options.max_header_bytes) ec = http::error::bad_chunk_extension;
  };
  shard_.sessions.push_back(*this);
}

HttpSession::~HttpSession() {
  if (!handed_off_) app_.connections.open.fetch_sub(1, std::memory_order_relaxed);
}

void HttpSession::start() {
  beast::error_code ec;
  auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) request_.remote = peer.address().to_string() + ":" + std::to_string(peer.port());
  peer_client_ = igniter::http::client_address({}, request_);
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  if (stream_.is_tls()) return handshake();
  read_header();
}

void HttpSession::handshake() {
  state_ = State::handshaking;
  auto timeout = app_.options.tls.handshake_timeout;
  set_deadline(timeout.count() > 0 ? timeout : app_.options.header_timeout);
  stream_.tls().async_handshake(
      asio::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
        if (self->state_ != State::handshaking) return;
        if (ec) {
          // A scanner, a client that does not trust the certificate, plain HTTP on the TLS port, or the
          // timeout: counted, and logged at most once per interval (never a line per connection).
          self->app_.note_handshake_failure(
              self->timed_out_ ? "handshake not completed in time" : ec.message(), self->request_.remote);
          return self->finish_close();
        }
        self->read_header();
      });
}

void HttpSession::await_next_request() {
  set_deadline(app_.options.idle_timeout);
  // One read, tried at once (Asio reads speculatively): a keep-alive client's next request is often
  // there already. Into the room the buffer has (at least 512 bytes): an idle connection grows nothing.
  auto space = buffer_.prepare(beast::read_size(buffer_, buffer_.max_size()));
  stream_.async_read_some(space, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
    if (ec) return self->on_header(ec);
    self->buffer_.commit(n);
    if (self->state_ == State::reading_header) self->read_header_now();
  });
}

void HttpSession::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = Clock::now() + timeout;
}

void HttpSession::read_header() {
  prepare_request();
  if (first_request_ || buffer_.size() > 0) return read_header_now();
  // Between requests the idle timeout runs; once the next request's first bytes arrive, its header
  // must come in header_timeout, as the first one's (a slow header holds the connection no longer).
  await_next_request();
}

void HttpSession::prepare_request() {
  state_ = State::reading_header;
  timed_out_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(app_.options.max_header_bytes));
  // The real limit depends on the action, known once the headers are in (on_header sets it).
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  chunk_extension_bytes_ = 0;
  parser_->on_chunk_header(on_chunk_header_);
}

void HttpSession::read_header_now() {
  set_deadline(app_.options.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::expire() {
  if (state_ == State::closed) return;
  if (state_ == State::lingering) return finish_close();
  if (state_ == State::handling) {
    // Reading ahead: a handler that takes long is not an idle connection, and the idle time starts when
    // the worker wrote its answer.
    auto idle_since = answer_.load(std::memory_order_acquire) == Answer::written
                          ? Clock::time_point(Clock::duration(answered_at_.load(std::memory_order_relaxed)))
                          : Clock::now();
    if (auto deadline = idle_since + app_.options.idle_timeout; deadline > Clock::now())
      return void(deadline_ = deadline);
  }
  timed_out_ = true;
  deadline_ = Clock::time_point::max();
  beast::error_code ignored;
  stream_.socket().cancel(ignored);
}

void HttpSession::drain() {
  // Idle between requests (nothing received yet), or still shaking hands: close now. Anything else
  // finishes, then closes.
  if (state_ == State::handshaking) return finish_close();
  // Reading ahead: idle once the worker's answer is out; if it is not, the worker hands the connection
  // back (resume) and it closes then.
  if (state_ == State::handling && reading_ahead_ && !resume_owed_ && !claim_resume()) return finish_close();
  if (state_ == State::reading_header && !parser_->got_some() && buffer_.size() == 0) finish_close();
}

void HttpSession::on_header(beast::error_code ec) {
  if (state_ == State::closed || state_ == State::lingering) return;
  if (ec) {
    bool partial = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_ && partial) return respond_error(408, "Request headers not received in time");
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return respond_error(431, "Request headers too large");
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset || !partial)
      return close();
    return respond_error(400, "Malformed HTTP request");
  }
  first_request_ = false;
  started_ = Clock::now();
  request_id_ = app_.make_request_id();

  auto& head = parser_->get();
  request_ = Request{.remote = std::move(request_.remote)};
  auto method = parse_method(std::string_view(head.method_string().data(), head.method_string().size()));
  request_.target.assign(head.target().data(), head.target().size());
  for (const auto& field : head)
    request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  // Per request behind a trusted proxy (one upstream connection carries many clients' requests); else
  // the peer's address, known since the connection opened.
  if (app_.trusted_proxies.empty()) {
    request_.client = peer_client_;
    request_.scheme = stream_.is_tls() ? "https" : "http";
  } else {
    request_.client = igniter::http::client_address(app_.trusted_proxies, request_);
    request_.scheme = igniter::http::forwarded_scheme(app_.trusted_proxies, request_, stream_.is_tls());
  }

  // Framing first: whatever the answer, a request whose body cannot be delimited closes the connection.
  if (auto status = check_transfer_encoding(head); status == 400)
    return respond_error(400, "Invalid Transfer-Encoding");
  else if (status)
    return respond_error(status, "Transfer codings other than chunked are not supported");
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (HTTP/1.0 may leave it out), never two.
  if (auto hosts = head.count(http::field::host); hosts > 1 || (hosts == 0 && head.version() >= 11))
    return respond_error(400, hosts ? "More than one Host header" : "Missing Host header");
  if (!method) return respond_error(501, "Method not implemented");
  request_.method = *method;
  if (redirect_) {
    // Its body, if any, is not read: the connection closes after the answer.
    linger_ = !parser_->is_done();
    return respond(redirect_to_https(), parser_->is_done() && head.keep_alive());
  }

  auto url = boost::urls::parse_origin_form(request_.target);
  std::string escaped;  // must outlive `url`, which views it
  if (!url && (escaped = escape_lenient(request_.target)) != request_.target)
    url = boost::urls::parse_origin_form(escaped);
  if (!url) return respond_error(400, "Malformed request target");
  request_.path = url->path();
  for (auto param : url->params()) request_.query.emplace_back(param.key, param.value);

  bool keep_alive = head.keep_alive();
  auto match = app_.routes.router.match(request_.method, request_.path);
  action_ = match.found() ? &app_.routes.actions[match.route] : nullptr;
  if (action_) request_.params = std::move(match.params);
  if (action_ && action_->sse_endpoint && request_.method == Method::GET && !parser_->is_done()) {
    // A stream reads nothing after its request (any byte closes it): a body would end it at once.
    return respond_error(400, "A stream request has no body");
  }
  if (action_ && action_->sse_endpoint && request_.method == Method::GET) {
    // The realtime hub takes the connection (and its share of the connection count) from here on.
    handed_off_ = true;
    state_ = State::closed;
    deadline_ = Clock::time_point::max();
    unlink();
    app_.hub->open(shard_, std::move(stream_), std::move(request_), std::move(request_id_));
    return;
  }
  if (action_ && action_->sse_endpoint) {
    // HEAD: a stream's head (200 or a 400 for bad channels) is only known by opening it (docs/realtime.md).
    if (!parser_->is_done()) keep_alive = false;  // its body, if any, is not read
    linger_ = !keep_alive;
    return respond(ResponseBuilder{}
                       .error(405, "ERR_METHOD_NOT_ALLOWED", "The stream endpoint answers GET only")
                       .header("Allow", "GET"),
                   keep_alive);
  }

  std::size_t limit = app_.options.max_body_bytes;
  if (action_ && action_->options.max_body_bytes) limit = action_->options.max_body_bytes;
  if (auto length = parser_->content_length(); length && *length > limit)
    return respond_error(413, "Request body too large");
  parser_->body_limit(limit);

  if (!action_) {
    // Unrouted requests have no use for a body: skip reading one unless it is small and already framed.
    if (!parser_->is_done() && !parser_->content_length() && !parser_->chunked()) {
      return respond(app_.handle_unrouted(request_, match), keep_alive);
    }
  }

  if (parser_->is_done()) return on_body({});
  state_ = State::reading_body;
  set_deadline(app_.options.body_timeout);
  // A client that sent its body with its header does not wait for 100 Continue (RFC 9110 §10.1.1 lets us
  // omit it). The interim answer is written asynchronously: a client that does not read must not block
  // this thread (every connection of the shard would wait with it).
  if (head.version() >= 11 && buffer_.size() == 0 && iequals(request_.header("expect"), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    return asio::async_write(stream_, asio::buffer(kContinue),
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec) return self->close();
                               self->read_body();
                             });
  }
  read_body();
}

void HttpSession::read_body() {
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(beast::error_code ec) {
  if (ec) {
    if (timed_out_) return respond_error(408, "Request body not received in time");
    if (ec == http::error::body_limit) return respond_error(413, "Request body too large");
    if (ec == http::error::buffer_overflow) return respond_error(400, "Chunk size line or trailer too long");
    if (ec == http::error::bad_chunk_extension) return respond_error(400, "Chunk extensions too long");
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted)
      return close();
    return respond_error(400, "Malformed HTTP request body");
  }
  request_.body = std::move(parser_->get().body());
  bool keep_alive = parser_->get().keep_alive();
  if (!action_) {
    auto match = app_.routes.router.match(request_.method, request_.path);
    return respond(app_.handle_unrouted(request_, match), keep_alive);
  }
  run_action(*action_, std::move(request_));
}

void HttpSession::run_action(const Action& action, Request request) {
  state_ = State::handling;
  deadline_ = Clock::time_point::max();
  bool keep_alive = parser_->get().keep_alive();
  if (!app_.workers || action.options.run_on_io_thread) {
    auto before = Hub::published_on_this_thread();
    Response response = app_.handle(action, request, request_id_);
    request_ = std::move(request);
    return respond_once_taken(published_since(before), std::move(response), keep_alive);
  }
  auto index = static_cast<std::size_t>(&action - app_.routes.actions.data());
  // A handler measured fast runs on this thread, once the current completion returns: no hand-off. If it
  // blocks after all, the loop goes on on another thread (server/loop_threads.hpp). A cached query may
  // wait for another run of itself: never here. During a fan-out pass too, between two of its slices:
  // a publisher answered by the pool beside a pass outruns it (bench/notes.md, "Publishers beside the
  // pass").
  if (!action.options.cache && app_.pace.fast(index) && app_.loops->can_run_next(shard_.index)) {
    app_.loops->run_next(
        shard_.index,
        [self = shared_from_this(), &action, index, request = std::move(request)]() mutable {
          auto before = Hub::published_on_this_thread();
          auto started = Clock::now();
          Response response = self->app_.handle(action, request, self->request_id_);
          self->app_.pace.record(index, Clock::now() - started);
          self->request_ = std::move(request);
          return std::pair(published_since(before), std::move(response));
        },
        [self = shared_from_this(), keep_alive](std::pair<std::uint64_t, Response> answer) {
          self->respond_once_taken(answer.first, std::move(answer.second), keep_alive);
        });
    return;
  }
  // On the worker pool. Over plain TCP the worker writes the answer itself when the socket takes it whole
  // (one non-blocking send, never a wait), and meanwhile this thread reads ahead. Over TLS the stream is
  // this thread's alone: the answer comes back here.
  bool direct = !stream_.is_tls();
  if (direct) read_ahead();
  app_.workers->post([self = shared_from_this(), &action, index, request = std::move(request), keep_alive,
                      direct]() mutable {
    auto before = Hub::published_on_this_thread();
    auto started = Clock::now();
    Response response = self->app_.handle(action, request, self->request_id_);
    self->app_.pace.record(index, Clock::now() - started);
    self->request_ = std::move(request);
    // A publisher's answer waits for the shards to take its events (Hub::when_taken): on the loop.
    auto published = published_since(before);
    if (published != 0 && self->app_.hub && !self->app_.hub->taken(published))
      return self->app_.hub->when_taken(published, self->shard_.io,
                                        [self, response = std::move(response), keep_alive]() mutable {
                                          self->respond(std::move(response), keep_alive);
                                        });
    std::size_t sent = 0;
    if (direct && keep_alive && !self->app_.lifecycle.draining.load(std::memory_order_relaxed)) {
      self->prepare_answer(response, keep_alive);
      if (self->send_directly(sent)) {
        self->head_.clear();
        std::string().swap(self->body_);
        self->request_id_.clear();
        self->request_ = Request{.remote = std::move(self->request_.remote)};
        self->answered_at_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        // Past this exchange the session is the I/O thread's again.
        if (self->answer_.exchange(Answer::written, std::memory_order_acq_rel) == Answer::awaited)
          asio::post(self->shard_.io, [self] { self->resume(); });
        return;
      }
      return asio::post(self->shard_.io, [self, sent, keep_alive] { self->write_answer(sent, keep_alive); });
    }
    asio::post(self->shard_.io, [self, response = std::move(response), keep_alive]() mutable {
      self->respond(std::move(response), keep_alive);
    });
  });
}

std::uint64_t HttpSession::published_since(std::uint64_t before) noexcept {
  auto last = Hub::published_on_this_thread();
  return last != before ? last : 0;
}

void HttpSession::respond_once_taken(std::uint64_t published, Response response, bool keep_alive) {
  if (published == 0 || !app_.hub || app_.hub->taken(published))
    return respond(std::move(response), keep_alive);
  app_.hub->when_taken(published, shard_.io,
                       [self = shared_from_this(), response = std::move(response), keep_alive]() mutable {
                         self->respond(std::move(response), keep_alive);
                       });
}

void HttpSession::read_ahead() {
  answer_.store(Answer::pending, std::memory_order_relaxed);
  resume_owed_ = false;
  parked_ = false;
  set_deadline(app_.options.idle_timeout);  // expire() holds it off until the answer is out
  if (buffer_.size() > 0) {
    // The client pipelined: the next request's bytes are here already.
    parked_ = true;
    parked_error_ = {};
    claim_resume();
    return;
  }
  reading_ahead_ = true;
  auto space = buffer_.prepare(beast::read_size(buffer_, buffer_.max_size()));
  stream_.async_read_some(space, [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
    self->on_read_ahead(ec, bytes);
  });
}

void HttpSession::on_read_ahead(beast::error_code ec, std::size_t bytes) {
  reading_ahead_ = false;
  if (state_ == State::closed || state_ == State::lingering) return;
  if (!ec) buffer_.commit(bytes);
  // The answer is not out yet: this thread is writing it (on_written goes on), or the worker has it
  // (it hands the connection back: resume(), or on_written if this thread is to write it after all).
  if (state_ == State::writing || (state_ == State::handling && (resume_owed_ || claim_resume()))) {
    parked_ = true;
    parked_error_ = ec;
    return;
  }
  // The answer is out (the worker wrote it, or this thread did and prepared the next request).
  continue_after_answer(ec);
}

bool HttpSession::claim_resume() {
  auto expected = Answer::pending;
  resume_owed_ = answer_.compare_exchange_strong(expected, Answer::awaited, std::memory_order_acq_rel);
  return resume_owed_;
}

void HttpSession::resume() {
  resume_owed_ = false;
  if (state_ == State::closed || state_ == State::lingering) return;
  if (parked_) {
    parked_ = false;
    return continue_after_answer(parked_error_);
  }
  // Claimed by drain(): the read ahead is still waiting for a request that will not be served.
  if (app_.lifecycle.draining.load(std::memory_order_relaxed)) return finish_close();
  prepare_request();
}

void HttpSession::continue_after_answer(beast::error_code ec) {
  if (state_ != State::reading_header) prepare_request();  // the parser still holds the answered request
  first_request_ = false;
  if (ec) return on_header(ec);
  read_header_now();
}

bool HttpSession::send_directly(std::size_t& sent) {
  iovec parts[2] = {{head_.data(), head_.size()}, {body_.data(), body_.size()}};
  std::size_t parts_count = request_.method != Method::HEAD && !body_.empty() ? 2 : 1;
  std::size_t total = head_.size() + (parts_count == 2 ? body_.size() : 0);
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = parts_count;
  // Non-blocking whatever the socket's mode: a client that does not read costs this worker nothing.
  auto n = ::sendmsg(stream_.socket().native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
  sent = n > 0 ? static_cast<std::size_t>(n) : 0;
  return sent == total;
}

void HttpSession::respond_error(unsigned status, std::string_view message, bool keep_alive) {
  // The request may not have been read to its end: close gently, so the client still reads this answer.
  linger_ = !keep_alive;
  respond(ResponseBuilder{}.error(status, std::string(error_code_for(status)), std::string(message)),
          keep_alive);
}

void HttpSession::respond(Response response, bool keep_alive) {
  if (state_ == State::closed || state_ == State::lingering) return;
  if (app_.lifecycle.draining.load(std::memory_order_relaxed)) keep_alive = false;
  prepare_answer(response, keep_alive);
  write_answer(0, keep_alive);
}

void HttpSession::prepare_answer(Response& response, bool keep_alive) {
  if (request_id_.empty()) request_id_ = app_.make_request_id();
  // A final answer's status has three digits and is not 1xx (an interim answer: the client would wait for
  // another). A handler's mistake becomes a logged 500, not bytes the client cannot frame.
  if (response.status() < 200 || response.status() > 999) {
    app_.logger.error("request " + request_id_ + " answered with status " +
                      std::to_string(response.status()) + ", sent as 500 (a final status is 200 to 999)");
    response = ResponseBuilder{}.error(500, "ERR_INTERNAL_SERVER_ERROR", "Internal Server Error",
                                       json::object{{"requestId", request_id_}});
  }

  body_ = std::move(response).body();
  // 204 and 304 have no body and no Content-Length (RFC 9110 §8.6, §15.4.5): a body a handler gave one
  // is dropped, or the client would read it as the start of the next answer.
  if (response.status() == 204 || response.status() == 304) body_.clear();
  // JSON is declared UTF-8: bytes that are not (a path or a header echoed in a message) become U+FFFD.
  if (response.content_type().rfind("application/json", 0) == 0 && !valid_utf8(body_))
    body_ = to_valid_utf8(body_);
  write_head(response, keep_alive);

  if (app_.logger.enabled(LogLevel::info) && !request_.target.empty()) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    // Formatted here with no stream (the logger only copies it; its writer thread adds the time). The path
    // as received, still percent-encoded: a decoded one could hold spaces that forge the fields after
    // it (and control bytes, which the logger escapes anyway). No query string: it may carry tokens.
    std::string_view path = request_.target;
    path = path.substr(0, path.find('?'));
    std::string line;
    line.reserve(48 + path.size() + request_id_.size() + request_.client.size());
    line.append(to_string(request_.method)).append(1, ' ').append(path).append(1, ' ');
    line.append(std::to_string(response.status())).append(1, ' ').append(std::to_string(micros / 1000));
    line.append(1, '.').append(1, static_cast<char>('0' + (micros / 100) % 10)).append("ms id=");
    line.append(request_id_).append(" client=").append(request_.client);
    app_.logger.info(line);
  }
}

void HttpSession::write_answer(std::size_t sent, bool keep_alive) {
  state_ = State::writing;
  set_deadline(app_.options.idle_timeout);
  // HEAD: the head a GET would get, Content-Length included, and no body. Not a std::array of two: Asio's
  // write of exactly that shape hands the stream an empty first buffer once the head is out, and
  // beast::flat_stream (TLS) writes nothing for it, so the body was never sent over TLS.
  boost::container::static_vector<asio::const_buffer, 2> buffers;
  if (sent < head_.size()) buffers.push_back(asio::buffer(head_) + sent);
  if (request_.method != Method::HEAD && !body_.empty())
    buffers.push_back(asio::buffer(body_) + (sent > head_.size() ? sent - head_.size() : 0));
  asio::async_write(stream_, buffers,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                      self->on_written(ec, keep_alive);
                    });
}

void HttpSession::write_head(const Response& response, bool keep_alive) {
  // Written by hand, not through a header map and a serializer: this is on every answer's path. The
  // response's own headers were checked when set (no CR or LF: Response::header); the framing ones are
  // the server's to write, so a handler's Content-Length, Transfer-Encoding or Connection is left out.
  auto reason = http::obsolete_reason(static_cast<http::status>(response.status()));
  auto content_type = response.content_type();
  if (content_type.find_first_of("\r\n") != std::string_view::npos) content_type = {};
  bool own_nosniff = false, own_hsts = false;
  for (const auto& [name, value] : response.headers()) {
    own_nosniff = own_nosniff || iequals(name, "x-content-type-options");
    own_hsts = own_hsts || iequals(name, "strict-transport-security");
  }
  head_.clear();
  head_.append("HTTP/1.1 ").append(std::to_string(response.status())).append(1, ' ').append(reason);
  head_.append("\r\nServer: igniter-cpp\r\nDate: ").append(http_date_now()).append("\r\n");
  if (!content_type.empty()) head_.append("Content-Type: ").append(content_type).append("\r\n");
  for (const auto& [name, value] : response.headers()) {
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection"))
      continue;
    head_.append(name).append(": ").append(value).append("\r\n");
  }
  // Browsers must take every answer for what its Content-Type says (no JSON sniffed into HTML).
  if (!own_nosniff) head_.append("X-Content-Type-Options: nosniff\r\n");
  head_.append("X-Request-Id: ").append(request_id_).append("\r\n");
  if (auto hsts = app_.options.tls.hsts_max_age; hsts.count() > 0 && stream_.is_tls() && !own_hsts)
    head_.append("Strict-Transport-Security: max-age=").append(std::to_string(hsts.count())).append("\r\n");
  if (!keep_alive) head_.append("Connection: close\r\n");
  if (response.status() != 204 && response.status() != 304)
    head_.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
  head_.append("\r\n");
}

void HttpSession::on_written(beast::error_code ec, bool keep_alive) {
  head_.clear();
  std::string().swap(body_);  // a large answer's buffer is not kept by an idle connection
  request_id_.clear();
  request_ = Request{.remote = std::move(request_.remote)};
  if (ec || !keep_alive || app_.lifecycle.draining.load(std::memory_order_relaxed)) return close();
  if (parked_) {
    // The read ahead got the next request's bytes (or an error) while this answer was on its way.
    parked_ = false;
    return continue_after_answer(parked_error_);
  }
  if (reading_ahead_) {
    prepare_request();                               // on_read_ahead goes on from here
    return set_deadline(app_.options.idle_timeout);  // idle from the end of this write
  }
  read_header();
}

void HttpSession::close() {
  if (state_ == State::closed || state_ == State::lingering) return;
  if (!linger_) return finish_close();
  // Lingering close: stop sending, then read and discard what the client still sends (bounded in time), so
  // that closing with unread input does not reset the connection before the client read our response.
  state_ = State::lingering;
  std::string().swap(body_);
  parser_.reset();
  beast::error_code ec;
  // Under TLS too, the client's TLS records are read and discarded raw: nothing is answered any more.
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return finish_close();
  set_deadline(std::chrono::milliseconds(2000));
  linger();
}

void HttpSession::linger() {
  buffer_.clear();
  stream_.socket().async_read_some(buffer_.prepare(4096),
                                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                     if (ec || self->timed_out_) return self->finish_close();
                                     self->linger();
                                   });
}

void HttpSession::finish_close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  deadline_ = Clock::time_point::max();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  unlink();
}

Response HttpSession::redirect_to_https() const {
  // The host as the client named it, without its port (a bracketed IPv6 literal keeps its brackets);
  // then the TLS listener's port unless it is https' own.
  std::string_view host = request_.header("host");
  if (host.empty()) host = "localhost";
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  std::string location = "https://" + std::string(host);
  if (auto port = app_.lifecycle.bound_port.load(); port != 443) location += ":" + std::to_string(port);
  location += request_.target;
  return Response(308, "", "").header("Location", location);
}

}  // namespace igniter::server

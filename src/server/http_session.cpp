#include "server/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <limits>
#include <sstream>

namespace igniter::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

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

}  // namespace

HttpSession::HttpSession(App::Impl& app, Shard& shard, asio::ip::tcp::socket socket)
    : app_(app), shard_(shard), socket_(std::move(socket)) {
  shard_.sessions.push_back(*this);
}

HttpSession::~HttpSession() {
  if (!handed_off_) app_.connections.fetch_sub(1, std::memory_order_relaxed);
}

void HttpSession::start() {
  beast::error_code ec;
  auto peer = socket_.remote_endpoint(ec);
  if (!ec) request_.remote = peer.address().to_string() + ":" + std::to_string(peer.port());
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  read_header();
}

void HttpSession::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = Clock::now() + timeout;
}

void HttpSession::read_header() {
  state_ = State::reading_header;
  timed_out_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(app_.options.max_header_bytes));
  // The real limit depends on the action, known once the headers are in (on_header sets it).
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  set_deadline(first_request_ ? app_.options.header_timeout : app_.options.idle_timeout);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::expire() {
  if (state_ == State::closed) return;
  if (state_ == State::lingering) return finish_close();
  timed_out_ = true;
  deadline_ = Clock::time_point::max();
  beast::error_code ignored;
  socket_.cancel(ignored);
}

void HttpSession::drain() {
  // Idle between requests (nothing received yet): close now. Anything else finishes, then closes.
  if (state_ == State::reading_header && !parser_->got_some() && buffer_.size() == 0) finish_close();
}

void HttpSession::on_header(beast::error_code ec) {
  if (ec) {
    bool partial = parser_->got_some() || buffer_.size() > 0;
    if (timed_out_ && partial) return respond_error(408, "Request headers not received in time");
    if (ec == http::error::header_limit) return respond_error(431, "Request headers too large");
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
  if (!method) return respond_error(501, "Method not implemented");
  request_.method = *method;

  auto url = boost::urls::parse_origin_form(request_.target);
  std::string escaped;  // must outlive `url`, which views it
  if (!url && (escaped = escape_lenient(request_.target)) != request_.target)
    url = boost::urls::parse_origin_form(escaped);
  if (!url) return respond_error(400, "Malformed request target");
  request_.path = url->path();
  for (auto param : url->params()) request_.query.emplace_back(param.key, param.value);

  bool keep_alive = head.keep_alive();
  auto match = app_.router.match(request_.method, request_.path);
  action_ = match.found() ? &app_.actions[match.route] : nullptr;
  if (action_) request_.params = std::move(match.params);
  if (action_ && action_->sse_endpoint && request_.method == Method::GET) {
    // The realtime hub takes the connection (and its share of the connection count) from here on.
    handed_off_ = true;
    state_ = State::closed;
    deadline_ = Clock::time_point::max();
    unlink();
    app_.hub->open(shard_, std::move(socket_), std::move(request_), std::move(request_id_));
    return;
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
  if (iequals(request_.header("expect"), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::error_code ignored;
    asio::write(socket_, asio::buffer(kContinue), ignored);  // 25 bytes on a fresh connection: never blocks.
  }
  state_ = State::reading_body;
  set_deadline(app_.options.body_timeout);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(beast::error_code ec) {
  if (ec) {
    if (timed_out_) return respond_error(408, "Request body not received in time");
    if (ec == http::error::body_limit) return respond_error(413, "Request body too large");
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted)
      return close();
    return respond_error(400, "Malformed HTTP request body");
  }
  request_.body = std::move(parser_->get().body());
  bool keep_alive = parser_->get().keep_alive();
  if (!action_) {
    auto match = app_.router.match(request_.method, request_.path);
    return respond(app_.handle_unrouted(request_, match), keep_alive);
  }
  run_action(*action_, std::move(request_));
}

void HttpSession::run_action(const Action& action, Request request) {
  state_ = State::handling;
  deadline_ = Clock::time_point::max();
  bool keep_alive = parser_->get().keep_alive();
  auto work = [self = shared_from_this(), &action, request = std::move(request), keep_alive]() mutable {
    Response response = self->app_.handle(action, request, self->request_id_);
    self->request_ = std::move(request);
    if (self->shard_.io.get_executor().running_in_this_thread())
      return self->respond(std::move(response), keep_alive);
    asio::post(self->shard_.io, [self, response = std::move(response), keep_alive]() mutable {
      self->respond(std::move(response), keep_alive);
    });
  };
  if (app_.workers && !action.options.run_on_io_thread)
    asio::post(*app_.workers, std::move(work));
  else
    work();
}

void HttpSession::respond_error(unsigned status, std::string_view message, bool keep_alive) {
  // The request may not have been read to its end: close gently, so the client still reads this answer.
  linger_ = !keep_alive;
  respond(ResponseBuilder{}.error(status, std::string(error_code_for(status)), std::string(message)),
          keep_alive);
}

void HttpSession::respond(Response response, bool keep_alive) {
  if (state_ == State::closed || state_ == State::lingering) return;
  if (app_.draining.load(std::memory_order_relaxed)) keep_alive = false;
  state_ = State::writing;
  set_deadline(app_.options.idle_timeout);
  if (request_id_.empty()) request_id_ = app_.make_request_id();

  http::response<http::string_body> message{static_cast<http::status>(response.status()), 11};
  message.set(http::field::server, "igniter-cpp");
  message.set(http::field::date, shard_.date);
  if (!response.content_type().empty()) message.set(http::field::content_type, response.content_type());
  for (const auto& [name, value] : response.headers()) message.insert(name, value);
  message.set("X-Request-Id", request_id_);
  message.keep_alive(keep_alive);
  message.body() = std::move(response).body();
  message.prepare_payload();

  if (app_.logger.enabled(LogLevel::info) && !request_.target.empty()) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    std::ostringstream line;
    line << to_string(request_.method) << ' ' << request_.path << ' ' << response.status() << ' '
         << micros / 1000 << '.' << (micros / 100) % 10 << "ms id=" << request_id_;
    app_.logger.info(line.str());
  }

  auto done = [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
    self->on_written(ec, keep_alive);
  };
  if (request_.method == Method::HEAD) {
    auto size = message.body().size();
    auto head = std::make_shared<http::response<http::empty_body>>(std::move(message.base()));
    head->content_length(size);
    out_ = head;
    http::async_write(socket_, *head, std::move(done));
  } else {
    auto full = std::make_shared<http::response<http::string_body>>(std::move(message));
    out_ = full;
    http::async_write(socket_, *full, std::move(done));
  }
}

void HttpSession::on_written(beast::error_code ec, bool keep_alive) {
  out_.reset();
  request_id_.clear();
  request_ = Request{.remote = std::move(request_.remote)};
  if (ec || !keep_alive || app_.draining.load(std::memory_order_relaxed)) return close();
  read_header();
}

void HttpSession::close() {
  if (state_ == State::closed || state_ == State::lingering) return;
  if (!linger_) return finish_close();
  // Lingering close: stop sending, then read and discard what the client still sends (bounded in time), so
  // that closing with unread input does not reset the connection before the client read our response.
  state_ = State::lingering;
  out_.reset();
  parser_.reset();
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return finish_close();
  set_deadline(std::chrono::milliseconds(2000));
  linger();
}

void HttpSession::linger() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(4096),
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
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  unlink();
}

}  // namespace igniter::server

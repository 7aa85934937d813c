#include "igniter/client/client.hpp"

#include <boost/beast/http/string_body.hpp>

#include <exception>
#include <stdexcept>
#include <utility>

#include "client/client_state.hpp"

namespace igniter::client {
namespace detail {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// RFC 6265 cookie-octets: no controls, whitespace, DQUOTE, comma, semicolon or backslash.
bool cookie_value_ok(std::string_view value) noexcept {
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\') return false;
  }
  return true;
}

bool cookie_name_ok(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || std::string_view("()<>@,;:\\\"/[]?={}").find(ch) != std::string_view::npos)
      return false;
  }
  return true;
}

// A reused keep-alive connection the server had already closed fails like this before any answer.
bool stale_connection(const error_code& ec) noexcept {
  return ec == asio::error::eof || ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

}  // namespace

bool bad_header(std::string_view name, std::string_view value) noexcept {
  if (name.empty()) return true;
  for (char c : name)
    if (c <= ' ' || c == ':' || c == 0x7f) return true;
  return value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

Error transport_error(const error_code& ec, std::string_view what, std::chrono::milliseconds timeout) {
  Error error;
  if (ec == beast::error::timeout) {
    error.ec = errc::timeout;
    error.message = std::string(what) + ": timed out after " + std::to_string(timeout.count()) + " ms";
  } else if (stale_connection(ec) || ec == http::error::partial_message) {
    error.ec = errc::connection_closed;
    error.message = std::string(what) + ": the server closed the connection before the answer was complete";
  } else if (ec == http::error::body_limit) {
    error.ec = errc::answer_too_large;
    error.message =
        std::string(what) + ": the answer's body is larger than the client accepts (max_body_bytes)";
  } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    error.ec = errc::answer_too_large;
    error.message = std::string(what) +
                    ": the answer's head, or a line of its body framing, is larger than the client accepts "
                    "(max_header_bytes)";
  } else if (ec == http::error::bad_status) {
    error.ec = errc::invalid_answer;
    error.message = std::string(what) +
                    ": the answer's status cannot be used (a bad status line, 101 Switching Protocols, or "
                    "more interim 1xx answers than max_interim_responses)";
  } else if (ec.category() == http::make_error_code(http::error::bad_status).category()) {
    error.ec = errc::invalid_answer;
    error.message =
        std::string(what) + ": the answer is not HTTP/1.1 the client can read (" + ec.message() + ")";
  } else if (ec.category() == asio::error::get_ssl_category() ||
             ec.category() == asio::ssl::error::get_stream_category()) {
    error.ec = errc::tls_failed;
    error.message = std::string(what) + ": TLS failed: " + ec.message();
  } else {
    error.ec = std::error_code(ec);
    error.message = std::string(what) + ": " + ec.message();
  }
  return error;
}

ClientState::ClientState(std::string_view base_url, ClientOptions options)
    : base_url_(base_url),
      url_(parse_base_url(base_url)),
      options_(std::move(options)),
      cookies_({.max_cookies = options_.max_cookies,
                .max_cookie_bytes = options_.max_cookie_bytes,
                .max_jar_bytes = options_.max_cookie_jar_bytes}) {
  for (const auto& [name, value] : options_.headers) set_header(name, value);
  if (url_.tls) tls_context_ = make_tls_context(options_);
}

std::shared_ptr<asio::ssl::context> make_tls_context(const ClientOptions& options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  error_code ec;
  if (!options.tls_ca_file.empty())
    context->load_verify_file(options.tls_ca_file, ec);
  else
    context->set_default_verify_paths(ec);
  if (ec)
    throw std::invalid_argument(
        "igniter::client: cannot load the trusted CAs " +
        (options.tls_ca_file.empty() ? std::string("of the system") : "from '" + options.tls_ca_file + "'") +
        ": " + ec.message());
  context->set_verify_mode(options.tls_verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return context;
}

Headers ClientState::headers() const {
  std::lock_guard lock(mutex_);
  Headers out;
  std::string cookie;
  for (const auto& [name, value] : headers_) {
    if (iequals(name, "cookie"))
      cookie = value;
    else
      out.emplace_back(name, value);
  }
  cookies_.append_header(cookie);
  if (!cookie.empty()) out.emplace_back("Cookie", std::move(cookie));
  return out;
}

void ClientState::set_header(std::string_view name, std::string_view value) {
  if (bad_header(name, value))
    throw std::invalid_argument("igniter::client: invalid header '" + std::string(name) + "'");
  std::lock_guard lock(mutex_);
  std::erase_if(headers_, [&](const auto& header) { return iequals(header.first, name); });
  if (!value.empty()) headers_.emplace_back(name, value);
}

void ClientState::set_cookie(std::string_view name, std::string_view value) {
  if (!cookie_name_ok(name) || !cookie_value_ok(value))
    throw std::invalid_argument("igniter::client: invalid cookie '" + std::string(name) + "'");
  std::lock_guard lock(mutex_);
  if (!cookies_.set(name, value))
    throw std::invalid_argument("igniter::client: cookie '" + std::string(name) +
                                "' is larger than max_cookie_bytes (" +
                                std::to_string(options_.max_cookie_bytes) + ")");
}

std::string ClientState::cookie(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return cookies_.get(name);
}

void ClientState::take_cookie(std::string_view line) {
  if (!options_.keep_cookies) return;
  auto change = parse_set_cookie(line);
  if (!change || !cookie_name_ok(change->name) || !cookie_value_ok(change->value)) return;
  std::lock_guard lock(mutex_);
  if (change->remove)
    cookies_.remove(change->name);
  else
    cookies_.set(change->name, change->value);  // a cookie over max_cookie_bytes is ignored
}

std::unique_ptr<ClientState::Pooled> ClientState::take_idle() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    auto pooled = std::move(idle_.back());  // the most recently used: the least likely to have timed out
    idle_.pop_back();
    // Bytes that arrived on an idle connection answer nothing this client asked: they would be read as
    // the next call's answer. Such a connection is closed, not used.
    if (!pooled->connection.has_unread_bytes()) return pooled;
  }
  return nullptr;
}

void ClientState::give_back(std::unique_ptr<Pooled> pooled) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(pooled));
}

Reply<json::value> ClientState::call(Method method, std::string_view path,
                                     const CallOptions& options) noexcept {
  // Errors are values here: an exception (a field too long for Beast, memory running out) must not
  // escape into the caller's code, nor end a subscription's thread.
  try {
    return call_once(method, path, options);
  } catch (const std::length_error& e) {
    return Error{.ec = errc::invalid_request,
                 .message = std::string("The request cannot be written: ") + e.what()};
  } catch (const std::exception& e) {
    return Error{.ec = errc::internal_error, .message = std::string("The client failed: ") + e.what()};
  } catch (...) {
    return Error{.ec = errc::internal_error, .message = "The client failed"};
  }
}

Reply<json::value> ClientState::call_once(Method method, std::string_view path, const CallOptions& options) {
  auto target = make_target(url_.base_path, path, options.params, options.query);
  if (!target) return std::move(target).error();
  for (const auto& [name, value] : options.headers)
    if (bad_header(name, value))
      return Error{.ec = errc::invalid_request, .message = "Invalid header '" + name + "'"};

  http::request<http::string_body> request{http::string_to_verb(to_string(method)), *target, 11};
  request.set(http::field::host, url_.host_header);
  request.set(http::field::user_agent, "igniter-cpp-client");
  request.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers()) request.insert(name, value);
  for (const auto& [name, value] : options.headers) request.insert(name, value);
  if (options.body) {
    request.set(http::field::content_type, "application/json");
    request.body() = boost::json::serialize(*options.body);
  }
  request.prepare_payload();

  auto timeout = options.timeout.count() > 0 ? options.timeout : options_.timeout;
  std::string what = std::string(to_string(method)) + " " + *target;
  for (int attempt = 0;; ++attempt) {
    auto pooled = take_idle();
    bool reused = pooled != nullptr;
    if (!pooled) {
      pooled = std::make_unique<Pooled>(tls_context_);
      if (auto ec = pooled->connection.connect(url_.host, url_.port, options_.connect_timeout))
        return transport_error(ec, "Connecting to " + url_.host_header, options_.connect_timeout);
    }
    auto deadline = Clock::now() + timeout;
    ResponseReader reader(response_limits(options_.max_body_bytes), method == Method::HEAD);
    auto ec = pooled->connection.write(request, deadline);
    if (!ec) ec = pooled->connection.read_answer(reader, deadline);
    if (ec) {
      // A server closes an idle keep-alive connection without reading what arrives on it: a request that
      // met such a close on a reused connection, before any byte of an answer, goes again once on a new
      // connection (as browsers do).
      if (reused && attempt == 0 && !reader.got_some() && stale_connection(ec)) continue;
      return transport_error(ec, what, timeout);
    }
    auto& response = reader.response();
    for (const auto& field : response.base())
      if (field.name() == http::field::set_cookie) take_cookie(field.value());
    auto reply = interpret_answer(response.result_int(), response.body());
    // Only a connection whose answer ended exactly where it said may carry the next request: bytes after
    // it (a second answer, garbage) would be read as that request's answer.
    if (reader.reusable()) give_back(std::move(pooled));
    return reply;
  }
}

}  // namespace detail

Client::Client(std::string_view base_url, ClientOptions options)
    : state_(std::make_shared<detail::ClientState>(base_url, std::move(options))) {}

Reply<json::value> Client::call_json(Method method, std::string_view path, const CallOptions& options) const {
  return state_->call(method, path, options);
}

void Client::set_header(std::string_view name, std::string_view value) {
  state_->set_header(name, value);
}

void Client::set_cookie(std::string_view name, std::string_view value) {
  state_->set_cookie(name, value);
}

std::string Client::cookie(std::string_view name) const {
  return state_->cookie(name);
}

const std::string& Client::base_url() const noexcept {
  return state_->base_url();
}

}  // namespace igniter::client

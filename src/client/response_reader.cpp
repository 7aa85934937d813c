#include "client/response_reader.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <limits>

namespace igniter::client::detail {

namespace http = boost::beast::http;

ResponseReader::ResponseReader(ResponseLimits limits, bool head_request)
    : limits_(limits), head_request_(head_request) {
  // A zero bound would leave no room for a single byte; one byte is the least that can still fail cleanly.
  limits_.max_header_bytes =
      std::clamp<std::size_t>(limits_.max_header_bytes, 1, std::numeric_limits<std::uint32_t>::max());
  start();
}

void ResponseReader::start() {
  parser_.emplace();
  // Eager: each feed parses as much of the body as it holds, so pending_ keeps only an unfinished line.
  parser_->eager(true);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  if (limits_.max_body_bytes)
    parser_->body_limit(*limits_.max_body_bytes);
  else
    parser_->body_limit(boost::none);
  if (head_request_) parser_->skip(true);
}

ResponseReader::error_code ResponseReader::feed(std::string_view bytes) {
  if (failed_) return failed_;
  while (!bytes.empty()) {
    if (done_) {
      leftover_ += bytes.size();
      return {};
    }
    // Whatever the parser has not consumed is one unfinished head or line; it may not grow past the bound.
    auto room = limits_.max_header_bytes - pending_.size();
    if (room == 0) return failed_ = http::error::buffer_overflow;
    auto n = std::min(room, bytes.size());
    pending_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (auto ec = parse()) return failed_ = ec;
  }
  return {};
}

ResponseReader::error_code ResponseReader::parse() {
  while (!done_ && !pending_.empty()) {
    error_code ec;
    auto n = parser_->put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
    pending_.erase(0, n);
    if (ec == http::error::need_more) return {};
    if (ec) return ec;
    if (parser_->is_header_done()) {
      auto status = parser_->get().result_int();
      if (status < 100 || status > 599) return http::error::bad_status;  // RFC 9110 §15: invalid
      if (status / 100 == 1) {
        // An interim answer (100 Continue, 103 Early Hints...; it has no body, so it is complete): the
        // final one follows on the same connection. 101 would switch protocols, which this client never
        // asks for.
        if (status == 101 || interim_ >= limits_.max_interim_responses) return http::error::bad_status;
        ++interim_;
        start();
        continue;
      }
    }
    if (parser_->is_done()) {
      done_ = true;
      leftover_ += pending_.size();
      pending_.clear();
      return {};
    }
    if (n == 0) return {};  // nothing more can be parsed from what is here
  }
  return {};
}

ResponseReader::error_code ResponseReader::finish() {
  if (failed_ || done_) return failed_;
  ended_ = true;
  if (!parser_->got_some()) return failed_ = http::error::end_of_stream;
  error_code ec;
  parser_->put_eof(ec);
  if (ec) return failed_ = ec;
  done_ = parser_->is_done();
  if (!done_) failed_ = http::error::partial_message;
  return failed_;
}

bool ResponseReader::head_done() const noexcept {
  return done_ || (parser_->is_header_done() && parser_->get().result_int() / 100 != 1);
}

bool ResponseReader::done() const noexcept {
  return done_;
}

bool ResponseReader::got_some() const noexcept {
  return interim_ > 0 || !pending_.empty() || parser_->got_some();
}

bool ResponseReader::reusable() const noexcept {
  return done_ && !failed_ && !ended_ && leftover_ == 0 && parser_->keep_alive();
}

}  // namespace igniter::client::detail

#pragma once
// The client's HTTP/1.1 answer parser, without sockets: bytes in (in pieces of any size, as a hostile
// server may send them), one final answer out. Interim 1xx answers are skipped (a bounded number of
// them); the unparsed input (a head, a chunk-size line with its extensions, trailers) and the body are
// bounded; bytes after the end of the answer are counted, never taken for the next answer. Connection
// feeds it from a socket; a fuzz target can feed it directly:
//
//   ResponseReader reader({.max_header_bytes = 64 << 10, .max_body_bytes = 1 << 20});
//   for (auto piece : pieces) if (reader.feed(piece) || reader.done()) break;
//   if (!reader.done()) reader.finish();  // the server closed the connection

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/optional/optional.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace igniter::client::detail {

/// A body that appends what arrives to a string, reserving nothing ahead: a hostile Content-Length
/// cannot make it allocate. Its owner may empty the string between feeds (a stream drains it so).
struct AppendBody {
  using value_type = std::string;

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        body_.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      ec = {};
      return n;
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

/// What one answer may cost.
struct ResponseLimits {
  std::size_t max_header_bytes = 64 << 10;  ///< A head, and any unparsed piece (a chunk-size line, trailers).
  std::optional<std::uint64_t> max_body_bytes = 64 << 20;  ///< The body (nullopt: none, for a stream).
  unsigned max_interim_responses = 5;                      ///< 1xx answers skipped before the final one.
};

/// Reads one final answer. Errors are beast's http errors (header_limit, body_limit, bad_*), plus
/// http::error::buffer_overflow when an unparsed piece (a line) is over max_header_bytes and
/// http::error::bad_status for a status outside 100-599, a 101, or more 1xx answers than allowed. After an
/// error the reader is spent. Not thread-safe.
class ResponseReader {
 public:
  using error_code = boost::beast::error_code;
  using Response = boost::beast::http::response<AppendBody>;

  /// `head_request`: the answer to a HEAD has no body whatever its Content-Length says.
  explicit ResponseReader(ResponseLimits limits, bool head_request = false);

  /// Parses `bytes` as far as they go. Once the answer is done, further bytes only count as leftover().
  error_code feed(std::string_view bytes);
  /// The connection ended: completes an answer delimited by the end of the connection, or fails with
  /// http::error::partial_message.
  error_code finish();

  /// The final answer's head has been parsed (head() is readable; the body may still be arriving).
  bool head_done() const noexcept;
  /// The whole final answer has been parsed.
  bool done() const noexcept;
  /// The answer: head and the body received so far (body() may be emptied by the caller between feeds).
  Response& response() noexcept { return parser_->get(); }
  std::string& body() noexcept { return parser_->get().body(); }
  /// Bytes that arrived after the end of the answer (a server that sent more than it announced).
  std::size_t leftover() const noexcept { return leftover_; }
  /// Some byte of an answer (interim ones included) has arrived.
  bool got_some() const noexcept;
  /// Interim (1xx) answers skipped so far.
  unsigned interim() const noexcept { return interim_; }
  /// The connection may carry another request: the answer is done, keeps the connection alive, was not
  /// delimited by the end of the connection, and nothing followed it.
  bool reusable() const noexcept;

 private:
  void start();
  error_code parse();

  ResponseLimits limits_;
  bool head_request_;
  std::optional<boost::beast::http::response_parser<AppendBody>> parser_;
  std::string pending_;  // received, not yet parsed; never over limits_.max_header_bytes
  std::size_t leftover_ = 0;
  unsigned interim_ = 0;
  bool done_ = false;
  bool ended_ = false;  // finish() was called
  error_code failed_;
};

}  // namespace igniter::client::detail

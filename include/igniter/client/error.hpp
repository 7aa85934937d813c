#pragma once
/// The client's error codes: what `Error::ec` holds when the cause is the client's to name.

#include <system_error>

namespace igniter::client {

/// Why a call or a stream failed, when the cause is not a system error (connection refused, host not
/// found... arrive as the operating system's codes). Compare with `error.ec == client::errc::timeout`.
enum class errc {
  error_response = 1,  ///< the server answered with an error status; its status, code, message and data
                       ///< are in the Error
  invalid_answer,      ///< the answer is not the JSON envelope `{"data":...}`, or its data does not match
                       ///< the type asked for (the issues say where), or it is not HTTP the client reads
                       ///< (a malformed head, a 101, more than max_interim_responses 1xx answers)
  timeout,             ///< no connection, or no (complete) answer, within the configured time
  connection_closed,   ///< the server closed the connection before the answer (or the stream) was complete
  answer_too_large,    ///< the answer's body is larger than ClientOptions::max_body_bytes, or its head
                       ///< (or a chunk-size line, or its trailers) than ClientOptions::max_header_bytes
  invalid_request,     ///< the call cannot be sent: a `:name` path segment without a value, a bad header,
                       ///< a header field longer than HTTP/1.1 fields may be here (64 KiB)
  frame_too_large,     ///< an SSE frame is larger than SubscribeOptions::max_frame_bytes
  closed,              ///< the subscription was closed
  internal_error,      ///< the client failed inside (out of memory...): the exception's text is in the
                       ///< message; a call returns it, a subscription reports it and reconnects
  tls_failed,          ///< https: the TLS handshake failed (the server's certificate is not trusted or not
                       ///< for the URL's host, or no common protocol version); the reason is in the message
};

/// The category of igniter::client::errc; its name() is "igniter.client".
const std::error_category& client_category() noexcept;

/// Makes `std::error_code(e)` work, so errors compare against errc values.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace igniter::client

template <>
struct std::is_error_code_enum<igniter::client::errc> : std::true_type {};

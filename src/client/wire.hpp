#pragma once
// What the client writes and reads, without sockets: the base URL, request targets, query strings,
// answers and their envelopes, cookies, and the realtime frames' JSON. Unit-tested on its own.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "igniter/client/reply.hpp"
#include "igniter/client/subscription.hpp"
#include "igniter/json/value.hpp"

namespace igniter::client::detail {

/// The parts of a base URL `http[s]://host[:port][/path]`.
struct BaseUrl {
  bool tls = false;         ///< https.
  std::string host;         ///< Name or address, without IPv6 brackets: what the resolver takes.
  std::string port;         ///< Decimal; "80" ("443" for https) when the URL has none.
  std::string host_header;  ///< The Host header: as written in the URL (brackets, port when given).
  std::string base_path;    ///< Path prefix of every call, without a trailing '/' ("" for the root).
};

/// Parses a base URL; throws std::invalid_argument naming the problem.
BaseUrl parse_base_url(std::string_view url);

/// Percent-encodes everything but RFC 3986's unreserved characters (ALPHA DIGIT - . _ ~).
std::string percent_encode(std::string_view text);

/// A query value as text: a string as it is, numbers and booleans as JSON writes them, anything else
/// (an object, a nested array) as its JSON text.
std::string query_text(const json::value& value);

/// `k=v&k2=v2` from an object: an array repeats its key, a null member is left out; all encoded.
std::string query_string(const json::object& query);

/// The request target: `base_path` + `path` (a '/' added in front when missing) with each `:name`
/// segment replaced by params[name] (encoded), then the query string. errc::invalid_request names a
/// segment without a value.
Reply<std::string> make_target(std::string_view base_path, std::string_view path, const json::object& params,
                               const json::object& query);

/// A zod-shaped issue object back into a json::Issue (members other than code, path, message, expected
/// and received, such as the server's `in`, go to `details`).
json::Issue issue_from_json(const json::value& value);

/// An answer's status and body as a Reply: the envelope's `data` for a 2xx status (null for an empty
/// body), else the Error its `error` member describes (errc::error_response); errc::invalid_answer when
/// a 2xx body is not an envelope.
Reply<json::value> interpret_answer(unsigned status, std::string_view body);

/// One Set-Cookie line's effect on a cookie jar.
struct CookieChange {
  std::string name;
  std::string value;
  bool remove = false;  ///< Max-Age=0 (or negative), or an empty value
};

/// Reads `name=value; attributes`; nullopt when there is no `name=`. Only Max-Age is honoured, read as
/// RFC 6265 §5.2.2 says: the last one counts; a value that is not `-`? followed by digits only is ignored;
/// zero or negative (however long) deletes; a positive one of any length keeps the cookie.
std::optional<CookieChange> parse_set_cookie(std::string_view line);

/// The bounds of a CookieJar.
struct CookieLimits {
  std::size_t max_cookies = 50;          ///< Cookies kept; a new one past it evicts the oldest.
  std::size_t max_cookie_bytes = 4096;   ///< Name and value of one cookie; a larger one is refused.
  std::size_t max_jar_bytes = 16 << 10;  ///< All names and values; the oldest go to make room.
};

/// One client's cookies (one host: no domain or path rules), bounded in count and bytes so that a server
/// cannot make the Cookie header grow without end. Not thread-safe (ClientState guards it).
class CookieJar {
 public:
  explicit CookieJar(CookieLimits limits = {}) : limits_(limits) {}

  /// Sets cookie `name` (an empty value removes it), evicting the least recently set ones to stay within
  /// the limits. False (and nothing changes) when the cookie alone is over max_cookie_bytes.
  bool set(std::string_view name, std::string_view value);
  void remove(std::string_view name);
  /// The value of `name`, "" when there is none.
  std::string get(std::string_view name) const;
  /// Appends `name=value` pairs, "; "-separated, to a Cookie header value (which may hold some already).
  void append_header(std::string& header) const;

  std::size_t size() const noexcept { return cookies_.size(); }
  /// The names' and values' bytes.
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  struct Entry {
    std::string value;
    std::uint64_t serial = 0;  // when it was set: the smallest is evicted first
  };
  CookieLimits limits_;
  std::map<std::string, Entry, std::less<>> cookies_;
  std::size_t bytes_ = 0;
  std::uint64_t serial_ = 0;
};

/// A `connected` frame: what the user sees, and the token that binds live changes to the stream.
struct ConnectedFrame {
  Connected info;
  std::string token;
};

/// The `connected` frame's data; nullopt when it is not a JSON object.
std::optional<ConnectedFrame> parse_connected(std::string_view data);

/// An event from its frame: the envelope's channel, payload, scopes and timestamp (a frame whose data is
/// not an envelope keeps it whole in `data`, as JSON or else as a string). `type` "" means "message".
Event make_event(std::string id, std::string type, std::string_view data);

/// The answer of a live channel change.
ChannelChange parse_channel_change(const json::value& data);

/// `a,b,c`.
std::string join_comma(const std::vector<std::string>& items);

}  // namespace igniter::client::detail

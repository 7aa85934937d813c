#pragma once
/// igniter::client::Client: typed calls to an igniter-cpp app (described structs in and out) and its
/// realtime stream, from a plain C++ program, over HTTP/1.1 or HTTPS.
///
///   client::Client api("http://127.0.0.1:3000/api/v1");
///   auto post = api.post<Post>("/posts", CreatePost{.title = "Hello"});
///   if (!post) std::cerr << post.error().status << " " << post.error().message << "\n";

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "igniter/client/error.hpp"
#include "igniter/client/reply.hpp"
#include "igniter/client/subscription.hpp"
#include "igniter/http/method.hpp"
#include "igniter/json/decode.hpp"
#include "igniter/json/encode.hpp"
#include "igniter/json/value.hpp"
#include "igniter/realtime/presence.hpp"

namespace igniter::client {

/// Header fields, in order; names are sent as written.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// Settings of a Client. The limits bound what a server (a hostile one included) can make the client
/// hold; past one, the call fails with an Error (never an exception) and its connection is closed.
struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};  ///< Resolving the host and connecting.
  std::chrono::milliseconds timeout{30'000};         ///< Sending a request and receiving its whole answer.
  std::size_t max_body_bytes = 64 << 20;             ///< Largest answer body (errc::answer_too_large).
  /// Largest answer head (status line and fields), and largest piece of body framing the client must hold
  /// at once: a chunk-size line with its extensions, the trailers (errc::answer_too_large).
  std::size_t max_header_bytes = 64 << 10;
  unsigned max_interim_responses = 5;    ///< 1xx answers (100, 103...) skipped before the final one;
                                         ///< more are errc::invalid_answer.
  std::size_t max_idle_connections = 4;  ///< Keep-alive connections kept open between calls.
  Headers headers;                       ///< Sent with every request and stream.
  bool keep_cookies = true;      ///< Keep the cookies answers set (name and value; Max-Age=0 deletes) and
                                 ///< send them back with later requests and streams.
  std::size_t max_cookies = 50;  ///< Cookies in the jar; a new one past it evicts the oldest (RFC 6265).
  std::size_t max_cookie_bytes = 4096;  ///< Name and value of one cookie; a larger Set-Cookie is ignored.
  std::size_t max_cookie_jar_bytes = 16 << 10;  ///< All cookies' names and values; past it the oldest go.
  std::string tls_ca_file;  ///< https: trust the CAs of this PEM file instead of the system's store.
  bool tls_verify = true;   ///< https: check the server's certificate chain and host name (SNI is sent
                            ///< either way). Turning it off makes https no safer than http.
};

/// One call's inputs, as Igniter.js names them: path parameters, query, body.
struct CallOptions {
  json::object params;              ///< Values of the path's `:name` segments (`/posts/:id`, {{"id", 1}}).
  json::object query;               ///< The query string; an array repeats its key, a null is left out.
  std::optional<json::value> body;  ///< JSON body, sent as `application/json`.
  Headers headers;                  ///< Extra headers of this call (after the client's).
  std::chrono::milliseconds timeout{0};  ///< This call's bound instead of ClientOptions::timeout (0: that).
};

namespace detail {
class ClientState;

/// The JSON object a query is written from: a described struct (or string map) encoded, or an object.
template <class Query>
json::object query_object(const Query& query) {
  if constexpr (std::is_same_v<Query, json::object>) {
    return query;
  } else {
    static_assert(
        json::detail::DescribedStruct<Query> || json::detail::StringMap<Query>,
        "igniter::client: a query is a described struct, a std::map<std::string, T> or a json::object");
    return json::encode(query).as_object();
  }
}

/// The envelope's data decoded into Out; an answer that does not fit becomes errc::invalid_answer.
template <class Out>
Reply<Out> decode_reply(Reply<json::value> reply) {
  if constexpr (std::is_same_v<Out, json::value>) {
    return reply;
  } else {
    if (!reply) return std::move(reply).error();
    auto decoded = json::decode<Out>(*reply);
    if (decoded) return Reply<Out>(std::move(*decoded), reply.status());
    Error error{.ec = errc::invalid_answer,
                .status = reply.status(),
                .message = "The answer's data does not match the type asked for (" +
                           json::path_to_string(decoded.issues.front().path) + ": " +
                           decoded.issues.front().message + ")",
                .data = std::move(*reply),
                .issues = std::move(decoded.issues)};
    return error;
  }
}
}  // namespace detail

/// A connection to one igniter-cpp app, named by its base URL (`http://host:port/api/v1`): typed calls
/// and realtime subscriptions.
///
/// Calls block the calling thread until the answer (or ClientOptions::timeout). The Client is
/// thread-safe: concurrent calls use separate connections from its keep-alive pool, and headers and
/// cookies may be changed while calls run (a call sends those of the moment it starts). Copies share
/// connections, headers and cookies; so do the subscriptions it opens, which may outlive it.
class Client {
 public:
  /// Throws std::invalid_argument for a URL that is not `http[s]://host[:port][/path]`, or an https one
  /// whose tls_ca_file cannot be read. https verifies the server against the system's CA store (or
  /// tls_ca_file) and the URL's host name; a failure is a call's Error, as a refused connection is.
  explicit Client(std::string_view base_url, ClientOptions options = {});

  /// Calls `method path` (relative to the base URL; `:name` segments come from `options.params`) and
  /// decodes the envelope's `data` into Out (json::value keeps it as it is).
  template <class Out = json::value>
  Reply<Out> call(Method method, std::string_view path, CallOptions options = {}) const {
    return detail::decode_reply<Out>(call_json(method, path, options));
  }

  /// GET without a query.
  template <class Out = json::value>
  Reply<Out> get(std::string_view path) const {
    return call<Out>(Method::GET, path);
  }
  /// GET with the query string written from `query` (a described struct, string map or json::object).
  template <class Out = json::value, class Query>
  Reply<Out> get(std::string_view path, const Query& query) const {
    return call<Out>(Method::GET, path, {.query = detail::query_object(query)});
  }
  /// POST with `body` encoded as JSON (a described struct, or anything json::encode takes).
  template <class Out = json::value, class Body>
  Reply<Out> post(std::string_view path, const Body& body) const {
    return call<Out>(Method::POST, path, {.body = json::encode(body)});
  }
  /// POST without a body.
  template <class Out = json::value>
  Reply<Out> post(std::string_view path) const {
    return call<Out>(Method::POST, path);
  }
  /// PUT with a JSON body.
  template <class Out = json::value, class Body>
  Reply<Out> put(std::string_view path, const Body& body) const {
    return call<Out>(Method::PUT, path, {.body = json::encode(body)});
  }
  /// PATCH with a JSON body.
  template <class Out = json::value, class Body>
  Reply<Out> patch(std::string_view path, const Body& body) const {
    return call<Out>(Method::PATCH, path, {.body = json::encode(body)});
  }
  /// DELETE.
  template <class Out = json::value>
  Reply<Out> del(std::string_view path) const {
    return call<Out>(Method::DELETE, path);
  }

  /// The answer's `data` as JSON: what every typed call goes through.
  Reply<json::value> call_json(Method method, std::string_view path, const CallOptions& options) const;

  /// Sets a header sent with every later request and stream (replacing one of the same name, ignoring
  /// case); an empty value removes it. Throws std::invalid_argument for a name or value with CR or LF.
  void set_header(std::string_view name, std::string_view value);
  /// Sets a cookie sent with every later request and stream; an empty value removes it. The jar's limits
  /// apply (the oldest cookies are evicted); throws std::invalid_argument for a name or value that is not
  /// a cookie's, or one larger than ClientOptions::max_cookie_bytes.
  void set_cookie(std::string_view name, std::string_view value);
  /// The value of cookie `name` ("" when there is none), as set by set_cookie or by an answer.
  std::string cookie(std::string_view name) const;

  /// Who is on `channel` (members, anonymous streams, count), from the app's `GET <sse_path>/presence`
  /// (served when the app tracks the channel with PresenceOptions::serve_http; docs/presence.md). Errors
  /// as any call: 404 for a channel not tracked, 403 when the app's channel guard refuses this client.
  Reply<Presence> presence(std::string_view channel, std::string_view sse_path = "/sse/events") const {
    return get<Presence>(std::string(sse_path) + "/presence", json::object{{"channel", channel}});
  }
  /// Opens a realtime subscription (its thread starts connecting at once). See Subscription.
  Subscription subscribe(SubscribeOptions options) const;

  /// The base URL, as given.
  const std::string& base_url() const noexcept;

 private:
  std::shared_ptr<detail::ClientState> state_;
};

}  // namespace igniter::client

#pragma once
/// RedisStore: the store shared by several processes through a Redis server.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/store/store.hpp"

namespace igniter::store {

/// A host and port, as in the list of Sentinels of a redis-sentinel:// URL.
struct RedisAddress {
  std::string host;            ///< host name or IP address (IPv6 without brackets)
  std::uint16_t port = 26379;  ///< TCP port (Sentinel's default when the URL gives none)

  friend bool operator==(const RedisAddress&, const RedisAddress&) = default;
};

/// Where a Redis server is and how to log in, as read from "redis://[user:password@]host[:port][/db]",
/// or how to find it through Redis Sentinel, as read from
/// "redis-sentinel://[user:password@]host1[:port1][,host2[:port2]...]/master-name[/db]
///  [?sentinel_user=name&sentinel_password=secret]".
/// With Sentinels, `host` and `port` are unused: the store asks the Sentinels (in turn) for the master's
/// address before each connection attempt, checks with ROLE that it is the master, and follows
/// `+switch-master`. The URL's user and password are for the data nodes (master and replicas); the
/// Sentinels get sentinel_user / sentinel_password (none by default).
struct RedisEndpoint {
  std::string host = "127.0.0.1";         ///< host name or IP address (IPv6 without brackets)
  std::uint16_t port = 6379;              ///< TCP port
  std::string user{};                     ///< ACL user name; empty: the default user
  std::string password{};                 ///< sent with AUTH when not empty
  int db = 0;                             ///< database selected with SELECT
  std::vector<RedisAddress> sentinels{};  ///< not empty: find the master through these Sentinels
  std::string master_name{};              ///< the master's name in the Sentinels' configuration
  std::string sentinel_user{};            ///< ACL user name for the Sentinels; empty: the default user
  std::string sentinel_password{};        ///< sent with AUTH to the Sentinels when not empty

  friend bool operator==(const RedisEndpoint&, const RedisEndpoint&) = default;
};

/// Most Sentinels a redis-sentinel:// URL may list.
inline constexpr std::size_t kMaxSentinels = 16;

/// Parses a redis:// or redis-sentinel:// URL (percent-decoding user, password, master name and query
/// values). errc::invalid_url when it is malformed: another scheme (TLS "rediss://" is not supported), a
/// port outside 1..65535, a db that is not a non-negative integer, a fragment, a query on redis://; for
/// redis-sentinel://, no Sentinel or more than kMaxSentinels, an empty host, a missing master name, or a
/// query parameter other than sentinel_user and sentinel_password. When `why` is given it receives a
/// one-line reason to show to whoever wrote the URL.
Result<RedisEndpoint> parse_redis_url(std::string_view url, std::string* why = nullptr);

/// One Redis reply, as RESP2 describes it.
struct Reply {
  enum class Kind { string, array, integer, nil, status, error };
  Kind kind = Kind::nil;        ///< which of the fields below holds the reply
  std::string text;             ///< for string, status and error ("ERR unknown command ...")
  std::int64_t integer = 0;     ///< for integer
  std::vector<Reply> elements;  ///< for array

  bool is_error() const noexcept { return kind == Kind::error; }
  bool is_nil() const noexcept { return kind == Kind::nil; }
};

/// Called once with the reply to an asynchronous command, on the store's I/O thread.
using ReplyHandler = std::function<void(Result<Reply>)>;
/// Called with true when the store (re)gains Redis with its subscriptions restored, false when it loses it.
using ConnectionHandler = std::function<void(bool connected)>;

/// A Store on a Redis server, over two connections: one for commands, pipelined, and one for
/// subscriptions. Values are stored as JSON text; counters as Redis integers (which are JSON too).
///
/// Threads: the store owns one I/O thread that does all its networking and runs every handler
/// (subscription messages, async replies, connection changes) in the order events arrive. A slow handler
/// delays everything else of this store: hand long work to your own executor.
/// Blocking calls (the Store members and command()) post to the I/O thread and wait for the reply, at
/// most StoreOptions::timeout: a command still unsent then is withdrawn (errc::unavailable: it never
/// runs); one already written gets errc::timeout (it may have run) once its connection, whose reply is
/// overdue, is closed, at most ~250 ms later. Do not make them on an event-loop thread you care about,
/// and never from a handler of this store (errc::would_deadlock). Use command_async() there.
///
/// Replies are input: each is bounded by StoreOptions::max_reply_bytes and checked against what the call
/// expects; a reply too large, malformed or of the wrong kind fails the call (errc::reply_too_large,
/// errc::protocol) and the connection is closed and reopened with backoff.
///
/// Redis going away: while a connection is down, calls fail at once with errc::unavailable (nothing is
/// queued); the store reconnects with exponential backoff (reconnect_min doubling up to reconnect_max),
/// restores its subscriptions, and then reports `true` to connection listeners. Messages published while
/// the subscription connection was down are lost: that is what the listeners are for.
///
/// With Sentinels (RedisEndpoint::sentinels): every connection attempt first asks the Sentinels, one
/// after the other, where the master is, and a server whose ROLE is not master is left at once. A
/// connection to a Sentinel subscribed to `+switch-master` closes both connections as soon as a failover
/// is announced, and they reconnect at once to the new master; a connection lost, or a READONLY reply
/// (a demoted master), also sends them back to the Sentinels. During a failover calls fail fast with
/// errc::unavailable, as while Redis is down. Writes the old master acknowledged but had not replicated
/// are lost (Redis replication is asynchronous): see docs/store.md.
class RedisStore final : public Store {
 public:
  /// Connects to `endpoint` and waits, at most options.timeout, for both connections to be ready.
  /// Fails with errc::auth_failed on bad credentials, errc::command_failed if SELECT fails, and
  /// errc::unavailable if Redis cannot be reached in time (unless options.require_connection is false:
  /// then the store is returned and keeps trying in the background).
  static Result<std::shared_ptr<RedisStore>> open(RedisEndpoint endpoint, StoreOptions options = {});
  /// Same, from a redis:// URL; errc::invalid_url when parse_redis_url() rejects it.
  static Result<std::shared_ptr<RedisStore>> open(std::string_view url, StoreOptions options = {});

  /// Closes both connections (pending async handlers get errc::unavailable) and joins the I/O thread.
  ~RedisStore() override;

  Result<std::optional<json::value>> get(std::string_view key) override;
  Result<void> set(std::string_view key, const json::value& value,
                   std::optional<std::chrono::milliseconds> ttl = {}) override;
  Result<bool> remove(std::string_view key) override;
  Result<bool> has(std::string_view key) override;
  Result<std::int64_t> increment(std::string_view key, std::int64_t by = 1) override;
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) override;
  Result<void> publish(std::string_view channel, const json::value& message) override;
  /// Returns once Redis has confirmed the subscription (errc::unavailable when the subscription
  /// connection is down, errc::timeout without confirmation). Handlers run on the I/O thread.
  Result<Subscription> subscribe(std::string_view channel, MessageHandler handler) override;

  /// Runs one Redis command on the command connection and waits for its reply (XADD, EVAL, ...).
  /// A Redis error reply is a Reply of kind error, not a failed Result; the Result fails only when no
  /// reply came (unavailable, timeout, busy, would_deadlock). Keys are sent as given: use key() to add
  /// the prefix. Blocking commands (BLPOP, XREAD BLOCK) would stall the shared pipeline: avoid them.
  Result<Reply> command(std::vector<std::string> args);
  /// Same, for literal arguments: `store.command({"XADD", store.key("log"), "*", "f", "v"})`.
  Result<Reply> command(std::initializer_list<std::string_view> args);
  /// Sends one command without waiting; `done` runs exactly once on the I/O thread with the reply or the
  /// error (errc::unavailable at once when disconnected, errc::busy when too many are in flight).
  /// Commands from one thread reach Redis in call order.
  void command_async(std::vector<std::string> args, ReplyHandler done);

  /// Registers `handler` for the connection changes after this call, until the returned handle goes; it
  /// runs on the I/O thread. Read connected() after registering for the state to start from.
  Subscription on_connection_change(ConnectionHandler handler);
  /// True while both connections are up and subscriptions restored.
  bool connected() const noexcept;
  /// `name` with StoreOptions::key_prefix in front: the key or channel name this store uses in Redis.
  std::string key(std::string_view name) const;
  /// The endpoint this store was opened with (with Sentinels: the Sentinels, not the current master).
  const RedisEndpoint& endpoint() const noexcept;
  /// The options this store was opened with.
  const StoreOptions& options() const noexcept;

 private:
  struct Impl;  // the connections and the I/O thread: hiredis and Asio stay out of this header
  explicit RedisStore(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace igniter::store

#pragma once
/// Realtime: the app's side of the SSE hub — publish custom messages, revalidate queries, grant and revoke
/// scopes, authorize channels, read counters. Reached as `app.realtime()` or `c.realtime()` in a handler.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "igniter/base/result.hpp"
#include "igniter/json/json.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/server/presence.hpp"

namespace igniter {

class Ctx;

namespace server {
class Hub;
}

/// Counters of the realtime hub (also served at /metrics in Prometheus text format).
struct RealtimeStats {
  std::uint64_t connections = 0;              ///< Open SSE connections.
  std::uint64_t events_published = 0;         ///< Events recorded (revalidations and messages).
  std::uint64_t events_delivered = 0;         ///< Frames queued to subscribers (incl. replays).
  std::uint64_t events_dropped = 0;           ///< Frames not delivered: subscriber over its bound.
  std::uint64_t slow_client_disconnects = 0;  ///< Connections cut for falling behind.
  std::uint64_t resyncs = 0;                  ///< Resumes that could not be replayed (gap announced).
  std::uint64_t batched_writes = 0;  ///< Stream writes handed to the kernel in batches (batched_writes).
  std::map<std::string, std::uint64_t> subscribers;  ///< Subscribers per channel, summed over shards.
};

/// The realtime hub as the application sees it. Every member may be called from any thread, at any time
/// after the App exists (events published before the server starts are kept in the history), except
/// the setters scopes() and authorize(): configuration, called before the server starts.
class Realtime {
 public:
  /// Decides which scopes an SSE connection holds, from its request (after the app-wide procedures ran
  /// on it, so a session procedure's data is there). The `scopes` parameter a page sends only narrows it.
  using ScopeResolver = std::function<std::vector<std::string>(Ctx&)>;
  /// Decides whether a connection may read `channel`: an empty optional admits it; a string refuses it
  /// with that reason (reported to the client for that channel only; the stream stays open).
  using ChannelGuard = std::function<std::optional<std::string>(Ctx&, std::string_view channel)>;

  explicit Realtime(server::Hub& hub) : hub_(hub) {}

  /// Sends `data` to every subscriber of `channel` (only those holding one of `options.scopes` when it is
  /// not empty). The Igniter.js client receives it when `options.type` is "message" (the default).
  /// Returns the event's id. Throws std::invalid_argument for an invalid channel name (names starting
  /// with "__igniter." are the framework's) or type, and std::system_error when the event was not
  /// recorded: larger than RealtimeOptions::max_event_bytes (realtime::Error::event_too_large), a shard's
  /// inbox full (realtime::Error::overloaded), a Redis store unreachable (store::errc::unavailable).
  /// A refused event reaches nobody.
  realtime::EventId publish(std::string_view channel, json::value data,
                            realtime::PublishOptions options = {});
  /// publish() that reports an unrecordable event as a value (event_too_large, overloaded,
  /// store::errc::unavailable, ...) instead of throwing. With a Redis store, every process of the cluster is
  /// told to resync once Redis is back.
  Result<realtime::EventId> try_publish(std::string_view channel, json::value data,
                                        realtime::PublishOptions options = {});

  /// Makes clients refetch every query whose key starts with one of `keys` ("posts.list", or an instance
  /// key made with realtime::query_key); with `scopes`, only clients holding one of them. Throws like
  /// publish().
  realtime::EventId revalidate(std::vector<std::string> keys, std::vector<std::string> scopes = {},
                               json::value data = nullptr);
  /// revalidate() that reports an unrecordable event as a value, like try_publish().
  Result<realtime::EventId> try_revalidate(std::vector<std::string> keys,
                                           std::vector<std::string> scopes = {}, json::value data = nullptr);

  /// Closes every open stream holding `scope`, on every process of the cluster: for a logout, a ban, a
  /// role change. Each such stream receives what was queued before, then a `: revoked` comment, then the
  /// server closes it; its client reconnects by itself (EventSource, Igniter.js and igniter::client all
  /// do), resuming from its last event id, and is granted scopes from its credentials as they are now.
  /// An event published after this returns never reaches a revoked stream (with a Redis store: once every
  /// process has read the revocation, in stream order, like any event). A stream is reached by the scopes
  /// its credentials were granted, even those its client narrowed away; one opening meanwhile whose
  /// credentials were read before the revocation is ended as it opens. Invalidate the credentials first,
  /// then revoke: streams opened after that get scopes from the new credentials.
  /// Errors: std::errc::invalid_argument for an empty scope; with a Redis store, why Redis did not take
  /// the revocation (nothing was revoked anywhere then: retry).
  Result<void> revoke(std::string_view scope);
  /// Removes `scope` from every open stream holding it, on every process, without closing them: they stop
  /// receiving events scoped only to it and keep everything else. Errors like revoke().
  Result<void> drop_scope(std::string_view scope);

  /// Sets the scope resolver. Without one, connections hold no scopes (unless RealtimeOptions says to
  /// trust the client's list).
  Realtime& scopes(ScopeResolver resolver);
  /// Sets the channel guard (runs for every channel a connection asks for, including stream channels,
  /// before their procedures).
  Realtime& authorize(ChannelGuard guard);

  /// A snapshot of the counters.
  RealtimeStats stats() const;

  /// Tracks who has a stream open on `options.channels` (docs/presence.md): configuration, called once
  /// before the server starts. Throws std::invalid_argument for an invalid channel name or interval, and
  /// std::logic_error when called twice or while the server is running.
  Realtime& track_presence(PresenceOptions options);
  /// Who is on `channel` now, over every process of the cluster: open streams, anonymous ones, members.
  /// Joins and leaves show within PresenceOptions::flush_interval on other processes (at once on this
  /// one); a member lingers for PresenceOptions::linger after its last stream closes. With a Redis store
  /// this waits for Redis (at most StoreOptions::timeout): call it from handlers (worker threads), not
  /// from an event loop. Throws std::invalid_argument for a channel not tracked, std::system_error when
  /// Redis did not answer.
  Presence presence(std::string_view channel) const;
  /// presence() that reports a failure as a value: std::errc::invalid_argument for a channel not tracked,
  /// store errors (unavailable, timeout) when Redis did not answer.
  Result<Presence> try_presence(std::string_view channel) const;

 private:
  server::Hub& hub_;
};

}  // namespace igniter

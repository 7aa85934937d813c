#pragma once
/// Presence: who has a stream open on a channel now, across every process of the app (docs/presence.md).
///
/// The app names the channels it tracks and what identifies a member (PresenceOptions, given to
/// `app.realtime().track_presence(...)` before the server starts), then reads a channel with
/// `app.realtime().presence(channel)` or `c.realtime().presence(channel)` in a handler.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "igniter/realtime/presence.hpp"

namespace igniter {

class Ctx;

/// Tells which member a stream belongs to, from its request and the scopes it was granted; nullopt makes
/// the stream anonymous. Runs on a worker thread when the stream opens (after the scope resolver).
using PresenceMember =
    std::function<std::optional<std::string>(Ctx&, const std::vector<std::string>& scopes)>;

/// A PresenceMember that takes the member from the first granted scope starting with `prefix`:
/// `member_from_scope("user:")` makes a stream holding `user:42` the member "42".
PresenceMember member_from_scope(std::string prefix);

/// What presence tracks and its limits; an aggregate meant for designated initializers.
struct PresenceOptions {
  /// The channels tracked (as clients subscribe to them; `x:{}` counts as `x`). Other channels: no presence.
  std::vector<std::string> channels;
  /// What identifies a member; empty: every stream is anonymous.
  PresenceMember member{};
  /// Query keys revalidated (for everyone) when a tracked channel's members change, at most once per
  /// revalidate_interval per process: a page listing members refetches it.
  std::vector<std::string> revalidate{};
  /// A channel on which joins and leaves are published (`{"channel","member","action":"join"|"leave"}`);
  /// empty: none. Guard it with `authorize()` if member ids are private.
  std::string events_channel{};
  /// Serve `GET <sse_path>/presence?channel=<c>` (what the JS client's usePresence reads) to requesters
  /// the channel guard admits to `c`; off by default, since it lists members.
  bool serve_http = false;
  /// A member whose last stream on a channel closed stays listed this long: a tab reload (or a stream
  /// moving to another process) is no leave and join.
  std::chrono::milliseconds linger{1000};
  /// How soon a change reaches the store (Redis) and the events channel: the presence thread's period.
  std::chrono::milliseconds flush_interval{100};
  /// Redis: how often this process rewrites its entries (keeping them from expiring).
  std::chrono::milliseconds heartbeat{1000};
  /// Redis: a process's entries expire this long after it last wrote them (a process killed).
  std::chrono::milliseconds expiry{5000};
  /// The shortest time between two revalidations of `revalidate` by one process.
  std::chrono::milliseconds revalidate_interval{1000};
  /// Most members presence() lists for a channel (the rest: `truncated`).
  std::size_t max_members_listed = 1000;
  /// Most members one process tracks per channel; a stream of a member past it is counted as anonymous.
  std::size_t max_members_per_channel = 10'000;
  /// Longest member id, in bytes; a stream whose member id is longer (or empty) is counted as anonymous.
  std::size_t max_member_bytes = 128;
};

}  // namespace igniter

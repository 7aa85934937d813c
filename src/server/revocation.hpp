#pragma once
// Revocation: closing, or taking a scope from, every stream holding a scope, on every process. It travels
// as a control event on a reserved channel through the ordinary publish path (the local history, or the
// cluster's Redis stream), so every process reads it once and each shard applies it in event order
// (Hub::apply_control). No client can subscribe to a reserved channel: it is never delivered or replayed.

#include <optional>
#include <string>
#include <string_view>

#include <vector>

#include "igniter/realtime/event.hpp"
#include "realtime/frame.hpp"
#include "realtime/scope_set.hpp"

namespace igniter::server {

/// The control channel of revocations (inside realtime::kReservedChannelPrefix).
inline constexpr std::string_view kRevocationChannel = "__igniter.revoke";
/// Event type of a revocation that closes the streams holding its scope.
inline constexpr std::string_view kRevokeType = "revoke";
/// Event type of a revocation that removes its scope from the streams holding it.
inline constexpr std::string_view kDropScopeType = "drop-scope";
/// What a revoked stream receives last, before the server closes it: a comment, which every SSE client
/// ignores (EventSource, Igniter.js, ours) before reconnecting by itself.
inline constexpr std::string_view kRevokedBytes = ": revoked\n\n";

/// The scopes a new stream was granted, as revocation needs them (Hub::open to Hub::start_stream).
struct Grant {
  std::vector<std::string> held;      ///< After the client's narrowing: what its events are filtered by.
  std::vector<std::string> withheld;  ///< Resolved but narrowed away: not held, still revocable.
  realtime::EventId resolved_after;   ///< The history's newest event before the credentials were read.
  std::optional<std::string>
      member;  ///< Presence: the member the stream belongs to (PresenceOptions::member).
};

/// The frame a revoked stream receives last (kRevokedBytes), shared.
const realtime::Frame& revoked_frame();

/// The scopes of `resolved` (what the app's resolver granted a stream) that `held` (what the client's
/// `scopes` parameter narrowed it to) lacks: a revocation reaches a stream by these too, so that no client
/// shields a stream from a logout by narrowing the session's scope away.
std::vector<std::string> revocable_withheld(const realtime::ScopeSet& resolved,
                                            const std::vector<std::string>& held);

/// The control event revoking `scope` (type kRevokeType or kDropScopeType); the scope is its only scope.
realtime::Event revocation_event(std::string_view type, std::string_view scope);

}  // namespace igniter::server

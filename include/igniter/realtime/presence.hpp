#pragma once
/// igniter::Presence: who is on a channel, as the server's realtime().presence() returns it and its
/// `GET <sse_path>/presence?channel=` answers it (docs/presence.md). Header-only, so that the client reads
/// the same type the server writes.

#include <boost/describe/class.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace igniter {

/// Who is on a channel: every open stream that subscribed to it, on every process.
struct Presence {
  std::uint64_t count = 0;           ///< Open streams on the channel.
  std::uint64_t anonymous = 0;       ///< Of those, the streams without a member (counted, never listed).
  std::vector<std::string> members;  ///< Distinct members with a stream open, sorted; each listed once.
  bool truncated = false;            ///< More members than PresenceOptions::max_members_listed: some omitted.
};
BOOST_DESCRIBE_STRUCT(Presence, (), (count, anonymous, members, truncated))

}  // namespace igniter

#pragma once
// Fan-out passes: how a shard turns its inbox into writes (Hub::start_pass / continue_pass in
// hub_fanout.cpp). A pass queues every event it took to the subscribers of that event's channel, then
// writes to the sessions it touched slice by slice, yielding to the event loop between slices.
// docs/architecture.md, "The realtime hot path", has the numbers that chose the slicing below.

#include <algorithm>
#include <cstddef>

namespace igniter::server {

/// A pass writes to its sessions in this many slices at most...
inline constexpr std::size_t kSlicesPerPass = 128;
/// ...each of at least this many sessions.
inline constexpr std::size_t kMinSlice = 32;

/// How many sessions each slice of a pass over `sessions` writes to.
constexpr std::size_t pass_slice(std::size_t sessions) noexcept {
  return std::max(kMinSlice, sessions / kSlicesPerPass);
}

/// The most bytes of events one pass takes from a shard's inbox: half a session's bound, so that a
/// client that reads keeps up with any burst (the rest waits for the next pass).
constexpr std::size_t pass_budget(std::size_t max_pending_bytes) noexcept {
  return max_pending_bytes / 2;
}

}  // namespace igniter::server

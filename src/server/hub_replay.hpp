#pragma once
// Resume: what a stream opening with Last-Event-ID missed, read from the history and filtered like live
// delivery would be, then sent page by page within the connection's bound before the stream goes live.
// The socket-free decisions are here (unit-tested); Hub::start_stream, replay_page, go_live and
// continue_replay (hub_replay.cpp) apply them to a session.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "realtime/history.hpp"

namespace igniter::server {

/// Whether `names` (a stream's channels as named) holds `channel` itself.
inline bool holds_plain(const std::vector<std::string>& names, std::string_view channel) {
  return std::find(names.begin(), names.end(), channel) != names.end();
}

/// A stream's channels as a replay matches events against them: by name, and as the alias
/// `<channel>:{}`. A resume checks every event of the history (up to history_max_events) on the shard's
/// thread, for a stream of up to max_channels_per_connection names: each check is a hash lookup, not a
/// scan of the names (which let one request with many long names hold the thread for milliseconds).
class ChannelMatch {
 public:
  explicit ChannelMatch(const std::vector<std::string>& names) {
    for (const auto& name : names) {
      plain_.insert(name);
      if (name.size() >= 3 && name.ends_with(":{}")) aliased_.insert(name.substr(0, name.size() - 3));
    }
  }
  /// Holds `channel` itself.
  bool plain(std::string_view channel) const { return plain_.find(channel) != plain_.end(); }
  /// Holds `<channel>:{}`.
  bool alias(std::string_view channel) const { return aliased_.find(channel) != aliased_.end(); }
  /// Either.
  bool any(std::string_view channel) const { return plain(channel) || alias(channel); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> plain_, aliased_;
};

/// Where a new stream starts and what it is replayed first.
struct ResumePlan {
  std::vector<realtime::StoredEventPtr> events;  ///< To replay, in order (may exceed one page).
  bool resync = false;                           ///< The gap cannot be filled: announce a refetch.
  realtime::EventId position;                    ///< The `connected` frame's position.
  std::uint64_t replayed_through = 0;  ///< Live events up to this seq are skipped (replayed or before).
};

/// The plan for a stream that sent `last_event_id` (empty: a fresh stream), keeping the events for which
/// `keep(const Event&)` is true. A gap (history window passed, another epoch, an id we never issued:
/// another server, an Igniter.js UUID) is a resync from the newest position.
template <class Keep>
ResumePlan plan_resume(realtime::History& history, std::string_view last_event_id,
                       std::chrono::system_clock::time_point now, Keep&& keep) {
  ResumePlan plan;
  plan.position = history.latest_id();
  if (!last_event_id.empty()) {
    if (auto last = realtime::parse_event_id(last_event_id)) {
      auto replay = history.replay_after(*last, now, keep);
      plan.events = std::move(replay.events);
      plan.resync = replay.gap;
      if (!plan.resync) plan.position = *last;  // the stream continues from the client's own position
    } else {
      plan.resync = true;
    }
  }
  plan.replayed_through = plan.position.seq;
  for (const auto& stored : plan.events)
    plan.replayed_through = std::max(plan.replayed_through, stored->event.id.seq);
  if (plan.resync) {
    plan.position = history.latest_id();
    plan.replayed_through = std::max(plan.replayed_through, plan.position.seq);
  }
  return plan;
}

}  // namespace igniter::server

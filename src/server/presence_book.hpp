#pragma once
// Presence bookkeeping of one process (socket-free, unit-tested): which streams are on which tracked
// channel, as which member; members linger after their last stream closes; what changed since the last
// look. Any thread (own mutex; every call is short and does no I/O). docs/presence.md.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace igniter::server {

/// One process's presence on one channel.
struct LocalPresence {
  std::uint64_t streams = 0;         // open streams
  std::uint64_t anonymous = 0;       // of which without a (listed) member
  std::vector<std::string> members;  // sorted: members with an open stream, or lingering
};

/// A member appearing on, or gone from, a channel of this process (after coalescing).
struct PresenceChange {
  std::string channel;
  std::string member;
  bool joined = false;  // false: left
};

class PresenceBook {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::chrono::milliseconds linger{1000};
    std::size_t max_members_per_channel = 10'000;
    std::size_t max_member_bytes = 128;
  };

  PresenceBook(std::vector<std::string> channels, Limits limits);

  /// Whether `channel` (canonical) is tracked.
  bool tracks(std::string_view channel) const;
  /// Stream `stream` opened as `member` (nullopt: anonymous; an empty id or one longer than
  /// max_member_bytes is anonymous too). Until it closes, its joins count for that member.
  void open(std::uint64_t stream, std::optional<std::string> member);
  /// Stream `stream` is on `channel` (canonical; untracked ones are ignored, and so is a second join).
  void join(std::uint64_t stream, std::string_view channel, Clock::time_point now);
  /// Stream `stream` left `channel` (no-op when it was not on it).
  void leave(std::uint64_t stream, std::string_view channel, Clock::time_point now);
  /// Stream `stream` closed: it leaves every channel.
  void close(std::uint64_t stream, Clock::time_point now);

  /// What changed since the last take(): members joined or left (lingering ones whose time is up by `now`
  /// leave now; one that left and came back meanwhile is no change), and every channel whose local
  /// presence changed (the store must be told).
  struct Delta {
    std::vector<std::string> channels;    // changed, sorted
    std::vector<PresenceChange> changes;  // in channel, member order
  };
  Delta take(Clock::time_point now);
  /// This process's presence on `channel` at `now` (lingering members included).
  LocalPresence local(std::string_view channel, Clock::time_point now) const;
  /// The tracked channels with anything on them here.
  std::vector<std::string> occupied() const;
  /// Streams on tracked channels here (for tests and diagnostics).
  std::size_t streams() const;

 private:
  struct Member {
    std::uint64_t streams = 0;
    Clock::time_point linger_until{};  // when streams == 0: listed until then
    bool announced = false;            // the last take() reported it present
  };
  struct Channel {
    std::uint64_t streams = 0;
    std::uint64_t anonymous = 0;
    std::map<std::string, Member, std::less<>> members;
  };
  struct Membership {  // one stream on one channel
    std::string channel;
    std::optional<std::string> member;  // listed as this member; nullopt: counted anonymous
  };
  void leave_locked(Membership& m, Clock::time_point now);
  void expire_locked(Channel& channel, std::string_view name, Clock::time_point now);

  Limits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, Channel, std::less<>> channels_;  // every tracked channel
  struct Stream {
    std::optional<std::string> member;
    std::vector<Membership> on;
  };
  std::unordered_map<std::uint64_t, Stream> streams_;      // open streams (one entry each, closed: erased)
  std::set<std::string, std::less<>> dirty_;               // channels changed since the last take()
  std::set<std::pair<std::string, std::string>> touched_;  // (channel, member) to compare at take()
};

}  // namespace igniter::server

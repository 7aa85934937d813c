#pragma once
// Presence of the whole app: this process's PresenceBook, mirrored into Redis (with a Redis store) by a
// presence thread that also publishes joins/leaves and revalidations. The hub's hooks (a stream opening,
// changing channels, closing) only touch the book: no I/O thread ever waits for Redis. docs/presence.md.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/server/presence.hpp"
#include "igniter/store/redis_store.hpp"
#include "server/presence_book.hpp"

namespace igniter {
class Realtime;
}

namespace igniter::server {

/// One process's presence entry as kept in Redis: its JSON text, and back.
std::string encode_process_presence(const LocalPresence& local);
/// Parses an entry; nullopt when it is not one (Redis bytes are input).
std::optional<LocalPresence> decode_process_presence(std::string_view text);
/// Sums processes' entries into what presence() answers (members each once, sorted, at most `max_listed`).
Presence merge_presence(const std::vector<LocalPresence>& processes, std::size_t max_listed);

class PresenceTracker {
 public:
  /// `redis` null: presence of this process only (memory store). `realtime` publishes joins/leaves and
  /// revalidations; both must outlive the tracker.
  PresenceTracker(PresenceOptions options, std::shared_ptr<store::RedisStore> redis, Realtime& realtime,
                  Logger& logger);
  ~PresenceTracker();

  const PresenceOptions& options() const noexcept { return options_; }
  /// Whether `channel` (as a client names it) is tracked.
  bool tracks(std::string_view channel) const;

  /// The member of a stream being admitted (PresenceOptions::member; nullopt when it throws). Worker thread.
  std::optional<std::string> member_of(Ctx& ctx, const std::vector<std::string>& scopes) const;
  /// Hooks of the hub; any thread, never block on I/O. `channels` as the client named them.
  void opened(std::uint64_t stream, std::optional<std::string> member,
              const std::vector<std::string>& channels);
  void changed(std::uint64_t stream, const std::vector<std::string>& left,
               const std::vector<std::string>& joined);
  void closed(std::uint64_t stream);

  /// Presence on `channel` over every process: blocks on Redis (at most the store's timeout) with a Redis
  /// store. errc::invalid_argument for a channel that is not tracked.
  Result<Presence> read(std::string_view channel);

  /// Starts (or restarts) the presence thread.
  void start();
  /// Stops it; with Redis, removes this process's entries (best effort: else they expire).
  void stop();

 private:
  void run();
  void flush(std::chrono::steady_clock::time_point now, bool final);
  bool write(const std::vector<std::string>& channels, std::chrono::steady_clock::time_point now,
             bool remove);
  Result<std::vector<std::pair<std::string, LocalPresence>>> read_processes(std::string_view channel);
  void announce(const std::vector<PresenceChange>& changes);
  std::string hash_key(std::string_view channel) const;
  std::string expiry_key(std::string_view channel) const;

  PresenceOptions options_;
  std::shared_ptr<store::RedisStore> redis_;
  Realtime& realtime_;
  Logger& logger_;
  std::string process_;  // this process's id in Redis: random
  PresenceBook book_;

  // The presence thread's state.
  std::set<std::string> written_;  // channels with an entry of ours in Redis
  bool resend_all_ = true;
  std::chrono::steady_clock::time_point next_heartbeat_{}, next_revalidate_{};
  std::set<std::string> revalidate_channels_;  // changed channels not revalidated yet
  bool redis_failing_ = false;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace igniter::server

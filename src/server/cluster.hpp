#pragma once
// Realtime across processes: every event goes through one Redis Stream, which gives the whole cluster one
// order, one id per event and a shared, bounded history. Each process reads the stream and fans the
// events out to its own connections. See docs/architecture.md ("Realtime through Redis").

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/store/redis_store.hpp"
#include "server/cluster_stream.hpp"

namespace igniter::server {

class Cluster {
 public:
  /// What the reader hands to the hub, on the reader thread.
  struct Callbacks {
    std::function<void(realtime::Event)> event;  ///< An event, with its cluster id, in stream order.
    std::function<void()> gap;  ///< Events may have been lost here: this process's clients must resync.
    /// Every entry up to this id has been handed to `event` (or skipped): after each read. Optional.
    std::function<void(realtime::EventId)> read;
  };

  /// Reads (or creates) the cluster's epoch. Fails when Redis does not answer, or answers nonsense.
  static Result<std::unique_ptr<Cluster>> open(std::shared_ptr<store::RedisStore> store,
                                               std::size_t max_events, Logger& logger);
  ~Cluster();

  /// The key of the cluster's event stream in `store` (with its key prefix).
  static std::string stream_key(const store::RedisStore& store);

  std::uint64_t epoch() const noexcept { return epoch_; }

  /// Appends `event` to the stream; the event reaches this process's clients through the reader, like
  /// everyone else's. The outcome is exact: the cluster id when the event is in the stream; an error when
  /// it is not and never will be (a publish whose reply did not come in time is fenced in Redis, so that
  /// it cannot run later, and the fence reports whether it ran before); errc::timeout only when even the
  /// fence could not reach Redis: then the event may still appear once (the reader fences it again when
  /// Redis is back). Every failure makes the cluster announce one resync once Redis is back.
  /// errc::invalid_argument when the encoded event is larger than a quarter of the store's
  /// max_reply_bytes (the readers could not read it back).
  Result<realtime::EventId> publish(const realtime::Event& event);

  /// Loads the retained events (oldest first) into `callbacks.event`, then starts reading the stream.
  void start(Callbacks callbacks);
  void stop();

 private:
  struct Unknown {  // a publish of unknown outcome, to be fenced once Redis answers
    std::string token;
    std::chrono::steady_clock::time_point sent;
  };

  Cluster(std::shared_ptr<store::RedisStore> store, std::string stream_key, std::string epoch_text,
          std::uint64_t epoch, std::size_t max_events, Logger& logger);
  void read_loop();
  void load_retained();
  void deliver(const std::vector<stream::StreamEntry>& entries);
  void recover();
  void publish_resync();
  static realtime::Event resync_event();  // revalidate [""]: every client refetches
  void fence_unknown();
  Result<std::optional<realtime::EventId>> fence(const Unknown& publish);
  void note_failure();
  std::string fence_key(std::string_view token) const;
  std::shared_ptr<store::RedisStore> open_reader();
  void pause(std::chrono::milliseconds delay);
  /// A command on the reader's connection (XREAD BLOCK): its reply, or errc::unavailable as soon as
  /// stop() is called.
  Result<store::Reply> read_blocking(std::vector<std::string> args);

  std::shared_ptr<store::RedisStore> store_;   // commands, shared with the app
  std::shared_ptr<store::RedisStore> reader_;  // its own connection: XREAD BLOCK would stall the pipeline
  std::string stream_key_;
  std::string epoch_key_;
  std::string epoch_text_;
  std::uint64_t epoch_;
  std::size_t max_events_;
  Logger& logger_;
  Callbacks callbacks_;
  stream::StreamId last_id_{};        // reader thread (and start(), before it runs)
  std::string replication_id_;        // reader thread: the master's master_replid when last seen
  store::Subscription reader_watch_;  // sets reader_lost_
  std::atomic<bool> reader_lost_{false};
  std::atomic<bool> resync_pending_{false};
  // steady_clock ticks of the latest failed publish, 0 when none since the last resync.
  std::atomic<std::int64_t> last_failure_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // with wake_: the reader's pauses; and unknown_
  std::condition_variable wake_;
  std::vector<Unknown> unknown_;
  std::thread thread_;
};

}  // namespace igniter::server

#pragma once
// Realtime across processes: every event goes through one Redis Stream, which gives the whole cluster one
// order, one id per event and a shared, bounded history. Each process reads the stream and fans the
// events out to its own connections. See docs/architecture.md ("Realtime through Redis").

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "igniter/base/log.hpp"
#include "igniter/base/result.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/store/redis_store.hpp"

namespace igniter::server {

class Cluster {
 public:
  /// What the reader hands to the hub, on the reader thread.
  struct Callbacks {
    std::function<void(realtime::Event)> event;  ///< An event, with its cluster id, in stream order.
    std::function<void()> gap;                   ///< Events may have been lost: clients must resync.
  };

  /// Reads (or creates) the cluster's epoch. Fails when Redis does not answer.
  static Result<std::unique_ptr<Cluster>> open(std::shared_ptr<store::RedisStore> store,
                                               std::size_t max_events, Logger& logger);
  ~Cluster();

  std::uint64_t epoch() const noexcept { return epoch_; }

  /// Appends `event` to the stream (XADD); the event reaches this process's clients through the reader,
  /// like everyone else's. Returns the cluster id, or the error when Redis did not take it (the cluster
  /// then announces a resync once Redis is back, since some clients may have missed what they expected).
  Result<realtime::EventId> publish(const realtime::Event& event);

  /// Loads the retained events (oldest first) into `callbacks.event`, then starts reading the stream.
  void start(Callbacks callbacks);
  void stop();

  /// The stream's id for an EventId of this epoch, and back.
  static realtime::EventId to_event_id(std::uint64_t epoch, std::string_view stream_id);

 private:
  Cluster(std::shared_ptr<store::RedisStore> store, std::string stream_key, std::uint64_t epoch,
          std::size_t max_events, Logger& logger);
  void read_loop();
  bool deliver(const store::Reply& entries);

  std::shared_ptr<store::RedisStore> store_;   // commands (XADD), shared with the app
  std::shared_ptr<store::RedisStore> reader_;  // its own connection: XREAD BLOCK would stall the pipeline
  std::string stream_key_;
  std::uint64_t epoch_;
  std::size_t max_events_;
  Logger& logger_;
  Callbacks callbacks_;
  std::string last_id_ = "0-0";
  std::atomic<bool> resync_pending_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace igniter::server

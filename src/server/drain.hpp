#pragma once
// The drain of a stopping app's SSE streams: each shard closes its streams in batches over the drain window
// (realtime/drain_schedule.hpp), every closed stream told by a jittered `retry:` when to come back, so that
// clients reconnect to the other processes spread out instead of all at once.

#include <cstddef>
#include <memory>
#include <vector>

#include "igniter/server/app.hpp"
#include "realtime/drain_schedule.hpp"

namespace igniter::server {

struct Shard;
class SseSession;

/// The drain settings of `options`; throws std::invalid_argument when they cannot work (a window not
/// shorter than shutdown_timeout, which would cut the last batches off).
realtime::DrainSettings drain_settings(const AppOptions& options);

/// Drains the SSE streams of every shard. Created when the app begins to stop, destroyed after its loops
/// have stopped (its timers run on the shards' io_contexts).
class StreamDrain {
 public:
  /// `settings.rate` is the whole process's: each shard drains at its share.
  StreamDrain(const std::vector<std::unique_ptr<Shard>>& shards, realtime::DrainSettings settings);
  ~StreamDrain();
  StreamDrain(const StreamDrain&) = delete;
  StreamDrain& operator=(const StreamDrain&) = delete;

  /// Plans each shard's drain from the streams it holds now and starts it (posted to each shard; any
  /// thread). Streams opened later (on a connection accepted before the stop) end right after the plan.
  void start();

 private:
  struct PerShard;
  void plan(PerShard& drain);
  void next_batch(PerShard& drain);
  // After the last batch: ends streams opened meanwhile, every 100 ms, until the loop stops.
  void sweep(PerShard& drain);

  std::vector<std::unique_ptr<PerShard>> shards_;
};

}  // namespace igniter::server

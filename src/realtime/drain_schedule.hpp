#pragma once
/// The schedule of a drain: when a stopping process closes which share of its SSE streams, and how long
/// each closed stream's client is told to wait (`retry:`) before it reconnects, so that the clients arrive
/// at the other processes spread over the window instead of all at once. Pure: no sockets, no clock.

#include <chrono>
#include <cstddef>
#include <vector>

namespace igniter::realtime {

/// What a drain may take; see AppOptions::drain_window, drain_rate and drain_batches.
struct DrainSettings {
  std::chrono::milliseconds window{5'000};  ///< The longest a drain lasts; 0 = every stream at once.
  double rate = 1'000;                      ///< Streams per second aimed at when the window allows it.
  std::size_t max_batches = 20;             ///< Most batches the streams are closed in (at least 1).
};

/// One batch: `count` streams closed at `at` after the drain began.
struct DrainBatch {
  std::chrono::milliseconds at{0};
  std::size_t count = 0;
};

/// The batches of one drain and the spread of their `retry:` hints.
struct DrainPlan {
  std::vector<DrainBatch> batches;  ///< In time order; counts sum to the streams; empty for no stream.
  /// The gap between two batches: each closed stream is told to retry after a delay in [0, spacing), so the
  /// reconnects of one batch fill the gap before the next (0 when everything closes at once).
  std::chrono::milliseconds spacing{0};
  /// The drain's length: the batches start in [0, window) and their reconnects land before `window`.
  std::chrono::milliseconds window{0};
};

/// Plans closing `streams` streams: over min(settings.window, streams / settings.rate) — a few streams
/// close at once, many are spread over the whole window — in up to max_batches batches of equal size
/// (differing by at most one) at equal gaps, the first at 0.
DrainPlan plan_drain(std::size_t streams, const DrainSettings& settings);

/// The `retry:` hint for one closed stream: `uniform` in [0, 1) scaled to [0, plan.spacing).
std::chrono::milliseconds drain_retry_hint(const DrainPlan& plan, double uniform) noexcept;

}  // namespace igniter::realtime

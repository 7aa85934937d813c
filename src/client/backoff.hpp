#pragma once
// Reconnect delays: jittered, capped exponential backoff that never gives up.

#include <chrono>
#include <functional>

#include "igniter/client/subscription.hpp"

namespace igniter::client::detail {

/// Attempt n (counted from 0 since the last reset) waits a random time in [d/2, d], where
/// d = min(max, initial · 2^n): clients that lost the same server spread out, and no count of failures
/// makes it stop. Not thread-safe.
class Backoff {
 public:
  /// A source of uniform numbers in [0, 1); tests pass a fixed one.
  using Random = std::function<double()>;

  explicit Backoff(BackoffOptions options = {}, Random random = {});

  /// The delay before the next attempt; counts one more failure.
  std::chrono::milliseconds next();
  /// Starts again from the first delay (after a connection really succeeded).
  void reset() noexcept { attempts_ = 0; }
  /// Failed attempts since the last reset.
  unsigned attempts() const noexcept { return attempts_; }

 private:
  BackoffOptions options_;
  Random random_;
  unsigned attempts_ = 0;
};

}  // namespace igniter::client::detail

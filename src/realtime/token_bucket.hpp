#pragma once
/// A token bucket rate limit whose time is passed in (so that tests drive it).

#include <algorithm>
#include <chrono>

namespace igniter::realtime {

/// Allows `rate` actions per second on average and `burst` at once. Not thread-safe.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// A full bucket at `now`.
  TokenBucket(double rate, double burst, Clock::time_point now) noexcept
      : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

  /// Takes one token if there is one at `now`; false (and nothing taken) when the rate is exceeded.
  bool take(Clock::time_point now) noexcept {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace igniter::realtime

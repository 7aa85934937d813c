#include "client/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace igniter::client::detail {

Backoff::Backoff(BackoffOptions options, Random random) : options_(options), random_(std::move(random)) {
  if (options_.initial.count() < 1) options_.initial = std::chrono::milliseconds(1);
  if (options_.max < options_.initial) options_.max = options_.initial;
  if (!random_) {
    random_ = [engine = std::mt19937_64(std::random_device{}())]() mutable {
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

std::chrono::milliseconds Backoff::next() {
  // In double: 2^n overflows no integer, and past 64 attempts the cap holds anyway.
  double ceiling = std::min(static_cast<double>(options_.max.count()),
                            static_cast<double>(options_.initial.count()) * std::exp2(attempts_));
  if (attempts_ < 64) ++attempts_;
  double r = std::clamp(random_(), 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(ceiling / 2 + r * ceiling / 2));
}

}  // namespace igniter::client::detail

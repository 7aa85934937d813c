#include "realtime/drain_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace igniter::realtime {

DrainPlan plan_drain(std::size_t streams, const DrainSettings& settings) {
  DrainPlan plan;
  if (streams == 0) return plan;
  using std::chrono::milliseconds;
  // The window the rate asks for, capped by the configured one: 30 streams at 1000/s take 30 ms, not 5 s.
  auto window = settings.window;
  if (settings.rate > 0) {
    double wanted_ms = std::ceil(static_cast<double>(streams) * 1000.0 / settings.rate);
    if (wanted_ms < static_cast<double>(window.count())) window = milliseconds(static_cast<long>(wanted_ms));
  }
  window = std::max(window, milliseconds(0));
  // A batch per millisecond at most: finer gaps than the timers' resolution would only bunch up.
  std::size_t batches = std::min({std::max<std::size_t>(settings.max_batches, 1), streams,
                                  std::max<std::size_t>(static_cast<std::size_t>(window.count()), 1)});
  plan.window = window;
  plan.spacing = milliseconds(window.count() / static_cast<long>(batches));
  if (plan.spacing.count() == 0) batches = 1;
  plan.batches.reserve(batches);
  for (std::size_t k = 0; k < batches; ++k) {
    // floor((k+1)n/b) - floor(kn/b): sizes differ by at most one and sum to n.
    std::size_t count = (k + 1) * streams / batches - k * streams / batches;
    plan.batches.push_back({.at = plan.spacing * static_cast<long>(k), .count = count});
  }
  return plan;
}

std::chrono::milliseconds drain_retry_hint(const DrainPlan& plan, double uniform) noexcept {
  uniform = std::clamp(uniform, 0.0, 1.0);
  auto ms = static_cast<long>(uniform * static_cast<double>(plan.spacing.count()));
  return std::chrono::milliseconds(std::min<long>(ms, std::max<long>(plan.spacing.count() - 1, 0)));
}

}  // namespace igniter::realtime

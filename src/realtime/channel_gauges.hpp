#pragma once
/// Subscriber counts for metrics: kept by a shard's thread, read from any thread without asking it.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace igniter::realtime {

/// Subscriptions per declared channel, and one sum for every other channel, of one shard.
///
/// Only channels the app declared get a series of their own: clients choose the other names, and a
/// label per client-chosen name would let any client grow /metrics without bound. A subscription to the
/// alias `x:{}` counts for `x`. One writer (the shard's thread), any number of readers: relaxed atomics,
/// so a scrape never waits for the shard and never makes it wait.
class ChannelGauges {
 public:
  /// Gauges for `declared` (duplicates and invalid spellings are kept once, as given).
  explicit ChannelGauges(std::vector<std::string> declared);

  /// Counts one subscription to `name` (`x` or `x:{}`) added (+1) or removed (-1). The shard's thread.
  void add(std::string_view name, int delta) noexcept;
  /// The declared channels, sorted.
  const std::vector<std::string>& declared() const noexcept { return names_; }
  /// Subscriptions to `declared()[i]`. Any thread.
  std::uint64_t subscribers(std::size_t i) const noexcept;
  /// Subscriptions to every channel not declared. Any thread.
  std::uint64_t other() const noexcept { return load(names_.size()); }

 private:
  std::uint64_t load(std::size_t slot) const noexcept;

  std::vector<std::string> names_;
  std::unordered_map<std::string_view, std::size_t> slots_;  // views names_
  std::unique_ptr<std::atomic<std::int64_t>[]> counts_;      // names_.size() + 1: the last one is "other"
};

}  // namespace igniter::realtime

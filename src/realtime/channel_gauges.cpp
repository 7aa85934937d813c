#include "channel_gauges.hpp"

#include <algorithm>

#include "channel.hpp"

namespace igniter::realtime {

ChannelGauges::ChannelGauges(std::vector<std::string> declared) : names_(std::move(declared)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  counts_ = std::make_unique<std::atomic<std::int64_t>[]>(names_.size() + 1);
  for (std::size_t i = 0; i < names_.size(); ++i) slots_.emplace(names_[i], i);
}

void ChannelGauges::add(std::string_view name, int delta) noexcept {
  auto found = slots_.find(canonical_channel(name));
  auto& count = counts_[found == slots_.end() ? names_.size() : found->second];
  // One writer: a plain read-modify-write of a relaxed atomic, no locked instruction.
  count.store(count.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

std::uint64_t ChannelGauges::subscribers(std::size_t i) const noexcept {
  return i < names_.size() ? load(i) : 0;
}

std::uint64_t ChannelGauges::load(std::size_t slot) const noexcept {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, counts_[slot].load(std::memory_order_relaxed)));
}

}  // namespace igniter::realtime

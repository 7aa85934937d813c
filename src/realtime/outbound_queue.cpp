#include "outbound_queue.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <memory>
#include <new>

namespace igniter::realtime {

namespace {
constexpr std::uint32_t kFirstRingCapacity = 8;
}

OutboundQueue::OutboundQueue(std::size_t limit_bytes) noexcept
    : one_(),
      limit_(static_cast<std::uint32_t>(
          std::min<std::size_t>(limit_bytes, std::numeric_limits<std::uint32_t>::max() - 1))) {}

OutboundQueue::~OutboundQueue() {
  clear();
  std::destroy_at(&one_);
}

Frame& OutboundQueue::slot(std::uint32_t index) noexcept {
  return capacity_ == 0 ? one_ : ring_[(head_ + index) & (capacity_ - 1)];
}

const Frame& OutboundQueue::slot(std::uint32_t index) const noexcept {
  return capacity_ == 0 ? one_ : ring_[(head_ + index) & (capacity_ - 1)];
}

void OutboundQueue::grow() {
  const std::uint32_t capacity = capacity_ == 0 ? kFirstRingCapacity : capacity_ * 2;
  // Allocate before touching the union so that a bad_alloc leaves the queue as it was.
  auto* ring = static_cast<Frame*>(::operator new(sizeof(Frame) * capacity));
  for (std::uint32_t i = 0; i < count_; ++i) std::construct_at(ring + i, std::move(slot(i)));
  for (std::uint32_t i = count_; i < capacity; ++i) std::construct_at(ring + i);
  if (capacity_ == 0) {
    std::destroy_at(&one_);
  } else {
    std::destroy(ring_, ring_ + capacity_);
    ::operator delete(ring_);
  }
  ring_ = ring;
  capacity_ = capacity;
  head_ = 0;
}

bool OutboundQueue::push(Frame frame) {
  const std::size_t size = frame.size();
  if (size == 0) return true;
  if (size > std::size_t{limit_} - pending_) return false;
  const std::uint32_t room = capacity_ == 0 ? 1 : capacity_;
  if (count_ == room) grow();
  slot(count_) = std::move(frame);
  ++count_;
  pending_ += static_cast<std::uint32_t>(size);
  return true;
}

std::size_t OutboundQueue::gather(std::span<ConstBuffer> out) const noexcept {
  const std::size_t n = std::min<std::size_t>(out.size(), count_);
  for (std::size_t i = 0; i < n; ++i) {
    const Frame& frame = slot(static_cast<std::uint32_t>(i));
    const std::size_t skip = i == 0 ? offset_ : 0;
    out[i] = ConstBuffer{frame.data() + skip, frame.size() - skip};
  }
  return n;
}

void OutboundQueue::consume(std::size_t bytes) noexcept {
  assert(bytes <= pending_);
  bytes = std::min<std::size_t>(bytes, pending_);
  pending_ -= static_cast<std::uint32_t>(bytes);
  while (bytes > 0) {
    Frame& front = slot(0);
    const std::size_t left = front.size() - offset_;
    if (bytes < left) {
      offset_ += static_cast<std::uint32_t>(bytes);
      return;
    }
    bytes -= left;
    front = Frame();
    offset_ = 0;
    --count_;
    if (capacity_ != 0) head_ = (head_ + 1) & (capacity_ - 1);
  }
  if (count_ == 0) clear();
}

void OutboundQueue::clear() noexcept {
  if (capacity_ == 0) {
    one_ = Frame();
  } else {
    std::destroy(ring_, ring_ + capacity_);
    ::operator delete(ring_);
    std::construct_at(&one_);
  }
  capacity_ = 0;
  head_ = 0;
  count_ = 0;
  offset_ = 0;
  pending_ = 0;
}

}  // namespace igniter::realtime

#pragma once
/// The frames a connection has yet to write, bounded in bytes.

#include <cstddef>
#include <cstdint>
#include <span>

#include "frame.hpp"

namespace igniter::realtime {

/// One contiguous run of bytes to write; layout-compatible with `iovec` and convertible to any
/// const-buffer type.
struct ConstBuffer {
  const char* data;
  std::size_t size;
};

/// A connection's pending frames, bounded in bytes, written with one gather-write per turn.
///
/// Holds no heap storage while empty, nor while a single frame is pending; a ring of frame handles
/// (8 bytes each) is allocated when more are pending and released as soon as the queue drains, so idle
/// connections cost `sizeof(OutboundQueue)` only. Not thread-safe: owned by the connection's shard.
class OutboundQueue {
 public:
  /// Default bound on pending bytes (1 MiB).
  static constexpr std::size_t kDefaultLimit = std::size_t{1} << 20;

  /// A queue refusing frames past `limit_bytes` pending (clamped to 4 GiB - 1).
  explicit OutboundQueue(std::size_t limit_bytes = kDefaultLimit) noexcept;
  OutboundQueue(const OutboundQueue&) = delete;
  OutboundQueue& operator=(const OutboundQueue&) = delete;
  ~OutboundQueue();

  /// Appends `frame` unless the pending bytes would exceed the limit; on refusal returns false and
  /// leaves the queue unchanged (the caller should then drop the slow client). Empty frames are
  /// accepted and ignored. Allocates only when growing the ring (never per byte).
  [[nodiscard]] bool push(Frame frame);

  /// Fills `out` with the unwritten bytes in order, one slice per frame (the first one starting past
  /// what was already written); returns the number of slices used. The slices point into the frames,
  /// not into the queue: they stay valid across later `push` calls until `consume` covers them.
  std::size_t gather(std::span<ConstBuffer> out) const noexcept;

  /// Marks `bytes` as written (may end inside a frame or span several); releases finished frames, and
  /// the ring when the queue drains. `bytes` must not exceed `pending_bytes()`.
  void consume(std::size_t bytes) noexcept;

  /// Releases every pending frame and the ring (on disconnect).
  void clear() noexcept;

  std::size_t pending_bytes() const noexcept { return pending_; }
  std::size_t pending_frames() const noexcept { return count_; }
  std::size_t limit() const noexcept { return limit_; }
  bool empty() const noexcept { return count_ == 0; }
  /// Ring slots currently allocated on the heap (0 when empty or holding one frame); for tests/metrics.
  std::size_t heap_slots() const noexcept { return capacity_; }

 private:
  Frame& slot(std::uint32_t index) noexcept;
  const Frame& slot(std::uint32_t index) const noexcept;
  void grow();

  // While capacity_ == 0 the single pending frame (if any) lives in one_; otherwise ring_ points to
  // capacity_ (a power of two) handles, of which count_ starting at head_ are live.
  union {
    Frame one_;
    Frame* ring_;
  };
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t offset_ = 0;   // bytes of the front frame already written
  std::uint32_t pending_ = 0;  // unwritten bytes of all frames
  std::uint32_t limit_;
};

}  // namespace igniter::realtime

#pragma once
// Writes to many sockets with one system call: a fan-out pass's slice, or the streams queued to in one
// turn. Each socket is a write of its own (a gather-write of its pending frames) all the same; only the
// entry into the kernel is shared. On the hosts we measure a system call is dear (page-table isolation,
// a hypervisor), and a pass over 9 000 sockets took 0.56x the time of one send() each (bench/notes.md,
// "Batched writes").
//
// Linux io_uring (liburing). Each write is tried at once and never waits: one the socket cannot take
// answers -EAGAIN (MSG_DONTWAIT), so the whole batch completes inside the one call and the caller goes on
// with every result. A kernel or sandbox without io_uring (Docker's default seccomp profile refuses it)
// makes open() return null; the streams then write one system call each, as everywhere else.

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "realtime/outbound_queue.hpp"

struct io_uring;

namespace igniter::server {

class SendBatch {
 public:
  /// The most buffers one write gathers (a session's queue gathers at most this many).
  static constexpr std::size_t kMaxBuffers = 64;

  /// A batch of up to `capacity` writes; null when the kernel refuses io_uring, with the reason in `why`.
  static std::unique_ptr<SendBatch> open(std::size_t capacity, std::string& why);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  std::size_t size() const noexcept { return count_; }
  bool full() const noexcept { return count_ == capacity_; }
  /// Adds a gather-write of `buffers` (at most kMaxBuffers; they must stay valid until send() returns)
  /// to the connected socket `fd`. The batch must not be full.
  void add(int fd, std::span<const realtime::ConstBuffer> buffers) noexcept;
  /// Sends every write added with one system call and empties the batch. Returns each write's result in
  /// the order added: the bytes the socket took (fewer than asked when its buffer filled), or -errno
  /// (-EAGAIN: it took nothing). Valid until the next add().
  std::span<const int> send();
  /// Whether a batch did not complete inside send() (a kernel that parks a write it was told not to, or
  /// a failed submission; not seen so far). Every later send() then answers -EAGAIN for each write, and
  /// the owner should write one system call each from then on.
  bool broken() const noexcept { return broken_; }

 private:
  SendBatch(std::unique_ptr<io_uring> ring, std::size_t capacity);

  std::unique_ptr<io_uring> ring_;
  std::size_t capacity_;
  std::size_t count_ = 0;
  bool broken_ = false;
  std::vector<msghdr> messages_;  // one per write, pointing into iovecs_
  std::vector<iovec> iovecs_;     // kMaxBuffers per write
  std::vector<int> results_;
};

}  // namespace igniter::server

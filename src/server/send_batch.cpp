#include "server/send_batch.hpp"

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

namespace igniter::server {

std::unique_ptr<SendBatch> SendBatch::open(std::size_t capacity, std::string& why) {
  auto ring = std::make_unique<io_uring>();
  // A completion queue twice the batch (liburing's default): send() reaps every completion each time.
  if (int error = io_uring_queue_init(static_cast<unsigned>(capacity), ring.get(), 0); error < 0) {
    why = std::string("io_uring is not available: ") + std::strerror(-error);
    return nullptr;
  }
  // Kernels 5.1 and 5.2 have io_uring without sendmsg: every write would fail there.
  auto* probe = io_uring_get_probe_ring(ring.get());
  bool sendmsg = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
  io_uring_free_probe(probe);
  if (!sendmsg) {
    io_uring_queue_exit(ring.get());
    why = "io_uring has no sendmsg on this kernel";
    return nullptr;
  }
  return std::unique_ptr<SendBatch>(new SendBatch(std::move(ring), capacity));
}

SendBatch::SendBatch(std::unique_ptr<io_uring> ring, std::size_t capacity)
    : ring_(std::move(ring)),
      capacity_(capacity),
      messages_(capacity),
      iovecs_(capacity * kMaxBuffers),
      results_(capacity) {}

SendBatch::~SendBatch() {
  io_uring_queue_exit(ring_.get());
}

void SendBatch::add(int fd, std::span<const realtime::ConstBuffer> buffers) noexcept {
  if (broken_) {  // answered -EAGAIN by send()
    ++count_;
    return;
  }
  auto* iov = &iovecs_[count_ * kMaxBuffers];
  for (std::size_t i = 0; i < buffers.size(); ++i)
    iov[i] = {const_cast<char*>(buffers[i].data), buffers[i].size};
  auto& message = messages_[count_];
  message = {};
  message.msg_iov = iov;
  message.msg_iovlen = buffers.size();
  auto* entry = io_uring_get_sqe(ring_.get());  // never null: the queue holds `capacity` entries
  // MSG_DONTWAIT: tried inline and answered -EAGAIN when the socket takes nothing, never parked for later
  // (the kernel's REQ_F_NOWAIT), so that every write completes inside send()'s one system call.
  io_uring_prep_sendmsg(entry, fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  io_uring_sqe_set_data64(entry, count_);
  ++count_;
}

namespace {
constexpr std::uint64_t kCancel = std::uint64_t{1} << 63;  // tags a cancel's own completion
constexpr int kUnanswered = std::numeric_limits<int>::min();
}  // namespace

std::span<const int> SendBatch::send() {
  const auto count = std::exchange(count_, 0);
  if (broken_) std::fill_n(results_.begin(), count, -EAGAIN);
  if (count == 0 || broken_) return {results_.data(), count};
  std::fill_n(results_.begin(), count, kUnanswered);
  std::size_t answered = 0;
  auto take = [&](io_uring_cqe* completion) {
    auto tag = io_uring_cqe_get_data64(completion);
    if (tag < count && results_[tag] == kUnanswered) {
      results_[tag] = completion->res;
      ++answered;
    }
  };
  auto reap = [&] {
    io_uring_cqe* completion = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(ring_.get(), head, completion) {
      take(completion);
      ++seen;
    }
    io_uring_cq_advance(ring_.get(), seen);
  };
  // No wait asked of the kernel: every write is tried inline (MSG_DONTWAIT, above), so its answer is in
  // the completion queue when the call returns.
  int submitted;
  do submitted = io_uring_submit(ring_.get());
  while (submitted == -EINTR && io_uring_sq_ready(ring_.get()) > 0);
  reap();
  const std::size_t unsubmitted = io_uring_sq_ready(ring_.get());
  if (answered == count) return {results_.data(), count};

  // Not seen so far. The batch is retired: its owner writes one system call each from now on.
  broken_ = true;
  if (answered + unsubmitted == count) {
    // The kernel refused the rest of the queue (a failed submission): those writes were never taken, and
    // never will be (the ring is not entered again). -EAGAIN: their owners write them the usual way.
    for (std::size_t i = count - unsubmitted; i < count; ++i) results_[i] = -EAGAIN;
    return {results_.data(), count};
  }
  // The kernel parked a write it was told not to. Its bytes must outlive it, and whether it sent any
  // decides what its owner does next: cancel each one left (entering the ring also submits what it had
  // refused, which is then answered like the rest) and take every answer. A cancelled write sent nothing.
  for (std::size_t i = 0; i < count; ++i) {
    if (results_[i] != kUnanswered || i >= count - unsubmitted) continue;
    auto* entry = io_uring_get_sqe(ring_.get());
    if (entry == nullptr) break;  // the unanswered are then waited for as they are
    io_uring_prep_cancel64(entry, i, 0);
    io_uring_sqe_set_data64(entry, kCancel | i);
  }
  while (answered < count) {
    io_uring_cqe* completion = nullptr;
    int error = io_uring_submit_and_wait(ring_.get(), 1);
    if (error < 0 && error != -EINTR && error != -EBUSY) break;  // nothing more can be learned
    while (io_uring_peek_cqe(ring_.get(), &completion) == 0) {
      take(completion);
      io_uring_cqe_seen(ring_.get(), completion);
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (results_[i] == -ECANCELED) results_[i] = -EAGAIN;  // sent nothing
    if (results_[i] == kUnanswered) results_[i] = -EIO;    // unknown: its stream closes (resumes by id)
  }
  return {results_.data(), count};
}

}  // namespace igniter::server

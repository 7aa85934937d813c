#include "server/send_batch.hpp"

#include <liburing.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace igniter::server {

std::unique_ptr<SendBatch> SendBatch::open(std::size_t capacity, std::string& why) {
  auto ring = std::make_unique<io_uring>();
  // A completion queue twice the batch (liburing's default): send() reaps every completion each time.
  if (int error = io_uring_queue_init(static_cast<unsigned>(capacity), ring.get(), 0); error < 0) {
    why = std::string("io_uring is not available: ") + std::strerror(-error);
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

std::span<const int> SendBatch::send() {
  const auto count = std::exchange(count_, 0);
  if (broken_) std::fill_n(results_.begin(), count, -EAGAIN);
  if (count == 0 || broken_) return {results_.data(), count};
  int submitted;
  do submitted = io_uring_submit_and_wait(ring_.get(), static_cast<unsigned>(count));
  while (submitted == -EINTR && io_uring_sq_ready(ring_.get()) > 0);
  // Every write completed inside that call (MSG_DONTWAIT, above). A kernel that did otherwise, or that
  // failed the submission, breaks the batch rather than have this thread wait for it: a write the kernel
  // never took is answered -EAGAIN (its owner writes it again, one system call), one it took and has not
  // answered -ECANCELED (its owner closes that stream, whose client resumes with Last-Event-ID: sending
  // it again could repeat bytes). The ring stays open, unused, so that what it holds stays valid.
  const std::size_t unsubmitted = io_uring_sq_ready(ring_.get());
  for (std::size_t i = 0; i < count; ++i) results_[i] = i + unsubmitted < count ? -ECANCELED : -EAGAIN;
  io_uring_cqe* completion = nullptr;
  unsigned head = 0, seen = 0;
  io_uring_for_each_cqe(ring_.get(), head, completion) {
    auto index = io_uring_cqe_get_data64(completion);
    if (index < count) results_[index] = completion->res;
    ++seen;
  }
  io_uring_cq_advance(ring_.get(), seen);
  if (seen < count) broken_ = true;
  return {results_.data(), count};
}

}  // namespace igniter::server

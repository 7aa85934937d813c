#pragma once
// Reads that know when a plain TCP socket is drained, so that the next read waits for epoll instead of
// trying a `recv` that would find nothing.
//
// Asio tries every read at once ("speculatively") unless its last read on that socket returned nothing.
// A keep-alive connection's next request never comes before its answer, so between requests that try
// was a `recv` failing with EAGAIN, one more system call for every request (bench/notes.md, "The read that
// finds nothing"). nginx knows better from EPOLLRDHUP; Linux's TCP_INQ tells it as well: with the option
// on, each `recvmsg` reports how many bytes are still queued, and 1 when only the peer's FIN is.
//
// A read whose report is 0 completes "exhausted", Asio's own word for a read that emptied the socket:
// Asio then queues the next read on that socket without trying it, until epoll reports new bytes (an
// edge-triggered event: any byte, or FIN, that arrives after this read raises one). Every other outcome
// is Asio's usual. Without the report (a kernel before 4.18, the option refused) nothing changes.
// One case waits longer than before: bytes and the peer's reset (RST) read by one event report 0 queued
// (Linux marks a pending FIN, not a reset), so the reset is noticed by the next write, or at the header,
// body or idle timeout, instead of by the next read.
//
// The hook is a specialization of Asio's receive operation for our buffer type (`DrainedRead`), a copy of
// its `reactive_socket_recv_op_base` with `recvmsg` in place of `recv`. It depends on Asio's internals, so
// it is compiled only for the Boost versions it was written against with the epoll reactor; elsewhere
// reads are Asio's plain ones.

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/version.hpp>
#ifdef __linux__
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#endif

#if defined(__linux__) && defined(TCP_INQ) && defined(TCP_CM_INQ) && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && BOOST_VERSION >= 108100 && BOOST_VERSION < 108500
#define IGNITER_DRAINED_READ 1
#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <cerrno>
#include <cstring>
#endif

namespace igniter::server {

#ifdef IGNITER_DRAINED_READ
/// A single read buffer whose read reports whether it drained the socket (see above).
struct DrainedRead : boost::asio::mutable_buffer {
  explicit DrainedRead(boost::asio::mutable_buffer buffer) noexcept : boost::asio::mutable_buffer(buffer) {}
};
#else
using DrainedRead = boost::asio::mutable_buffer;  // Asio's plain read
#endif

/// Turns the report on for a listening socket's connections (Linux copies the option to each accepted
/// socket: no system call per connection). Harmless where it is refused.
inline void report_queued_bytes(int listening_socket) noexcept {
#ifdef IGNITER_DRAINED_READ
  int on = 1;
  ::setsockopt(listening_socket, IPPROTO_TCP, TCP_INQ, &on, sizeof on);
#else
  (void)listening_socket;
#endif
}

}  // namespace igniter::server

#ifdef IGNITER_DRAINED_READ
namespace boost::asio::detail {

template <>
class reactive_socket_recv_op_base<igniter::server::DrainedRead> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const boost::system::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state, const igniter::server::DrainedRead& buffer,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        stream_((state & socket_ops::stream_oriented) != 0),
        buffer_(buffer),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    for (;;) {
      iovec part{o->buffer_.data(), o->buffer_.size()};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
      msghdr message{};
      message.msg_iov = &part;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      auto bytes = ::recvmsg(o->socket_, &message, o->flags_);
      if (bytes < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
        o->ec_ = boost::system::error_code(errno, boost::asio::error::get_system_category());
        o->bytes_transferred_ = 0;
        return done;
      }
      o->bytes_transferred_ = static_cast<std::size_t>(bytes);
      if (o->stream_ && bytes == 0) {
        o->ec_ = boost::asio::error::eof;
        return done_and_exhausted;
      }
      for (auto* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == IPPROTO_TCP && c->cmsg_type == TCP_CM_INQ) {
          int queued = 0;
          std::memcpy(&queued, CMSG_DATA(c), sizeof queued);
          return queued == 0 ? done_and_exhausted : done;
        }
      }
      return done;
    }
  }

 private:
  socket_type socket_;
  bool stream_;
  boost::asio::mutable_buffer buffer_;
  socket_base::message_flags flags_;
};

}  // namespace boost::asio::detail
#endif

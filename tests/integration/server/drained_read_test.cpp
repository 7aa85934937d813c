// Reads that know when a socket is drained (src/server/drained_read.hpp), over real loopback sockets: the
// bytes and the end a client sends together are both read, and a read that found the socket empty still
// completes on whatever arrives next.
#include "server/drained_read.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/version.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "server/stream.hpp"

namespace igniter::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A loopback connection whose server side was accepted from a listener with the report on.
struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  std::optional<Stream> server;

  Pair() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    report_queued_bytes(acceptor.native_handle());
    client.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept());
  }

  void send(std::string_view bytes) { asio::write(client, asio::buffer(bytes)); }

  struct Read {
    boost::system::error_code ec;
    std::string bytes;
  };
  std::optional<Read> result;
  char data[256];

  /// Starts one read of the server side (Asio tries it at once).
  void start_read() {
    result.reset();
    server->async_read_some(asio::buffer(data), [this](boost::system::error_code ec, std::size_t n) {
      result = Read{ec, std::string(data, n)};
    });
  }
  /// Runs until the read completes or `limit` passes (nullopt).
  std::optional<Read> finish(std::chrono::milliseconds limit = 2s) {
    io.restart();
    io.run_for(limit);
    return result;
  }
  std::optional<Read> read(std::chrono::milliseconds limit = 2s) {
    start_read();
    return finish(limit);
  }
  /// Lets the reactor take the events already due (the bytes sent so far), so that the next read is
  /// the one after them: if it drains the socket, the read after it is not tried but waits for epoll.
  void settle() {
    io.restart();
    io.poll();
  }
};

TEST(DrainedRead, IsCompiledInWhereItWasWrittenFor) {
  // Linux with the Boost versions the hook was written against: a header order or a guard that turned it
  // off would otherwise go unnoticed (reads would only be slower).
#if defined(__linux__) && BOOST_VERSION >= 108100 && BOOST_VERSION < 108500 && !defined(IGNITER_DRAINED_READ)
  FAIL() << "drained reads are not compiled in";
#endif
}

#ifdef IGNITER_DRAINED_READ
// Asio's operation itself: what its reactor is told after each read.
struct Operation : asio::detail::reactive_socket_recv_op_base<DrainedRead> {
  explicit Operation(Pair& pair, asio::mutable_buffer buffer)
      : reactive_socket_recv_op_base(boost::system::error_code{}, pair.server->socket().native_handle(),
                                     asio::detail::socket_ops::stream_oriented, DrainedRead(buffer), 0,
                                     &Operation::complete_nothing) {}
  static void complete_nothing(void*, asio::detail::scheduler_operation*, const boost::system::error_code&,
                               std::size_t) {}
};

TEST(DrainedRead, TellsAsioWhetherTheSocketIsDrained) {
  using Status = asio::detail::reactor_op::status;
  Pair pair;
  pair.server->socket().non_blocking(true);
  char data[4];
  Operation empty(pair, asio::buffer(data));
  EXPECT_EQ(empty.perform(), Status::not_done);  // nothing there: Asio waits for epoll as ever

  pair.send("abcdef");
  std::this_thread::sleep_for(20ms);
  Operation part(pair, asio::buffer(data));
  EXPECT_EQ(part.perform(), Status::done);  // 2 bytes left: the next read is tried at once
  EXPECT_EQ(part.bytes_transferred_, 4u);
  Operation rest(pair, asio::buffer(data));
  EXPECT_EQ(rest.perform(), Status::done_and_exhausted);  // drained: the next read waits for epoll
  EXPECT_EQ(rest.bytes_transferred_, 2u);

  pair.send("gh");
  pair.client.shutdown(tcp::socket::shutdown_send);
  std::this_thread::sleep_for(20ms);
  Operation before_end(pair, asio::buffer(data));
  EXPECT_EQ(before_end.perform(), Status::done);  // the FIN is still to be read
  EXPECT_EQ(before_end.bytes_transferred_, 2u);
  Operation end(pair, asio::buffer(data));
  EXPECT_EQ(end.perform(), Status::done_and_exhausted);
  EXPECT_EQ(end.ec_, asio::error::eof);
}
#endif

TEST(DrainedRead, AcceptedConnectionsReportTheirQueuedBytes) {
#ifndef IGNITER_DRAINED_READ
  GTEST_SKIP() << "drained reads are not compiled for this Boost or platform";
#else
  Pair pair;
  int on = 0;
  socklen_t size = sizeof on;
  ASSERT_EQ(::getsockopt(pair.server->socket().native_handle(), IPPROTO_TCP, TCP_INQ, &on, &size), 0);
  EXPECT_EQ(on, 1);
#endif
}

TEST(DrainedRead, BytesAndTheEndSentTogetherAreBothRead) {
  // The end arrives with the bytes, in one epoll event: the read of the bytes must not pass for the one
  // that drained the socket, or the next read would wait for an event that never comes.
  Pair pair;
  pair.start_read();  // finds nothing: it waits for epoll, which reports the bytes and the end at once
  pair.send("GET / HTTP/1.1\r\n\r\n");
  pair.client.shutdown(tcp::socket::shutdown_send);
  auto first = pair.finish();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->ec);
  EXPECT_EQ(first->bytes, "GET / HTTP/1.1\r\n\r\n");
  auto second = pair.read();
  ASSERT_TRUE(second) << "the end was not seen";
  EXPECT_EQ(second->ec, asio::error::eof);
}

TEST(DrainedRead, AReadAfterTheSocketDrainedCompletesWhenBytesArrive) {
  Pair pair;
  pair.send("first");
  pair.settle();
  auto first = pair.read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, "first");
  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    pair.send("second");
  });
  auto second = pair.read();
  later.join();
  ASSERT_TRUE(second) << "bytes sent after a drained read were not read";
  EXPECT_FALSE(second->ec);
  EXPECT_EQ(second->bytes, "second");
}

TEST(DrainedRead, AReadAfterTheSocketDrainedSeesTheEnd) {
  Pair pair;
  pair.send("first");
  pair.settle();
  ASSERT_TRUE(pair.read());
  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    pair.client.shutdown(tcp::socket::shutdown_send);
  });
  auto second = pair.read();
  later.join();
  ASSERT_TRUE(second) << "the end after a drained read was not seen";
  EXPECT_EQ(second->ec, asio::error::eof);
}

TEST(DrainedRead, MoreBytesThanTheBufferAreReadOverSeveralReads) {
  // The buffer takes 256 bytes: the first read leaves bytes queued, so the next one must try at once.
  Pair pair;
  std::string sent(1000, 'x');
  pair.send(sent);
  std::this_thread::sleep_for(20ms);
  std::string got;
  while (got.size() < sent.size()) {
    auto read = pair.read(500ms);
    ASSERT_TRUE(read) << "after " << got.size() << " bytes";
    ASSERT_FALSE(read->ec);
    got += read->bytes;
  }
  EXPECT_EQ(got, sent);
}

}  // namespace
}  // namespace igniter::server

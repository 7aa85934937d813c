// Writes to many sockets with one system call (src/server/send_batch.hpp), over real loopback sockets:
// each write's bytes arrive whole and in order, and a socket that takes part or nothing, or whose peer is
// gone, answers for itself without holding up the others.
#include "server/send_batch.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <cerrno>
#include <string>
#include <vector>

namespace igniter::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Pairs {
  asio::io_context io;
  std::vector<tcp::socket> clients, servers;

  explicit Pairs(int n) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    for (int i = 0; i < n; ++i) {
      clients.emplace_back(io).connect(acceptor.local_endpoint());
      servers.push_back(acceptor.accept());
    }
  }
  std::string read(int i, std::size_t n) {
    std::string bytes(n, '\0');
    asio::read(clients[i], asio::buffer(bytes));
    return bytes;
  }
};

std::unique_ptr<SendBatch> open_or_skip(std::size_t capacity) {
  std::string why;
  auto batch = SendBatch::open(capacity, why);
  EXPECT_TRUE(batch || !why.empty());
  return batch;
}

TEST(SendBatch, EachWriteGathersItsBuffersAndAnswersInTheOrderAdded) {
  auto batch = open_or_skip(8);
  if (!batch) GTEST_SKIP() << "io_uring is not available here";
  Pairs pairs(5);
  std::vector<std::string> heads, bodies;
  heads.reserve(5);  // the buffers point into these strings: no reallocation may move them
  bodies.reserve(5);
  for (int i = 0; i < 5; ++i) {
    heads.push_back("data: " + std::to_string(i) + "-");
    bodies.push_back(std::string(100 * (i + 1), static_cast<char>('a' + i)) + "\n\n");
    realtime::ConstBuffer buffers[] = {{heads[i].data(), heads[i].size()},
                                       {bodies[i].data(), bodies[i].size()}};
    batch->add(pairs.servers[i].native_handle(), buffers);
  }
  EXPECT_EQ(batch->size(), 5u);
  auto results = batch->send();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(batch->size(), 0u);
  for (int i = 0; i < 5; ++i) {
    auto expected = heads[i] + bodies[i];
    EXPECT_EQ(results[i], static_cast<int>(expected.size())) << i;
    EXPECT_EQ(pairs.read(i, expected.size()), expected) << i;
  }
  EXPECT_FALSE(batch->broken());
}

TEST(SendBatch, AFullSocketTakesPartThenNothingWhileTheOthersTakeAll) {
  auto batch = open_or_skip(4);
  if (!batch) GTEST_SKIP() << "io_uring is not available here";
  Pairs pairs(2);
  int small = 4096;  // the kernel doubles it, and keeps a floor
  ASSERT_EQ(::setsockopt(pairs.servers[0].native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  ASSERT_EQ(::setsockopt(pairs.clients[0].native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  std::string big(8 << 20, 'x'), line = "data: ok\n\n";
  realtime::ConstBuffer to_full[] = {{big.data(), big.size()}}, to_reader[] = {{line.data(), line.size()}};

  batch->add(pairs.servers[0].native_handle(), to_full);
  batch->add(pairs.servers[1].native_handle(), to_reader);
  auto first = batch->send();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_GT(first[0], 0);  // part of it: never a wait for the rest
  EXPECT_LT(first[0], static_cast<int>(big.size()));
  EXPECT_EQ(first[1], static_cast<int>(line.size()));
  EXPECT_EQ(pairs.read(1, line.size()), line);
  auto taken = first[0];

  // Nothing is read meanwhile: the socket fills (loopback moves a little more to the peer each time).
  int answer = 0;
  for (int round = 0; round < 100 && answer != -EAGAIN; ++round) {
    batch->add(pairs.servers[0].native_handle(), to_full);
    batch->add(pairs.servers[1].native_handle(), to_reader);
    auto results = batch->send();
    ASSERT_EQ(results.size(), 2u);
    answer = results[0];
    ASSERT_TRUE(answer == -EAGAIN || (answer > 0 && answer < static_cast<int>(big.size()))) << answer;
    if (answer > 0) taken += answer;
    EXPECT_EQ(results[1], static_cast<int>(line.size()));
    EXPECT_EQ(pairs.read(1, line.size()), line);
  }
  EXPECT_EQ(answer, -EAGAIN);
  EXPECT_EQ(pairs.read(0, static_cast<std::size_t>(taken)),
            std::string(static_cast<std::size_t>(taken), 'x'));
  EXPECT_FALSE(batch->broken());
}

TEST(SendBatch, AWriteToAGonePeerFailsAloneWithoutASignal) {
  auto batch = open_or_skip(4);
  if (!batch) GTEST_SKIP() << "io_uring is not available here";
  Pairs pairs(2);
  pairs.clients[0].set_option(asio::socket_base::linger(true, 0));
  pairs.clients[0].close();  // a reset
  std::string line = "data: ok\n\n";
  realtime::ConstBuffer buffers[] = {{line.data(), line.size()}};
  int first_error = 0;
  for (int attempt = 0; attempt < 3 && first_error >= 0; ++attempt) {  // the reset may land after a write
    batch->add(pairs.servers[0].native_handle(), buffers);
    batch->add(pairs.servers[1].native_handle(), buffers);
    auto results = batch->send();
    first_error = results[0];
    EXPECT_EQ(results[1], static_cast<int>(line.size()));
  }
  EXPECT_TRUE(first_error == -ECONNRESET || first_error == -EPIPE)
      << first_error;  // MSG_NOSIGNAL: still alive
  EXPECT_FALSE(batch->broken());
}

TEST(SendBatch, AFullBatchSaysSo) {
  auto batch = open_or_skip(2);
  if (!batch) GTEST_SKIP() << "io_uring is not available here";
  Pairs pairs(1);
  std::string line = "x";
  realtime::ConstBuffer buffers[] = {{line.data(), line.size()}};
  batch->add(pairs.servers[0].native_handle(), buffers);
  EXPECT_FALSE(batch->full());
  batch->add(pairs.servers[0].native_handle(), buffers);
  EXPECT_TRUE(batch->full());
  auto results = batch->send();
  EXPECT_EQ(results[0], 1);
  EXPECT_EQ(results[1], 1);
  EXPECT_EQ(pairs.read(0, 2), "xx");
  EXPECT_TRUE(batch->send().empty());
}

}  // namespace
}  // namespace igniter::server

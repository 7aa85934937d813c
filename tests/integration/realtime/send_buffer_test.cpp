// The kernel's share of a stalled stream: with RealtimeOptions::stream_send_buffer_bytes a client that
// stops reading is cut as slow after about max_pending_bytes + that buffer of events; at 0 (the kernel's
// autotuning) only after the megabytes tcp_wmem lets the kernel hold for it.
#include <gtest/gtest.h>
#include <poll.h>

#include <fstream>
#include <stdexcept>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

constexpr std::size_t kBound = 64 * 1024;   // max_pending_bytes: what the server itself holds
constexpr std::size_t kEvent = 16 * 1024;   // payload of one event (the frame is a few dozen bytes more)
constexpr std::size_t kGiveUp = 24u << 20;  // published to the stalled stream without a cut: fail

/// What publishing to a stream that never reads came to.
struct Stall {
  std::size_t published = 0;  ///< Payload bytes published to it before the server cut it off.
  std::size_t received = 0;   ///< Bytes its client could still read after the cut (what the kernel held).
  bool cut = false;
};

/// tcp_wmem's maximum: what autotuning may give a socket's send buffer.
std::size_t autotuning_max() {
  std::ifstream file("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t low = 0, initial = 0, max = 0;
  file >> low >> initial >> max;
  return max;
}

/// Loopback's MTU: autotuning sizes a new socket's buffer from it (ten segments, twice), 64 KiB usually.
std::size_t loopback_mtu() {
  std::ifstream file("/sys/class/net/lo/mtu");
  std::size_t mtu = 0;
  file >> mtu;
  return mtu;
}

// Opens a stream whose client has a small receive buffer and never reads, and a second one that reads
// everything (one I/O thread: a fan-out pass that reached the reader has queued to the stalled one too);
// publishes one event at a time until the server cuts the stalled stream off.
Stall stall(std::size_t send_buffer) {
  RealtimeSetup setup;
  setup.options.io_threads = 1;
  setup.options.realtime.max_pending_bytes = kBound;
  setup.options.realtime.stream_send_buffer_bytes = send_buffer;
  setup.options.realtime.history_max_events = 16;
  RealtimeServer server(setup);

  SseClient stalled(server.port(), sse("channels=firehose"), {.receive_buffer = 4096});
  EXPECT_EQ(stalled.read_head(), 200u);
  EXPECT_TRUE(stalled.next_event());  // connected: subscribed; from now on it reads nothing until the cut
  auto reader = open_stream(server.port(), "channels=firehose");

  Stall result;
  const std::string pad(kEvent, 'x');
  for (int n = 0; result.published < kGiveUp; ++n) {
    server.realtime().publish("firehose", json::object{{"n", n}, {"pad", pad}});
    result.published += kEvent;
    auto frame = reader->next_of("message");
    if (!frame) throw std::runtime_error("the reading client missed event " + std::to_string(n));
    if (frame->json().at("data").at("n").as_int64() != n) throw std::runtime_error("out of order");
    // The stalled session's write completes as the kernel takes bytes: give the loop that moment.
    if (eventually([&] { return server.realtime().stats().slow_client_disconnects > 0; },
                   std::chrono::milliseconds(10), std::chrono::milliseconds(2))) {
      result.cut = true;
      break;
    }
  }
  // What the kernel had taken for it before the cut still reaches the client; then the stream ends. It
  // reads with a buffer of usual size (backpressure_test.cpp says why: a 4 KiB one can keep its window
  // shut and have the rest trickle out at the pace of zero-window probes).
  int usual = 256 * 1024;
  ::setsockopt(stalled.fd(), SOL_SOCKET, SO_RCVBUF, &usual, sizeof usual);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!stalled.closed_by_server() && std::chrono::steady_clock::now() < deadline) {
    pollfd ready{stalled.fd(), POLLIN, 0};
    ::poll(&ready, 1, 100);
    for (auto& frame : stalled.read_available()) result.received += frame.raw.size();
  }
  EXPECT_TRUE(stalled.closed_by_server()) << "the stalled stream was not closed after its cut";
  EXPECT_FALSE(reader->closed_by_server());
  return result;
}

TEST(RealtimeSendBuffer, StalledClientIsCutAfterItsBoundAndTheCappedBuffer) {
  constexpr std::size_t kCap = 64 * 1024;
  auto capped = stall(kCap);
  ASSERT_TRUE(capped.cut) << "no cut after " << capped.published << " bytes";
  // Bounds, not timings: the server's queue, the send buffer, the client's 8 KiB receive buffer (and the
  // window the kernel advertised before it), a few events in flight.
  EXPECT_GT(capped.published, kBound);
  EXPECT_LT(capped.published, kBound + kCap + 256 * 1024) << "cut after " << capped.published << " bytes";
  EXPECT_LT(capped.received, kCap + 128 * 1024) << "the kernel held " << capped.received << " bytes";
}

TEST(RealtimeSendBuffer, AutotunedBufferHoldsMegabytesBeforeTheCut) {
  auto max = autotuning_max();
  if (max < (2u << 20) || loopback_mtu() < 16384)
    GTEST_SKIP() << "tcp_wmem's maximum is " << max << ", loopback's MTU " << loopback_mtu()
                 << ": autotuning does not give a new socket megabytes here";
  auto tuned = stall(0);
  ASSERT_TRUE(tuned.cut) << "no cut after " << tuned.published << " bytes";
  // The old behaviour: the kernel takes a megabyte or more before the server's own queue starts to grow.
  EXPECT_GT(tuned.published, kBound + (1u << 20)) << "cut after " << tuned.published << " bytes";
  EXPECT_GT(tuned.received, std::size_t{1} << 20) << "the kernel held " << tuned.received << " bytes";
}

TEST(RealtimeSendBuffer, TooSmallSendBufferIsRefusedAtStart) {
  AppOptions options = RealtimeSetup::quiet();
  options.realtime.stream_send_buffer_bytes = 512;
  try {
    App app(options);
    FAIL() << "an App with a 512-byte send buffer was built";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("stream_send_buffer_bytes"), std::string::npos) << e.what();
  }
}

TEST(RealtimeSendBuffer, SendBufferPastTheKernelsMaximumIsNamedAtStart) {
  std::ifstream file("/proc/sys/net/core/wmem_max");
  std::size_t wmem_max = 0;
  file >> wmem_max;
  if (wmem_max == 0 || 4 * wmem_max > (std::size_t{1} << 30))
    GTEST_SKIP() << "net.core.wmem_max is " << wmem_max;
  AppOptions options = RealtimeSetup::quiet();
  options.log_level = LogLevel::warn;
  options.realtime.stream_send_buffer_bytes = 4 * wmem_max;  // asks for twice what the kernel lets through
  testing::internal::CaptureStderr();
  { App app(options); }  // the log is written out when the App goes
  auto log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("net.core.wmem_max (" + std::to_string(wmem_max) + ")"), std::string::npos) << log;
  EXPECT_NE(log.find("at " + std::to_string(2 * wmem_max) + " bytes"), std::string::npos) << log;

  options.realtime.stream_send_buffer_bytes = 2 * wmem_max;  // all of it fits: nothing to say
  testing::internal::CaptureStderr();
  { App app(options); }
  log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("wmem_max"), std::string::npos) << log;
}

}  // namespace
}  // namespace igniter::test

// Backpressure: a client that stops reading is cut off at its bound while the others keep receiving, and
// the server's memory does not grow with what the stalled client fails to read; one that stops before its
// bound fills is cut once its write has stalled for write_stall_timeout.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;  // ASan's quarantine keeps freed memory resident: RSS says nothing
#else
constexpr bool kSanitized = false;
#endif

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

TEST(RealtimeBackpressure, StalledClientIsCutAtItsBoundWhileAHundredOthersReceiveEverything) {
  constexpr std::size_t kBound = 64 * 1024;
  constexpr int kFed = 100;
  constexpr int kReaders = 4;
  constexpr int kBursts = kSanitized ? 30 : 100;
  constexpr int kSmallPerBurst = 10;  // ~600 B each, to everyone on "firehose"
  constexpr int kBulkPerBurst = 40;   // 16 KiB each, on "bulk", which only the stalled client reads
  RealtimeSetup setup;
  setup.options.realtime.max_pending_bytes = kBound;
  setup.options.realtime.history_max_events = 16;  // keep the history's share of memory small and fixed
  RealtimeServer server(setup);

  SseClient stalled(server.port(), sse("channels=firehose,bulk"), {.receive_buffer = 4096});
  ASSERT_EQ(stalled.read_head(), 200u);
  ASSERT_TRUE(stalled.next_event());  // connected: it is subscribed; from now on it never reads

  std::vector<std::unique_ptr<SseClient>> fed;
  for (int k = 0; k < kFed; ++k) {
    auto s = open_stream(server.port(), "channels=firehose");
    ASSERT_FALSE(s.info.empty());
    fed.push_back(std::move(s.client));
  }
  std::vector<std::vector<int>> received(kFed);
  std::vector<std::atomic<int>> counts(kFed);
  std::atomic<bool> stop{false};
  auto reader = [&](int part) {
    std::vector<pollfd> fds;
    while (!stop.load()) {
      fds.clear();
      for (int k = part; k < kFed; k += kReaders) fds.push_back({fed[k]->fd(), POLLIN, 0});
      ::poll(fds.data(), fds.size(), 10);
      for (int k = part; k < kFed; k += kReaders) {
        for (auto& frame : fed[k]->read_available()) {
          if (frame.event != "message") continue;
          received[k].push_back(static_cast<int>(frame.json().at("data").at("n").as_int64()));
          counts[k].store(static_cast<int>(received[k].size()));
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);

  const std::string small(512, 's');
  const std::string bulk(16 * 1024, 'b');
  auto rss_before = resident_bytes();
  std::size_t bulk_bytes = 0;
  int n = 0;
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = 0; i < kSmallPerBurst; ++i)
      server.realtime().publish("firehose", json::object{{"n", n++}, {"pad", small}});
    for (int i = 0; i < kBulkPerBurst; ++i) {
      server.realtime().publish("bulk", json::object{{"pad", bulk}});
      bulk_bytes += bulk.size();
    }
    // Pace on the fed clients, so that they never fall behind their own bound.
    bool caught_up = eventually(
        [&] {
          for (auto& c : counts)
            if (c.load() < n) return false;
          return true;
        },
        std::chrono::seconds(20));
    ASSERT_TRUE(caught_up) << "fed clients fell behind at burst " << burst;
  }
  auto rss_after = resident_bytes();
  stop = true;
  for (auto& t : readers) t.join();

  std::vector<int> all(n);
  for (int i = 0; i < n; ++i) all[i] = i;
  for (int k = 0; k < kFed; ++k) ASSERT_EQ(received[k], all) << "fed client " << k;
  for (auto& c : fed) EXPECT_FALSE(c->closed_by_server());

  auto stats = server.realtime().stats();
  EXPECT_EQ(stats.slow_client_disconnects, 1u);
  EXPECT_GE(stats.events_dropped, 1u);
  EXPECT_EQ(stats.connections, static_cast<std::uint64_t>(kFed));
  EXPECT_EQ(stats.subscribers.count("bulk"), 0u);
  // What it had not read before the cut is still delivered, then the stream ends. The client reads again
  // with a buffer of usual size: with 4 KiB, Linux's receiver lets its window stay shut after a read
  // (the update would be smaller than its idea of a segment), and the rest then trickles out only as
  // fast as the server's zero-window probes ask for it, seconds for the ~64 KiB in the socket.
  int usual = 256 * 1024;
  ::setsockopt(stalled.fd(), SOL_SOCKET, SO_RCVBUF, &usual, sizeof usual);
  EXPECT_TRUE(stalled.wait_closed(std::chrono::seconds(10)));

  if (!kSanitized) {
    // Unbounded, the stalled client's queue alone would hold bulk_bytes (64 MiB); bounded, growth is a
    // few MiB (queues, history, the readers' buffers). 24 MiB leaves room for allocator noise.
    auto growth = rss_after > rss_before ? rss_after - rss_before : 0;
    EXPECT_LT(growth, std::size_t{24} << 20) << "RSS grew by " << (growth >> 20) << " MiB while publishing "
                                             << (bulk_bytes >> 20) << " MiB to the stalled client";
  }
}

TEST(RealtimeBackpressure, AClientThatStopsReadingBeforeItsBoundFillsIsCutAfterTheStallTimeout) {
  RealtimeSetup setup;
  setup.options.realtime.keepalive_interval = std::chrono::milliseconds(100);
  setup.options.realtime.write_stall_timeout = std::chrono::milliseconds(300);
  setup.options.realtime.stream_send_buffer_bytes = 8 * 1024;
  RealtimeServer server(setup);
  SseClient stalled(server.port(), sse("channels=bulk"), {.receive_buffer = 4096});
  ASSERT_EQ(stalled.read_head(), 200u);
  ASSERT_TRUE(stalled.next_event());  // connected; from now on it never reads
  auto idle = open_stream(server.port(), "channels=revalidation");
  // 256 KiB: more than the socket buffers hold, far less than the 1 MiB bound that would cut it.
  const std::string pad(16 * 1024, 'p');
  for (int i = 0; i < 16; ++i) server.realtime().publish("bulk", json::object{{"pad", pad}});

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return server.realtime().stats().connections == 1; }, std::chrono::seconds(5)))
      << "the stalled stream is still open";
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_EQ(server.realtime().stats().slow_client_disconnects, 1u);
  // The idle stream, which reads, is not cut: its keepalives keep coming.
  for (int i = 0; i < 5; ++i) {
    auto frame = idle->next(std::chrono::seconds(2));
    ASSERT_TRUE(frame) << "keepalive " << i;
    EXPECT_EQ(frame->raw, ": keepalive\n\n");
  }
  EXPECT_FALSE(idle->closed_by_server());
}

}  // namespace
}  // namespace igniter::test

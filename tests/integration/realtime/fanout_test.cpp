// Fan-out under concurrent publishers: events that arrive while a pass is still writing to hundreds of
// subscribers ride it for the sessions it has not written yet and wait for the next pass for the others,
// and every subscriber still gets every event, once, in id order.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <map>
#include <thread>

#include "integration/realtime/realtime_app.hpp"
#include "server/send_batch.hpp"

namespace igniter::test {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr int kRounds = 3;
#else
constexpr int kRounds = 10;
#endif

// With the writes batched (one system call per slice, where io_uring is there) and without.
class RealtimeFanOutWrites : public ::testing::TestWithParam<bool> {};

TEST_P(RealtimeFanOutWrites, ConcurrentPublishersReachHundredsOfSubscribersCompleteAndInOrder) {
  constexpr int kSubscribers = 600;  // several slices per pass on each shard
  constexpr int kPublishers = 4;
  constexpr int kPerRound = 50;  // per publisher and round
  constexpr int kReaders = 4;
  constexpr int kTotal = kRounds * kPublishers * kPerRound;
  const bool batched = GetParam();
  std::string why;
  if (batched && !server::SendBatch::open(1, why)) GTEST_SKIP() << why;
  RealtimeSetup setup;
  setup.options.realtime.batched_writes = batched;
  RealtimeServer server(setup);

  std::vector<std::unique_ptr<SseClient>> clients;
  for (int k = 0; k < kSubscribers; ++k) {
    auto s = open_stream(server.port(), "channels=ticks");
    ASSERT_FALSE(s.info.empty()) << "subscriber " << k;
    clients.push_back(std::move(s.client));
  }

  struct Seen {
    std::map<int, int> next;  // per publisher: the n it must send next
    std::string last_id;
    int count = 0;
    std::string error;
  };
  std::vector<Seen> seen(kSubscribers);
  std::vector<std::atomic<int>> counts(kSubscribers);
  std::atomic<bool> stop{false};
  auto reader = [&](int part) {
    std::vector<pollfd> fds;
    while (!stop.load()) {
      fds.clear();
      for (int k = part; k < kSubscribers; k += kReaders) fds.push_back({clients[k]->fd(), POLLIN, 0});
      ::poll(fds.data(), fds.size(), 10);
      for (int k = part; k < kSubscribers; k += kReaders) {
        auto& s = seen[k];
        for (auto& frame : clients[k]->read_available()) {
          if (frame.event != "message") continue;
          auto body = frame.json();
          const auto& data = body.at("data");
          auto publisher = static_cast<int>(data.at("p").as_int64());
          auto n = static_cast<int>(data.at("n").as_int64());
          if (s.error.empty() && n != s.next[publisher])
            s.error = "publisher " + std::to_string(publisher) + ": got " + std::to_string(n) +
                      ", expected " + std::to_string(s.next[publisher]);
          s.next[publisher] = n + 1;
          // Ids are `<epoch>-<seq>`: within one epoch a later event has a longer or greater seq.
          auto id = frame.id.value_or("");
          if (s.error.empty() && !s.last_id.empty() &&
              (id.size() < s.last_id.size() || (id.size() == s.last_id.size() && id <= s.last_id)))
            s.error = "id " + id + " after " + s.last_id;
          s.last_id = id;
          counts[k].store(++s.count);
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);

  int published = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> publishers;
    for (int p = 0; p < kPublishers; ++p) {
      publishers.emplace_back([&, p] {
        for (int i = 0; i < kPerRound; ++i)
          server.realtime().publish("ticks", json::object{{"p", p}, {"n", round * kPerRound + i}});
      });
    }
    for (auto& t : publishers) t.join();
    published += kPublishers * kPerRound;
    // Pace rounds on the readers, so that a slow test machine never makes them look like slow clients.
    bool caught_up = eventually(
        [&] {
          for (auto& c : counts)
            if (c.load() < published) return false;
          return true;
        },
        std::chrono::seconds(30));
    ASSERT_TRUE(caught_up) << "subscribers fell behind in round " << round;
  }
  stop = true;
  for (auto& t : readers) t.join();

  for (int k = 0; k < kSubscribers; ++k) {
    EXPECT_EQ(seen[k].error, "") << "subscriber " << k;
    EXPECT_EQ(seen[k].count, kTotal) << "subscriber " << k;
    EXPECT_FALSE(clients[k]->closed_by_server()) << "subscriber " << k;
  }
  auto stats = server.realtime().stats();
  EXPECT_EQ(stats.slow_client_disconnects, 0u);
  EXPECT_EQ(stats.events_dropped, 0u);
  EXPECT_EQ(stats.events_delivered, static_cast<std::uint64_t>(kTotal) * kSubscribers);
  if (batched)
    EXPECT_GE(stats.batched_writes, static_cast<std::uint64_t>(kSubscribers));  // every pass's first write
  else
    EXPECT_EQ(stats.batched_writes, 0u);
}

INSTANTIATE_TEST_SUITE_P(, RealtimeFanOutWrites, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Batched" : "OneSystemCallEach"; });

TEST(RealtimeFanOut, EventsNobodyHearsDoNotHoldBackTheNextOnes) {
  RealtimeSetup setup;
  setup.options.realtime.max_pending_bytes = 16 * 1024;  // a pass takes 8 KiB of the inbox at most
  RealtimeServer server(setup);
  // Many passes' worth of events on a channel nobody listens to: each pass writes to no session.
  for (int n = 0; n < 500; ++n) server.realtime().publish("void", json::object{{"n", n}});
  auto s = open_stream(server.port(), "channels=news");
  ASSERT_FALSE(s.info.empty());
  server.realtime().publish("news", json::object{{"n", 1}});
  auto frame = s.client->next_event();
  ASSERT_TRUE(frame) << "the event behind the unheard ones never came";
  EXPECT_EQ(payload(*frame).at("n"), 1);
}

// A publisher's answer waits until the shards have taken its event (docs/realtime.md, "Publishers wait
// for the fan-out"). With one I/O thread that runs the handlers too, the pass that takes the event writes
// it to the stream before the answer goes out: a client holding the answer finds the event there without
// waiting. Answered at once, the answer went out first and the event a loop turn later. (A worker that
// finds the event taken answers at once, while the pass may not have written yet: not this test.)
TEST(RealtimeFanOut, APublishersAnswerComesOnceItsEventIsTakenForTheStreams) {
  RealtimeSetup setup;
  setup.options.io_threads = 1;
  setup.options.worker_threads = 0;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=revalidation&scopes=");
  ASSERT_FALSE(s.info.empty());
  for (int round = 0; round < 20; ++round) {
    auto r = fetch(server.port(), "POST", "/api/v1/posts", R"({"title":"Hello"})");
    ASSERT_EQ(r.status, 201u);
    auto frames = s.client->read_available();
    EXPECT_FALSE(frames.empty()) << "round " << round << ": the answer came before the event";
    if (frames.empty()) s.client->next_event(std::chrono::milliseconds(500));  // not the next round's
  }
}

}  // namespace
}  // namespace igniter::test

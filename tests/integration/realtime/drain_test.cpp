// Stopping with open streams: they end in batches over AppOptions::drain_window, each told by a `retry:`
// hint when to come back, and the streams still open meanwhile keep receiving events.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <regex>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// One I/O thread (the batches are per thread), a 1 s window over `batches` batches whatever the count.
RealtimeSetup draining(std::size_t batches) {
  RealtimeSetup setup;
  setup.options.io_threads = 1;
  setup.options.drain_window = 1000ms;
  setup.options.drain_rate = 0;
  setup.options.drain_batches = batches;
  return setup;
}

TEST(RealtimeDrain, StoppingEndsEachStreamWithARetryHintShorterThanTheBatchGap) {
  RealtimeServer server(draining(4));  // gaps of 250 ms
  std::vector<Stream> streams;
  for (int i = 0; i < 4; ++i) streams.push_back(open_stream(server.port(), "channels=news"));
  server.app().stop();
  for (auto& stream : streams) {
    auto frame = stream->next(2s);
    ASSERT_TRUE(frame) << "no frame before the end";
    std::smatch m;
    ASSERT_TRUE(std::regex_match(frame->raw, m, std::regex(R"(: draining\nretry: (\d+)\n\n)"))) << frame->raw;
    EXPECT_LT(std::stoi(m[1]), 250);
    EXPECT_TRUE(stream->wait_closed(2s));
  }
  server.app().wait();
}

TEST(RealtimeDrain, StreamsEndInBatchesSpreadOverTheWindow) {
  RealtimeServer server(draining(4));
  std::vector<Stream> streams;
  for (int i = 0; i < 8; ++i) streams.push_back(open_stream(server.port(), "channels=news"));
  auto began = Clock::now();
  server.app().stop();
  std::vector<std::future<Clock::duration>> ends;
  for (auto& stream : streams)
    ends.push_back(std::async(std::launch::async, [&stream, began] {
      EXPECT_TRUE(stream->wait_closed(3s));
      return Clock::now() - began;
    }));
  std::vector<Clock::duration> at;
  for (auto& end : ends) at.push_back(end.get());
  server.app().wait();
  auto stopped = Clock::now() - began;
  std::sort(at.begin(), at.end());
  // Two at 0, two at 250 ms, two at 500 ms, two at 750 ms.
  EXPECT_LT(at[1], 200ms);
  EXPECT_GT(at[2], 200ms);
  EXPECT_GT(at[6], 700ms);
  EXPECT_LT(at[7], 1200ms);
  EXPECT_LT(stopped, 1500ms) << "the stop outlasted its window";
}

TEST(RealtimeDrain, EventsPublishedDuringTheDrainReachTheStreamsStillOpen) {
  RealtimeServer server(draining(2));  // the first stream at 0, the second at 500 ms
  auto first = open_stream(server.port(), "channels=news");
  auto second = open_stream(server.port(), "channels=news");
  server.app().stop();
  ASSERT_TRUE(first->wait_closed(400ms));
  ASSERT_TRUE(server.realtime().try_publish("news", json::object{{"n", 1}}));
  auto event = second->next_event(2s);
  ASSERT_TRUE(event) << "the open stream missed the event";
  EXPECT_EQ(event->event, "message");
  auto last = second->next(2s);
  ASSERT_TRUE(last);
  EXPECT_TRUE(last->raw.starts_with(": draining\nretry: ")) << last->raw;
  EXPECT_TRUE(second->wait_closed(2s));
  server.app().wait();
}

TEST(RealtimeDrain, WindowNotShorterThanShutdownTimeoutFailsAtStart) {
  App app({.shutdown_timeout = 5s, .log_level = LogLevel::off, .drain_window = 5s});
  try {
    app.start(0);
    FAIL() << "started with a drain window as long as the shutdown timeout";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("drain_window"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace igniter::test

// Resume by event id: replay of what a client missed, resync when it cannot be replayed, and a storm of
// reconnects while a publisher streams events.
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

/// Receives news 1, goes away, misses 2..5 (some not for it), comes back from `reopen(last id)`.
void expect_replay_then_live(const std::function<Stream(RealtimeServer&, const std::string&)>& reopen) {
  RealtimeServer server;
  const std::string query = "channels=news,revalidation&scopes=";
  auto first_id = [&] {
    auto s = open_stream(server.port(), query, as_user("alice"));
    server.realtime().publish("news", 1);
    auto frame = s->next_event();
    EXPECT_TRUE(frame && frame->id);
    return frame && frame->id ? *frame->id : std::string();
  }();  // the client is gone

  server.realtime().publish("news", 2);
  server.realtime().publish("sports", 99);                          // another channel
  server.realtime().publish("news", 98, {.scopes = {"user:bob"}});  // another user's
  server.realtime().publish("news", 4, {.scopes = {"user:alice"}});
  server.realtime().revalidate({"posts.list"});

  auto s = reopen(server, first_id);
  EXPECT_EQ(s.info.at("lastEventId"), first_id.c_str());
  EXPECT_EQ(s.connected.id, first_id);  // a native EventSource keeps resuming from here
  EXPECT_FALSE(s.info.contains("resync"));
  std::vector<std::string> ids;
  for (int n : {2, 4}) {
    auto frame = s->next_event();
    ASSERT_TRUE(frame);
    EXPECT_EQ(payload(*frame), n) << frame->raw;
    ids.push_back(frame->id.value_or(""));
  }
  auto revalidate = s->next_event();
  ASSERT_TRUE(revalidate);
  EXPECT_EQ(revalidate->event, "revalidate");
  server.realtime().publish("news", 5);  // live again
  auto live = s->next_event();
  ASSERT_TRUE(live);
  EXPECT_EQ(payload(*live), 5);
  EXPECT_TRUE(s->drain(std::chrono::milliseconds(200)).empty());  // nothing twice
  auto a = realtime::parse_event_id(ids[0]), b = realtime::parse_event_id(ids[1]);
  ASSERT_TRUE(a && b);
  EXPECT_LT(a->seq, b->seq);
}

TEST(RealtimeResume, LastEventIdHeaderReplaysMissedEventsInOrderThenLiveEventsFollow) {
  expect_replay_then_live([](RealtimeServer& server, const std::string& last) {
    auto options = as_user("alice");
    options.last_event_id = last;
    return open_stream(server.port(), "channels=news,revalidation&scopes=", options);
  });
}

TEST(RealtimeResume, LastEventIdQueryParameterReplaysMissedEventsInOrderThenLiveEventsFollow) {
  expect_replay_then_live([](RealtimeServer& server, const std::string& last) {
    return open_stream(server.port(), "channels=news,revalidation&scopes=&lastEventId=" + last,
                       as_user("alice"));
  });
}

void expect_resync(Stream& s) {
  EXPECT_EQ(s.info.at("resync"), true) << s.connected.raw;
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->event, "revalidate");
  EXPECT_TRUE(frame->id.has_value());
  EXPECT_EQ(frame->json().at("channel"), "revalidation");
  EXPECT_EQ(payload(*frame).at("queryKeys"), (json::array{""})) << frame->raw;
}

TEST(RealtimeResume, IdFromPrunedHistoryGetsResync) {
  RealtimeSetup setup;
  setup.options.realtime.history_max_events = 3;
  RealtimeServer server(setup);
  std::string last;
  {
    auto s = open_stream(server.port(), "channels=news");
    server.realtime().publish("news", 1);
    auto frame = s->next_event();
    ASSERT_TRUE(frame && frame->id);
    last = *frame->id;
  }
  for (int n = 2; n <= 6; ++n) server.realtime().publish("news", n);
  auto s = open_stream(server.port(), "channels=news", {.last_event_id = last});
  expect_resync(s);
  EXPECT_EQ(server.realtime().stats().resyncs, 1u);
}

TEST(RealtimeResume, ForeignOrUnknownIdGetsResync) {
  RealtimeServer server;
  server.realtime().publish("news", 1);
  for (const char* id : {"5b115201-b283-406c-ba6c-6b3d2880b2c1", "abc", "zzzzzzzz-1"}) {
    auto s = open_stream(server.port(), "channels=news,revalidation", {.last_event_id = id});
    expect_resync(s);
    server.realtime().publish("news", 2);  // then live events follow
    auto live = s->next_event();
    ASSERT_TRUE(live);
    EXPECT_EQ(payload(*live), 2);
  }
}

TEST(RealtimeResume, ReplayLargerThanTheBoundIsSentPageByPageNotCutOff) {
  RealtimeSetup setup;
  setup.options.realtime.max_pending_bytes = 16 * 1024;
  RealtimeServer server(setup);
  std::string last;
  {
    auto s = open_stream(server.port(), "channels=news");
    last = s.connected.id.value_or("");
  }
  // Gone for the server too (else the publishes below would overflow the dead connection's queue).
  ASSERT_TRUE(eventually([&] { return server.realtime().stats().connections == 0; }));
  constexpr int kMissed = 2000;  // ~200 KiB of frames: twelve times the bound
  for (int n = 0; n < kMissed; ++n) server.realtime().publish("news", json::object{{"n", n}});
  auto s = open_stream(server.port(), "channels=news", {.last_event_id = last});
  EXPECT_FALSE(s.info.contains("resync"));
  server.realtime().publish("news", json::object{{"n", kMissed}});  // published while it catches up
  for (int n = 0; n <= kMissed; ++n) {
    auto frame = s->next_event();
    ASSERT_TRUE(frame) << "stream ended after " << n << " events";
    ASSERT_EQ(payload(*frame).at("n"), n);
  }
  EXPECT_TRUE(s->drain(std::chrono::milliseconds(100)).empty());
  EXPECT_EQ(server.realtime().stats().slow_client_disconnects, 0u);
}

// ---- the storm -------------------------------------------------------------------------------------

int storm_events() {
  if (const char* env = std::getenv("IGNITER_STORM_EVENTS")) return std::max(100, std::atoi(env));
#if defined(__SANITIZE_ADDRESS__)
  return 2000;  // ASan makes every frame ~10x dearer; the interleavings are the same
#else
  return 10000;
#endif
}

struct StormClient {
  std::unique_ptr<SseClient> client;
  std::string user;
  bool a = false, b = false;  // subscribed to storm.a / storm.b
  std::vector<int> received;
  std::size_t expected = 0;
  int frames_until_leave = 0;
  std::chrono::steady_clock::time_point back_at{};
  bool away = false;
  int reconnects = 0;
  bool resynced = false;
  std::string last_id;  // id of the last frame processed
};

TEST(RealtimeResume, StormOfReconnectsEndsWithEveryMatchingEventInOrderWithoutDuplicates) {
  const int events = storm_events();
  constexpr int kClients = 100;
  constexpr int kReaders = 4;
  RealtimeSetup setup;
  setup.options.realtime.history_max_events = static_cast<std::size_t>(events) + 100;
  RealtimeServer server(setup);

  // Event i goes to storm.a when even, storm.b when odd; every 5th is scoped to user:alice.
  auto matches = [](const StormClient& c, int i) {
    bool channel = i % 2 == 0 ? c.a : c.b;
    return channel && (i % 5 != 0 || c.user == "alice");
  };
  std::vector<StormClient> clients(kClients);
  std::mt19937 seed_rng(12345);
  for (int k = 0; k < kClients; ++k) {
    auto& c = clients[k];
    c.user = k % 2 == 0 ? "alice" : "bob";
    c.a = k % 3 != 2;
    c.b = k % 3 != 0;
    std::string channels = c.a && c.b ? "storm.a,storm.b" : c.a ? "storm.a" : "storm.b";
    auto s = open_stream(server.port(), "channels=" + channels + "&scopes=", as_user(c.user));
    ASSERT_FALSE(s.info.empty());
    c.client = std::move(s.client);
    c.last_id = s.connected.id.value_or("");
    for (int i = 0; i < events; ++i) c.expected += matches(c, i) ? 1 : 0;
    c.frames_until_leave = 50 + static_cast<int>(seed_rng() % 400);
  }

  std::atomic<bool> published{false};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto reader = [&](int part) {
    std::mt19937 rng(part * 7919 + 1);
    std::vector<StormClient*> mine;
    for (int k = part; k < kClients; k += kReaders) mine.push_back(&clients[k]);
    std::vector<pollfd> fds;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all_done = published.load();
      fds.clear();
      auto now = std::chrono::steady_clock::now();
      for (auto* c : mine) {
        if (c->away && now >= c->back_at) {
          c->client->reconnect_from(c->last_id);  // resumes after the last event it processed
          c->away = false;
          ++c->reconnects;
        }
        if (c->received.size() < c->expected) all_done = false;
        if (!c->away) fds.push_back({c->client->fd(), POLLIN, 0});
      }
      if (all_done) return;
      ::poll(fds.data(), fds.size(), 10);
      for (auto* c : mine) {
        if (c->away) continue;
        for (auto& frame : c->client->read_available()) {
          if (frame.id) c->last_id = *frame.id;
          if (frame.event == "connected") {
            c->resynced = c->resynced || frame.data.find("\"resync\":true") != std::string::npos;
          } else if (frame.event == "message") {
            c->received.push_back(static_cast<int>(frame.json().at("data").at("n").as_int64()));
            if (--c->frames_until_leave <= 0 && c->received.size() < c->expected) {
              // Gone mid-read: what it read after this frame is lost with the connection.
              c->client->close();
              c->away = true;
              c->back_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 20);
              c->frames_until_leave = 50 + static_cast<int>(rng() % 400);
              break;
            }
          }
        }
        if (!c->away && c->client->closed_by_server()) {  // cut as a slow client: comes back the same way
          c->client->reconnect_from(c->last_id);
          ++c->reconnects;
        }
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) readers.emplace_back(reader, r);

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < events; ++i) {
    realtime::PublishOptions options;
    if (i % 5 == 0) options.scopes = {"user:alice"};
    server.realtime().publish(i % 2 == 0 ? "storm.a" : "storm.b", json::object{{"n", i}}, options);
    if (i % 20 == 19) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  published = true;
  for (auto& t : readers) t.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  // Anything arriving after the count was reached would be a duplicate: give it time to show up.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& c : clients)
    if (!c.away)
      for (auto& frame : c.client->read_available())
        if (frame.event == "message")
          c.received.push_back(static_cast<int>(frame.json().at("data").at("n").as_int64()));

  int reconnects = 0;
  for (int k = 0; k < kClients; ++k) {
    auto& c = clients[k];
    reconnects += c.reconnects;
    EXPECT_FALSE(c.resynced) << "client " << k;
    std::vector<int> expected;
    for (int i = 0; i < events; ++i)
      if (matches(c, i)) expected.push_back(i);
    ASSERT_EQ(c.received, expected) << "client " << k << " (" << c.user << ", " << c.reconnects
                                    << " reconnects) received " << c.received.size() << " of "
                                    << expected.size();
  }
  EXPECT_GT(reconnects, kClients);  // the storm did happen
  EXPECT_LT(elapsed, std::chrono::seconds(60));
  std::cout << "[ storm    ] " << events << " events, " << kClients << " clients, " << reconnects
            << " reconnects in " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms\n";
}

}  // namespace
}  // namespace igniter::test

// Revocation: realtime.revoke closes every stream holding a scope (logout, ban), realtime.drop_scope takes
// a scope from open streams; neither is ever delivered or replayed as an event.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

/// The `text` of a message frame's payload.
std::string text_of(const SseFrame& frame) {
  return std::string(payload(frame).at("text").as_string());
}

/// Reads `s` up to the `: revoked` comment (returning the events before it) and checks that the server
/// then closes the stream with nothing after the comment.
std::vector<std::string> read_until_revoked(Stream& s) {
  std::vector<std::string> texts;
  for (;;) {
    auto frame = s->next(std::chrono::seconds(5));
    if (!frame) {
      ADD_FAILURE() << "no `: revoked` comment before the end of the stream";
      return texts;
    }
    if (frame->comment_only()) {
      if (frame->comments == std::vector<std::string>{"revoked"}) break;
      continue;  // keepalive
    }
    texts.push_back(text_of(*frame));
  }
  auto after = s->next(std::chrono::seconds(5));
  EXPECT_FALSE(after) << "after the revocation: " << after->raw;
  EXPECT_TRUE(s->closed_by_server());
  return texts;
}

TEST(RealtimeRevocation, RevokeClosesEveryStreamHoldingTheScopeAndNoLaterEventReachesThem) {
  RealtimeServer server;
  auto laptop = open_stream(server.port(), "channels=news", as_user("alice"));
  auto phone = open_stream(server.port(), "channels=news", as_user("alice"));
  auto bob = open_stream(server.port(), "channels=news", as_user("bob"));
  auto anonymous = open_stream(server.port(), "channels=news");
  server.realtime().publish("news", json::object{{"text", "for alice, before"}}, {.scopes = {"user:alice"}});

  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  server.realtime().publish("news", json::object{{"text", "for alice, after"}}, {.scopes = {"user:alice"}});
  server.realtime().publish("news", json::object{{"text", "for everyone"}});

  // Each of alice's streams gets what was published before, the comment, and the close.
  for (auto* s : {&laptop, &phone})
    EXPECT_EQ(read_until_revoked(*s), std::vector<std::string>{"for alice, before"});
  // The others stay open and see the next event, and no trace of the revocation.
  for (auto* s : {&bob, &anonymous}) {
    auto next = (*s)->next_event(std::chrono::seconds(5));
    ASSERT_TRUE(next);
    EXPECT_EQ(text_of(*next), "for everyone") << next->raw;
    EXPECT_FALSE((*s)->closed_by_server());
  }
}

TEST(RealtimeRevocation, RevokedClientReconnectsWithItsNewCredentialsAndIsReplayedOnlyWhatItMayRead) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=news", as_user("alice"));
  server.realtime().publish("news", json::object{{"text", "one"}});
  auto one = alice->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(one && one->id);

  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  server.realtime().publish("news", json::object{{"text", "private"}}, {.scopes = {"user:alice"}});
  server.realtime().publish("news", json::object{{"text", "public"}});
  EXPECT_TRUE(read_until_revoked(alice).empty());

  // As a browser after logout: no session cookie any more, resuming from its last id.
  auto again = open_stream(server.port(), "channels=news&lastEventId=" + *one->id);
  EXPECT_TRUE(again.info.at("scopes").as_array().empty());
  auto replayed = again->drain(std::chrono::milliseconds(300));
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(text_of(replayed[0]), "public");
}

TEST(RealtimeRevocation, ARevokedStreamIsNoLongerCountedAsASubscriber) {
  RealtimeSetup setup;
  setup.options.realtime.metrics_channels = {"news"};
  RealtimeServer server(setup);
  auto alice = open_stream(server.port(), "channels=news", as_user("alice"));
  auto bob = open_stream(server.port(), "channels=news", as_user("bob"));
  ASSERT_EQ(server.realtime().stats().subscribers["news"], 2u);
  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  EXPECT_TRUE(alice->wait_closed(std::chrono::seconds(5)));
  ASSERT_TRUE(eventually([&] { return server.realtime().stats().connections == 1; }));
  EXPECT_EQ(server.realtime().stats().subscribers["news"], 1u);  // /metrics' gauge, not only the index
}

TEST(RealtimeRevocation, DropScopeKeepsTheStreamOpenWithoutThatScope) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=news", as_user("alice"));
  EXPECT_EQ(strings(alice.info.at("scopes")), (std::vector<std::string>{"tenant:7", "user:alice"}));
  server.realtime().publish("news", json::object{{"text", "tenant, before"}}, {.scopes = {"tenant:7"}});
  ASSERT_TRUE(server.realtime().drop_scope("tenant:7"));
  server.realtime().publish("news", json::object{{"text", "tenant, after"}}, {.scopes = {"tenant:7"}});
  server.realtime().publish("news", json::object{{"text", "alice"}}, {.scopes = {"user:alice"}});
  server.realtime().publish("news", json::object{{"text", "everyone"}});
  std::vector<std::string> texts;
  for (int i = 0; i < 3; ++i) {
    auto frame = alice->next_event(std::chrono::seconds(5));
    ASSERT_TRUE(frame) << "after " << texts.size() << " events";
    texts.push_back(text_of(*frame));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"tenant, before", "alice", "everyone"}));
  EXPECT_FALSE(alice->closed_by_server());
}

TEST(RealtimeRevocation, RevocationOfAnotherScopeLeavesTheStreamAlone) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=news", as_user("alice"));
  ASSERT_TRUE(server.realtime().revoke("user:bob"));
  ASSERT_TRUE(server.realtime().drop_scope("user:bob"));
  server.realtime().publish("news", json::object{{"text", "still here"}}, {.scopes = {"user:alice"}});
  auto frame = alice->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(frame);
  EXPECT_EQ(text_of(*frame), "still here");
}

TEST(RealtimeRevocation, EmptyScopeIsRefused) {
  RealtimeServer server;
  EXPECT_EQ(server.realtime().revoke("").error(), std::errc::invalid_argument);
  EXPECT_EQ(server.realtime().drop_scope("").error(), std::errc::invalid_argument);
}

TEST(RealtimeRevocation, ReservedChannelsCanBeNeitherSubscribedNorPublished) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=news,__igniter.revoke,__igniter.revoke%3A%7B%7D,__igniter.x",
                       as_user("alice"));
  EXPECT_EQ(strings(s.info.at("channels")), std::vector<std::string>{"news"});
  ASSERT_EQ(s.info.at("refused").as_array().size(), 3u);
  EXPECT_EQ(s.info.at("refused").at(0).at("reason"),
            "channel names starting with \"__igniter.\" are reserved");
  EXPECT_THROW(server.realtime().publish("__igniter.revoke", json::object{{"x", 1}}), std::invalid_argument);
  // Live subscription changes go through the same admission.
  auto change = fetch(server.port(), "POST", "/api/v1/sse/events/subscriptions",
                      json::serialize(json::object{{"connectionId", s.info.at("connectionId")},
                                                   {"token", s.info.at("token")},
                                                   {"subscribe", json::array{"__igniter.revoke"}}}));
  ASSERT_EQ(change.status, 200u) << change.body;
  EXPECT_TRUE(change.json().at("data").at("subscribed").as_array().empty()) << change.body;
}

TEST(RealtimeRevocation, ResumeNeverReplaysARevocation) {
  RealtimeServer server;
  auto bob = open_stream(server.port(), "channels=news,revalidation", as_user("bob"));
  server.realtime().publish("news", json::object{{"text", "one"}});
  auto one = bob->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(one && one->id);
  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  ASSERT_TRUE(server.realtime().drop_scope("user:alice"));
  server.realtime().publish("news", json::object{{"text", "two"}});
  // Live: the revocations are not delivered.
  auto two = bob->next_event(std::chrono::seconds(5));
  ASSERT_TRUE(two);
  EXPECT_EQ(text_of(*two), "two");
  // Resumed from before them (with the default channel set too): not replayed either.
  for (std::string query : {"channels=news,revalidation&", ""}) {
    auto again = open_stream(server.port(), query + "lastEventId=" + *one->id, as_user("bob"));
    std::vector<std::string> replayed;  // events with an id (not the stream queries' first data)
    for (const auto& frame : again->drain(std::chrono::milliseconds(300)))
      if (frame.id) replayed.push_back(frame.raw);
    if (query.empty()) {
      EXPECT_TRUE(replayed.empty()) << replayed[0];
    } else {
      ASSERT_EQ(replayed.size(), 1u) << replayed[0];
      EXPECT_NE(replayed[0].find("\"two\""), std::string::npos) << replayed[0];
    }
  }
}

TEST(RealtimeRevocation, NarrowingTheScopesAwayDoesNotShieldAStreamFromRevocation) {
  RealtimeServer server;
  // The client asks for tenant:7 only: it does not hold user:alice, but was granted it by its credentials.
  auto narrowed = open_stream(server.port(), "channels=news&scopes=tenant:7", as_user("alice"));
  EXPECT_EQ(strings(narrowed.info.at("scopes")), std::vector<std::string>{"tenant:7"});
  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  EXPECT_TRUE(read_until_revoked(narrowed).empty());
}

TEST(RealtimeRevocation, RevocationWhileTheStreamsCredentialsAreCheckedEndsItWhenItOpens) {
  RealtimeServer server({.resolver = false});
  std::promise<void> resolving, revoked;
  auto resolving_done = resolving.get_future();
  auto revoked_done = revoked.get_future().share();
  server.realtime().scopes([&](Ctx& c) -> std::vector<std::string> {
    if (c.request.cookie("session") != "slow") return {};
    resolving.set_value();  // the credentials were read: still valid
    revoked_done.wait();    // the logout happens now, before the stream is set up
    return {"user:slow"};
  });
  auto first =
      server.realtime().publish("news", json::object{{"text", "private"}}, {.scopes = {"user:slow"}});
  server.realtime().publish("news", json::object{{"text", "public"}});
  std::thread revoker([&] {
    resolving_done.wait();
    EXPECT_TRUE(server.realtime().revoke("user:slow"));
    revoked.set_value();
  });
  // Resuming from the start: what is replayed before the close is what anyone may read.
  auto s = open_stream(server.port(), "channels=news&lastEventId=" + realtime::to_string({first.epoch, 0}),
                       as_user("slow"));
  revoker.join();
  EXPECT_EQ(read_until_revoked(s), std::vector<std::string>{"public"});
}

TEST(RealtimeRevocation, OurClientReconnectsByItselfAndGetsTheScopesOfItsNewCredentials) {
  RealtimeServer server;
  client::Client api("http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1");
  api.set_cookie("session", "alice");
  std::mutex mutex;
  std::vector<std::vector<std::string>> connections;  // the scopes of each `connected` frame
  std::vector<std::string> texts;
  client::SubscribeOptions options;
  options.channels = {"news"};
  options.backoff = {.initial = std::chrono::milliseconds(20), .max = std::chrono::milliseconds(50)};
  options.on_connected = [&](const client::Connected& c) {
    std::lock_guard lock(mutex);
    connections.push_back(c.scopes);
  };
  options.on_event = [&](const client::Event& e) {
    std::lock_guard lock(mutex);
    texts.emplace_back(e.data.at("text").as_string());
  };
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return connections.size() == 1;
  }));
  api.set_cookie("session", "");  // logged out
  ASSERT_TRUE(server.realtime().revoke("user:alice"));
  server.realtime().publish("news", json::object{{"text", "private"}}, {.scopes = {"user:alice"}});
  server.realtime().publish("news", json::object{{"text", "public"}});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return connections.size() == 2 && !texts.empty();
  }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(connections[0], (std::vector<std::string>{"tenant:7", "user:alice"}));
  EXPECT_TRUE(connections[1].empty());
  EXPECT_EQ(texts, std::vector<std::string>{"public"});  // never the private one
}

}  // namespace
}  // namespace igniter::test

// Presence in one process (memory store): real streams on 127.0.0.1, read through the API, the
// framework's HTTP endpoint and the C++ client; joins and leaves on the events channel; limits.
#include <gtest/gtest.h>

#include <chrono>
#include <igniter/client/client.hpp>
#include <igniter/igniter.hpp>
#include <thread>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

template <class F>
bool within(std::chrono::milliseconds limit, F condition) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

class Presence : public ::testing::Test {
 protected:
  void start(PresenceOptions options) {
    app_ =
        std::make_unique<App>(AppOptions{.io_threads = 1, .worker_threads = 2, .log_level = LogLevel::off});
    app_->realtime().scopes([](Ctx& c) {
      auto user = c.request.header("x-user");
      return user.empty() ? std::vector<std::string>{}
                          : std::vector<std::string>{"user:" + std::string(user)};
    });
    app_->realtime().authorize([](Ctx& c, std::string_view channel) -> std::optional<std::string> {
      if (channel == "staff" && c.request.header("x-user") != "boss") return "staff only";
      return std::nullopt;
    });
    options.member = member_from_scope("user:");
    app_->realtime().track_presence(std::move(options));
    port_ = app_->start(0);
  }
  void TearDown() override {
    if (app_) {
      app_->stop();
      app_->wait();
    }
  }
  struct Open {
    std::unique_ptr<SseClient> client;
    json::object info;
  };
  Open open(const std::string& user, const std::string& channels) {
    SseOptions options;
    if (!user.empty()) options.headers.emplace_back("X-User", user);
    Open out{std::make_unique<SseClient>(port_, "/api/v1/sse/events?channels=" + channels, options), {}};
    EXPECT_EQ(out.client->read_head(), 200u);
    auto connected = out.client->next_event();
    EXPECT_TRUE(connected && connected->event == "connected");
    if (connected) out.info = connected->json().as_object();
    return out;
  }
  igniter::Presence room() { return app_->realtime().presence("room"); }

  std::unique_ptr<App> app_;
  std::uint16_t port_ = 0;
};

TEST_F(Presence, TrackingAskedForOnceTheServerRunsIsRefusedWithAClearError) {
  app_ = std::make_unique<App>(AppOptions{.io_threads = 1, .worker_threads = 1, .log_level = LogLevel::off});
  port_ = app_->start(0);
  try {
    app_->realtime().track_presence({.channels = {"room"}});
    FAIL() << "track_presence after start was accepted";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("before App::start"), std::string::npos) << error.what();
  }
  // The server goes on: nothing was half set up.
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/sse/events/presence?channel=room").status, 404u);
}

TEST_F(Presence, AStreamIsListedAtOnceAndLeavesAfterTheLinger) {
  start({.channels = {"room"}, .linger = 300ms});
  auto alice = open("alice", "room");
  auto guest = open("", "room,revalidation");
  auto p = room();
  EXPECT_EQ(p.count, 2u);
  EXPECT_EQ(p.anonymous, 1u);
  EXPECT_EQ(p.members, std::vector<std::string>{"alice"});
  alice.client.reset();
  ASSERT_TRUE(within(2s, [&] { return room().count == 1; }));
  EXPECT_EQ(room().members, std::vector<std::string>{"alice"}) << "gone before the linger";
  EXPECT_TRUE(within(2s, [&] { return room().members.empty(); }));
}

TEST_F(Presence, JoinsAndLeavesArePublishedOnTheEventsChannelAndAReloadIsNeither) {
  start({.channels = {"room"}, .events_channel = "who", .linger = 500ms});
  auto watcher = open("", "who");
  auto alice = open("alice", "room");
  auto join = watcher.client->next_event(2s);
  ASSERT_TRUE(join);
  EXPECT_EQ(join->json().at("data"),
            (json::object{{"channel", "room"}, {"member", "alice"}, {"action", "join"}}));
  alice.client.reset();
  auto reloaded = open("alice", "room");  // well within the linger
  EXPECT_FALSE(watcher.client->next_event(1s)) << "a reload flapped";
  reloaded.client.reset();
  auto leave = watcher.client->next_event(2s);
  ASSERT_TRUE(leave);
  EXPECT_EQ(leave->json().at("data").at("action"), "leave");
}

TEST_F(Presence, LiveSubscriptionChangesJoinAndLeave) {
  start({.channels = {"room"}, .linger = 1ms});
  auto bob = open("bob", "revalidation");
  EXPECT_EQ(room().count, 0u);
  auto change = [&](json::object body) {
    body.emplace("connectionId", bob.info.at("connectionId"));
    body.emplace("token", bob.info.at("token"));
    return fetch(port_, "POST", "/api/v1/sse/events/subscriptions", json::serialize(body));
  };
  ASSERT_EQ(change({{"subscribe", json::array{"room:{}"}}}).status, 200u);
  ASSERT_TRUE(within(2s, [&] { return room().members == std::vector<std::string>{"bob"}; }));
  ASSERT_EQ(change({{"unsubscribe", json::array{"room:{}"}}}).status, 200u);
  EXPECT_TRUE(within(2s, [&] { return room().count == 0 && room().members.empty(); }));
}

TEST_F(Presence, TheHttpEndpointAndTheCppClientAnswerForAdmittedRequestersOnly) {
  start({.channels = {"room", "staff"}, .serve_http = true});
  auto alice = open("alice", "room");
  client::Client api("http://127.0.0.1:" + std::to_string(port_) + "/api/v1");
  auto p = api.presence("room");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->count, 1u);
  EXPECT_EQ(p->members, std::vector<std::string>{"alice"});
  EXPECT_EQ(api.presence("elsewhere").error().status, 404u);  // not tracked
  EXPECT_EQ(api.presence("staff").error().status, 403u);      // the channel guard refuses this client
  auto r = fetch(port_, "GET", "/api/v1/sse/events/presence?channel=staff", {}, {{"X-User", "boss"}});
  EXPECT_EQ(r.status, 200u) << r.body;
}

TEST_F(Presence, TheHttpEndpointIsOffUnlessAsked) {
  start({.channels = {"room"}});
  EXPECT_EQ(fetch(port_, "GET", "/api/v1/sse/events/presence?channel=room").status, 404u);
  EXPECT_THROW(app_->realtime().presence("elsewhere"), std::invalid_argument);
}

TEST_F(Presence, MembersPastTheLimitsAreCountedAsAnonymous) {
  start({.channels = {"room"}, .max_members_listed = 2, .max_members_per_channel = 3, .max_member_bytes = 8});
  std::vector<Open> streams;
  for (auto user : {"a", "b", "c", "d", "waytoolongname"}) streams.push_back(open(user, "room"));
  auto p = room();
  EXPECT_EQ(p.count, 5u);
  EXPECT_EQ(p.anonymous, 2u);                                  // d (past 3 members) and the long id
  EXPECT_EQ(p.members, (std::vector<std::string>{"a", "b"}));  // listed up to 2
  EXPECT_TRUE(p.truncated);
}

TEST_F(Presence, MembersChangingRevalidatesTheAppsKeysAtMostOncePerInterval) {
  start({.channels = {"room"}, .revalidate = {"presence.online"}, .revalidate_interval = 5s});
  auto page = open("", "revalidation");
  auto alice = open("alice", "room");
  auto first = page.client->next_event(2s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->event, "revalidate");
  EXPECT_EQ(first->json().at("data").at("queryKeys"), (json::array{"presence.online"}));
  auto bob = open("bob", "room");
  EXPECT_FALSE(page.client->next_event(1s)) << "a second revalidation within revalidate_interval";
}

}  // namespace
}  // namespace igniter::test

// igniter::client::Subscription against a real App, through a TCP proxy that really drops connections:
// every event exactly once and in order across drops and outages, live channel changes, resync on a gap,
// scopes from the client's cookies, backoff that keeps trying, and a clean close.
#include <gtest/gtest.h>

#include <algorithm>
#include <igniter/realtime/event.hpp>
#include <thread>

#include "integration/client/client_app.hpp"
#include "integration/client/tcp_proxy.hpp"

namespace igniter::test {
namespace {

using std::chrono::milliseconds;

std::string publish(ClientTestServer& server, std::string_view channel, int n,
                    realtime::PublishOptions o = {}) {
  auto id = server.app().realtime().publish(channel, json::encode(Message{n, "message " + std::to_string(n)}),
                                            std::move(o));
  return realtime::to_string(id);
}

// True once the server has no open stream (polled, at most 5 s).
bool eventually_zero_connections(ClientTestServer& server) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.app().realtime().stats().connections != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// Fast retries for the tests; the delays are still random, doubling and capped.
client::BackoffOptions quick() {
  return {.initial = milliseconds(50), .max = milliseconds(400)};
}

TEST(ClientSubscription, ReceivesEveryEventOnceAndInOrderAcrossADropAndAnOutage) {
  ClientTestServer server;
  TcpProxy proxy(server.port());
  client::Client api(ClientTestServer::url(proxy.port()));
  Recorder recorder;
  auto options = recorder.options({"news"});
  options.backoff = quick();
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(recorder.wait_connected(1));
  EXPECT_EQ(subscription.state(), client::State::open);

  std::vector<std::string> published;
  for (int n = 1; n <= 5; ++n) published.push_back(publish(server, "news", n));
  ASSERT_TRUE(recorder.wait_events(5));
  EXPECT_EQ(subscription.last_event_id(), published[4]);

  // A real drop, then an outage: while the proxy is down the client's attempts are cut at once.
  proxy.set_down(true);
  ASSERT_TRUE(recorder.wait([](Recorder& r) {
    return !r.states_.empty() && r.states_.back().state == client::State::reconnecting;
  }));
  for (int n = 6; n <= 10; ++n) published.push_back(publish(server, "news", n));
  publish(server, "sports", 99);                                                // not subscribed
  ASSERT_TRUE(recorder.wait([&](Recorder&) { return proxy.refused() >= 2; }));  // it kept trying
  proxy.set_down(false);

  ASSERT_TRUE(recorder.wait_connected(2));  // by itself
  ASSERT_TRUE(recorder.wait_events(10));
  for (int n = 11; n <= 15; ++n) published.push_back(publish(server, "news", n));
  ASSERT_TRUE(recorder.wait_events(15));

  // Every event once, in order, with the ids the server gave them.
  auto events = recorder.events();
  EXPECT_EQ(numbers(events), one_to(15));
  std::vector<std::string> ids;
  for (const auto& e : events) ids.push_back(e.id);
  EXPECT_EQ(ids, published);
  for (const auto& e : events) EXPECT_EQ(e.channel, "news");

  auto connected = recorder.connected();
  EXPECT_FALSE(connected.back().resync);
  EXPECT_EQ(connected.back().last_event_id, published[4]);  // resumed where it was
  EXPECT_EQ(subscription.last_event_id(), published.back());

  // The reconnecting reports said why and when; the attempt count grew during the outage.
  auto states = recorder.states();
  unsigned most_attempts = 0;
  for (const auto& s : states)
    if (s.state == client::State::reconnecting) {
      EXPECT_TRUE(s.error.ec) << "a reconnect without a reason";
      EXPECT_GT(s.retry_in.count(), 0);
      EXPECT_LE(s.retry_in, milliseconds(400));
      most_attempts = std::max(most_attempts, s.attempt);
    }
  EXPECT_GE(most_attempts, 2u);

  // Nothing more comes twice: a last live event is the only new one.
  publish(server, "news", 16);
  ASSERT_TRUE(recorder.wait_events(16));
  EXPECT_EQ(numbers(recorder.events()), one_to(16));
}

TEST(ClientSubscription, ChannelsChangeLiveWithoutReopeningTheStream) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"news"}));
  ASSERT_TRUE(recorder.wait_connected(1));

  auto added = subscription.subscribe({"sports", "private.secrets"});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_FALSE(added->deferred);
  EXPECT_EQ(added->subscribed, (std::vector<std::string>{"sports"}));
  ASSERT_EQ(added->refused.size(), 1u);
  EXPECT_EQ(added->refused[0].channel, "private.secrets");
  EXPECT_EQ(added->refused[0].reason, "Forbidden channel");

  publish(server, "sports", 1);  // published after the change was applied: it arrives
  ASSERT_TRUE(recorder.wait_events(1));

  auto removed = subscription.unsubscribe({"news"});
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->unsubscribed, (std::vector<std::string>{"news"}));
  publish(server, "news", 2);    // not any more
  publish(server, "sports", 3);  // after it on the same stream: once this is here, 2 would have been
  ASSERT_TRUE(recorder.wait_events(2));
  EXPECT_EQ(numbers(recorder.events()), (std::vector<int>{1, 3}));
  EXPECT_EQ(recorder.connected().size(), 1u);  // never reopened
  EXPECT_EQ(server.app().realtime().stats().connections, 1u);
  EXPECT_EQ(subscription.channels(), (std::vector<std::string>{"sports", "private.secrets"}));
}

TEST(ClientSubscription, ChannelsAddedLiveAreAskedForAgainAfterADrop) {
  ClientTestServer server;
  TcpProxy proxy(server.port());
  client::Client api(ClientTestServer::url(proxy.port()));
  Recorder recorder;
  auto options = recorder.options({"news"});
  options.backoff = quick();
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(recorder.wait_connected(1));
  ASSERT_TRUE(subscription.subscribe({"sports"}));
  publish(server, "news", 1);
  ASSERT_TRUE(recorder.wait_events(1));

  proxy.set_down(true);
  publish(server, "sports", 2);  // missed on a channel added live
  publish(server, "news", 3);
  ASSERT_TRUE(recorder.wait([&](Recorder&) { return proxy.refused() >= 1; }));
  proxy.set_down(false);
  ASSERT_TRUE(recorder.wait_events(3));
  EXPECT_EQ(numbers(recorder.events()), (std::vector<int>{1, 2, 3}));
  auto connected = recorder.connected();
  ASSERT_EQ(connected.size(), 2u);
  EXPECT_EQ(connected[1].channels, (std::vector<std::string>{"news", "sports"}));
}

TEST(ClientSubscription, AChangeWhileReconnectingIsAppliedByTheNextStream) {
  ClientTestServer server;
  TcpProxy proxy(server.port());
  client::Client api(ClientTestServer::url(proxy.port()));
  Recorder recorder;
  auto options = recorder.options({"news"});
  options.backoff = quick();
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(recorder.wait_connected(1));

  proxy.set_down(true);
  ASSERT_TRUE(recorder.wait([&](Recorder&) { return proxy.refused() >= 1; }));
  auto change = subscription.subscribe({"sports"});
  ASSERT_TRUE(change);
  EXPECT_TRUE(change->deferred);
  publish(server, "sports", 1);
  proxy.set_down(false);
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_EQ(numbers(recorder.events(), "sports"), (std::vector<int>{1}));
}

TEST(ClientSubscription, AGapIsReportedAsResync) {
  AppOptions options = ClientTestServer::quiet();
  options.realtime.history_max_events = 3;
  ClientTestServer server(options);
  TcpProxy proxy(server.port());
  client::Client api(ClientTestServer::url(proxy.port()));
  Recorder recorder;
  auto subscribe_options = recorder.options({"news", "revalidation"});
  subscribe_options.backoff = quick();
  auto subscription = api.subscribe(subscribe_options);
  ASSERT_TRUE(recorder.wait_connected(1));
  publish(server, "news", 1);
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_FALSE(recorder.connected()[0].resync);

  proxy.set_down(true);
  for (int n = 2; n <= 6; ++n) publish(server, "news", n);  // more than the history keeps
  ASSERT_TRUE(recorder.wait([&](Recorder&) { return proxy.refused() >= 1; }));
  proxy.set_down(false);

  ASSERT_TRUE(recorder.wait_connected(2));
  auto connected = recorder.connected()[1];
  EXPECT_TRUE(connected.resync);
  ASSERT_TRUE(recorder.wait_events(2));
  auto refetch = recorder.events()[1];  // for Igniter.js clients: refetch everything
  EXPECT_EQ(refetch.type, "revalidate");
  EXPECT_EQ(refetch.data.at("queryKeys"), (json::array{""}));

  // What the server still had is replayed after it (it keeps 3 events), then live events follow; the
  // pruned ones are not pretended, and nothing comes twice.
  publish(server, "news", 7);
  ASSERT_TRUE(recorder.wait([](Recorder& r) {
    auto n = numbers(r.events_);
    return !n.empty() && n.back() == 7;
  }));
  auto received = numbers(recorder.events());
  EXPECT_EQ(received.front(), 1);
  EXPECT_TRUE(std::is_sorted(received.begin(), received.end()) &&
              std::adjacent_find(received.begin(), received.end()) == received.end())
      << ::testing::PrintToString(received);
  EXPECT_EQ(std::count(received.begin(), received.end(), 2) + std::count(received.begin(), received.end(), 3),
            0);
}

TEST(ClientSubscription, AnIdTheServerNeverIssuedIsReportedAsResync) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  Recorder recorder;
  auto options = recorder.options({"news"});
  options.last_event_id = "5b115201-b283-406c-ba6c-6b3d2880b2c1";  // an Igniter.js UUID
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(recorder.wait_connected(1));
  EXPECT_TRUE(recorder.connected()[0].resync);
  EXPECT_NE(subscription.last_event_id(), options.last_event_id);  // it resumes from the server's now
}

TEST(ClientSubscription, TheStreamCarriesTheClientsCookiesSoScopedEventsArrive) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  ASSERT_TRUE(api.post<Me>("/auth/login", Login{"alice"}));
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"inbox"}));
  ASSERT_TRUE(recorder.wait_connected(1));
  EXPECT_EQ(recorder.connected()[0].scopes, (std::vector<std::string>{"user:alice"}));

  publish(server, "inbox", 1, {.scopes = {"user:bob"}});
  publish(server, "inbox", 2, {.scopes = {"user:alice"}});
  publish(server, "inbox", 3);
  ASSERT_TRUE(recorder.wait_events(2));
  auto events = recorder.events();
  EXPECT_EQ(numbers(events), (std::vector<int>{2, 3}));
  EXPECT_EQ(events[0].scopes, (std::vector<std::string>{"user:alice"}));
  EXPECT_FALSE(events[0].timestamp.empty());
}

TEST(ClientSubscription, DefaultChannelsAreTheServersAndStayAcrossChanges) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options());  // no channels: the server's default set
  ASSERT_TRUE(recorder.wait_connected(1));
  auto defaults = recorder.connected()[0].channels;
  ASSERT_FALSE(defaults.empty());
  EXPECT_EQ(defaults[0], "revalidation");
  EXPECT_EQ(subscription.channels(), defaults);
  ASSERT_TRUE(subscription.subscribe({"news"}));
  defaults.push_back("news");
  EXPECT_EQ(subscription.channels(), defaults);

  // A mutation's revalidation arrives as a `revalidate` event.
  ASSERT_TRUE(api.post<Post>("/posts", CreatePost{.title = "x"}));
  ASSERT_TRUE(recorder.wait_events(1));
  auto event = recorder.events()[0];
  EXPECT_EQ(event.type, "revalidate");
  EXPECT_EQ(event.channel, "revalidation");
  EXPECT_EQ(event.data.at("queryKeys"), (json::array{"posts.list"}));
}

TEST(ClientSubscription, KeepsTryingWhileTheServerIsAwayAndCountsAttemptsFromZeroAfterward) {
  ClientTestServer server;
  TcpProxy proxy(server.port());
  proxy.set_down(true);  // away from the start
  client::Client api(ClientTestServer::url(proxy.port()));
  Recorder recorder;
  auto options = recorder.options({"news"});
  options.backoff = quick();
  auto subscription = api.subscribe(options);
  ASSERT_TRUE(recorder.wait([&](Recorder&) { return proxy.refused() >= 4; }));
  proxy.set_down(false);
  ASSERT_TRUE(recorder.wait_connected(1));
  auto states = recorder.states();
  unsigned expected_attempt = 0;
  for (const auto& s : states) {
    if (s.state == client::State::reconnecting) {
      EXPECT_EQ(s.attempt, ++expected_attempt);
    }
  }
  EXPECT_GE(expected_attempt, 4u);
  EXPECT_EQ(states.back().state, client::State::open);

  proxy.cut();  // one drop after a success: the count starts again
  ASSERT_TRUE(recorder.wait_connected(2));
  states = recorder.states();
  for (auto it = states.rbegin(); it != states.rend(); ++it) {
    if (it->state != client::State::reconnecting) continue;
    EXPECT_EQ(it->attempt, 1u);
    EXPECT_EQ(it->error.ec, client::errc::connection_closed) << it->error.message;
    break;
  }
}

TEST(ClientSubscription, CloseJoinsTheThreadAndReportsClosedEvenFromACallback) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  {
    Recorder recorder;
    auto subscription = api.subscribe(recorder.options({"news"}));
    ASSERT_TRUE(recorder.wait_connected(1));
    subscription.close();
    EXPECT_EQ(subscription.state(), client::State::closed);
    EXPECT_EQ(recorder.states().back().state, client::State::closed);
    subscription.close();  // twice is fine
    ASSERT_FALSE(subscription.subscribe({"x"}));
  }
  {
    Recorder recorder;
    client::Subscription subscription;
    auto options = recorder.options({"news"});
    auto inner = options.on_event;
    options.on_event = [&](const client::Event& e) {
      inner(e);
      subscription.close();  // from its own thread: stops it, no deadlock
    };
    subscription = api.subscribe(options);
    ASSERT_TRUE(recorder.wait_connected(1));
    publish(server, "news", 1);
    publish(server, "news", 2);
    ASSERT_TRUE(recorder.wait(
        [](Recorder& r) { return !r.states_.empty() && r.states_.back().state == client::State::closed; }));
    EXPECT_EQ(numbers(recorder.events()), (std::vector<int>{1}));  // nothing after close
  }                                                                // the destructor joins
  {
    // A subscription that never connects closes promptly too (its backoff wait is interrupted).
    Recorder recorder;
    client::Client nowhere("http://127.0.0.1:1/api/v1");
    auto options = recorder.options({"news"});
    options.backoff = {.initial = std::chrono::seconds(30), .max = std::chrono::seconds(30)};
    auto subscription = nowhere.subscribe(options);
    ASSERT_TRUE(recorder.wait([](Recorder& r) {
      return !r.states_.empty() && r.states_.back().state == client::State::reconnecting;
    }));
    subscription.close();
    EXPECT_EQ(subscription.state(), client::State::closed);
  }
  EXPECT_TRUE(eventually_zero_connections(server));
}

}  // namespace
}  // namespace igniter::test

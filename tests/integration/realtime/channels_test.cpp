// Stream queries, granted scopes, channel authorization and live subscription changes.
#include <gtest/gtest.h>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

json::object refused_of(const Stream& s) {
  json::object out;
  if (auto* list = s.info.if_contains("refused"))
    for (const auto& r : list->as_array()) out[r.at("channel").as_string()] = r.at("reason");
  return out;
}

// ---- stream queries --------------------------------------------------------------------------------

TEST(RealtimeStream, SubscribingRunsTheHandlerWithTheConnectionsCookieAndSendsItsDataFirst) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=revalidation,notifications.stream", as_user("alice"));
  auto bob = open_stream(server.port(), "channels=revalidation,notifications.stream", as_user("bob"));
  EXPECT_EQ(strings(alice.info.at("channels")),
            (std::vector<std::string>{"revalidation", "notifications.stream"}));
  for (auto [s, user] : {std::pair{&alice, "alice"}, std::pair{&bob, "bob"}}) {
    auto first = (*s)->next_event();
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->id.has_value()) << first->raw;
    EXPECT_EQ(first->event, "message");
    EXPECT_EQ(first->json().at("channel"), "notifications.stream");
    EXPECT_EQ(payload(*first),
              (json::object{{"status", "Connected to notifications stream"}, {"user", user}}));
  }
  // Each subscriber got its own answer only: the next thing either sees is a later publish.
  server.realtime().publish("notifications.stream", json::object{{"text", "hi"}});
  for (auto* s : {&alice, &bob}) {
    auto next = (*s)->next_event();
    ASSERT_TRUE(next);
    EXPECT_EQ(payload(*next), (json::object{{"text", "hi"}}));
  }
}

TEST(RealtimeStream, RefusingProcedureRefusesThatChannelOnlyAndTheStreamStaysOpen) {
  RealtimeServer server;
  auto banned = open_stream(server.port(), "channels=revalidation,notifications.stream", as_user("banned"));
  auto anonymous = open_stream(server.port(), "channels=revalidation,notifications.stream");
  EXPECT_EQ(strings(banned.info.at("channels")), std::vector<std::string>{"revalidation"});
  EXPECT_EQ(refused_of(banned), (json::object{{"notifications.stream", "Account suspended"}}));
  EXPECT_EQ(refused_of(anonymous), (json::object{{"notifications.stream", "Login required"}}));

  server.realtime().publish("notifications.stream", json::object{{"text", "not for you"}});
  ASSERT_EQ(fetch(server.port(), "POST", "/api/v1/posts", "{}").status, 201u);
  for (auto* s : {&banned, &anonymous}) {
    auto frame = (*s)->next_event();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->event, "revalidate") << frame->raw;
  }
}

TEST(RealtimeStream, PerActionAliasReachesTheSameChannelUnderItsOwnName) {
  RealtimeServer server;
  // The Igniter.js per-action hook asks for `feed.live:{}` and keeps only envelopes naming exactly that.
  auto alias = open_stream(server.port(), "channels=feed.live%3A%7B%7D&scopes=");
  auto plain = open_stream(server.port(), "channels=feed.live&scopes=");
  EXPECT_EQ(strings(alias.info.at("channels")), std::vector<std::string>{"feed.live:{}"});
  auto first = alias->next_event();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->json().at("channel"), "feed.live:{}");
  EXPECT_EQ(payload(*first), (json::object{{"feed", "live"}}));
  ASSERT_TRUE(plain->next_event());  // its own first data
  server.realtime().publish("feed.live", json::object{{"n", 1}});
  server.realtime().publish("feed.live:{}", json::object{{"n", 2}});
  for (int n : {1, 2}) {
    auto frame = alias->next_event();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->json().at("channel"), "feed.live:{}");
    EXPECT_EQ(payload(*frame), (json::object{{"n", n}}));
    auto same = plain->next_event();
    ASSERT_TRUE(same);
    EXPECT_EQ(same->json().at("channel"), "feed.live");
    EXPECT_EQ(same->id, frame->id);  // one event, two spellings
  }
}

TEST(RealtimeStream, NoChannelsParameterSubscribesToRevalidationAndEveryStream) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "", as_user("alice"));
  EXPECT_EQ(strings(s.info.at("channels")),
            (std::vector<std::string>{"revalidation", "notifications.stream", "feed.live"}));
  json::array first;
  for (int i = 0; i < 2; ++i) {
    auto frame = s->next_event();
    ASSERT_TRUE(frame);
    first.push_back(frame->json().at("channel"));
  }
  EXPECT_EQ(first, (json::array{"notifications.stream", "feed.live"}));
  ASSERT_EQ(fetch(server.port(), "POST", "/api/v1/posts", "{}").status, 201u);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->event, "revalidate");
}

// ---- scopes ----------------------------------------------------------------------------------------

TEST(RealtimeScopes, ResolverGrantsScopesFromTheCookieAndTheParameterOnlyNarrows) {
  RealtimeServer server;
  auto all = open_stream(server.port(), "channels=news&scopes=", as_user("alice"));
  EXPECT_EQ(strings(all.info.at("scopes")), (std::vector<std::string>{"tenant:7", "user:alice"}));
  auto narrowed =
      open_stream(server.port(), "channels=news&scopes=user%3Aalice%2Cuser%3Abob", as_user("alice"));
  EXPECT_EQ(strings(narrowed.info.at("scopes")), std::vector<std::string>{"user:alice"});

  server.realtime().publish("news", 1, {.scopes = {"tenant:7"}});
  server.realtime().publish("news", 2, {.scopes = {"user:bob"}});
  server.realtime().publish("news", 3, {.scopes = {"user:alice"}});
  auto frame = all->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 1);
  frame = all->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 3);
  frame = narrowed->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 3);  // tenant:7 was narrowed away, user:bob never granted
}

TEST(RealtimeScopes, WithoutResolverAConnectionHoldsNoScopes) {
  RealtimeSetup setup;
  setup.resolver = false;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=news&scopes=user%3Aalice", as_user("alice"));
  EXPECT_EQ(strings(s.info.at("scopes")), std::vector<std::string>{});
  server.realtime().publish("news", 1, {.scopes = {"user:alice"}});
  server.realtime().publish("news", 2);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 2);
}

TEST(RealtimeScopes, TrustClientScopesUsesTheClientsList) {
  RealtimeSetup setup;
  setup.options.realtime.trust_client_scopes = true;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=news&scopes=user%3Abob%2Ctenant%3A9");
  EXPECT_EQ(strings(s.info.at("scopes")), (std::vector<std::string>{"tenant:9", "user:bob"}));
  server.realtime().publish("news", 1, {.scopes = {"user:alice"}});
  server.realtime().publish("news", 2, {.scopes = {"user:bob"}});
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 2);
}

// ---- channel authorization and names ---------------------------------------------------------------

TEST(RealtimeChannels, GuardRefusesOneChannelAndTheOthersWork) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation,private.audit,news");
  EXPECT_EQ(strings(s.info.at("channels")), (std::vector<std::string>{"revalidation", "news"}));
  EXPECT_EQ(refused_of(s), (json::object{{"private.audit", "Forbidden channel"}}));
  server.realtime().publish("private.audit", 1);
  server.realtime().publish("news", 2);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 2);
}

TEST(RealtimeChannels, InvalidChannelNamesAreRefusedOneByOneNeverWithA500) {
  RealtimeServer server;
  std::string long_name(201, 'x');
  auto s = open_stream(server.port(), "channels=revalidation,bad%20name," + long_name + ",tab%09bed,news");
  EXPECT_EQ(s->status(), 200u);
  EXPECT_EQ(strings(s.info.at("channels")), (std::vector<std::string>{"revalidation", "news"}));
  auto refused = refused_of(s);
  EXPECT_EQ(refused.size(), 3u) << json::serialize(refused);
  EXPECT_TRUE(refused.contains("bad name"));
  EXPECT_TRUE(refused.contains(long_name));
  server.realtime().publish("news", 2);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 2);
}

// ---- live subscription changes ---------------------------------------------------------------------

HttpResult change(std::uint16_t port, const Stream& s, json::object body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  body.emplace("connectionId", s.info.at("connectionId"));
  if (!body.contains("token")) body.emplace("token", s.info.at("token"));
  return fetch(port, "POST", "/api/v1/sse/events/subscriptions", json::serialize(body), std::move(headers));
}

TEST(RealtimeSubscriptions, AddingAndRemovingAChannelOnAnOpenStream) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation");
  auto r = change(server.port(), s, {{"subscribe", json::array{"news"}}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("data").at("subscribed"), (json::array{"news"}));
  server.realtime().publish("news", 1);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(payload(*frame), 1);

  r = change(server.port(), s, {{"unsubscribe", json::array{"news"}}});
  ASSERT_EQ(r.status, 200u) << r.body;
  server.realtime().publish("news", 2);
  server.realtime().revalidate({"marker"});
  frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->event, "revalidate") << frame->raw;
}

TEST(RealtimeSubscriptions, WrongTokenIs403AndUnknownConnectionIs404) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation");
  auto r = change(server.port(), s, {{"subscribe", json::array{"news"}}, {"token", std::string(32, '0')}});
  EXPECT_EQ(r.status, 403u) << r.body;
  json::object unknown{
      {"connectionId", "999999"}, {"token", s.info.at("token")}, {"subscribe", json::array{"x"}}};
  r = fetch(server.port(), "POST", "/api/v1/sse/events/subscriptions", json::serialize(unknown));
  EXPECT_EQ(r.status, 404u) << r.body;
  server.realtime().publish("news", 1);
  server.realtime().revalidate({"marker"});
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->event, "revalidate");  // the refused change subscribed nothing
}

TEST(RealtimeSubscriptions, SubscribingToAStreamChannelRunsItsHandlerAndSendsItsFirstData) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation", as_user("alice"));
  auto r = change(server.port(), s, {{"subscribe", json::array{"notifications.stream:{}"}}},
                  {{"Cookie", "session=alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("data").at("subscribed"), (json::array{"notifications.stream:{}"})) << r.body;
  auto first = s->next_event();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->json().at("channel"), "notifications.stream:{}");
  EXPECT_EQ(payload(*first),
            (json::object{{"status", "Connected to notifications stream"}, {"user", "alice"}}));
  server.realtime().publish("notifications.stream", 7);
  auto next = s->next_event();
  ASSERT_TRUE(next);
  EXPECT_EQ(payload(*next), 7);
}

}  // namespace
}  // namespace igniter::test

// Revalidation after mutations, realtime.revalidate with instance keys, realtime.publish from any thread.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

constexpr const char* kIso = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";

/// Publishes an unscoped revalidation of "marker" and checks it is the next event `s` receives: then
/// nothing published before it reached `s`.
void expect_next_is_marker(RealtimeServer& server, std::initializer_list<Stream*> streams) {
  server.realtime().revalidate({"marker"});
  for (auto* s : streams) {
    auto frame = (*s)->next_event(std::chrono::seconds(5));
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->event, "revalidate");
    EXPECT_EQ(strings(payload(*frame).at("queryKeys")), std::vector<std::string>{"marker"}) << frame->raw;
  }
}

TEST(RealtimeRevalidate, MutationRevalidationReachesEverySubscriberOfRevalidation) {
  RealtimeServer server;
  auto a = open_stream(server.port(), "channels=revalidation&scopes=");
  auto b = open_stream(server.port(), "channels=revalidation,news&scopes=");
  auto other = open_stream(server.port(), "channels=news");

  auto r = fetch(server.port(), "POST", "/api/v1/posts", R"({"title":"Hello"})");
  ASSERT_EQ(r.status, 201u);
  std::regex expected(
      std::string(R"(id: [0-9a-z]+-1\nevent: revalidate\n)") +
      R"(data: \{"channel":"revalidation","data":\{"queryKeys":\["posts\.list"\],"timestamp":")" + kIso +
      R"("\},"timestamp":")" + kIso + R"("\}\n\n)");
  for (auto* s : {&a, &b}) {
    auto frame = (*s)->next_event();
    ASSERT_TRUE(frame);
    EXPECT_TRUE(std::regex_match(frame->raw, expected)) << frame->raw;
  }
  // Not subscribed to revalidation: only the later message on its own channel arrives.
  server.realtime().publish("news", json::object{{"n", 1}});
  auto frame = other->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->event, "message");
}

TEST(RealtimeRevalidate, FailingMutationPublishesNothing) {
  RealtimeServer server;
  auto a = open_stream(server.port(), "channels=revalidation");
  auto r = fetch(server.port(), "POST", "/api/v1/posts/reject");
  ASSERT_EQ(r.status, 400u);
  expect_next_is_marker(server, {&a});
  EXPECT_EQ(server.realtime().stats().events_published, 1u);  // the marker only
}

TEST(RealtimeRevalidate, ScopedRevalidationReachesOnlyConnectionsHoldingTheScope) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=revalidation&scopes=", as_user("alice"));
  auto bob = open_stream(server.port(), "channels=revalidation&scopes=", as_user("bob"));
  auto anonymous = open_stream(server.port(), "channels=revalidation&scopes=");

  auto r = fetch(server.port(), "PATCH", "/api/v1/posts/profile", {}, {{"Cookie", "session=alice"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  auto frame = alice->next_event();
  ASSERT_TRUE(frame);
  EXPECT_TRUE(
      frame->raw.find(R"(data: {"scopes":["user:alice"],"channel":"revalidation","data":{"queryKeys":)"
                      R"(["users.getProfile"])") != std::string::npos)
      << frame->raw;
  expect_next_is_marker(server, {&alice, &bob, &anonymous});
}

TEST(RealtimeRevalidate, ThrowingScopesFunctionPublishesToNobody) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=revalidation&scopes=", as_user("alice"));
  auto anonymous = open_stream(server.port(), "channels=revalidation&scopes=");
  auto r = fetch(server.port(), "POST", "/api/v1/posts/broken");
  ASSERT_EQ(r.status, 200u);  // the action itself succeeded; only its revalidation is withheld
  expect_next_is_marker(server, {&alice, &anonymous});
}

TEST(RealtimeRevalidate, InstanceKeyIsWrittenAsTheIgniterClientRegistersIt) {
  RealtimeServer server;
  auto a = open_stream(server.port(), "channels=revalidation");
  server.app().realtime().revalidate({realtime::query_key("posts.getById", {}, {{"id", "1"}})});
  auto frame = a->next_event();
  ASSERT_TRUE(frame);
  EXPECT_NE(frame->raw.find(
                R"("queryKeys":["posts.getById:{\"body\":{},\"params\":{\"id\":\"1\"},\"query\":{}}"])"),
            std::string::npos)
      << frame->raw;
  EXPECT_EQ(strings(payload(*frame).at("queryKeys")),
            std::vector<std::string>{R"(posts.getById:{"body":{},"params":{"id":"1"},"query":{}})"});
}

TEST(RealtimePublish, PublishFromAnotherThreadReachesSubscribersOfThatChannelOnly) {
  RealtimeServer server;
  auto alice = open_stream(server.port(), "channels=news&scopes=", as_user("alice"));
  auto bob = open_stream(server.port(), "channels=news&scopes=", as_user("bob"));
  auto elsewhere = open_stream(server.port(), "channels=revalidation,sports&scopes=", as_user("alice"));

  std::thread publisher([&] {
    server.realtime().publish("news", json::object{{"n", 1}}, {.scopes = {"user:alice"}});
    server.realtime().publish("news", json::object{{"n", 2}}, {.type = "alert"});
    server.realtime().publish("news", json::object{{"n", 3}});
  });
  publisher.join();

  auto first = alice->next_event();
  ASSERT_TRUE(first);
  std::regex scoped(std::string(R"(id: [0-9a-z]+-1\nevent: message\n)") +
                    R"(data: \{"scopes":\["user:alice"\],"channel":"news","data":\{"n":1\},"timestamp":")" +
                    kIso + R"("\}\n\n)");
  EXPECT_TRUE(std::regex_match(first->raw, scoped)) << first->raw;
  for (auto* s : {&alice, &bob}) {
    auto typed = (*s)->next_event();
    ASSERT_TRUE(typed);
    EXPECT_EQ(typed->event, "alert");
    std::regex plain(std::string(R"(id: [0-9a-z]+-2\nevent: alert\n)") +
                     R"(data: \{"channel":"news","data":\{"n":2\},"timestamp":")" + kIso + R"("\}\n\n)");
    EXPECT_TRUE(std::regex_match(typed->raw, plain)) << typed->raw;
    auto third = (*s)->next_event();
    ASSERT_TRUE(third);
    EXPECT_EQ(third->event, "message");
    EXPECT_EQ(payload(*third), (json::object{{"n", 3}}));
  }
  expect_next_is_marker(server, {&elsewhere});  // neither news event reached another channel
}

TEST(RealtimePublish, InvalidChannelOrTypeIsRefusedWhenPublishing) {
  RealtimeServer server;
  EXPECT_THROW(server.realtime().publish("bad channel", 1), std::invalid_argument);
  EXPECT_THROW(server.realtime().publish("news", 1, {.type = "two\nlines"}), std::invalid_argument);
  EXPECT_EQ(server.realtime().stats().events_published, 0u);
}

}  // namespace
}  // namespace igniter::test

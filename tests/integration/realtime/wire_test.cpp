// The stream as bytes: response head, first frame, keepalive, closing, shutdown, metrics.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <regex>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

constexpr const char* kIso = R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)";

TEST(RealtimeWire, ResponseHeadCarriesTheHeadersIgniterSends) {
  RealtimeServer server;
  SseClient client(server.port(), sse("channels=revalidation&scopes="));
  ASSERT_EQ(client.read_head(), 200u);
  EXPECT_TRUE(client.head().starts_with("HTTP/1.1 200 OK\r\n")) << client.head();
  EXPECT_EQ(client.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(client.header("Cache-Control"), "no-cache, no-transform");
  EXPECT_EQ(client.header("Connection"), "keep-alive");
  EXPECT_EQ(client.header("X-Accel-Buffering"), "no");
  // The body is delimited by the close: no length, no chunking that would need de-framing.
  EXPECT_EQ(client.header("Content-Length"), "");
  EXPECT_EQ(client.header("Transfer-Encoding"), "");
}

TEST(RealtimeWire, FirstFrameIsRetryHintThenConnectedWithChannelsConnectionIdAndToken) {
  RealtimeServer server;
  SseClient client(server.port(), sse("channels=revalidation%2Cfeed.live&scopes="));
  ASSERT_EQ(client.read_head(), 200u);
  auto frame = client.next();
  ASSERT_TRUE(frame);
  // Igniter's three members first, in its order and spelling; our extensions after them.
  std::regex expected(std::string(R"(retry: 2000\nid: ([0-9a-z]+-0)\nevent: connected\n)") +
                      R"(data: \{"connected":true,"channels":\["revalidation","feed\.live"\],"timestamp":")" +
                      kIso + R"(","connectionId":"\d+","token":"[0-9a-f]{32}","scopes":\[\],)" +
                      R"re("lastEventId":"([0-9a-z]+-0)"\}\n\n)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(frame->raw, m, expected)) << frame->raw;
  EXPECT_EQ(m[1], m[2]);
  EXPECT_EQ(frame->retry, 2000);
  // The stream query's first data follows, on its channel, without an id (it is not in the history).
  auto first = client.next();
  ASSERT_TRUE(first);
  std::regex data(std::string(R"(event: message\ndata: \{"channel":"feed\.live","data":\{"feed":"live"\},)") +
                  R"("timestamp":")" + kIso + R"("\}\n\n)");
  EXPECT_TRUE(std::regex_match(first->raw, data)) << first->raw;
}

TEST(RealtimeWire, IdleStreamReceivesKeepaliveComments) {
  RealtimeSetup setup;
  setup.options.realtime.keepalive_interval = std::chrono::milliseconds(200);
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=revalidation");
  for (int i = 0; i < 2; ++i) {
    auto frame = s->next(std::chrono::seconds(2));
    ASSERT_TRUE(frame) << "no keepalive within 2 s";
    EXPECT_EQ(frame->raw, ": keepalive\n\n");
  }
}

TEST(RealtimeWire, ClosedClientIsFreedAtOnce) {
  RealtimeSetup setup;
  setup.options.realtime.metrics_channels = {"news"};
  RealtimeServer server(setup);
  auto a = open_stream(server.port(), "channels=revalidation,news");
  auto b = open_stream(server.port(), "channels=revalidation");
  ASSERT_TRUE(eventually([&] { return server.realtime().stats().connections == 2; }));
  EXPECT_EQ(server.realtime().stats().subscribers["news"], 1u);
  a->close();
  ASSERT_TRUE(
      eventually([&] { return server.realtime().stats().connections == 1; }, std::chrono::seconds(2)));
  auto stats = server.realtime().stats();
  EXPECT_EQ(stats.subscribers["news"], 0u);  // declared: reported, at 0
  EXPECT_EQ(stats.subscribers["revalidation"], 1u);
}

TEST(RealtimeWire, AClientThatSendsBytesOnItsStreamIsClosed) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation");
  // Nothing a stream answers: a pipelined request, or bytes the server would otherwise read one by one.
  const std::string junk = "GET /api/v1/posts HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(s->fd(), junk.data(), junk.size(), MSG_NOSIGNAL), static_cast<ssize_t>(junk.size()));
  EXPECT_TRUE(s->wait_closed(std::chrono::seconds(2)));
  EXPECT_TRUE(eventually([&] { return server.realtime().stats().connections == 0; }));
}

TEST(RealtimeWire, AStreamRequestWithABodyIsAnswered400) {
  RealtimeServer server;
  auto r = fetch(server.port(), "GET", "/api/v1/sse/events?channels=revalidation", "{}");
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_NE(r.body.find("no body"), std::string::npos) << r.body;
}

TEST(RealtimeWire, GracefulShutdownClosesOpenStreamsPromptly) {
  RealtimeServer server;
  auto a = open_stream(server.port(), "channels=revalidation");
  auto b = open_stream(server.port(), "channels=news");
  auto start = std::chrono::steady_clock::now();
  server.app().stop();
  EXPECT_TRUE(a->wait_closed(std::chrono::seconds(2)));
  EXPECT_TRUE(b->wait_closed(std::chrono::seconds(2)));
  server.app().wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(RealtimeWire, MetricsShowConnectionsSubscribersPerChannelAndCounters) {
  RealtimeSetup setup;
  setup.options.realtime.metrics_channels = {"news"};
  RealtimeServer server(setup);
  auto a = open_stream(server.port(), "channels=revalidation,news");
  auto b = open_stream(server.port(), "channels=revalidation");
  server.realtime().publish("news", json::object{{"n", 1}});
  server.realtime().revalidate({"posts.list"});
  ASSERT_TRUE(a->next_of("message"));
  ASSERT_TRUE(a->next_of("revalidate"));
  ASSERT_TRUE(b->next_of("revalidate"));

  auto r = fetch(server.port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_TRUE(r.header("Content-Type").starts_with("text/plain; version=0.0.4")) << r.header("Content-Type");
  for (const char* line : {"igniter_sse_connections 2\n", "igniter_events_published_total 2\n",
                           "igniter_events_delivered_total 3\n", "igniter_slow_client_disconnects_total 0\n",
                           "igniter_channel_subscribers{channel=\"revalidation\"} 2\n",
                           "igniter_channel_subscribers{channel=\"news\"} 1\n",
                           "# TYPE igniter_events_published_total counter\n"})
    EXPECT_NE(r.body.find(line), std::string::npos) << line << " not in:\n" << r.body;

  auto stats = server.realtime().stats();
  EXPECT_EQ(stats.connections, 2u);
  EXPECT_EQ(stats.events_published, 2u);
  EXPECT_EQ(stats.events_delivered, 3u);
  EXPECT_EQ(stats.subscribers["revalidation"], 2u);
}

}  // namespace
}  // namespace igniter::test

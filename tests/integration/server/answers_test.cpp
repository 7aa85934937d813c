// Answers written by the worker that ran the handler (plain TCP) while the I/O thread reads ahead: order,
// half-closed clients, answers larger than the socket takes at once, and the idle timeout after a slow
// handler (src/server/http_session.hpp).
#include <gtest/gtest.h>

#include <thread>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

TEST(Answers, PipelinedRequestsAreAnsweredInTheirOrder) {
  TestServer server;
  Connection c(server.port());
  // The slow one's handler sleeps 200 ms; the fast one, already read, waits for its answer to go out.
  c.send(
      "GET /api/v1/demo/slow HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = c.read_response();
  auto second = c.read_response();
  EXPECT_EQ(first.body, R"({"data":"slept","error":null})");
  EXPECT_EQ(second.body, R"({"data":"fast","error":null})");
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").status, 200u);
}

TEST(Answers, AClientThatHalfClosesAfterItsRequestStillGetsTheAnswer) {
  TestServer server;
  Connection c(server.port());
  c.send("GET /api/v1/demo/slow HTTP/1.1\r\nHost: x\r\n\r\n");
  boost::system::error_code ec;
  c.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);  // the read ahead sees the end
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"data":"slept","error":null})");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Answers, AnAnswerLargerThanTheSocketTakesArrivesWholeAndTheConnectionGoesOn) {
  auto options = TestServer::quiet_options();
  App app(options);
  const std::string big(8 << 20, 'x');
  app.controller(
      controller("big", "/big").query("get", "/", [&big](Ctx& c) { return c.response.success(big); }));
  auto port = app.start();
  Connection c(port);
  c.send("GET /api/v1/big HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // not reading: the worker's one send takes part, the rest waits
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"data":")" + big + R"(","error":null})");
  EXPECT_EQ(c.request("GET", "/api/v1/big").body.size(), r.body.size());
  app.stop();
  app.wait();
}

TEST(Answers, ARequestPipelinedBehindAnAnswerLargerThanTheSocketTakesIsAnsweredOnce) {
  App app(TestServer::quiet_options());
  const std::string big(8 << 20, 'x');
  app.controller(controller("big", "/big")
                     .query("get", "/", [&big](Ctx& c) { return c.response.success(big); })
                     .query("small", "/small", [](Ctx& c) { return c.response.success("small"); }));
  auto port = app.start();
  Connection c(port);
  c.send("GET /api/v1/big HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/big/small HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // the big answer is partly out; the small request waits behind it
  EXPECT_EQ(c.read_response().body.size(), big.size() + 24);
  EXPECT_EQ(c.read_response().body, R"({"data":"small","error":null})");
  EXPECT_EQ(c.request("GET", "/api/v1/big/small").body, R"({"data":"small","error":null})");
  app.stop();
  app.wait();
}

TEST(Answers, ARequestSentWithItsConnectionsEndIsAnsweredAndClosedAtOnce) {
  // The request and the end (FIN) arrive together: the read that takes the request must not count as
  // the one that drained the socket (src/server/drained_read.hpp), or the end would only be noticed at
  // the idle timeout. On the worker pool (the read ahead) and on the I/O thread.
  auto options = TestServer::quiet_options();
  options.idle_timeout = 30s;
  App app(options);
  app.controller(controller("end", "/end")
                     .query("pool", "/pool", [](Ctx& c) { return c.response.success("pool"); })
                     .query("io", "/io", ActionOptions{.run_on_io_thread = true},
                            [](Ctx& c) { return c.response.success("io"); }));
  auto port = app.start();
  for (std::string where : {"pool", "io"}) {
    for (int i = 0; i < 20; ++i) {
      Connection c(port, 3s);  // a read that waits longer fails
      c.send("GET /api/v1/end/" + where + " HTTP/1.1\r\nHost: x\r\n\r\n");
      boost::system::error_code ec;
      c.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
      EXPECT_EQ(c.read_response().body, R"({"data":")" + where + R"(","error":null})");
      bool closed = c.closed_by_peer();
      EXPECT_TRUE(closed) << where << ", connection " << i;
      if (!closed) break;
    }
  }
  app.stop();
  app.wait();
}

TEST(Answers, TheIdleTimeoutAfterASlowHandlerCountsFromItsAnswer) {
  auto options = TestServer::quiet_options();
  options.idle_timeout = 100ms;  // half the slow handler's 200 ms
  TestServer server(options);
  Connection c(server.port());
  EXPECT_EQ(c.request("GET", "/api/v1/demo/slow").status, 200u);
  std::this_thread::sleep_for(50ms);  // idle, but for less than the timeout
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").status, 200u);
  EXPECT_TRUE(c.closed_by_peer());  // and idle past it: closed
}

}  // namespace
}  // namespace igniter::test

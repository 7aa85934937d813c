#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <memory>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

TEST(Lifecycle, GracefulShutdownFinishesAnInFlightSlowRequest) {
  TestServer server;
  auto port = server.port();
  auto slow = std::async(std::launch::async, [port] { return fetch(port, "GET", "/api/v1/demo/slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the handler is sleeping now
  server.app().stop();
  auto r = slow.get();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"data":"slept","error":null})");
  EXPECT_FALSE(r.keep_alive);  // "Connection: close" while draining
  server.app().wait();
  EXPECT_THROW(Connection{port}, boost::system::system_error);  // no longer accepting
}

TEST(Lifecycle, ShutdownClosesIdleKeepAliveConnectionsAtOnce) {
  TestServer server;
  Connection idle(server.port());
  EXPECT_EQ(idle.request("GET", "/api/v1/demo/fast").status, 200u);
  auto start = std::chrono::steady_clock::now();
  server.app().stop();
  server.app().wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(idle.closed_by_peer());
}

// The thread that starts an app is the user's: whatever the app makes and ends inside the kernel for its
// own threads (an io_uring ring for batched stream writes) must not interrupt that thread's blocking calls
// when the app ends. A recv with SO_RCVTIMEO is the call a kernel notification turns into EINTR.
TEST(Lifecycle, AnEndingAppDoesNotInterruptTheBlockingCallsOfTheThreadThatStartedIt) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  timeval patience{5, 0};
  ASSERT_EQ(::setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience), 0);
  auto server = std::make_unique<TestServer>();  // started here, on this thread
  EXPECT_EQ(fetch(server->port(), "GET", "/api/v1/demo/fast").status, 200u);
  std::thread ender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // this thread is in recv by then
    server->app().stop();
    server->app().wait();
    server.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_EQ(::write(pair[1], "x", 1), 1);
  });
  char byte = 0;
  auto n = ::recv(pair[0], &byte, 1, 0);
  int error = errno;
  ender.join();
  EXPECT_EQ(n, 1) << "recv failed: " << std::strerror(error);
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(Lifecycle, DuplicateControllerOrRouteFailsAtConfiguration) {
  App app(TestServer::quiet_options());
  auto ping = controller("ping", "/ping").query("get", "/", [](Ctx& c) { return c.response.success(1); });
  app.controller(ping);
  EXPECT_THROW(app.controller(ping), std::invalid_argument);
  auto clash = controller("pong", "/ping").query("get", "/", [](Ctx& c) { return c.response.success(2); });
  EXPECT_THROW(app.controller(clash), std::invalid_argument);
}

TEST(Lifecycle, SignalStopsListenAndItReturns) {
  App app(TestServer::quiet_options());
  app.controller(controller("ping", "/ping").query("get", "/", [](Ctx& c) { return c.response.success(1); }));
  std::thread runner([&] { app.listen(0, "127.0.0.1"); });
  while (app.port() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(fetch(app.port(), "GET", "/api/v1/ping").status, 200u);
  ::kill(::getpid(), SIGTERM);
  runner.join();  // listen() returned: SIGTERM was handled, not fatal
  SUCCEED();
}

}  // namespace
}  // namespace igniter::test

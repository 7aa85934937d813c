#include <gtest/gtest.h>

#include <future>

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

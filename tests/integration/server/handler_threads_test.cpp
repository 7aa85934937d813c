// Where handlers run (docs/architecture.md, "Threads"): one measured fast runs on the thread of the loop
// that read its request; if it then blocks, the loop's other connections wait milliseconds, not for it.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <future>
#include <mutex>
#include <thread>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

TEST(HandlerThreads, AFastHandlerThatStartsToBlockHoldsUpTheOtherConnectionsOfItsLoopForMillisecondsOnly) {
  auto options = TestServer::quiet_options();
  options.io_threads = 1;  // both connections on the loop whose thread the handler blocks
  App app(options);
  std::atomic<bool> block{false};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::once_flag released_once;
  auto let_go = [&] { std::call_once(released_once, [&] { release.set_value(); }); };
  app.controller(controller("t", "/t")
                     .query("maybe", "/maybe",
                            [&block, released](Ctx& c) {
                              if (block) released.wait();
                              return c.response.success(1);
                            })
                     .query("fast", "/fast", [](Ctx& c) { return c.response.success(2); }));
  auto port = app.start(0, "127.0.0.1");
  Connection first(port), second(port);
  // Measured fast: from here on both run on the loop's thread.
  for (int i = 0; i < 20; ++i) ASSERT_EQ(first.request("GET", "/api/v1/t/maybe").status, 200u);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(second.request("GET", "/api/v1/t/fast").status, 200u);

  block = true;
  auto blocked = std::async(std::launch::async, [&] { return first.request("GET", "/api/v1/t/maybe"); });
  // Without the hand-over, the loop would wait for the handler, and the handler for this (3 s).
  std::promise<void> measured;
  auto unblocker = std::async(std::launch::async, [&, done = measured.get_future()] {
    done.wait_for(3s);
    let_go();
  });
  std::this_thread::sleep_for(50ms);  // the handler blocks by now
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(second.request("GET", "/api/v1/t/fast").body, R"({"data":2,"error":null})");
  auto elapsed = std::chrono::steady_clock::now() - start;
  measured.set_value();
  auto answer = blocked.get();
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.body, R"({"data":1,"error":null})");
  EXPECT_LT(elapsed, 1s);
  // An operator sees the hand-overs counted. Not their number here: a slow build (a sanitizer's) may not
  // measure the handler fast, and then the pool runs it and no loop is handed over; the count itself is
  // LoopThreads::hand_overs() (tests/unit/server/loop_threads_test.cpp).
  auto metrics = second.request("GET", "/metrics").body;
  auto at = metrics.find("\nigniter_loop_hand_overs_total ");
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(metrics[at + 31]))) << metrics;
  block = false;
  EXPECT_EQ(first.request("GET", "/api/v1/t/maybe").status, 200u);  // the connection goes on
  app.stop();
  app.wait();
  unblocker.get();
}

}  // namespace
}  // namespace igniter::test

// A rolling restart: one process of three on one Redis gets SIGTERM while 300 clients stream from it and
// events are published throughout. Its clients move to the other two spread over the drain window, and
// none misses an event (each resumes with Last-Event-ID).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "cluster/node_process.hpp"
#include "cluster/roaming_clients.hpp"
#include "redis/redis_server.hpp"
#include "support/http_client.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;
using store::testing::RedisServer;

constexpr std::size_t kClients = 300;
constexpr auto kWindow = 2000ms;

/// Publishes `e<i>` every 20 ms through the survivors until stopped; keeps what they accepted, in order.
class Publisher {
 public:
  explicit Publisher(std::vector<std::uint16_t> ports) : ports_(std::move(ports)) {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_; ++i) {
        auto text = "e" + std::to_string(i);
        auto r = fetch(ports_[i % ports_.size()], "POST", "/api/v1/notify", R"({"text":")" + text + "\"}");
        if (r.status == 200) {
          std::lock_guard lock(mutex_);
          accepted_.push_back(text);
        }
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  ~Publisher() { stop(); }
  std::vector<std::string> stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mutex_);
    return accepted_;
  }

 private:
  std::vector<std::uint16_t> ports_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::string> accepted_;
  std::thread thread_;
};

TEST(Drain, StoppedProcessMovesItsStreamsToSurvivorsSpreadOverTheWindowWithoutLoss) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh test)";
  RedisServer redis;
  ASSERT_TRUE(redis.start());
  // The stopped process drains over 2 s (rate 100/s would ask for 3 s: the window caps it).
  Node stopped(redis.url(), {std::to_string(kWindow.count()), "100"});
  Node b(redis.url()), c(redis.url());
  ASSERT_NE(stopped.port(), 0);
  ASSERT_NE(b.port(), 0);
  ASSERT_NE(c.port(), 0);

  RoamingClients crowd({.survivors = {b.port(), c.port()}});
  crowd.open(stopped.port(), kClients);
  ASSERT_TRUE(crowd.wait_open(kClients, 20s)) << crowd.snapshot(false).open << " streams open";

  Publisher publisher({b.port(), c.port()});
  std::this_thread::sleep_for(300ms);
  auto began = std::chrono::steady_clock::now();
  int status = stopped.terminate();
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_LT(took, kWindow + 2500ms) << "the drain overran its window";  // + up to 1 s of XREAD BLOCK
  EXPECT_GT(took, kWindow / 2) << "the streams were not spread over the window";

  EXPECT_TRUE(crowd.wait_open(kClients, 10s, /*on_survivors=*/true))
      << crowd.snapshot(false).on_survivors << " of " << kClients << " streams on the survivors";
  std::this_thread::sleep_for(300ms);  // publishing goes on after the move
  auto published = publisher.stop();
  ASSERT_GT(published.size(), 50u);

  // Every client gets every accepted event exactly once, in order (the last one may still be on its way).
  RoamingReport report;
  for (auto until = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < until;) {
    report = crowd.snapshot();
    if (std::all_of(report.texts.begin(), report.texts.end(),
                    [&](const auto& texts) { return texts.size() >= published.size(); }))
      break;
    std::this_thread::sleep_for(50ms);
  }
  std::size_t lossy = 0;
  for (std::size_t i = 0; i < report.texts.size(); ++i)
    if (report.texts[i] != published) {
      if (++lossy <= 3)
        ADD_FAILURE() << "client " << i << " received " << report.texts[i].size() << " events of "
                      << published.size() << " (or out of order / twice)";
    }
  EXPECT_EQ(lossy, 0u);

  // Spread: the survivors never see more than a quarter of the crowd reconnect within 100 ms.
  EXPECT_EQ(report.moves.size(), kClients);
  auto peak = report.peak_moves_per(100ms);
  EXPECT_LT(peak, kClients / 4) << "reconnect storm: " << peak << " within 100 ms";
  ASSERT_FALSE(report.closes.empty());
  auto [first, last] = std::minmax_element(report.closes.begin(), report.closes.end());
  EXPECT_GT(*last - *first, kWindow / 2)
      << "streams closed within "
      << std::chrono::duration_cast<std::chrono::milliseconds>(*last - *first).count() << " ms";
  std::printf("[ drain    ] %zu streams moved in %lld ms, peak %zu reconnects per 100 ms, %zu events each\n",
              kClients,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              peak, published.size());
}

}  // namespace
}  // namespace igniter::test

// The rolling-restart bench: three igniter-cpp processes on one redis-server, N SSE clients on the first,
// events published steadily through the other two; SIGTERM the first and measure what its survivors see
// — the peak reconnect rate, the time until every client has moved — and what the clients missed.
// Run once with draining (AppOptions::drain_window) and once with every stream closed at once.
//
//   drain_bench [--clients N] [--window MS] [--rate PER_S] [--mode drain|storm|both]
//   drain_bench node <redis url> <drain window ms> <drain rate>   (a server process; used by the above)
//
// Clients behave like EventSource (tests/cluster/roaming_clients.hpp): on a stream's end they wait its last
// `retry:` (2000 ms from the server's first frame unless the drain sent another), then resume on a survivor
// with Last-Event-ID.
#include <sys/wait.h>
#include <unistd.h>
#include <igniter/igniter.hpp>
#include <igniter/store/store.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/roaming_clients.hpp"
#include "redis/redis_server.hpp"
#include "support/harness.hpp"
#include "support/http_client.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Notify {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Notify, (), (text))

int run_node(const char* redis_url, long window_ms, double rate) {
  auto store = igniter::store::from_url(redis_url);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
    return 1;
  }
  igniter::AppOptions options{.io_threads = 1,
                              .worker_threads = 2,
                              .log_level = igniter::LogLevel::warn,
                              .store = *store,
                              .drain_window = std::chrono::milliseconds(window_ms),
                              .drain_rate = rate};
  igniter::App app(std::move(options));
  app.controller(
      igniter::controller("notify", "/notify")
          .mutation("send", igniter::POST, "/", [](igniter::Ctx& c, const Notify& n) {
            auto id = c.realtime().try_publish("notifications", igniter::json::object{{"text", n.text}});
            if (!id) return c.response.error(503, "ERR_SERVICE_UNAVAILABLE", id.error().message());
            return c.response.success(igniter::realtime::to_string(*id));
          }));
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto port = app.start(0);
  std::printf("PORT %u\n", static_cast<unsigned>(port));
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  app.stop();
  app.wait();
  return 0;
}

/// A server process of this bench (this binary in `node` mode).
class Node {
 public:
  Node(const std::string& redis_url, long window_ms, double rate)
      : process_({"/proc/self/exe", "node", redis_url, std::to_string(window_ms), std::to_string(rate)},
                 igniter::test::ChildOutput::capture),
        port_(process_.read_port()) {}
  std::uint16_t port() const { return port_; }
  void terminate() { process_.terminate(); }

 private:
  igniter::test::ChildProcess process_;
  std::uint16_t port_ = 0;
};

struct Outcome {
  long stop_ms = 0, all_moved_ms = 0;
  long wait_p50 = 0, wait_p99 = 0, wait_max = 0;
  std::size_t moved = 0, close_peak_100ms = 0, attempt_peak_100ms = 0, peak_100ms = 0, peak_1s = 0, lost = 0,
              duplicated = 0, published = 0, failed = 0;
};

Outcome run(const std::string& redis_url, std::size_t clients, long window_ms, double rate) {
  Outcome out;
  Node stopped(redis_url, window_ms, rate), b(redis_url, 0, 0), c(redis_url, 0, 0);
  if (!stopped.port() || !b.port() || !c.port()) {
    std::fprintf(stderr, "a server did not start\n");
    std::exit(1);
  }
  igniter::test::RoamingClients crowd({.survivors = {b.port(), c.port()}});
  crowd.open(stopped.port(), clients);
  if (!crowd.wait_open(clients, 120s)) {
    std::fprintf(stderr, "only %zu of %zu streams opened\n", crowd.snapshot(false).open, clients);
    std::exit(1);
  }
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> accepted;
  std::thread publisher([&] {
    std::vector<std::uint16_t> ports{b.port(), c.port()};
    for (int i = 0; !stop; ++i) {
      auto text = "e" + std::to_string(i);
      auto r = igniter::test::fetch(ports[i % 2], "POST", "/api/v1/notify", R"({"text":")" + text + "\"}");
      if (r.status == 200) {
        std::lock_guard lock(mutex);
        accepted.push_back(text);
      }
      std::this_thread::sleep_for(50ms);  // 20 events/s
    }
  });
  std::this_thread::sleep_for(1s);
  auto began = Clock::now();
  std::thread stopper([&] {
    stopped.terminate();
    out.stop_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  });
  bool moved = crowd.wait_open(clients, 120s, /*on_survivors=*/true);
  out.all_moved_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  stopper.join();
  if (!moved) std::fprintf(stderr, "not every client moved within 120 s\n");
  std::this_thread::sleep_for(1s);
  stop = true;
  publisher.join();
  out.published = accepted.size();
  igniter::test::RoamingReport report;
  for (auto until = Clock::now() + 20s; Clock::now() < until;) {  // the last events on their way
    report = crowd.snapshot();
    if (std::all_of(report.texts.begin(), report.texts.end(),
                    [&](const auto& texts) { return texts.size() >= accepted.size(); }))
      break;
    std::this_thread::sleep_for(100ms);
  }
  for (const auto& texts : report.texts) {
    std::size_t j = 0;  // accepted is in order; a client's texts must be exactly it
    for (const auto& text : texts) {
      if (j < accepted.size() && text == accepted[j])
        ++j;
      else
        ++out.duplicated;
    }
    out.lost += accepted.size() - j;
  }
  out.moved = report.moves.size();
  out.peak_100ms = report.peak_moves_per(100ms);
  out.close_peak_100ms = igniter::test::RoamingReport::peak_per(report.closes, 100ms);
  out.attempt_peak_100ms = igniter::test::RoamingReport::peak_per(report.attempts, 100ms);
  if (!report.waits.empty()) {
    auto waits = report.waits;
    std::sort(waits.begin(), waits.end());
    out.wait_p50 = waits[waits.size() / 2].count();
    out.wait_p99 = waits[std::min(waits.size() - 1, waits.size() * 99 / 100)].count();
    out.wait_max = waits.back().count();
  }
  if (std::getenv("DRAIN_BENCH_TRACE")) {  // reconnects and closes per 100 ms since the first close
    auto first =
        report.closes.empty() ? Clock::now() : *std::min_element(report.closes.begin(), report.closes.end());
    std::vector<int> moves(200), closes(200);
    for (auto at : report.moves) moves[std::min<long>(199, (at - first) / 100ms)]++;
    for (auto at : report.closes) closes[std::min<long>(199, (at - first) / 100ms)]++;
    for (int i = 0; i < 200; ++i)
      if (moves[i] || closes[i])
        std::fprintf(stderr, "%5d ms  closes %5d  reconnects %5d\n", i * 100, closes[i], moves[i]);
  }
  out.peak_1s = report.peak_moves_per(1000ms);
  out.failed = report.failed_connects;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::strcmp(argv[1], "node") == 0)
    return run_node(argv[2], std::atol(argv[3]), std::atof(argv[4]));
  std::size_t clients = 5000;
  long window = 5000;
  double rate = 1000;
  std::string mode = "both";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--clients")
      clients = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--window")
      window = std::atol(argv[i + 1]);
    else if (flag == "--rate")
      rate = std::atof(argv[i + 1]);
    else if (flag == "--mode")
      mode = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--clients N] [--window MS] [--rate PER_S] [--mode drain|storm|both]\n",
                   argv[0]);
      return 2;
    }
  }
  igniter::store::testing::RedisServer redis;
  if (!igniter::store::testing::RedisServer::installed() || !redis.start()) {
    std::fprintf(stderr, "redis-server is needed (scripts/setup.sh)\n");
    return 1;
  }
  std::printf(
      "| mode | clients | drain window | stopped after | all moved after | reconnect attempts, peak / 100 ms "
      "| "
      "reconnects served, peak / 100 ms | peak / 1 s | connect → `connected` p50 / p99 / max | failed "
      "connects "
      "| events | lost | duplicated |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  for (const char* m : {"storm", "drain"}) {
    if (mode != "both" && mode != m) continue;
    bool drain = std::strcmp(m, "drain") == 0;
    auto o = run(redis.url(), clients, drain ? window : 0, rate);
    auto setting =
        drain ? std::to_string(window) + " ms, " + std::to_string(static_cast<long>(rate)) + "/s" : "0";
    std::printf(
        "| %s | %zu | %s | %ld ms | %ld ms | %zu | %zu | %zu | %ld / %ld / %ld ms | %zu | %zu | %zu | %zu "
        "|\n",
        drain ? "draining" : "all at once", clients, setting.c_str(), o.stop_ms, o.all_moved_ms,
        o.attempt_peak_100ms, o.peak_100ms, o.peak_1s, o.wait_p50, o.wait_p99, o.wait_max, o.failed,
        o.published, o.lost, o.duplicated);
    std::fflush(stdout);
    if (o.moved < clients) std::fprintf(stderr, "%s: only %zu of %zu clients moved\n", m, o.moved, clients);
  }
}

// A Redis Sentinel failover under load: one master, one replica, three Sentinels, two cluster_node
// processes on a redis-sentinel:// URL with SSE clients, and a publisher that never stops. The master is
// killed with SIGKILL; the test checks what users would notice: publishes fail fast while there is no
// master, HTTP keeps being served, publishing resumes on the promoted replica, and every client either
// received every event whose publish succeeded or was told to refetch everything after it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/node_process.hpp"
#include "redis/redis_server.hpp"
#include "support/harness.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

using store::testing::RedisServer;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kRedisCli = "/usr/bin/redis-cli";

// One `redis-server <conf> --sentinel` child on a free port, watching `master` with quorum 2.
class SentinelProcess {
 public:
  SentinelProcess(const std::filesystem::path& dir, std::uint16_t master_port)
      : port_(RedisServer::free_port()), process_(command(dir, port_, master_port), ChildOutput::discard) {}
  std::uint16_t port() const { return port_; }

 private:
  static std::vector<std::string> command(const std::filesystem::path& dir, std::uint16_t port,
                                          std::uint16_t master_port) {
    auto conf = dir / ("sentinel-" + std::to_string(port) + ".conf");
    std::ofstream(conf) << "port " << port << "\nbind 127.0.0.1\ndaemonize no\ndir " << dir.string()
                        << "\nlogfile \"\"\nloglevel warning\n"
                        << "sentinel monitor mymaster 127.0.0.1 " << master_port << " 2\n"
                        << "sentinel down-after-milliseconds mymaster 1000\n"
                        << "sentinel failover-timeout mymaster 2000\n"
                        << "sentinel parallel-syncs mymaster 1\n";
    return {store::testing::kRedisServerPath, conf.string(), "--sentinel"};
  }

  std::uint16_t port_;
  ChildProcess process_;
};

// redis-cli's raw output for one command (empty when it fails).
std::string cli(std::uint16_t port, const std::string& command) {
  std::string line = std::string(kRedisCli) + " -p " + std::to_string(port) + " " + command + " 2>/dev/null";
  std::string out;
  if (FILE* pipe = ::popen(line.c_str(), "r")) {
    char buffer[4096];
    while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    ::pclose(pipe);
  }
  return out;
}

// The port a Sentinel names as mymaster's, 0 when it does not answer.
std::uint16_t master_port(std::uint16_t sentinel) {
  auto out = cli(sentinel, "SENTINEL get-master-addr-by-name mymaster");
  auto newline = out.find('\n');
  if (newline == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::atoi(out.c_str() + newline + 1));
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// One SSE client read by its own thread until stop(): what it received, and when.
struct Listener {
  struct Received {
    std::string text;  // a message's text, or "" for a refetch-all
    Clock::time_point at;
  };

  explicit Listener(std::uint16_t port)
      : client(port, "/api/v1/sse/events?channels=notifications,revalidation") {
    EXPECT_EQ(client.read_head(), 200u);
    auto connected = client.next_event();
    EXPECT_TRUE(connected && connected->event == "connected");
    thread = std::thread([this] {
      while (!stopping) {
        auto frame = client.next_event(200ms);
        if (!frame) {
          if (client.closed_by_server()) closed = true;
          if (closed) return;
          continue;
        }
        std::lock_guard lock(mutex);
        if (frame->event == "revalidate" &&
            frame->json().at("data").at("queryKeys") == boost::json::array{""})
          frames.push_back({"", Clock::now()});
        else if (frame->event == "message")
          frames.push_back({std::string(frame->json().at("data").at("text").as_string()), Clock::now()});
      }
    });
  }
  void stop() {
    stopping = true;
    if (thread.joinable()) thread.join();
  }
  ~Listener() { stop(); }

  SseClient client;
  std::atomic<bool> stopping{false};
  std::atomic<bool> closed{false};
  std::mutex mutex;
  std::vector<Received> frames;
  std::thread thread;
};

// A publish the servers acknowledged: its text, and when the request was sent.
struct Published {
  std::string text;
  Clock::time_point sent;
};

TEST(SentinelFailover, PublishesFailFastServiceResumesOnTheReplicaAndNoClientMissesAnEventSilently) {
  if (!RedisServer::installed() || ::access(kRedisCli, X_OK) != 0)
    GTEST_SKIP() << "redis-server / redis-cli are not installed (scripts/setup.sh test)";
  char dir_template[] = "/tmp/igniter-failover-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::filesystem::path dir = dir_template;
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};

  auto data_dir = [&](const char* name) {
    std::filesystem::create_directories(dir / name);
    return std::vector<std::string>{"--dir", (dir / name).string(), "--repl-diskless-sync-delay", "0"};
  };
  RedisServer master(data_dir("master"));
  ASSERT_TRUE(master.start());
  auto replica_args = data_dir("replica");
  replica_args.insert(replica_args.end(), {"--replicaof", "127.0.0.1", std::to_string(master.port())});
  RedisServer replica(replica_args);
  ASSERT_TRUE(replica.start());
  ASSERT_TRUE(eventually(
      [&] {
        return cli(replica.port(), "INFO replication").find("master_link_status:up") != std::string::npos;
      },
      10s, 100ms))
      << "the replica never synced";

  std::vector<std::unique_ptr<SentinelProcess>> sentinels;
  for (int i = 0; i < 3; ++i) sentinels.push_back(std::make_unique<SentinelProcess>(dir, master.port()));
  // Ready for a failover: each Sentinel sees the replica and enough peers for quorum and authorization.
  for (auto& sentinel : sentinels) {
    ASSERT_TRUE(eventually(
        [&] {
          return cli(sentinel->port(), "SENTINEL ckquorum mymaster").find("OK 3 usable") !=
                     std::string::npos &&
                 cli(sentinel->port(), "SENTINEL replicas mymaster").find(std::to_string(replica.port())) !=
                     std::string::npos;
        },
        20s, 100ms))
        << "Sentinel " << sentinel->port() << " never saw its peers and the replica";
  }

  std::string url = "redis-sentinel://";
  for (auto& sentinel : sentinels)
    url += (url.back() == '/' ? "" : ",") + std::string("127.0.0.1:") + std::to_string(sentinel->port());
  url += "/mymaster";
  Node a(url), b(url);
  ASSERT_NE(a.port(), 0);
  ASSERT_NE(b.port(), 0);
  std::vector<std::unique_ptr<Listener>> listeners;
  for (auto port : {a.port(), b.port(), a.port(), b.port()})
    listeners.push_back(std::make_unique<Listener>(port));

  // The publisher: one publish every 20 ms, alternating between the processes, each one timed.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<Published> published;
  std::size_t failed = 0;
  Clock::duration slowest_failure{}, slowest_success{};
  std::optional<Clock::time_point> first_failure, last_failure, first_success_after_failure;
  std::atomic<int> health_failures{0};
  std::thread publisher([&] {
    for (int i = 0; !stop; ++i) {
      auto text = "e" + std::to_string(i);
      auto port = i % 2 ? a.port() : b.port();
      auto sent = Clock::now();
      auto r = fetch(port, "POST", "/api/v1/notify", R"({"text":")" + text + "\"}");
      auto took = Clock::now() - sent;
      {
        std::lock_guard lock(mutex);
        if (r.status == 200) {
          published.push_back({text, sent});
          slowest_success = std::max(slowest_success, took);
          if (last_failure && !first_success_after_failure) first_success_after_failure = Clock::now();
        } else {
          ++failed;
          slowest_failure = std::max(slowest_failure, took);
          if (!first_failure) first_failure = sent;
          last_failure = Clock::now();
        }
      }
      if (i % 10 == 0)
        for (auto p : {a.port(), b.port()})
          if (fetch(p, "GET", "/api/v1/notify/health").status != 200) ++health_failures;
      std::this_thread::sleep_for(20ms);
    }
  });

  std::this_thread::sleep_for(1500ms);
  auto killed = Clock::now();
  master.kill_now();
  std::optional<Clock::time_point> switched;
  bool resumed = eventually(
      [&] {
        if (!switched && master_port(sentinels[0]->port()) == replica.port()) switched = Clock::now();
        std::lock_guard lock(mutex);
        return switched && first_success_after_failure;
      },
      15s, 100ms);
  std::this_thread::sleep_for(1500ms);  // more events on the new master
  stop = true;
  publisher.join();
  std::this_thread::sleep_for(1500ms);  // the last events reach the clients
  for (auto& listener : listeners) listener->stop();

  ASSERT_TRUE(switched) << "the Sentinels never promoted the replica";
  ASSERT_TRUE(resumed) << "publishing did not resume within 15 s of the kill";
  std::printf(
      "[ failover ] kill -> first failed publish %.2f s, -> Sentinel switch %.2f s, -> first publish "
      "accepted again %.2f s; %zu publishes failed (slowest failure %.2f s, slowest success %.2f s), "
      "%zu accepted\n",
      first_failure ? seconds(*first_failure - killed) : -1.0, seconds(*switched - killed),
      seconds(*first_success_after_failure - killed), failed, seconds(slowest_failure),
      seconds(slowest_success), published.size());
  EXPECT_GT(failed, 0u) << "with no master for seconds, some publishes must have failed";
  // Fail fast: never beyond StoreOptions::timeout (2 s) plus the fence's 2 s, with a margin.
  EXPECT_LT(slowest_failure, 5s);
  EXPECT_LT(slowest_success, 5s);
  EXPECT_EQ(health_failures, 0) << "HTTP must be served during the failover";

  // The ledger: every accepted event arrived, or a refetch-all arrived after it was sent.
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    auto& listener = *listeners[i];
    EXPECT_FALSE(listener.closed) << "client " << i << " was disconnected";
    std::map<std::string, Clock::time_point> received;
    std::vector<Clock::time_point> resyncs;
    for (auto& frame : listener.frames) {
      if (frame.text.empty())
        resyncs.push_back(frame.at);
      else
        received.emplace(frame.text, frame.at);
    }
    std::size_t missing = 0, excused = 0;
    for (auto& event : published) {
      if (received.count(event.text)) continue;
      ++missing;
      bool told = std::any_of(resyncs.begin(), resyncs.end(), [&](auto at) { return at > event.sent; });
      excused += told;
      EXPECT_TRUE(told) << "client " << i << " missed " << event.text << " and was never told to refetch";
    }
    std::printf(
        "[ failover ] client %zu (process %s): %zu of %zu accepted events received, %zu missing (each "
        "followed by a refetch-all), %zu refetch-alls\n",
        i, i % 2 ? "b" : "a", published.size() - missing, published.size(), excused, resyncs.size());
    EXPECT_TRUE(received.count(published.back().text)) << "client " << i << " did not get the last event";
    EXPECT_GE(resyncs.size(), 1u) << "client " << i << ": the master changed, the client must refetch";
  }
}

}  // namespace
}  // namespace igniter::test

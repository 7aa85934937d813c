// igniter_soak: a long mixed load against the posts demo (examples/posts) that fails when an event is
// lost or the server does not return to its baseline of memory and descriptors. docs/soak.md explains
// the load, the checks and how to read the output.
//
//   igniter_soak --server build/release/examples/posts/posts --store memory --minutes 10
//   igniter_soak --server ... --store redis --seconds 40 --warmup-events 2000   (redis-server started here)
//
// One thread, one io_context, C++20 coroutines: the load generator must stay light (2 shared cores).
#include <boost/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ledger.hpp"
#include "net.hpp"
#include "process.hpp"

namespace soak {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// ---- Settings ----

struct Options {
  std::string server;                         // the posts binary
  std::string store = "memory";               // memory | redis
  std::string redis_server = "redis-server";  // binary for --store redis
  double seconds = 600;                       // main load phase
  double warmup_seconds = -1;            // mixed load before the baseline (default: 10% of seconds, 10-60 s)
  std::uint64_t warmup_events = 10'000;  // publish this many after warm-up so the history is full at baseline
  double report_seconds = 60;            // progress line interval
  int users = 8;                         // subscribers' users (one steady subscriber each)
  int churners = 20;                     // disconnect at random, resume with Last-Event-ID
  int slow = 4;                          // stop reading for a while, get cut, resume
  int live = 6;                          // change their channels on the open stream
  int publishers = 4;                    // notification publishers (sequential, paced)
  double rate = 40;                      // notifications per second, all publishers together
  double mutations = 1;                  // create+delete+rename rounds per second (revalidations)
  double ephemeral_per_second = 1;       // short-lived streams that never come back
  int hostile = 2;                       // malformed-request workers
  int text_bytes = 300;                  // notification text length (payload size)
  double stall_seconds = 45;             // how long a slow reader stops reading
  double feed_rate = 60;                 // events/s scoped to the slow readers' own user (~3 KB frames)
  double require_cut_seconds = 30;       // runs at least this long (warm-up + load) fail without a cut
  double rss_tolerance = 0.20;           // end RSS may exceed the baseline by this fraction...
  double rss_tolerance_mib = 16;         // ...or by this many MiB, whichever is larger
  double settle_seconds = 60;            // how long to wait for descriptors to come back
  std::uint64_t history_events = 10'000;  // the server's history_max_events (resync justification)
  double history_age_seconds = 300;       // the server's history_max_age
  bool keep = false;                      // keep the temp dir even on success
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "igniter_soak: " << why
            << "\nusage: igniter_soak --server PATH [--store memory|redis] [--minutes M | --seconds S]\n"
               "  [--warmup-seconds S] [--warmup-events N] [--report-seconds S] [--rate EVENTS_PER_S]\n"
               "  [--churners N] [--slow N] [--live N] [--users N] [--publishers N] [--hostile N]\n"
               "  [--stall-seconds S] [--feed-rate N] [--require-cut-seconds S] [--rss-tolerance FRACTION] "
               "[--rss-tolerance-mib MIB] [--settle-seconds S]\n"
               "  [--redis-server PATH] [--keep]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    auto number = [&] { return std::stod(value()); };
    if (a == "--server")
      o.server = value();
    else if (a == "--store")
      o.store = value();
    else if (a == "--redis-server")
      o.redis_server = value();
    else if (a == "--minutes")
      o.seconds = number() * 60;
    else if (a == "--seconds")
      o.seconds = number();
    else if (a == "--warmup-seconds")
      o.warmup_seconds = number();
    else if (a == "--warmup-events")
      o.warmup_events = static_cast<std::uint64_t>(number());
    else if (a == "--report-seconds")
      o.report_seconds = number();
    else if (a == "--users")
      o.users = static_cast<int>(number());
    else if (a == "--churners")
      o.churners = static_cast<int>(number());
    else if (a == "--slow")
      o.slow = static_cast<int>(number());
    else if (a == "--live")
      o.live = static_cast<int>(number());
    else if (a == "--publishers")
      o.publishers = static_cast<int>(number());
    else if (a == "--rate")
      o.rate = number();
    else if (a == "--mutations")
      o.mutations = number();
    else if (a == "--ephemeral")
      o.ephemeral_per_second = number();
    else if (a == "--hostile")
      o.hostile = static_cast<int>(number());
    else if (a == "--text-bytes")
      o.text_bytes = static_cast<int>(number());
    else if (a == "--stall-seconds")
      o.stall_seconds = number();
    else if (a == "--feed-rate")
      o.feed_rate = number();
    else if (a == "--require-cut-seconds")
      o.require_cut_seconds = number();
    else if (a == "--rss-tolerance")
      o.rss_tolerance = number();
    else if (a == "--rss-tolerance-mib")
      o.rss_tolerance_mib = number();
    else if (a == "--settle-seconds")
      o.settle_seconds = number();
    else if (a == "--keep")
      o.keep = true;
    else
      usage(("unknown argument " + a).c_str());
  }
  if (o.server.empty()) usage("--server is required");
  if (o.store != "memory" && o.store != "redis") usage("--store is memory or redis");
  if (o.warmup_seconds < 0) o.warmup_seconds = std::clamp(o.seconds / 10, 10.0, 60.0);
  if (o.users < 1 || o.publishers < 1 || o.rate <= 0) usage("users, publishers and rate must be positive");
  return o;
}

std::chrono::steady_clock::duration secs(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

std::string mib(std::uint64_t bytes) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return out;
}

// "<epoch>-<seq>" -> (epoch, seq)
std::optional<std::pair<std::string, std::uint64_t>> split_id(std::string_view id) {
  auto dash = id.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= id.size()) return std::nullopt;
  std::uint64_t seq = 0;
  for (char ch : id.substr(dash + 1)) {
    if (ch < '0' || ch > '9') return std::nullopt;
    seq = seq * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  return std::make_pair(std::string(id.substr(0, dash)), seq);
}

std::int64_t scope_user(const json::object& envelope) {
  auto* scopes = envelope.if_contains("scopes");
  if (!scopes || !scopes->is_array()) return -1;
  for (auto& s : scopes->as_array())
    if (s.is_string() && s.as_string().starts_with("user:")) return std::atoll(s.as_string().c_str() + 5);
  return -1;
}

// ---- The run ----

struct User {
  std::string name;
  std::int64_t id = 0;
  std::string token;
};

/// What the runner of one chain shares with the rest (live changes, drain, finish).
struct ChainControl {
  Chain chain;
  std::vector<std::string> channels;         // what a (re)connection asks for
  std::set<std::string> junk;                // live-subscribed channels nothing publishes to
  std::shared_ptr<tcp::socket> sock;         // the current stream
  std::string connection_id, token;          // from its connected frame
  std::shared_ptr<asio::steady_timer> wait;  // a stall or a pause between connections (drain cancels it)
  std::shared_ptr<asio::steady_timer> planned_close;  // churn / lifetime (drain cancels it)
  bool changing = false;  // a live change is in flight: do not reconnect meanwhile
  bool finish = false;
  bool running = false;
  double lifetime = 0;  // ephemeral
  std::uint64_t unexpected_closes = 0;
  bool live_header_resume = false;  // alternate Last-Event-ID header / lastEventId query
};

struct HostileTally {
  std::map<std::string, std::map<std::string, std::uint64_t>> outcomes;  // case -> outcome -> count
  std::uint64_t total = 0, anomalies = 0;
  std::vector<std::string> anomaly_examples;
};

class Soak {
 public:
  explicit Soak(Options o)
      : o_(std::move(o)),
        ledger_(o_.history_events, secs(o_.history_age_seconds), 2s),
        rng_(std::random_device{}()) {}

  int run() {
    if (!start_processes()) return finish_with(1);
    asio::co_spawn(io_, main_flow(), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::cerr << "soak: internal error: " << x.what() << "\n";
        }
        exit_code_ = 1;
      }
      io_.stop();
    });
    io_.run();
    return finish_with(exit_code_);
  }

 private:
  // ---- processes ----

  bool start_processes() {
    char pattern[] = "/tmp/igniter-soak-XXXXXX";
    if (!::mkdtemp(pattern)) {
      std::cerr << "soak: mkdtemp failed\n";
      return false;
    }
    dir_ = pattern;
    std::string store_url = "memory";
    if (o_.store == "redis") {
      std::string binary = o_.redis_server;
      if (binary.find('/') == std::string::npos) {
        for (const char* d : {"/usr/bin/", "/usr/local/bin/", "/usr/sbin/"})
          if (::access((std::string(d) + binary).c_str(), X_OK) == 0) {
            binary = std::string(d) + binary;
            break;
          }
      }
      redis_port_ = free_port();
      if (!redis_.start({binary, "--port", std::to_string(redis_port_), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--daemonize", "no", "--dir", dir_},
                        {}, dir_ + "/redis.log") ||
          !wait_for_port(redis_port_)) {
        std::cerr << "soak: redis-server (" << binary << ") did not start; log " << dir_ << "/redis.log\n";
        return false;
      }
      store_url = "redis://127.0.0.1:" + std::to_string(redis_port_);
    }
    port_ = free_port();
    std::filesystem::create_directories(dir_ + "/data");
    log_ = dir_ + "/server.log";
    if (!server_.start(
            {o_.server},
            {"PORT=" + std::to_string(port_), "DATA_DIR=" + dir_ + "/data", "IGNITER_STORE=" + store_url},
            log_) ||
        !wait_for_port(port_)) {
      std::cerr << "soak: the server did not start; log " << log_ << ":\n" << tail(log_, 20);
      return false;
    }
    std::cout << "soak: " << o_.server << " pid " << server_.pid() << " on 127.0.0.1:" << port_ << ", store "
              << store_url << ", work dir " << dir_ << "\n"
              << "soak: warm-up " << o_.warmup_seconds << " s, then " << o_.warmup_events
              << " events to fill the history, baseline, then " << o_.seconds << " s of load\n"
              << std::flush;
    return true;
  }

  bool wait_for_port(std::uint16_t port) {
    for (int i = 0; i < 500; ++i) {
      if (port_open(port)) return true;
      if (server_.pid() && server_.exited()) return false;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  int finish_with(int code) {
    if (auto status = server_.stop()) {
      bool clean = WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
      std::cout << "soak: server ended with " << describe_status(*status) << (clean ? "" : "  <-- FAIL")
                << "\n";
      if (!clean) {
        std::cout << "soak: server log tail:\n" << tail(log_, 40);
        code = 1;
      }
    }
    redis_.stop();
    if (code == 0 && !o_.keep) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::cout << "soak: kept " << dir_ << " (server.log" << (o_.store == "redis" ? ", redis.log" : "")
                << ")\n";
    }
    std::cout << (code == 0 ? "soak: PASS\n" : "soak: FAIL\n") << std::flush;
    return code;
  }

  // ---- the phases ----

  awaitable<void> main_flow() {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, watch_server(), asio::detached);
    if (!co_await login_users()) {
      fail("could not log the soak's users in");
      co_return;
    }
    start_ = Clock::now();
    run_start_ = start_;
    std::cout << "soak: warm-up\n" << std::flush;
    co_await phase(o_.warmup_seconds, "warm-up");
    if (dead_) co_return;
    co_await fill_history();
    if (dead_) co_return;
    auto [base_rss, base_fds] = co_await settle(-1);
    baseline_rss_ = base_rss;
    baseline_fds_ = base_fds;
    std::cout << "soak: baseline after warm-up: rss " << mib(base_rss) << ", fds " << base_fds << "\n"
              << std::flush;
    start_ = Clock::now();
    co_await phase(o_.seconds, "load");
    if (dead_) co_return;
    auto [end_rss, end_fds] = co_await settle(baseline_fds_);
    verdict(end_rss, end_fds);
    check_cuts();
    stopped_ = true;
  }

  /// One phase: subscribers, publishers, mutations, churn, live changes, malformed requests for `seconds`;
  /// then the producers stop, every subscriber catches up (or the drain times out) and the books are checked.
  awaitable<void> phase(double seconds, const char* name) {
    auto ex = co_await asio::this_coro::executor;
    for (auto& c : chains_) retired_.push_back(std::move(c));  // runners may still hold them
    chains_.clear();
    load_active_ = true;
    draining_ = false;
    // Steady subscribers first, one per user, so every event has at least one receiver from the start.
    for (int u = 0; u < o_.users; ++u) add_chain(Chain::Role::steady, u);
    for (int i = 0; i < 200 && !all_positioned(); ++i) co_await sleep_for(50ms);
    if (!all_positioned()) std::cout << "soak: warning: not every steady subscriber connected within 10 s\n";
    for (int i = 0; i < o_.churners; ++i) add_chain(Chain::Role::churn, i % o_.users);
    // Slow readers share their own user, so the feeder's events (scoped to it) reach only them.
    for (int i = 0; i < o_.slow; ++i)
      add_chain(Chain::Role::slow, o_.feed_rate > 0 ? o_.users : i % o_.users);
    for (int i = 0; i < o_.live; ++i) {
      auto& c = add_chain(Chain::Role::live, i % o_.users);
      spawn_producer(live_changer(c));
    }
    for (int p = 0; p < o_.publishers; ++p) spawn_producer(publisher(p, o_.rate / o_.publishers, 0));
    if (o_.slow > 0 && o_.feed_rate > 0) spawn_producer(publisher(o_.publishers, o_.feed_rate, 0, o_.users));
    if (o_.mutations > 0) spawn_producer(mutator());
    if (o_.ephemeral_per_second > 0) spawn_producer(ephemeral_spawner());
    for (int h = 0; h < o_.hostile; ++h) spawn_producer(hostile_worker());

    auto phase_start = Clock::now();
    auto end = phase_start + secs(seconds);
    auto next_report = phase_start + secs(std::min(o_.report_seconds, seconds));
    while (Clock::now() < end && !dead_) {
      co_await sleep_for(std::min<Clock::duration>(1s, end - Clock::now()));
      if (Clock::now() >= next_report && Clock::now() < end) {
        co_await report(name);
        next_report += secs(o_.report_seconds);
      }
    }
    if (dead_) co_return;
    // Stop producing; let what is in flight finish.
    load_active_ = false;
    for (int i = 0; i < 600 && producers_ > 0; ++i) co_await sleep_for(50ms);
    // Drain: nobody stalls or leaves any more; everyone reconnects and catches up.
    draining_ = true;
    for (auto& c : chains_) {
      if (c->wait) c->wait->cancel();
      if (c->planned_close) c->planned_close->cancel();
      if (c->chain.role == Chain::Role::ephemeral) end_chain(*c);
    }
    auto drain_end = Clock::now() + 60s;
    Findings f;
    while (Clock::now() < drain_end && !dead_) {
      co_await sleep_for(500ms);
      f = ledger_.check(chain_views(), true);
      if (f.lost == 0) break;
    }
    for (auto& c : chains_) end_chain(*c);
    for (int i = 0; i < 200 && running_chains() > 0; ++i) co_await sleep_for(50ms);
    f = ledger_.check(chain_views(), true);
    co_await report(name);
    print_findings(name, f);
    if (f.failures() > 0) exit_code_ = 1;
    (void)ex;
  }

  /// After warm-up: publish until the server's history is full (of the largest events), so the baseline
  /// includes it.
  awaitable<void> fill_history() {
    std::uint64_t target = ledger_.published_count() + o_.warmup_events;
    if (o_.warmup_events == 0) co_return;
    std::cout << "soak: publishing " << o_.warmup_events << " events to fill the history\n" << std::flush;
    load_active_ = true;
    fill_target_ = target;
    // With the feeder on, the history is filled with its events, the largest the load sends: the history
    // at baseline then weighs what it can weigh at the end (no growth mistaken for a leak).
    int to_user = o_.slow > 0 && o_.feed_rate > 0 ? o_.users : -1;
    for (int p = 0; p < o_.publishers; ++p) spawn_producer(publisher(p, 0, target, to_user));
    while (producers_ > 0 && !dead_) co_await sleep_for(100ms);
    load_active_ = false;
  }

  /// Waits until the server is idle: no stream open, descriptors stable (or back at `target`).
  awaitable<std::pair<std::uint64_t, int>> settle(int target) {
    auto limit = Clock::now() + secs(target < 0 ? 30 : o_.settle_seconds);
    int last = -2, stable = 0;
    while (Clock::now() < limit && !dead_) {
      co_await sleep_for(1s);
      int fds = open_fds(server_.pid());
      if (target >= 0 && fds == target) {
        co_await sleep_for(2s);  // let freed memory settle too
        break;
      }
      stable = fds == last ? stable + 1 : 0;
      last = fds;
      if (target < 0 && stable >= 3) break;
    }
    co_await scrape();  // one more, from a fresh connection, after which we read the numbers
    co_await sleep_for(1s);
    co_return std::make_pair(rss_bytes(server_.pid()), open_fds(server_.pid()));
  }

  void verdict(std::uint64_t rss, int fds) {
    auto allowance = std::max<double>(baseline_rss_ * o_.rss_tolerance, o_.rss_tolerance_mib * (1 << 20));
    bool rss_ok = static_cast<double>(rss) <= static_cast<double>(baseline_rss_) + allowance;
    bool fds_ok = fds == baseline_fds_;
    std::cout << "soak: after the load: rss " << mib(rss) << " (baseline " << mib(baseline_rss_) << ", limit "
              << mib(baseline_rss_ + static_cast<std::uint64_t>(allowance)) << ")"
              << (rss_ok ? " ok" : "  <-- FAIL") << "; fds " << fds << " (baseline " << baseline_fds_ << ")"
              << (fds_ok ? " ok" : "  <-- FAIL") << "\n";
    if (!rss_ok || !fds_ok) exit_code_ = 1;
    if (!fds_ok) {
      std::cout << "soak: open descriptors now:\n";
      std::string cmd = "ls -l /proc/" + std::to_string(server_.pid()) + "/fd | sed 's/^/    /' | tail -n 40";
      std::fflush(stdout);
      if (std::system(cmd.c_str()) != 0) std::cout << "    (could not list them)\n";
    }
    std::cout << "soak: hostile requests by case (outcome: count):\n";
    for (auto& [name, outcomes] : hostile_.outcomes) {
      std::cout << "    " << name << ":";
      for (auto& [outcome, n] : outcomes) std::cout << " " << outcome << "=" << n;
      std::cout << "\n";
    }
    if (hostile_.anomalies > 0) {
      exit_code_ = 1;
      std::cout << "soak: " << hostile_.anomalies
                << " malformed request(s) got no answer or a 500  <-- FAIL\n";
      for (auto& e : hostile_.anomaly_examples) std::cout << "    " << e << "\n";
    }
  }

  /// The cut-then-resume path must have been exercised: a long enough run in which the server never cut
  /// a slow reader proves nothing about it.
  void check_cuts() {
    double ran = o_.warmup_seconds + o_.seconds;
    double minutes = std::chrono::duration<double>(Clock::now() - run_start_).count() / 60;
    std::printf(
        "soak: slow readers cut by the server: %ld (%.2f/min over %.1f min), found cut by the soak %" PRIu64
        "\n",
        server_cuts_, minutes > 0 ? static_cast<double>(std::max(0L, server_cuts_)) / minutes : 0.0, minutes,
        slow_cuts_);
    if (o_.slow > 0 && ran >= o_.require_cut_seconds && (server_cuts_ <= 0 || slow_cuts_ == 0)) {
      std::cout << "soak: no slow reader was cut in a run of " << ran << " s (--require-cut-seconds "
                << o_.require_cut_seconds << "): the cut-then-resume path was not exercised  <-- FAIL\n";
      exit_code_ = 1;
    }
    std::cout << std::flush;
  }

  // ---- accounting helpers ----

  void fail(const std::string& why) {
    std::cout << "soak: " << why << "  <-- FAIL\n" << std::flush;
    exit_code_ = 1;
    io_.stop();
  }

  awaitable<void> watch_server() {
    while (!stopped_) {
      co_await sleep_for(500ms);
      if (auto status = server_.exited()) {
        dead_ = true;
        std::cout << "soak: the server DIED (" << describe_status(*status) << ") at "
                  << std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start_).count()
                  << " s into the phase; log tail:\n"
                  << tail(log_, 40);
        fail("server crashed");
        co_return;
      }
    }
  }

  ChainControl& add_chain(Chain::Role role, int user_index) {
    auto c = std::make_unique<ChainControl>();
    c->chain.index = next_chain_++;
    c->chain.role = role;
    c->chain.user = users_[user_index].id;
    c->chain.resumable = role != Chain::Role::ephemeral;
    c->channels = {"revalidation", "notifications.stream"};
    c->chain.notes.push_back(Interval{.from_id = true});
    auto& ref = *c;
    ref.lifetime = role == Chain::Role::ephemeral ? uniform(1, 10) : 0;
    chains_.push_back(std::move(c));
    asio::co_spawn(io_, run_chain(ref, users_[user_index].token), asio::detached);
    return ref;
  }

  void end_chain(ChainControl& c) {
    c.finish = true;
    if (c.sock) {
      boost::system::error_code ignored;
      c.sock->close(ignored);
    }
    if (c.wait) c.wait->cancel();
    if (c.planned_close) c.planned_close->cancel();
  }

  bool all_positioned() const {
    for (auto& c : chains_)
      if (!c->chain.positioned) return false;
    return true;
  }
  int running_chains() const {
    int n = 0;
    for (auto& c : chains_) n += c->running;
    return n;
  }
  std::vector<const Chain*> chain_views() const {
    std::vector<const Chain*> v;
    for (auto& c : chains_) v.push_back(&c->chain);
    return v;
  }

  template <class Task>
  void spawn_producer(Task task) {
    ++producers_;
    asio::co_spawn(io_, std::move(task), [this](std::exception_ptr e) {
      --producers_;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        fail(std::string("internal error in a load task: ") + x.what());
      }
    });
  }

  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // ---- users ----

  awaitable<bool> login_users() {
    Api api{port_};
    for (int u = 0; u < o_.users + 2; ++u) {  // soak0..N-1, soakslow (users_[N]), soakpub
      User user;
      user.name = u < o_.users ? "soak" + std::to_string(u) : u == o_.users ? "soakslow" : "soakpub";
      auto answer = co_await api.call(
          http_request("POST", "/api/v1/auth/login", {}, R"({"username":")" + user.name + "\"}"));
      if (!answer || answer->status != 200) co_return false;
      auto data = json::parse(answer->body).at("data");
      user.id = data.at("user").at("id").as_int64();
      user.token = std::string(data.at("token").as_string());
      (u <= o_.users ? users_ : publishers_users_).push_back(user);
    }
    co_return true;
  }

  // ---- subscribers ----

  awaitable<void> run_chain(ChainControl& c, std::string user_token) {
    c.running = true;
    auto ex = co_await asio::this_coro::executor;
    c.wait = std::make_shared<asio::steady_timer>(ex);
    auto born = Clock::now();
    while (!c.finish && !dead_) {
      while (c.changing && !c.finish) co_await sleep_for(20ms);
      if (c.finish) break;
      Conn conn;
      bool slow = c.chain.role == Chain::Role::slow;
      if (!co_await connect(conn, port_, slow ? 4096 : 0)) {
        co_await pause(c, 0.5);
        continue;
      }
      c.sock = conn.sock;
      std::string target = "/api/v1/sse/events?channels=";
      for (std::size_t i = 0; i < c.channels.size(); ++i) target += (i ? "," : "") + c.channels[i];
      std::string extra;
      bool resuming = c.chain.positioned && c.chain.resumable;
      if (resuming) {
        auto id = epoch_ + "-" + std::to_string(c.chain.last_seq);
        c.live_header_resume = !c.live_header_resume;
        if (c.live_header_resume)
          extra = "Last-Event-ID: " + id + "\r\n";
        else
          target += "&lastEventId=" + id;
      }
      std::optional<Answer> head;
      {
        Deadline deadline(conn.sock, 15s);
        if (co_await write_all(conn, http_request("GET", target, user_token, {}, extra)))
          head = co_await read_answer(conn, true);
      }
      if (!head || head->status != 200) {
        if (!c.finish && !draining_) {
          ++stream_refusals_;
          if (head) c.chain.note_problem("stream answered " + std::to_string(head->status));
        }
        conn.close();
        co_await pause(c, 1);
        continue;
      }
      // Per-role plans for this connection.
      auto planned = std::make_shared<bool>(false);
      std::optional<Clock::time_point> stall_at;
      if (!draining_) {
        double close_after = 0;
        switch (c.chain.role) {
          case Chain::Role::churn:
            close_after = uniform(2, 20);
            break;
          case Chain::Role::live:
            close_after = uniform(30, 60);
            break;
          case Chain::Role::ephemeral:
            close_after =
                std::max(0.1, c.lifetime - std::chrono::duration<double>(Clock::now() - born).count());
            break;
          case Chain::Role::slow:
            stall_at = Clock::now() + secs(uniform(2, 10));
            break;
          case Chain::Role::steady:
            break;
        }
        if (close_after > 0) {
          c.planned_close = std::make_shared<asio::steady_timer>(ex, secs(close_after));
          c.planned_close->async_wait([&c, planned, sock = conn.sock](boost::system::error_code ec) {
            if (ec) return;
            if (c.changing) return;  // never cut a stream under a live change; the next plan will
            *planned = true;
            boost::system::error_code ignored;
            sock->close(ignored);
          });
        }
      }
      bool stalled = false;
      bool ok = handle_frames(c, conn, resuming);
      while (ok && !c.finish) {
        if (stall_at && !draining_ && Clock::now() >= *stall_at) {
          stalled = true;
          c.wait->expires_after(secs(o_.stall_seconds));
          co_await c.wait->async_wait(use_tuple);
          stall_at = Clock::now() + secs(uniform(5, 15));
        }
        if (!co_await read_more(conn)) break;
        ok = handle_frames(c, conn, resuming);
      }
      if (c.planned_close) {
        c.planned_close->cancel();
        c.planned_close.reset();
      }
      conn.close();
      c.sock.reset();
      if (c.finish) break;
      if (!*planned) {
        if (stalled) {
          ++c.chain.cuts;
          ++slow_cuts_;
        } else if (!draining_) {
          ++c.unexpected_closes;
          ++unexpected_closes_;
        }
      }
      if (c.chain.role == Chain::Role::ephemeral) break;
      co_await pause(c, c.chain.role == Chain::Role::churn ? uniform(0, 3) : 0.2);
    }
    c.running = false;
  }

  awaitable<void> pause(ChainControl& c, double seconds) {
    if (c.finish || seconds <= 0) co_return;
    c.wait->expires_after(secs(draining_ ? std::min(seconds, 0.2) : seconds));
    co_await c.wait->async_wait(use_tuple);
  }

  /// Parses every complete SSE frame in `conn.buf`; false when the stream is unusable.
  bool handle_frames(ChainControl& c, Conn& conn, bool resuming) {
    std::size_t end;
    while ((end = conn.buf.find("\n\n")) != std::string::npos) {
      std::string frame = conn.buf.substr(0, end);
      conn.buf.erase(0, end + 2);
      std::string id, event = "message", data;
      std::size_t pos = 0;
      while (pos <= frame.size()) {
        auto nl = frame.find('\n', pos);
        std::string line = frame.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? frame.size() + 1 : nl + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == ':') continue;
        auto colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "id")
          id = value;
        else if (field == "event")
          event = value;
        else if (field == "data")
          data += (data.empty() ? "" : "\n") + value;
      }
      if (data.empty()) continue;
      if (!handle_event(c, id, event, data, resuming)) return false;
    }
    return true;
  }

  bool handle_event(ChainControl& c, const std::string& id, const std::string& event, const std::string& data,
                    bool resuming) {
    auto now = Clock::now();
    json::value v;
    try {
      v = json::parse(data);
    } catch (...) {
      c.chain.note_problem("unparsable data: " + data.substr(0, 80));
      ++c.chain.out_of_order;
      return false;
    }
    if (!v.is_object()) return true;
    auto& o = v.as_object();
    if (event == "connected") {
      auto* last = o.if_contains("lastEventId");
      auto parsed = last && last->is_string() ? split_id(last->as_string()) : std::nullopt;
      if (!parsed) {
        c.chain.note_problem("connected frame without a usable lastEventId");
        return false;
      }
      if (!check_epoch(c, parsed->first)) return false;
      if (auto* cid = o.if_contains("connectionId"); cid && cid->is_string())
        c.connection_id = cid->as_string();
      if (auto* tok = o.if_contains("token"); tok && tok->is_string()) c.token = tok->as_string();
      auto* resync = o.if_contains("resync");
      ledger_.connected(c.chain, parsed->second, resync && resync->is_bool() && resync->as_bool(), resuming,
                        now);
      return true;
    }
    if (id.empty()) return true;  // a stream query's first message (no id, not part of the history)
    auto parsed = split_id(id);
    if (!parsed || !check_epoch(c, parsed->first)) return false;
    ++received_;
    auto* channel = o.if_contains("channel");
    std::string ch = channel && channel->is_string() ? std::string(channel->as_string()) : "";
    auto user = scope_user(o);
    auto* payload = o.if_contains("data");
    if (ch == "notifications.stream" && payload && payload->is_object()) {
      auto* text = payload->as_object().if_contains("text");
      int publisher = -1;
      unsigned long long number = 0;
      if (text && text->is_string() &&
          std::sscanf(text->as_string().c_str(), "s|%d|%llu|", &publisher, &number) == 2) {
        ledger_.notification(c.chain, parsed->second, publisher, number, user, now);
      } else {
        c.chain.note_problem("notification without a soak payload at " + id);
        ++c.chain.out_of_order;
      }
    } else if (ch == "revalidation") {
      bool all = false, presence = false;
      if (payload && payload->is_object())
        if (auto* keys = payload->as_object().if_contains("queryKeys"); keys && keys->is_array()) {
          auto& a = keys->as_array();
          all = a.size() == 1 && a[0].is_string() && a[0].as_string().empty();
          // The demo's own: its online list changed (presence, docs/presence.md); no soak client caused it.
          presence = a.size() == 1 && a[0].is_string() && a[0].as_string() == "presence.online";
        }
      if (!presence) ledger_.revalidation(c.chain, parsed->second, user, all, now);
    } else {
      c.chain.note_problem("event " + id + " on channel '" + ch + "' nobody publishes to");
      ++c.chain.out_of_order;
    }
    return true;
  }

  bool check_epoch(ChainControl& c, const std::string& epoch) {
    if (epoch_.empty()) epoch_ = epoch;
    if (epoch == epoch_) return true;
    c.chain.note_problem("epoch changed from " + epoch_ + " to " + epoch);
    ++c.chain.out_of_order;
    return false;
  }

  /// Live changes on a `live` chain: toggles notifications.stream and junk channels on its open stream.
  awaitable<void> live_changer(ChainControl& c) {
    Api api{port_};
    while (load_active_ && !dead_) {
      co_await sleep_for(secs(uniform(1, 4)));
      if (!load_active_ || c.finish || !c.sock || !c.chain.positioned || c.connection_id.empty()) continue;
      c.changing = true;
      bool has_notes =
          std::find(c.channels.begin(), c.channels.end(), "notifications.stream") != c.channels.end();
      bool toggle_notes = pick(2) == 0;
      std::string junk = "soak.junk." + std::to_string(c.chain.index) + "." + std::to_string(pick(10));
      bool has_junk = c.junk.count(junk) > 0;
      json::array subscribe, unsubscribe;
      (has_junk ? unsubscribe : subscribe).push_back(json::value(junk));
      if (toggle_notes) (has_notes ? unsubscribe : subscribe).push_back(json::value("notifications.stream"));
      json::object body{{"connectionId", c.connection_id},
                        {"token", c.token},
                        {"subscribe", subscribe},
                        {"unsubscribe", unsubscribe}};
      auto sent = Clock::now();
      Interval* closing = nullptr;
      if (toggle_notes && has_notes)
        for (auto& i : c.chain.notes)
          if (!i.until) {
            i.until = sent;
            closing = &i;
          }
      auto answer = co_await api.call(http_request("POST", "/api/v1/sse/events/subscriptions",
                                                   users_token(c.chain.user), json::serialize(body)));
      auto answered = Clock::now();
      ++live_changes_;
      if (answer && answer->status == 200) {
        if (has_junk)
          c.junk.erase(junk);
        else
          c.junk.insert(junk);
        if (toggle_notes && !has_notes) {
          c.chain.notes.push_back(Interval{.from_id = false, .from_time = answered});
          c.channels.push_back("notifications.stream");
        } else if (toggle_notes) {
          c.channels.erase(std::remove(c.channels.begin(), c.channels.end(), "notifications.stream"),
                           c.channels.end());
        }
        // the junk channels follow the stream when it reconnects
        c.channels.erase(std::remove_if(c.channels.begin(), c.channels.end(),
                                        [](const std::string& s) { return s.starts_with("soak.junk."); }),
                         c.channels.end());
        for (auto& j : c.junk) c.channels.push_back(j);
      } else {
        if (closing) closing->until.reset();
        ++live_change_failures_;
      }
      c.changing = false;
    }
  }

  std::string users_token(std::int64_t user_id) const {
    for (auto& u : users_)
      if (u.id == user_id) return u.token;
    return {};
  }

  awaitable<void> ephemeral_spawner() {
    while (load_active_ && !dead_) {
      co_await sleep_for(secs(1 / o_.ephemeral_per_second));
      if (load_active_) add_chain(Chain::Role::ephemeral, pick(o_.users));
    }
  }

  // ---- publishers ----

  /// Publishes notifications paced at `rate` per second (0: as fast as answered, until the ledger holds
  /// `until` events). Each carries `s|<publisher>|<number>|` and half of them target one user.
  /// With `to_user` (the feeder): every event targets that user and its text is 500 characters of U+0001,
  /// which JSON escapes to six bytes each: ~3 KB frames, so a stalled slow reader's backlog grows fast enough
  /// to fill the kernel's socket buffers and the server's bound within a stall (docs/soak.md).
  awaitable<void> publisher(int index, double rate, std::uint64_t until, int to_user = -1) {
    Api api{port_};
    auto next = Clock::now();
    auto& number = publisher_numbers_[index];
    while (!dead_ && publish_failures_ < 1000 && (until ? ledger_.published_count() < until : load_active_)) {
      if (rate > 0) {
        next += secs(1 / rate);
        auto now = Clock::now();
        if (next > now)
          co_await sleep_for(next - now);
        else if (now - next > 1s)
          next = now;
        if (!load_active_) break;
      }
      ++number;
      std::string text = "s|" + std::to_string(index) + "|" + std::to_string(number) + "|";
      int text_bytes = to_user >= 0 ? 500 : o_.text_bytes;
      if (static_cast<int>(text.size()) < text_bytes)
        text.append(static_cast<std::size_t>(text_bytes) - text.size(), to_user >= 0 ? '\x01' : 'x');
      std::int64_t to = -1;
      json::object body{{"text", text}};
      if (to_user >= 0) {
        auto& u = users_[static_cast<std::size_t>(to_user)];
        body["to"] = u.name;
        to = u.id;
      } else if (number % 2 == 0) {
        auto& u = users_[static_cast<std::size_t>(pick(o_.users))];
        body["to"] = u.name;
        to = u.id;
      }
      auto sent = Clock::now();
      auto answer = co_await api.call(
          http_request("POST", "/api/v1/notifications", publishers_users_[0].token, json::serialize(body)));
      std::optional<std::uint64_t> seq;
      if (answer && answer->status == 201) {
        try {
          auto id = json::parse(answer->body).at("data").at("eventId").as_string();
          if (auto parsed = split_id(id)) seq = parsed->second;
        } catch (...) {
        }
      }
      if (seq) {
        ledger_.published(Note{.seq = *seq,
                               .publisher = index,
                               .number = number,
                               .to = to,
                               .sent = sent,
                               .answered = Clock::now()});
      } else {
        ledger_.publish_failed(index, number);
        ++publish_failures_;
        if (publish_failure_examples_.size() < 5)
          publish_failure_examples_.push_back(answer ? std::to_string(answer->status) + " " +
                                                           answer->body.substr(0, 120)
                                                     : std::string("no answer"));
      }
    }
  }

  /// Creates and deletes a post (two revalidations to everyone) and renames a user (one to that user, one
  /// to everyone: the list shows authors' names).
  awaitable<void> mutator() {
    Api api{port_};
    std::uint64_t round = 0;
    while (load_active_ && !dead_) {
      co_await sleep_for(secs(1 / o_.mutations));
      if (!load_active_) break;
      ++round;
      auto& author = users_[0];
      auto created = co_await api.call(
          http_request("POST", "/api/v1/posts", author.token,
                       R"({"title":"soak )" + std::to_string(round) + R"(","content":"x"})"));
      count_mutation(created, 201, {-1});
      if (created && created->status == 201) {
        try {
          auto id = json::parse(created->body).at("data").at("id").as_int64();
          auto removed =
              co_await api.call(http_request("DELETE", "/api/v1/posts/" + std::to_string(id), author.token));
          count_mutation(removed, 200, {-1});
        } catch (...) {
        }
      }
      auto& u = users_[static_cast<std::size_t>(pick(o_.users))];
      auto renamed =
          co_await api.call(http_request("PATCH", "/api/v1/users/profile", u.token,
                                         R"({"name":"soak user )" + std::to_string(round) + "\"}"));
      count_mutation(renamed, 200, {u.id, -1});  // the profile, and the list (it shows names)
    }
  }

  /// Counts a mutation answered `a` that revalidates once for each of `users` (-1: everyone) when it
  /// succeeds.
  void count_mutation(const std::optional<Answer>& a, int ok_status,
                      std::initializer_list<std::int64_t> users) {
    ++mutations_;
    if (a && a->status == ok_status) {
      for (auto user : users) ledger_.revalidation_due(user);
    } else if (!a || a->status >= 500) {
      for (auto user : users) ledger_.revalidation_uncertain(user);
      ++mutation_failures_;
    } else {
      ++mutation_failures_;  // refused (4xx): nothing was published
    }
  }

  // ---- malformed requests ----

  struct Case {
    const char* name;
    std::string bytes;
    bool sse = false;           // a 200 is a stream: read its first frame and leave
    bool expect_answer = true;  // false: we hang up before the request is complete
  };

  Case make_case() {
    static const char* kPath = "/api/v1/auth/login";
    auto login_head = [](std::string_view extra) {
      return "POST " + std::string(kPath) +
             " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + std::string(extra);
    };
    switch (pick(24)) {
      case 0: {
        std::string g;
        int n = 1 + pick(4096);
        for (int i = 0; i < n; ++i) g.push_back(static_cast<char>(pick(256)));
        return {"garbage head", g + "\r\n\r\n"};
      }
      case 1:
        return {"100 KiB header", "GET /api/v1/posts/1 HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                      std::string(100'000, 'a') + "\r\n\r\n"};
      case 2: {
        std::string h = "GET /api/v1/posts/1 HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 2000; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
        return {"2000 headers", h + "\r\n"};
      }
      case 3:
        return {"100 KiB target", "GET /" + std::string(100'000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"};
      case 4:
        return {"Content-Length 1 GB (head only)", login_head("Content-Length: 1000000000\r\n\r\n")};
      case 5:
        return {"2 MiB body", login_head("Content-Length: 2097152\r\n\r\n") + std::string(2097152, 'a')};
      case 6:
        return {"bad JSON", login_head("Content-Length: 13\r\n\r\n") + "{\"username\": "};
      case 7: {
        std::string b = R"({"title":5})";
        return {"wrong JSON types",
                "POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + users_[0].token +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(b.size()) +
                    "\r\n\r\n" + b};
      }
      case 8: {
        std::string b(100'000, '[');
        return {"100 000-deep JSON", login_head("Content-Length: 100000\r\n\r\n") + b};
      }
      case 9: {
        std::string b = "{\"username\":\"\xff\xfe\xc0\xaf\"}";
        return {"invalid UTF-8 JSON",
                login_head("Content-Length: " + std::to_string(b.size()) + "\r\n\r\n") + b};
      }
      case 10:
        return {"bad chunk size",
                login_head("Transfer-Encoding: chunked\r\n\r\n") + "zz\r\nabc\r\n0\r\n\r\n"};
      case 11: {
        std::string ext;
        for (int i = 0; i < 4096; ++i) ext += ";a=b";
        return {"16 KiB chunk extension",
                login_head("Transfer-Encoding: chunked\r\n\r\n") + "5" + ext + "\r\nhello\r\n0\r\n\r\n"};
      }
      case 12:
        return {"chunk size overflow", login_head("Transfer-Encoding: chunked\r\n\r\n") +
                                           "ffffffffffffffffffffff\r\nx\r\n0\r\n\r\n"};
      case 13:
        return {"chunked body cut short", login_head("Transfer-Encoding: chunked\r\n\r\n") + "40\r\nabc",
                false, false};
      case 14:
        return {"Content-Length and chunked",
                login_head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") + "0\r\n\r\n"};
      case 15:
        return {"unknown method", "BREW /api/v1/posts HTTP/1.1\r\nHost: x\r\n\r\n"};
      case 16:
        return {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"};
      case 17:
        return {"HTTP/9.9", "GET /api/v1/posts/1 HTTP/9.9\r\nHost: x\r\n\r\n"};
      case 18:
        return {"invalid channel names",
                "GET /api/v1/sse/events?channels=a%20b,%00x,," + std::string(300, 'c') +
                    ",%E2%80%AE HTTP/1.1\r\nHost: x\r\n\r\n",
                true};
      case 19:
        return {"unknown channel, garbage Last-Event-ID",
                "GET /api/v1/sse/events?channels=soak.nope." + std::to_string(pick(1000)) +
                    " HTTP/1.1\r\nHost: x\r\nLast-Event-ID: zz-\xff-99999999999999999999999\r\n\r\n",
                true};
      case 20: {
        std::string b = R"({"connectionId":"1","token":"wrong","subscribe":["x"]})";
        return {"subscription change, wrong token",
                "POST /api/v1/sse/events/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                "application/json\r\nContent-Length: " +
                    std::to_string(b.size()) + "\r\n\r\n" + b};
      }
      case 21: {
        std::string b = R"({"connectionId":"99999999","token":"x","subscribe":)";
        return {"subscription change, bad JSON",
                "POST /api/v1/sse/events/subscriptions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                "application/json\r\nContent-Length: " +
                    std::to_string(b.size()) + "\r\n\r\n" + b};
      }
      case 22:
        return {"head cut short", "GET /api/v1/posts/1 HTTP/1.1\r\nHost: x\r\nX-A: ", false, false};
      default:
        return {"pipelined then garbage",
                "GET /api/v1/posts/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/posts/1 HTTP/1.1\r\nHost: "
                "x\r\n\r\n\x01\x02 junk\r\n\r\n"};
    }
  }

  awaitable<void> hostile_worker() {
    while (load_active_ && !dead_) {
      co_await sleep_for(secs(uniform(0.1, 0.5)));
      if (!load_active_) break;
      Case k = make_case();
      std::string outcome = co_await run_case(k);
      ++hostile_.total;
      ++hostile_.outcomes[k.name][outcome];
      if (outcome == "no answer in 10 s" || outcome == "500") {
        ++hostile_.anomalies;
        if (hostile_.anomaly_examples.size() < 10)
          hostile_.anomaly_examples.push_back(std::string(k.name) + ": " + outcome);
      }
    }
  }

  awaitable<std::string> run_case(const Case& k) {
    Conn conn;
    if (!co_await connect(conn, port_)) co_return "connect failed";
    Deadline deadline(conn.sock, 10s);
    bool written = co_await write_all(conn, k.bytes);
    if (!k.expect_answer) {
      conn.close();
      co_return "hung up";
    }
    auto answer = co_await read_answer(conn, k.sse);
    if (deadline.fired()) co_return "no answer in 10 s";
    if (!answer) co_return written ? "closed" : "closed while sending";
    if (k.sse && answer->status == 200) {
      // A stream: wait for its connected frame, then leave.
      while (conn.buf.find("\n\n") == std::string::npos)
        if (!co_await read_more(conn)) break;
      if (deadline.fired()) co_return "200, no frame in 10 s";
    }
    co_return std::to_string(answer->status);
  }

  // ---- reports ----

  struct Metrics {
    long http = -1, sse = -1, published = -1, slow = -1, resyncs = -1, dropped = -1;
  };

  /// One GET /metrics on a fresh connection (the only scraper: concurrent scrapes are issue 11 item 1).
  awaitable<Metrics> scrape() {
    Api api{port_};
    Metrics m;
    auto answer = co_await api.call(http_request("GET", "/metrics"), 15s);
    api.conn.close();
    if (!answer || answer->status != 200) co_return m;
    std::istringstream in(answer->body);
    std::string line;
    while (std::getline(in, line)) {
      auto read = [&](const char* name, long& out) {
        auto n = std::strlen(name);
        if (line.compare(0, n, name) == 0 && line.size() > n && line[n] == ' ')
          out = std::atol(line.c_str() + n + 1);
      };
      read("igniter_http_connections", m.http);
      read("igniter_sse_connections", m.sse);
      read("igniter_events_published_total", m.published);
      read("igniter_slow_client_disconnects_total", m.slow);
      read("igniter_resyncs_total", m.resyncs);
      read("igniter_events_dropped_total", m.dropped);
    }
    co_return m;
  }

  awaitable<void> report(const char* phase) {
    auto m = co_await scrape();
    if (m.slow >= 0) server_cuts_ = m.slow;
    auto f = ledger_.check(chain_views(), false);
    double run_minutes = std::chrono::duration<double>(Clock::now() - run_start_).count() / 60;
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start_).count();
    std::uint64_t resumes = 0;
    for (auto& c : chains_) resumes += c->chain.resumes;
    char line[512];
    std::snprintf(line, sizeof line,
                  "[%s %s %3lld:%02lld] rss %s  fds %d  conns %ld (sse %ld)  published %" PRIu64
                  " (failed %" PRIu64 ")  received %" PRIu64 "  lost %" PRIu64 "  dup %" PRIu64
                  " order %" PRIu64 " leak %" PRIu64 "  resumes %" PRIu64 "  cuts %" PRIu64
                  " (server %ld, %.2f/min)  resyncs %" PRIu64 "  live %" PRIu64 "  hostile %" PRIu64
                  " (bad %" PRIu64 ")",
                  o_.store.c_str(), phase, static_cast<long long>(elapsed / 60),
                  static_cast<long long>(elapsed % 60), mib(rss_bytes(server_.pid())).c_str(),
                  open_fds(server_.pid()), m.http, m.sse, ledger_.published_count(), publish_failures_,
                  received_, f.lost, f.duplicates, f.out_of_order, f.scope_leaks, resumes, slow_cuts_, m.slow,
                  run_minutes > 0 ? static_cast<double>(std::max(0L, m.slow)) / run_minutes : 0.0, f.resyncs,
                  live_changes_, hostile_.total, hostile_.anomalies);
    std::cout << line << "\n" << std::flush;
  }

  void print_findings(const char* phase, const Findings& f) {
    std::uint64_t connects = 0, resumes = 0, unexpected = 0;
    for (auto& c : chains_) {
      connects += c->chain.connects;
      resumes += c->chain.resumes;
      unexpected += c->unexpected_closes;
    }
    std::cout << "soak: " << phase << " checked " << chains_.size() << " subscribers (" << connects
              << " streams, " << resumes << " resumes, " << slow_cuts_ << " slow-reader cuts so far, "
              << unexpected << " streams closed by the server otherwise, " << stream_refusals_
              << " stream requests refused)\n"
              << "soak: " << phase << " lost " << f.lost << ", revalidations nobody got "
              << f.unreceived_revals << ", duplicates " << f.duplicates << ", out of order/bad "
              << f.out_of_order << ", scope leaks " << f.scope_leaks << ", unknown " << f.unknown
              << ", payload/id mismatches " << f.mismatched << ", resyncs " << f.resyncs << " (justified "
              << f.resyncs_justified << "), delivered after a failed publish " << f.after_failed_publish
              << (f.failures() ? "  <-- FAIL" : "  ok") << "\n"
              << "soak: " << phase << " publishes failed " << publish_failures_ << ", mutations "
              << mutations_ << " (failed " << mutation_failures_ << "), live changes " << live_changes_
              << " (failed " << live_change_failures_ << ")\n";
    for (auto& e : publish_failure_examples_) std::cout << "    publish failure: " << e << "\n";
    for (auto& e : f.examples) std::cout << "    " << e << "\n";
    std::cout << std::flush;
  }

  Options o_;
  Ledger ledger_;
  std::mt19937_64 rng_;
  asio::io_context io_;
  Child server_, redis_;
  std::string dir_, log_, epoch_;
  std::uint16_t port_ = 0, redis_port_ = 0;
  std::vector<User> users_, publishers_users_;
  std::vector<std::unique_ptr<ChainControl>> chains_, retired_;
  std::map<int, std::uint64_t> publisher_numbers_;
  int next_chain_ = 0, producers_ = 0, exit_code_ = 0;
  bool load_active_ = false, draining_ = false, dead_ = false, stopped_ = false;
  std::uint64_t fill_target_ = 0, received_ = 0, publish_failures_ = 0, mutations_ = 0,
                mutation_failures_ = 0;
  std::uint64_t live_changes_ = 0, live_change_failures_ = 0, slow_cuts_ = 0, unexpected_closes_ = 0,
                stream_refusals_ = 0;
  std::vector<std::string> publish_failure_examples_;
  std::uint64_t baseline_rss_ = 0;
  int baseline_fds_ = 0;
  Clock::time_point start_ = Clock::now(), run_start_ = Clock::now();
  long server_cuts_ = -1;  // igniter_slow_client_disconnects_total at the last scrape
  HostileTally hostile_;
};

}  // namespace
}  // namespace soak

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  soak::Soak run(soak::parse(argc, argv));
  return run.run();
}

// The ThreadSanitizer hammer: starts a server built with -fsanitize=thread (the README example or the
// demo) on a free port, drives it from several threads at once with queries, mutations that revalidate,
// publishes, streams that open, change their channels and close, metrics scrapes and logouts that
// revoke streams, then stops it with SIGTERM. It fails when the server reported a race (TSan's
// halt_on_error makes it exit 66, and its report is printed), did not stop cleanly, or answered 5xx.
//
//   tsan_hammer --server <binary> --app readme|demo [--store memory|redis] [--seconds 15] [--threads 6]
//               [--suppressions <file>] [--client-example <examples/client binary>]
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/redis_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace {

using namespace std::chrono_literals;
using igniter::test::Connection;
using igniter::test::HttpResult;
using igniter::test::SseClient;
using igniter::test::SseOptions;
using Clock = std::chrono::steady_clock;

constexpr int kSkipped = 77;  // ctest SKIP_RETURN_CODE: redis-server is not installed

struct Settings {
  std::string server;
  std::string app = "readme";
  std::string store = "memory";
  std::string suppressions;
  std::string client_example;  // examples/client, run against the demo (under TSan too) during the load
  int seconds = 15;
  int threads = 6;
};

// What the load did, per operation: answers by status, and failures (no answer, or 5xx).
class Tally {
 public:
  void count(const std::string& op, unsigned status) {
    std::lock_guard lock(mutex_);
    ++counts_[op + " " + std::to_string(status)];
    if ((status == 0 || status >= 500) && !stopping_) ++failures_;
  }
  void fail(const std::string& op, const std::string& why) {
    std::lock_guard lock(mutex_);
    ++counts_[op + " failed"];
    if (!stopping_ && ++failures_ <= 10) std::cerr << "hammer: " << op << ": " << why << "\n";
  }
  // The server is being stopped: refusals and closed connections from now on are expected.
  void stopping() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  int failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  bool saw(const std::string& op_status) {
    std::lock_guard lock(mutex_);
    return counts_.count(op_status) > 0;
  }
  void print() {
    std::lock_guard lock(mutex_);
    for (const auto& [what, n] : counts_) std::cout << "  " << what << ": " << n << "\n";
  }

 private:
  std::mutex mutex_;
  std::map<std::string, long> counts_;
  int failures_ = 0;
  bool stopping_ = false;
};

std::string tsan_options(const Settings& settings) {
  std::string options = "halt_on_error=1 exitcode=66 second_deadlock_stack=1";
  if (!settings.suppressions.empty()) options += " suppressions=" + settings.suppressions;
  return options;
}

// The server under test: a child process with its stderr in a file, killed if the hammer dies.
class Server {
 public:
  Server(const Settings& settings, std::filesystem::path dir, std::string store_url)
      : settings_(settings), dir_(std::move(dir)), store_url_(std::move(store_url)) {}
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts on a free port; retries with another one if the port was taken meanwhile.
  bool start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = igniter::store::testing::RedisServer::free_port();
      spawn();
      if (wait_until_listening()) return true;
      if (pid_ > 0) return false;  // still running but not listening: no point in retrying
    }
    return false;
  }

  // SIGTERM, then waits (the server drains and closes its streams); the exit status, or -1 on timeout.
  int stop(std::chrono::seconds timeout) {
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1;
  }

  // True while the child runs (a TSan report with halt_on_error ends it at once).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = 0;
    return false;
  }
  int exit_status() const { return exit_status_; }

  std::uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ / "server.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  void spawn() {
    std::string port = std::to_string(port_);
    std::string data = (dir_ / "data").string();
    std::string log = (dir_ / "server.log").string();
    std::string tsan = tsan_options(settings_);
    // The child's environment is built here, before fork(): between fork() and exec the child of a
    // threaded process may only make async-signal-safe calls (setenv allocates; an allocator lock held by
    // another thread at the fork would never be released in the child).
    std::vector<std::string> env_text = {"PORT=" + port, "HOST=127.0.0.1", "DATA_DIR=" + data,
                                         "IGNITER_STORE=" + store_url_, "TSAN_OPTIONS=" + tsan};
    for (char** e = environ; *e; ++e) {
      std::string_view entry(*e);
      auto name = entry.substr(0, entry.find('=') + 1);
      if (name != "PORT=" && name != "HOST=" && name != "DATA_DIR=" && name != "IGNITER_STORE=" &&
          name != "TSAN_OPTIONS=")
        env_text.emplace_back(entry);
    }
    std::vector<char*> envp;
    for (auto& entry : env_text) envp.push_back(entry.data());
    envp.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {  // the child: async-signal-safe calls only, then exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(out, 2);
      ::execle(settings_.server.c_str(), settings_.server.c_str(), static_cast<char*>(nullptr), envp.data());
      ::_exit(127);
    }
  }

  // Under TSan start-up is slow: up to 60 s for the port to answer.
  bool wait_until_listening() {
    auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline) {
      if (!running()) return false;
      try {
        Connection probe(port_, 5s);
        return true;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(50ms);
      }
    }
    return false;
  }

  const Settings& settings_;
  std::filesystem::path dir_;
  std::string store_url_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
  int exit_status_ = -1;
};

std::string quoted(const std::string& text) {
  return boost::json::serialize(boost::json::value(text));
}

// One thread of requests on a keep-alive connection (reopened when the server closes it).
class Caller {
 public:
  Caller(std::uint16_t port, Tally& tally) : port_(port), tally_(tally) {}

  std::optional<HttpResult> call(const std::string& op, std::string_view method, std::string_view target,
                                 std::string_view body = {},
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!connection_) connection_ = std::make_unique<Connection>(port_, 30s);
        auto result = connection_->request(method, target, body, headers);
        if (!result.keep_alive) connection_.reset();
        tally_.count(op, result.status);
        return result;
      } catch (const std::exception& error) {
        connection_.reset();  // a keep-alive connection the server closed meanwhile: once more, afresh
        if (attempt == 1) tally_.fail(op, error.what());
      }
    }
    return std::nullopt;
  }

 private:
  std::uint16_t port_;
  Tally& tally_;
  std::unique_ptr<Connection> connection_;
};

// A stream: opens, reads its `connected` frame, changes its channels live, reads for a while, and
// closes (or leaves the server to close it, after a logout).
void stream_once(std::uint16_t port, Tally& tally, Caller& caller, std::mt19937& random,
                 const std::string& channels, const std::string& toggle, const std::string& cookie,
                 const std::function<void()>& midway = {}) {
  SseOptions options{.timeout = 30s};
  if (!cookie.empty()) options.headers.push_back({"Cookie", cookie});
  try {
    SseClient stream(port, "/api/v1/sse/events?channels=" + channels, options);
    auto status = stream.read_head();
    tally.count("stream open", status);
    if (status != 200) return;
    auto connected = stream.next_of("connected");
    if (!connected) return tally.fail("stream open", "no connected frame");
    auto data = connected->json().as_object();
    auto id = quoted(std::string(data.at("connectionId").as_string()));
    auto token = quoted(std::string(data.at("token").as_string()));
    std::uniform_int_distribution<int> reads(0, 8);
    for (int round = 0, n = reads(random); round < n; ++round) {
      if (random() % 3 == 0) {
        bool add = random() % 2 == 0;
        auto body = "{\"connectionId\":" + id + ",\"token\":" + token + ",\"" +
                    (add ? "subscribe" : "unsubscribe") + "\":[\"" + toggle + "\"]}";
        std::vector<std::pair<std::string, std::string>> headers;
        if (!cookie.empty()) headers.push_back({"Cookie", cookie});
        caller.call("subscription change", "POST", "/api/v1/sse/events/subscriptions", body, headers);
      }
      if (round == 1 && midway) midway();
      if (auto frame = stream.next_event(20ms))
        tally.count("stream event " + frame->event, 200);
      else if (stream.closed_by_server())
        return tally.count("stream closed by server", 200);
    }
    // Now and then read what came meanwhile; else close with it unread (the server sees a reset).
    if (random() % 4 == 0) stream.drain(5ms);
    if (random() % 4 == 0 && !stream.last_event_id().empty()) {  // resume: the server replays what followed
      stream.reconnect();
      auto resumed = stream.read_head();
      tally.count("stream resume", resumed);
      if (resumed == 200 && !stream.next_of("connected")) tally.fail("stream resume", "no connected frame");
    }
  } catch (const std::exception& error) {
    tally.fail("stream", error.what());
  }
}

// ---- The README example: GET /posts, POST /posts (revalidates posts.list), streams on revalidation ----

void hammer_readme(std::uint16_t port, int thread, Tally& tally, const std::atomic<bool>& done) {
  std::mt19937 random(thread);
  Caller caller(port, tally);
  for (int i = 0; !done; ++i) {
    switch (random() % 10) {
      case 0:
      case 1:
      case 2:
        caller.call("list", "GET", "/api/v1/posts");
        break;
      case 3:
      case 4:
        caller.call("create", "POST", "/api/v1/posts",
                    "{\"title\":\"post " + std::to_string(thread) + "-" + std::to_string(i) +
                        "\",\"content\":\"hammered\"}");
        break;
      case 5:
        caller.call("create invalid", "POST", "/api/v1/posts", "{\"title\":\"\",\"content\":\"\"}");
        break;
      case 6:
        caller.call("schema", "GET", "/__igniter/schema");
        break;
      case 7:
        caller.call("metrics", "GET", "/metrics");
        break;
      default:
        stream_once(port, tally, caller, random, "revalidation", "revalidation", "");
    }
  }
}

// ---- The demo: logins, posts, profiles (scoped revalidation), notifications (publish), logouts ----

void hammer_demo(std::uint16_t port, int thread, Tally& tally, const std::atomic<bool>& done) {
  std::mt19937 random(thread);
  Caller caller(port, tally);
  std::string me = "hammer" + std::to_string(thread);
  std::string cookie;
  auto login = [&] {
    auto answer = caller.call("login", "POST", "/api/v1/auth/login", "{\"username\":\"" + me + "\"}");
    if (!answer || answer->status != 200) return;
    auto set = answer->header("set-cookie");
    cookie = set.substr(0, set.find(';'));
  };
  login();
  std::vector<std::int64_t> mine;
  for (int i = 0; !done; ++i) {
    std::vector<std::pair<std::string, std::string>> auth = {{"Cookie", cookie}};
    switch (random() % 16) {
      case 0:
      case 1:
        caller.call("posts.list", "GET", "/api/v1/posts?limit=5");
        break;
      case 2:
        if (auto answer =
                caller.call("posts.create", "POST", "/api/v1/posts",
                            "{\"title\":\"post " + std::to_string(i) + "\",\"content\":\"x\"}", auth);
            answer && answer->status == 201)
          mine.push_back(answer->json().at("data").at("id").as_int64());
        break;
      case 3:
        if (!mine.empty()) {
          caller.call("posts.getById", "GET", "/api/v1/posts/" + std::to_string(mine.back()));
          caller.call("posts.remove", "DELETE", "/api/v1/posts/" + std::to_string(mine.back()), {}, auth);
          mine.pop_back();
        }
        break;
      case 4:
        caller.call("users.getProfile", "GET", "/api/v1/users/profile", {}, auth);
        break;
      case 5:
        caller.call("users.updateProfile", "PATCH", "/api/v1/users/profile",
                    "{\"name\":\"Hammer " + std::to_string(i) + "\"}", auth);
        break;
      case 6:
        caller.call("notifications.send", "POST", "/api/v1/notifications", "{\"text\":\"to all\"}", auth);
        break;
      case 7:
        caller.call("notifications.send to", "POST", "/api/v1/notifications",
                    "{\"text\":\"to one\",\"to\":\"hammer" + std::to_string(random() % 4) + "\"}", auth);
        break;
      case 8:
        caller.call("metrics", "GET", "/metrics");
        break;
      case 9:
        // A logout while this session's stream is open: the revocation closes it on its shard.
        stream_once(port, tally, caller, random, "revalidation,notifications.stream", "notifications.stream",
                    cookie, [&] {
                      caller.call("logout", "POST", "/api/v1/auth/logout", {}, auth);
                      login();
                    });
        break;
      default:
        stream_once(port, tally, caller, random,
                    random() % 2 ? "revalidation,notifications.stream" : "revalidation",
                    "notifications.stream", random() % 5 ? cookie : "");
    }
  }
}

int run(const Settings& settings) {
  std::optional<igniter::store::testing::RedisServer> redis;
  std::string store_url = "memory";
  if (settings.store == "redis") {
    if (!igniter::store::testing::RedisServer::installed()) {
      std::cout << "SKIPPED: " << igniter::store::testing::kRedisServerPath << " is not installed\n";
      return kSkipped;
    }
    redis.emplace();
    if (!redis->start()) {
      std::cerr << "hammer: redis-server did not start\n";
      return 1;
    }
    store_url = redis->url();
  }

  auto dir = std::filesystem::temp_directory_path() /
             ("igniter-tsan-" + settings.app + "-" + settings.store + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Server server(settings, dir, store_url);
  auto cleanup = [&] { std::filesystem::remove_all(dir); };
  auto started = Clock::now();
  if (!server.start()) {
    std::cerr << "hammer: " << settings.server << " did not start listening (exit status "
              << server.exit_status() << ")\n"
              << server.log();
    cleanup();
    return 1;
  }
  std::cout << settings.app << " (" << settings.store << ") listening on " << server.port() << " after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
            << " ms; hammering for " << settings.seconds << " s with " << settings.threads << " threads"
            << std::endl;

  Tally tally;
  std::atomic<bool> done = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < settings.threads; ++t)
    threads.emplace_back([&, t] {
      if (settings.app == "demo")
        hammer_demo(server.port(), t, tally, done);
      else
        hammer_readme(server.port(), t, tally, done);
    });
  // examples/client (a Client and a Subscription thread in one process) against the demo, meanwhile.
  int client_status = 0;
  if (!settings.client_example.empty()) {
    std::string command = "TSAN_OPTIONS='" + tsan_options(settings) + "' " + settings.client_example +
                          " http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1 3 > " +
                          (dir / "client.log").string() + " 2>&1";
    int status = std::system(command.c_str());
    client_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (client_status != 0) {
      std::ifstream in(dir / "client.log");
      std::cerr << "hammer: examples/client exited with status " << client_status << ":\n"
                << in.rdbuf() << "\n";
    }
  }
  // The load ends when its time is up, or at once when the server is gone (a TSan report ends it).
  auto end = Clock::now() + std::chrono::seconds(settings.seconds);
  while (Clock::now() < end && server.running()) std::this_thread::sleep_for(100ms);

  // The server stops under load, with streams open: in-flight requests finish, the streams close.
  std::vector<std::unique_ptr<SseClient>> open;
  if (server.running())
    for (int i = 0; i < 3; ++i) {
      open.push_back(std::make_unique<SseClient>(server.port(), "/api/v1/sse/events?channels=revalidation",
                                                 SseOptions{.timeout = 30s}));
      open.back()->next_of("connected");
    }
  tally.stopping();
  int status = server.running() ? server.stop(60s) : server.exit_status();
  done = true;
  for (auto& t : threads) t.join();
  auto log = server.log();
  std::cout << "answers:\n";
  tally.print();

  int result = 0;
  if (log.find("ThreadSanitizer") != std::string::npos || status == 66) {
    std::cerr << "hammer: ThreadSanitizer reported a problem in " << settings.server << ":\n";
    auto first = log.find("==================");
    std::cerr << log.substr(first == std::string::npos ? 0 : first) << "\n";
    result = 1;
  } else if (status != 0) {
    std::cerr << "hammer: the server exited with status " << status
              << (status == -1 ? " (did not stop within 60 s of SIGTERM)" : "") << "; its last output:\n"
              << log.substr(log.size() > 4000 ? log.size() - 4000 : 0) << "\n";
    result = 1;
  } else if (client_status != 0) {
    result = 1;
  } else if (tally.failures() > 0) {
    std::cerr << "hammer: " << tally.failures() << " requests failed or answered 5xx (see above)\n";
    result = 1;
  } else if (!tally.saw("stream event revalidate 200") ||
             !tally.saw(settings.app == "demo" ? "posts.create 201" : "create 201")) {
    std::cerr << "hammer: the load did not reach the server (no creation, or no revalidation delivered)\n";
    result = 1;
  }
  for (auto& stream : open)
    if (!stream->wait_closed(5s)) {
      std::cerr << "hammer: a stream open at shutdown was not closed by the server\n";
      result = 1;
    }
  std::cout << (result ? "FAILED" : "clean: no ThreadSanitizer report, clean shutdown") << std::endl;
  cleanup();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--server")
      settings.server = value;
    else if (flag == "--app")
      settings.app = value;
    else if (flag == "--store")
      settings.store = value;
    else if (flag == "--seconds")
      settings.seconds = std::stoi(value);
    else if (flag == "--threads")
      settings.threads = std::stoi(value);
    else if (flag == "--suppressions")
      settings.suppressions = value;
    else if (flag == "--client-example")
      settings.client_example = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (settings.server.empty() || (settings.app != "readme" && settings.app != "demo") ||
      (settings.store != "memory" && settings.store != "redis")) {
    std::cerr << "usage: tsan_hammer --server <binary> --app readme|demo [--store memory|redis] "
                 "[--seconds 15] [--threads 6] [--suppressions <file>] [--client-example <binary>]\n";
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return run(settings);
  } catch (const std::exception& error) {
    std::cerr << "hammer: " << error.what() << "\n";
    return 1;
  }
}

// The server under a small RLIMIT_NOFILE: it runs in a forked child (the limit is per process), the test
// is its client.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/server/raw_reads.hpp"
#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

namespace fs = std::filesystem;

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

/// A TestServer in a child process with RLIMIT_NOFILE set to {soft, hard} before the app starts; its log
/// (warnings and up) goes to a file. Killed when this object goes.
class ChildServer {
 public:
  ChildServer(std::size_t soft_above_open, std::size_t hard_above_open, AppOptions options) {
    log_path_ = fs::temp_directory_path() / ("igniter-fd-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    int report[2];
    if (::pipe(report) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(report[0]);
      int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(log, 2);
      ::close(log);
      auto base = open_descriptors();
      rlimit limit{base + soft_above_open, base + hard_above_open};
      ::setrlimit(RLIMIT_NOFILE, &limit);
      options.log_level = LogLevel::warn;
      TestServer server(options);
      rlimit now{};
      ::getrlimit(RLIMIT_NOFILE, &now);
      auto line = std::to_string(server.port()) + " " + std::to_string(now.rlim_cur) + " " +
                  std::to_string(base) + "\n";
      [[maybe_unused]] auto written = ::write(report[1], line.data(), line.size());
      for (;;) ::pause();
    }
    ::close(report[1]);
    char text[128] = {};
    auto n = ::read(report[0], text, sizeof text - 1);
    ::close(report[0]);
    if (n <= 0) throw std::runtime_error("child server did not start");
    std::istringstream(text) >> port_ >> soft_limit_ >> base_;
  }
  ~ChildServer() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    fs::remove(log_path_);
  }

  std::uint16_t port() const { return port_; }
  std::size_t soft_limit() const { return soft_limit_; }
  std::size_t base() const { return base_; }
  /// User plus system CPU time the child has used.
  std::chrono::milliseconds cpu_time() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
    long user = 0, system = 0;
    fields >> user >> system;
    return std::chrono::milliseconds((user + system) * 1000 / ::sysconf(_SC_CLK_TCK));
  }
  std::vector<std::string> log_lines() const {
    std::ifstream log(log_path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    return lines;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::size_t soft_limit_ = 0;
  std::size_t base_ = 0;
  fs::path log_path_;
};

/// The status of a GET on a new connection, or 0 when no answer came within a second.
unsigned status_of_new_connection(std::uint16_t port,
                                  std::vector<std::unique_ptr<Connection>>* keep = nullptr) {
  auto c = std::make_unique<Connection>(port, std::chrono::milliseconds(1000));
  c->send("GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  unsigned status = try_read(*c).status;
  if (keep) keep->push_back(std::move(c));
  return status;
}

TEST(Descriptors, StartRaisesTheSoftLimitAndDerivesMaxConnectionsFromIt) {
  auto options = TestServer::quiet_options();
  options.io_threads = 1;
  options.max_connections = 0;
  // Soft limit ~base+50, hard ~base+200: the app raises it, then keeps a reserve of 64 for itself.
  ChildServer server(50, 200, options);
  EXPECT_EQ(server.soft_limit(), server.base() + 200);
  std::size_t expected = server.soft_limit() - 64;
  std::vector<std::unique_ptr<Connection>> held;
  for (std::size_t i = 0; i < expected; ++i) {
    auto status = status_of_new_connection(server.port(), &held);
    ASSERT_EQ(status, 200u) << "connection " << i;
  }
  EXPECT_EQ(status_of_new_connection(server.port()), 503u);
}

TEST(Descriptors, OutOfDescriptorsNewClientsGet503AndTheServerDoesNotSpin) {
  auto options = TestServer::quiet_options();
  options.io_threads = 1;
  options.max_connections = 100000;  // more than the descriptors allow: they run out first
  ChildServer server(40, 40, options);
  std::vector<std::unique_ptr<Connection>> held;
  unsigned status = 200;
  while (status == 200 && held.size() < 100) status = status_of_new_connection(server.port(), &held);
  ASSERT_EQ(status, 503u) << "after " << held.size() << " connections";

  // Out of descriptors for a second: new clients keep getting 503 at once, and the server idles between
  // them (a busy accept loop would burn a core and log a line per attempt).
  auto cpu_before = server.cpu_time();
  auto start = std::chrono::steady_clock::now();
  std::size_t refused = 0, clients = 0;
  std::chrono::steady_clock::duration slowest{};
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
    ++clients;
    auto asked = std::chrono::steady_clock::now();
    refused += status_of_new_connection(server.port()) == 503u;
    slowest = std::max(slowest, std::chrono::steady_clock::now() - asked);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto cpu = server.cpu_time() - cpu_before;
  RecordProperty("cpu_ms", static_cast<int>(cpu.count()));
  RecordProperty("clients", static_cast<int>(clients));
  RecordProperty("slowest_503_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()));
  RecordProperty("log_lines", static_cast<int>(server.log_lines().size()));
  EXPECT_EQ(refused, clients);
  EXPECT_LT(slowest, std::chrono::milliseconds(250)) << "a refused client waited for its 503";
  EXPECT_LT(cpu.count(), 400) << "CPU ms used in one second out of descriptors";
  auto lines = server.log_lines();
  EXPECT_LE(lines.size(), 3u) << (lines.empty() ? "" : lines.back());

  // Descriptors come back: clients are served again.
  held.resize(held.size() / 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server sees them close
  EXPECT_EQ(status_of_new_connection(server.port()), 200u);
}

}  // namespace
}  // namespace igniter::test

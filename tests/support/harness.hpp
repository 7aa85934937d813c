#pragma once
// What integration tests, cluster tests and the benches that drive processes share: polling for a
// condition with a deadline, and a child process (a cluster node, a Sentinel, curl) that is stopped
// when its owner goes, and never outlives the test process.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace igniter::test {

/// Polls `condition` every `period` until it holds or `limit` passes, then checks once more: true when it
/// held. For work that completes on another thread or process, in real time.
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds limit = std::chrono::seconds(10),
                std::chrono::milliseconds period = std::chrono::milliseconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(period);
  }
  return condition();
}

/// How a ChildProcess's standard output is wired.
enum class ChildOutput {
  inherit,  ///< The test's own stdout and stderr.
  capture,  ///< stdout into a pipe the parent reads (read_line, read_until); stderr inherited.
  discard,  ///< stdout and stderr to /dev/null.
};

/// A program run as a child process: killed (SIGKILL) if the test process dies, sent SIGTERM and reaped
/// when destroyed. `argv[0]` is the program's path, or its name looked up in PATH.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv, ChildOutput output = ChildOutput::inherit) {
    int fds[2] = {-1, -1};
    if (output == ChildOutput::capture && ::pipe2(fds, O_CLOEXEC) != 0) return;
    // Everything the child needs is made before fork: the test process has other threads (an in-process
    // server), and one may hold an allocator lock at the fork, which the child's copy then never releases.
    // ASan's allocator is not reset in the child as glibc's is, so a malloc there hung the child forever.
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {  // the child: async-signal-safe calls only, then exec (glibc's execvp allocates nothing)
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);                  // the parent died before prctl
      if (output == ChildOutput::capture) ::dup2(fds[1], 1);  // dup2 clears O_CLOEXEC on the copy
      if (output == ChildOutput::discard) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
      }
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    if (output == ChildOutput::capture) {
      ::close(fds[1]);
      out_ = fds[0];
    }
  }
  ~ChildProcess() {
    terminate();
    if (out_ >= 0) ::close(out_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Sends `signal` and waits for the process to exit; its wait status (-1 when already reaped).
  int terminate(int signal = SIGTERM) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

  /// Reads captured output until `needle` has arrived (true), or `timeout` passed or the output ended.
  bool read_until(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text_.find(needle, consumed_) == std::string::npos) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
              .count();
      if (left <= 0 || out_ < 0) return false;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      auto n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0) return false;
      text_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }
  /// The next line of captured output, without its newline ("" when the output ended first).
  std::string read_line(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    if (!read_until("\n", timeout)) return {};
    auto end = text_.find('\n', consumed_);
    auto line = text_.substr(consumed_, end - consumed_);
    consumed_ = end + 1;
    return line;
  }
  /// The port a server child announces with a first line "PORT <n>" (tests/cluster/node_main.cpp), or 0.
  std::uint16_t read_port() {
    unsigned port = 0;
    auto line = read_line();
    if (std::sscanf(line.c_str(), "PORT %u", &port) != 1 || port > 65535) return 0;
    return static_cast<std::uint16_t>(port);
  }
  /// Everything captured so far.
  const std::string& text() const { return text_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string text_;
  std::size_t consumed_ = 0;  // what read_line has handed out
};

}  // namespace igniter::test

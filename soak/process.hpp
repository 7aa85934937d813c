#pragma once
// Child processes of the soak (the demo server, redis-server) and what /proc says about them.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace soak {

/// A child process with its output in a file; it dies with the soak (PR_SET_PDEATHSIG).
class Child {
 public:
  Child() = default;
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Starts `argv` with `env` added to the soak's environment; stdout and stderr go to `log`.
  bool start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& log) {
    std::vector<std::string> args = argv;
    std::vector<char*> c_argv;
    for (auto& a : args) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    std::vector<std::string> environment;
    for (char** e = environ; *e; ++e) environment.emplace_back(*e);
    for (const auto& e : env) environment.push_back(e);
    std::vector<char*> c_env;
    for (auto& e : environment) c_env.push_back(e.data());
    c_env.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {  // async-signal-safe calls only, then exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execve(c_argv[0], c_argv.data(), c_env.data());
      ::_exit(127);
    }
    return true;
  }

  /// The exit status once the child ended (waitpid format), without waiting.
  std::optional<int> exited() {
    if (pid_ <= 0) return status_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      status_ = status;
    }
    return status_;
  }

  /// SIGTERM, then waits up to `grace` (SIGKILL after); returns the exit status.
  std::optional<int> stop(std::chrono::seconds grace = std::chrono::seconds(30)) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    status_ = status;
    return status_;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
  std::optional<int> status_;
};

/// "exit 0", "exit 3", "signal 11 (SIGSEGV)".
inline std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "status " + std::to_string(status);
}

/// A loopback port nothing listens on right now (bind to 0, read it, close).
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

/// True once something accepts connections on 127.0.0.1:`port`.
inline bool port_open(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

/// Resident set size of `pid` in bytes (VmRSS), 0 when unreadable.
inline std::uint64_t rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

/// Open descriptors of `pid` (entries of /proc/<pid>/fd), -1 when unreadable.
inline int open_fds(pid_t pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return -1;
  int count = 0;
  while (auto* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count;
}

/// The last `lines` lines of a file (for reports after a crash).
inline std::string tail(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> all;
  std::string line;
  while (std::getline(in, line)) {
    all.push_back(std::move(line));
    if (all.size() > lines) all.pop_front();
  }
  std::string out;
  for (auto& l : all) out += "    " + l + "\n";
  return out;
}

}  // namespace soak

#pragma once
// A real redis-server child process on a free loopback port, for the tests in this folder.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace igniter::store::testing {

inline constexpr const char* kRedisServerPath = "/usr/bin/redis-server";

// Runs /usr/bin/redis-server without persistence. The port comes from the kernel (bind to port 0),
// so parallel test processes do not collide; start() retries with another port if it loses a race.
// The child dies with the test process (PR_SET_PDEATHSIG) even if the test crashes.
class RedisServer {
 public:
  static bool installed() { return ::access(kRedisServerPath, X_OK) == 0; }

  // `extra` are more command-line settings, e.g. {"--requirepass", "secret"}.
  explicit RedisServer(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {}
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on a fresh port (or on port() again after stop(), keep_port); true once it answers.
  bool start(bool keep_port = false) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (!keep_port || port_ == 0) port_ = free_port();
      if (spawn() && wait_until_answering()) return true;
      stop();
      if (keep_port) return false;
    }
    return false;
  }

  // Stops the server (SIGTERM, then waits for it): every connection to it closes.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  // Kills the server with SIGKILL, as a crash would (no shutdown, no goodbye to replicas or clients).
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  // Freezes and thaws the server: connections stay open but nothing is answered.
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& userinfo = "", int db = 0) const {
    return "redis://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_) +
           "/" + std::to_string(db);
  }

  // A port nothing listens on (for tests of an absent server).
  static std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    std::uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port = ntohs(address.sin_port);
    }
    ::close(fd);
    return port;
  }

 private:
  bool spawn() {
    std::vector<std::string> args = {kRedisServerPath,
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--daemonize",
                                     "no",
                                     "--loglevel",
                                     "warning",
                                     "--dir",
                                     "/tmp"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {  // the child: async-signal-safe calls only, then exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(kRedisServerPath, argv.data());
      ::_exit(127);
    }
    return true;
  }

  // Polls with PING until a reply (+PONG, or -NOAUTH when a password is required) or 5 s pass.
  bool wait_until_answering() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken
        pid_ = 0;
        return false;
      }
      if (ping()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  bool ping() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    bool answered = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      timeval limit{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      const char ping[] = "PING\r\n";
      char reply[64];
      answered = ::send(fd, ping, sizeof ping - 1, MSG_NOSIGNAL) == sizeof ping - 1 &&
                 ::recv(fd, reply, sizeof reply, 0) > 0 && (reply[0] == '+' || reply[0] == '-');
    }
    ::close(fd);
    return answered;
  }

  std::vector<std::string> extra_;
  std::uint16_t port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace igniter::store::testing

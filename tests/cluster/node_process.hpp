#pragma once
// A cluster_node child process (tests/cluster/node_main.cpp) for the cluster suites: the other member of
// a cluster on one redis-server. Needs IGNITER_CLUSTER_NODE (the binary's path) defined by the build.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace igniter::test {

/// A cluster_node child process (scopes `user:<X-User>`); stopped with SIGTERM when destroyed.
class Node {
 public:
  /// `args` follow the Redis URL on the command line (node_main.cpp: drain window and rate).
  explicit Node(const std::string& redis_url, std::vector<std::string> args = {}) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::vector<char*> argv{const_cast<char*>(IGNITER_CLUSTER_NODE), const_cast<char*>(redis_url.c_str())};
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(IGNITER_CLUSTER_NODE, argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* lines = ::fdopen(out[0], "r");
    unsigned port = 0;
    if (std::fscanf(lines, "PORT %u", &port) == 1) port_ = static_cast<std::uint16_t>(port);
    std::fclose(lines);
  }
  ~Node() { terminate(); }
  /// Sends SIGTERM and waits for the process to exit; its wait status (-1 when already stopped).
  int terminate() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  /// Sends SIGKILL (a crash: no clean-up runs) and reaps the process.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace igniter::test

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

namespace igniter::test {

/// A cluster_node child process (scopes `user:<X-User>`); stopped with SIGTERM when destroyed.
class Node {
 public:
  explicit Node(const std::string& redis_url) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(IGNITER_CLUSTER_NODE, IGNITER_CLUSTER_NODE, redis_url.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* lines = ::fdopen(out[0], "r");
    unsigned port = 0;
    if (std::fscanf(lines, "PORT %u", &port) == 1) port_ = static_cast<std::uint16_t>(port);
    std::fclose(lines);
  }
  ~Node() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace igniter::test

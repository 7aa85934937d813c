#pragma once
// A cluster_node child process (tests/cluster/node_main.cpp) for the cluster suites: the other member of
// a cluster on one redis-server. Needs IGNITER_CLUSTER_NODE (the binary's path) defined by the build.
#include <cstdint>
#include <string>
#include <vector>

#include "support/harness.hpp"

namespace igniter::test {

/// A cluster_node child process (scopes `user:<X-User>`); stopped with SIGTERM when destroyed.
class Node {
 public:
  /// `args` follow the Redis URL on the command line (node_main.cpp: drain window and rate).
  explicit Node(const std::string& redis_url, std::vector<std::string> args = {})
      : process_(command(redis_url, std::move(args)), ChildOutput::capture), port_(process_.read_port()) {}
  /// Sends SIGTERM and waits for the process to exit; its wait status (-1 when already stopped).
  int terminate() { return process_.terminate(); }
  /// Sends SIGKILL (a crash: no clean-up runs) and reaps the process.
  void kill_hard() { process_.terminate(SIGKILL); }
  std::uint16_t port() const { return port_; }

 private:
  static std::vector<std::string> command(const std::string& redis_url, std::vector<std::string> args) {
    std::vector<std::string> argv{IGNITER_CLUSTER_NODE, redis_url};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  ChildProcess process_;
  std::uint16_t port_ = 0;
};

}  // namespace igniter::test

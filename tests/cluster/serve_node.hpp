#pragma once
// The end of a node's main() (cluster_node, presence_node): serve until the test stops the process.

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <igniter/igniter.hpp>

namespace igniter::test {

/// Starts `app` on an ephemeral port, prints "PORT <n>" for the test to read, and serves until SIGTERM or
/// SIGINT: the test stops us like an operator would. The signals are blocked before the server's threads
/// start, so that they inherit the mask and only sigwait() sees them.
inline void serve_until_signal(App& app) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto port = app.start(0);
  std::printf("PORT %u\n", static_cast<unsigned>(port));
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  app.stop();
  app.wait();
}

}  // namespace igniter::test

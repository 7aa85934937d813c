// One process of the presence tests' cluster (presence_setup.hpp). Usage: presence_node <redis url>
// <expiry ms>; prints "PORT <n>" once listening; stops on SIGTERM (the tests also SIGKILL it).
#include <cstdio>
#include <cstdlib>

#include "cluster/presence_setup.hpp"
#include "cluster/serve_node.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s redis://host:port <expiry ms>\n", argv[0]);
    return 2;
  }
  auto store = igniter::store::from_url(argv[1]);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
    return 1;
  }
  igniter::App app(
      {.io_threads = 1, .worker_threads = 2, .log_level = igniter::LogLevel::warn, .store = *store});
  igniter::test::configure_presence(app, std::chrono::milliseconds(std::atol(argv[2])));
  igniter::test::serve_until_signal(app);
}

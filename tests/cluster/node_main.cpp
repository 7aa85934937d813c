// One igniter-cpp process of a test cluster: a posts mutation that revalidates, a cached list, a publish
// endpoint, scopes from the X-User header. Usage: cluster_node <redis url> [<drain window ms> [<drain
// rate>]]; prints "PORT <n>" once listening.
#include <igniter/igniter.hpp>
#include <igniter/store/store.hpp>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cluster/serve_node.hpp"

struct Notify {
  std::string text;
  std::optional<std::string> scope;
};
BOOST_DESCRIBE_STRUCT(Notify, (), (text, scope))

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s redis://host:port\n", argv[0]);
    return 2;
  }
  auto store = igniter::store::from_url(argv[1]);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
    return 1;
  }
  igniter::AppOptions options{
      .io_threads = 1, .worker_threads = 2, .log_level = igniter::LogLevel::warn, .store = *store};
  if (argc > 2) options.drain_window = std::chrono::milliseconds(std::atol(argv[2]));
  if (argc > 3) options.drain_rate = std::atof(argv[3]);
  igniter::App app(std::move(options));
  app.controller(
      igniter::controller("posts", "/posts")
          .mutation("create", igniter::POST, "/",
                    [](igniter::Ctx& c, const igniter::json::value& body) {
                      return c.response.created(body).revalidate({"posts.list"});
                    })
          // The cluster's "table" is a counter in Redis (query_cache_test.cpp bumps it, then revalidates);
          // reading it takes a while, so that revalidations land while runs are in flight.
          .query("list", "/",
                 [](igniter::Ctx& c) {
                   auto rows = c.store().get("qcache-test:rows");
                   std::this_thread::sleep_for(std::chrono::milliseconds(2));
                   return rows && *rows ? igniter::json::value(**rows) : igniter::json::value(0);
                 })
          .cache({.ttl = std::chrono::seconds(60), .vary = igniter::Vary::public_}));
  app.controller(igniter::controller("notify", "/notify")
                     .mutation("send", igniter::POST, "/",
                               [](igniter::Ctx& c, const Notify& n) {
                                 igniter::realtime::PublishOptions options;
                                 if (n.scope) options.scopes = {*n.scope};
                                 auto id = c.realtime().try_publish(
                                     "notifications", igniter::json::object{{"text", n.text}}, options);
                                 if (!id)
                                   return c.response.error(503, "ERR_SERVICE_UNAVAILABLE",
                                                           id.error().message());
                                 return c.response.success(igniter::realtime::to_string(*id));
                               })
                     .query("health", "/health", [](igniter::Ctx& c) { return c.response.success("ok"); }));
  app.realtime().scopes([](igniter::Ctx& c) {
    auto user = c.request.header("x-user");
    return user.empty() ? std::vector<std::string>{} : std::vector<std::string>{"user:" + std::string(user)};
  });
  igniter::test::serve_until_signal(app);
}

// The client address behind a reverse proxy, over real sockets: a request's X-Forwarded-For is believed
// only from AppOptions::trusted_proxies, for what a handler sees (Request::client) and for the realtime
// per-address stream limit. The test client connects from 127.0.0.1.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

RealtimeSetup with_proxies(std::vector<std::string> proxies) {
  RealtimeSetup setup;
  setup.options.trusted_proxies = std::move(proxies);
  setup.options.realtime.max_streams_per_address = 1;
  setup.extra = [](App& app) {
    app.controller(controller("whoami", "/whoami").query("get", "/", [](Ctx& c) {
      return c.response.success(json::object{{"client", c.request.client}});
    }));
  };
  return setup;
}

std::string client_seen(std::uint16_t port, std::vector<std::pair<std::string, std::string>> headers) {
  auto answer = fetch(port, "GET", "/api/v1/whoami", {}, std::move(headers));
  EXPECT_EQ(answer.status, 200u) << answer.body;
  return std::string(answer.json().at("data").at("client").as_string());
}

SseOptions forwarded_for(std::string address) {
  SseOptions options;
  options.headers.emplace_back("X-Forwarded-For", std::move(address));
  return options;
}

TEST(ProxiedClientAddress, ByDefaultForwardedHeadersAreIgnored) {
  RealtimeServer server(with_proxies({}));
  EXPECT_EQ(client_seen(server.port(), {}), "127.0.0.1");
  EXPECT_EQ(client_seen(server.port(), {{"X-Forwarded-For", "203.0.113.7"}, {"X-Real-IP", "203.0.113.8"}}),
            "127.0.0.1");
}

TEST(ProxiedClientAddress, ATrustedProxyForwardsTheClientAddressToHandlers) {
  RealtimeServer server(with_proxies({"127.0.0.0/8"}));
  EXPECT_EQ(client_seen(server.port(), {{"X-Forwarded-For", "203.0.113.7"}}), "203.0.113.7");
  EXPECT_EQ(client_seen(server.port(), {{"X-Forwarded-For", "6.6.6.6, 203.0.113.7"}}), "203.0.113.7");
  EXPECT_EQ(client_seen(server.port(), {{"X-Real-IP", "203.0.113.8"}}), "203.0.113.8");
  EXPECT_EQ(client_seen(server.port(), {}), "127.0.0.1");  // nothing forwarded: the proxy itself
}

TEST(ProxiedClientAddress, TwoClientsBehindATrustedProxyEachGetTheirStreamShare) {
  RealtimeServer server(with_proxies({"127.0.0.1"}));
  auto a = open_stream(server.port(), "channels=revalidation", forwarded_for("203.0.113.1"));
  auto b = open_stream(server.port(), "channels=revalidation", forwarded_for("203.0.113.2"));
  EXPECT_FALSE(a.info.empty());
  EXPECT_FALSE(b.info.empty());
  SseClient again(server.port(), sse("channels=revalidation"), forwarded_for("203.0.113.1"));
  EXPECT_EQ(again.read_head(), 429u) << again.body();
}

TEST(ProxiedClientAddress, AnUntrustedPeerCannotDodgeThePerAddressLimitWithXForwardedFor) {
  // Only 10.0.0.0/8 is trusted: the loopback client's forwarded addresses are ignored.
  RealtimeServer server(with_proxies({"10.0.0.0/8"}));
  auto a = open_stream(server.port(), "channels=revalidation", forwarded_for("203.0.113.1"));
  EXPECT_FALSE(a.info.empty());
  SseClient spoofed(server.port(), sse("channels=revalidation"), forwarded_for("203.0.113.2"));
  EXPECT_EQ(spoofed.read_head(), 429u) << spoofed.body();
  EXPECT_EQ(client_seen(server.port(), {{"X-Forwarded-For", "203.0.113.7"}}), "127.0.0.1");
}

TEST(ProxiedClientAddress, AMisspelledProxyFailsAtConstructionNamingIt) {
  AppOptions options;
  options.trusted_proxies = {"127.0.0.1", "10.0.0.0/80"};
  try {
    App app(options);
    FAIL() << "accepted 10.0.0.0/80";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("'10.0.0.0/80'"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace igniter::test

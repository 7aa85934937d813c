#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace igniter::http {
namespace {

Request from(std::string remote, Request::Fields headers = {}) {
  Request request;
  request.remote = std::move(remote);
  request.headers = std::move(headers);
  return request;
}

const TrustedProxies kLocalProxy({"127.0.0.1"});

TEST(ClientAddress, WithNoTrustedProxyForwardedHeadersAreIgnored) {
  TrustedProxies nobody;
  auto request = from("127.0.0.1:5000", {{"X-Forwarded-For", "203.0.113.7"}, {"X-Real-IP", "203.0.113.8"}});
  EXPECT_EQ(client_address(nobody, request), "127.0.0.1");
}

TEST(ClientAddress, AnUntrustedPeerCannotSpoofItsAddress) {
  auto request =
      from("198.51.100.4:5000", {{"X-Forwarded-For", "203.0.113.7"}, {"X-Real-IP", "203.0.113.8"}});
  EXPECT_EQ(client_address(kLocalProxy, request), "198.51.100.4");
}

TEST(ClientAddress, ATrustedProxyNamesTheClient) {
  EXPECT_EQ(client_address(kLocalProxy, from("127.0.0.1:5000", {{"X-Forwarded-For", "203.0.113.7"}})),
            "203.0.113.7");
  EXPECT_EQ(client_address(kLocalProxy, from("127.0.0.1:5000", {{"x-real-ip", "203.0.113.8"}})),
            "203.0.113.8");
}

TEST(ClientAddress, WhatTheClientPrependedToXForwardedForIsNotBelieved) {
  // nginx's $proxy_add_x_forwarded_for appends the real peer to whatever the client sent.
  auto request = from("127.0.0.1:5000", {{"X-Forwarded-For", "10.9.9.9, 203.0.113.7"}});
  EXPECT_EQ(client_address(kLocalProxy, request), "203.0.113.7");
}

TEST(ClientAddress, AChainOfTrustedProxiesIsWalkedRightToLeft) {
  TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
  auto request = from("127.0.0.1:5000", {{"X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.1.2.3"}});
  EXPECT_EQ(client_address(proxies, request), "203.0.113.7");
  // Several headers read as one list, in order.
  auto split =
      from("127.0.0.1:5000", {{"X-Forwarded-For", "6.6.6.6, 203.0.113.7"}, {"X-Forwarded-For", "10.1.2.3"}});
  EXPECT_EQ(client_address(proxies, split), "203.0.113.7");
  // Only proxies all the way: the leftmost entry is the client.
  EXPECT_EQ(client_address(proxies, from("127.0.0.1:5000", {{"X-Forwarded-For", "10.0.0.9, 10.1.2.3"}})),
            "10.0.0.9");
}

TEST(ClientAddress, XForwardedForWinsOverXRealIp) {
  auto request = from("127.0.0.1:5000", {{"X-Real-IP", "6.6.6.6"}, {"X-Forwarded-For", "203.0.113.7"}});
  EXPECT_EQ(client_address(kLocalProxy, request), "203.0.113.7");
}

TEST(ClientAddress, GarbageStopsTheWalkAtTheHopThatSentIt) {
  TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(client_address(proxies, from("127.0.0.1:1", {{"X-Forwarded-For", "unknown, 10.0.0.5"}})),
            "10.0.0.5");
  EXPECT_EQ(client_address(proxies, from("127.0.0.1:1", {{"X-Forwarded-For", "<script>"}})), "127.0.0.1");
  EXPECT_EQ(client_address(proxies, from("127.0.0.1:1", {{"X-Forwarded-For", " , "}})), "127.0.0.1");
  EXPECT_EQ(client_address(proxies, from("127.0.0.1:1", {{"X-Real-IP", "not-an-ip"}})), "127.0.0.1");
}

TEST(ClientAddress, PortsAndBracketsInForwardedEntriesAreTolerated) {
  EXPECT_EQ(client_address(kLocalProxy, from("127.0.0.1:1", {{"X-Forwarded-For", "203.0.113.7:4711"}})),
            "203.0.113.7");
  EXPECT_EQ(client_address(kLocalProxy, from("127.0.0.1:1", {{"X-Forwarded-For", "[2001:db8::1]:4711"}})),
            "2001:db8::1");
  EXPECT_EQ(client_address(kLocalProxy, from("127.0.0.1:1", {{"X-Forwarded-For", "2001:db8::1"}})),
            "2001:db8::1");
}

TEST(ClientAddress, IPv6PeersAndV4MappedAddresses) {
  TrustedProxies proxies({"::1", "fd00::/8"});
  EXPECT_EQ(client_address(proxies, from("::1:5000", {{"X-Forwarded-For", "203.0.113.7"}})), "203.0.113.7");
  EXPECT_EQ(client_address(proxies, from("fd12::3:5000", {{"X-Forwarded-For", "203.0.113.7"}})),
            "203.0.113.7");
  EXPECT_EQ(client_address(proxies, from("fe80::3:5000", {{"X-Forwarded-For", "203.0.113.7"}})), "fe80::3");
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d: matched and answered as IPv4.
  EXPECT_EQ(
      client_address(kLocalProxy, from("::ffff:127.0.0.1:5000", {{"X-Forwarded-For", "::ffff:203.0.113.7"}})),
      "203.0.113.7");
  EXPECT_EQ(client_address(TrustedProxies{}, from("::ffff:198.51.100.4:5000")), "198.51.100.4");
}

TEST(ForwardedScheme, WithoutATrustedProxyTheConnectionsOwnSchemeHolds) {
  auto spoofed = from("198.51.100.4:5000", {{"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(forwarded_scheme(kLocalProxy, spoofed, false), "http");
  EXPECT_EQ(
      forwarded_scheme(TrustedProxies{}, from("127.0.0.1:5000", {{"X-Forwarded-Proto", "https"}}), false),
      "http");
  EXPECT_EQ(forwarded_scheme(kLocalProxy, from("198.51.100.4:5000", {{"X-Forwarded-Proto", "http"}}), true),
            "https");
}

TEST(ForwardedScheme, ATrustedProxyTellsTheClientsScheme) {
  auto request = from("127.0.0.1:5000", {{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(forwarded_scheme(kLocalProxy, request, false), "https");
  EXPECT_EQ(forwarded_scheme(kLocalProxy, from("127.0.0.1:5000", {{"x-forwarded-proto", "HTTPS"}}), false),
            "https");
  // The proxy's own connection was TLS, its client's was not.
  EXPECT_EQ(forwarded_scheme(kLocalProxy, from("127.0.0.1:5000", {{"X-Forwarded-Proto", "http"}}), true),
            "http");
  // Nothing forwarded: the connection's own.
  EXPECT_EQ(forwarded_scheme(kLocalProxy, from("127.0.0.1:5000"), true), "https");
  EXPECT_EQ(forwarded_scheme(kLocalProxy, from("127.0.0.1:5000"), false), "http");
}

TEST(ForwardedScheme, AValueThatIsNotAKnownSchemeIsIgnored) {
  for (const char* value : {"ftp", "https;evil", "", "  "})
    EXPECT_EQ(forwarded_scheme(kLocalProxy, from("127.0.0.1:5000", {{"X-Forwarded-Proto", value}}), false),
              "http")
        << value;
}

TEST(ForwardedScheme, EntriesAreReadInStepWithTheTrustedHops) {
  TrustedProxies chain({"127.0.0.1", "10.0.0.0/8"});
  // client -https-> edge proxy 10.0.0.5 -http-> nginx 127.0.0.1 -> app; each proxy appended its entry.
  auto appended = from("127.0.0.1:5000",
                       {{"X-Forwarded-For", "203.0.113.7, 10.0.0.5"}, {"X-Forwarded-Proto", "https, http"}});
  EXPECT_EQ(forwarded_scheme(chain, appended, false), "https");
  // Only nginx is trusted: the entry it wrote (about the edge proxy's connection to it) is the one.
  EXPECT_EQ(forwarded_scheme(kLocalProxy, appended, false), "http");
  // A proxy that overwrites the header: the one entry there is.
  auto overwritten =
      from("127.0.0.1:5000", {{"X-Forwarded-For", "203.0.113.7, 10.0.0.5"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(forwarded_scheme(chain, overwritten, false), "https");
  // What the client put to the left of the trusted entries is never reached.
  auto spoofed = from(
      "127.0.0.1:5000",
      {{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", "https"}, {"X-Forwarded-Proto", "http"}});
  EXPECT_EQ(forwarded_scheme(kLocalProxy, spoofed, false), "http");
}

TEST(TrustedProxies, CidrBlocksMatchTheirWholeRange) {
  TrustedProxies proxies({"10.0.0.0/8", "192.168.1.7", " 172.16.5.9/12 "});
  auto has = [&](const char* text) { return proxies.contains(boost::asio::ip::make_address(text)); };
  EXPECT_TRUE(has("10.255.0.1"));
  EXPECT_FALSE(has("11.0.0.1"));
  EXPECT_TRUE(has("192.168.1.7"));
  EXPECT_FALSE(has("192.168.1.8"));
  EXPECT_TRUE(has("172.31.255.255"));  // host bits in the entry: the /12 block it lies in
  EXPECT_FALSE(has("172.32.0.0"));
  EXPECT_FALSE(has("::1"));
  EXPECT_TRUE(TrustedProxies({"0.0.0.0/0"}).contains(boost::asio::ip::make_address("8.8.8.8")));
}

TEST(TrustedProxies, ABadEntryIsRefusedWithItsName) {
  for (const char* bad : {"localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "::1/129", "", "1.2.3"}) {
    try {
      TrustedProxies proxies({"127.0.0.1", bad});
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << error.what();
    }
  }
}

}  // namespace
}  // namespace igniter::http

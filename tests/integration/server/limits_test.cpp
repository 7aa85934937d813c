#include <gtest/gtest.h>

#include <random>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

TEST(Limits, OversizedHeadersAre431) {
  TestServer server;
  Connection c(server.port());
  auto r = c.request("GET", "/api/v1/demo/fast", {}, {{"X-Big", std::string(20000, 'a')}});
  EXPECT_EQ(r.status, 431u);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Limits, OversizedBodyIs413BeforeItIsRead) {
  TestServer server;
  Connection c(server.port());
  // Announce 2 MiB but send none of it: the answer comes from the Content-Length alone.
  c.send(
      "POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
      "2097152\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.status, 413u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_PAYLOAD_TOO_LARGE");
}

TEST(Limits, PerActionBodyLimitApplies) {
  TestServer server;
  EXPECT_EQ(fetch(server.port(), "PUT", "/api/v1/posts/upload", R"({"small":true})").status, 200u);
  EXPECT_EQ(fetch(server.port(), "PUT", "/api/v1/posts/upload", "[" + std::string(100, '1') + "]").status,
            413u);
}

TEST(Limits, ChunkedBodyPastTheLimitIs413) {
  TestServer server;
  Connection c(server.port());
  std::string chunk(80, ' ');
  c.send(
      "PUT /api/v1/posts/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n50\r\n" +
      chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 413u);
}

TEST(Limits, StalledHeadersAre408) {
  auto options = TestServer::quiet_options();
  options.header_timeout = std::chrono::milliseconds(200);
  TestServer server(options);
  Connection c(server.port());
  c.send("GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n");  // never finished
  auto r = c.read_response();
  EXPECT_EQ(r.status, 408u);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Limits, IdleKeepAliveConnectionIsClosed) {
  auto options = TestServer::quiet_options();
  options.idle_timeout = std::chrono::milliseconds(200);
  TestServer server(options);
  Connection c(server.port());
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").status, 200u);
  EXPECT_TRUE(c.closed_by_peer());  // within the 10 s read timeout, well after 200 ms
}

TEST(Limits, ConnectionsPastTheMaximumAreRefusedWith503) {
  auto options = TestServer::quiet_options();
  options.max_connections = 2;
  TestServer server(options);
  Connection a(server.port()), b(server.port());
  EXPECT_EQ(a.request("GET", "/api/v1/demo/fast").status, 200u);
  EXPECT_EQ(b.request("GET", "/api/v1/demo/fast").status, 200u);
  Connection c(server.port());
  auto r = c.read_response();
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_SERVICE_UNAVAILABLE");
}

TEST(Limits, UnsupportedMethodIs501) {
  TestServer server;
  Connection c(server.port());
  c.send("BREW /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_response().status, 501u);
}

TEST(Limits, MalformedRequestsNeverCrashOrHangTheServer) {
  TestServer server;
  std::mt19937 random(12345);
  std::vector<std::string> attacks = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET /api/v1/demo/fast HTTP/1.1\r\nHost x\r\n\r\n",
      "GET /api/v1/demo/fast HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET /api/v1/demo/fast HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST /api/v1/posts/upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
      "PUT /api/v1/posts/upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n",  // truncated
      "GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n",
      std::string(1, '\0') + "\x01\x02\r\n\r\n",
  };
  std::string many_headers = "GET /api/v1/demo/fast HTTP/1.1\r\n";
  for (int i = 0; i < 5000; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  attacks.push_back(many_headers + "\r\n");
  for (int i = 0; i < 2000; ++i) {
    std::string junk(1 + random() % 300, '\0');
    for (auto& ch : junk) ch = static_cast<char>(random() % 256);
    if (i % 3 == 0) junk = "GET /" + junk;
    attacks.push_back(junk + "\r\n\r\n");
  }
  for (const auto& bytes : attacks) {
    Connection c(server.port(), std::chrono::milliseconds(2000));
    boost::system::error_code ec;
    boost::asio::write(c.socket(), boost::asio::buffer(bytes), ec);
    c.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    auto answer = c.read_until_close();  // a response or a close, never a hang
    if (!answer.empty()) {
      EXPECT_EQ(answer.rfind("HTTP/1.1 ", 0), 0u) << answer.substr(0, 40);
    }
  }
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/demo/fast").status, 200u);
}

}  // namespace
}  // namespace igniter::test

// Requests as an attacker would send them: smuggling framings, missing Host, endless chunk lines, clients
// that never read, bytes that are not UTF-8. Each answer is checked on the wire.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "integration/server/raw_reads.hpp"
#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

namespace asio = boost::asio;

bool valid_utf8(std::string_view text) {
  auto* s = reinterpret_cast<const unsigned char*>(text.data());
  auto* end = s + text.size();
  while (s < end) {
    int n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 0;
    if (n == 0 || end - s < n) return false;
    for (int i = 1; i < n; ++i)
      if ((s[i] & 0xC0) != 0x80) return false;
    if (n == 2 && *s < 0xC2) return false;  // overlong
    s += n;
  }
  return true;
}

// A complete request that must never run when it is sent as another request's body.
const std::string kSmuggled = "GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n";

struct Framing {
  std::string name;
  std::string head;  // request line and headers, without the blank line
  std::string body;  // what follows the blank line (ends with the smuggled request)
  unsigned status;
};

class SmugglingFraming : public ::testing::TestWithParam<Framing> {};

TEST_P(SmugglingFraming, IsRejectedAndTheConnectionClosedBeforeTheBodyRunsAsARequest) {
  TestServer server;
  const auto& framing = GetParam();
  auto result = exchange(server.port(), framing.head + "\r\n" + framing.body);
  EXPECT_EQ(first_status(result.received), framing.status) << result.received.substr(0, 200);
  EXPECT_EQ(count_responses(result.received), 1u) << result.received;
  EXPECT_TRUE(result.closed);
}

const std::string kUpload =
    "PUT /api/v1/posts/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
const std::string kChunkedBody = "2\r\n{}\r\n0\r\n\r\n";

INSTANTIATE_TEST_SUITE_P(
    TransferEncoding, SmugglingFraming,
    ::testing::Values(
        Framing{"LastCodingNotChunked", kUpload + "Transfer-Encoding: xchunked\r\n", kSmuggled, 400},
        Framing{"ChunkedThenIdentity", kUpload + "Transfer-Encoding: chunked, identity\r\n", kSmuggled, 400},
        Framing{"ChunkedTwice", kUpload + "Transfer-Encoding: chunked, chunked\r\n", kChunkedBody + kSmuggled,
                400},
        Framing{"GzipThenChunked", kUpload + "Transfer-Encoding: gzip, chunked\r\n", kChunkedBody + kSmuggled,
                501},
        Framing{"GzipFieldThenChunkedField",
                kUpload + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                kChunkedBody + kSmuggled, 501},
        Framing{"UnknownCodingWithContentLength",
                kUpload + "Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n", kSmuggled, 400},
        Framing{"ChunkedWithContentLength", kUpload + "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
                kSmuggled, 400},
        Framing{"ContentLengthWithChunked", kUpload + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
                kSmuggled, 400},
        Framing{"ChunkedInHttp10",
                "PUT /api/v1/posts/upload HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                kChunkedBody + kSmuggled, 400},
        Framing{"EmptyTransferEncoding", kUpload + "Transfer-Encoding: \r\n", kSmuggled, 400}),
    [](const auto& info) { return info.param.name; });

TEST(HostileInput, ChunkedBodyStillWorksOnAKeptAliveConnection) {
  TestServer server;
  Connection c(server.port());
  c.send(kUpload + "Transfer-Encoding: chunked\r\n\r\n" + kChunkedBody);
  auto r = try_read(c);
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").status, 200u);
}

TEST(HostileInput, Http11RequestWithoutHostIs400) {
  TestServer server;
  auto result = exchange(server.port(), "GET /api/v1/demo/fast HTTP/1.1\r\n\r\n" + kSmuggled);
  EXPECT_EQ(first_status(result.received), 400u);
  EXPECT_EQ(count_responses(result.received), 1u);
  EXPECT_TRUE(result.closed);
}

TEST(HostileInput, RequestWithTwoHostsIs400) {
  TestServer server;
  auto result = exchange(server.port(), "GET /api/v1/demo/fast HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(first_status(result.received), 400u);
  EXPECT_TRUE(result.closed);
}

TEST(HostileInput, Http10RequestWithoutHostIsServed) {
  TestServer server;
  auto result = exchange(server.port(), "GET /api/v1/demo/fast HTTP/1.0\r\n\r\n");
  EXPECT_EQ(first_status(result.received), 200u) << result.received;
}

TEST(HostileInput, EndlessChunkSizeLineIsRejectedWithoutBufferingIt) {
  TestServer server;
  Connection c(server.port(), std::chrono::milliseconds(5000));
  c.send(kUpload + "Transfer-Encoding: chunked\r\n\r\n2");
  // 1 MiB of chunk extensions, no end of line. The server must answer long before it has all of it:
  // bytes it would have to keep grow its memory byte for byte.
  std::string extension;
  while (extension.size() < 16 * 1024) extension += ";a=b";
  boost::system::error_code ec;
  std::size_t sent = 0;
  while (sent < (1u << 20) && !ec) sent += asio::write(c.socket(), asio::buffer(extension), ec);
  auto r = try_read(c);
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(closed_within(c));
}

TEST(HostileInput, ChunkExtensionsCountAgainstTheHeaderLimit) {
  TestServer server;
  Connection c(server.port(), std::chrono::milliseconds(5000));
  // Many short chunks, each line short, but 64 KiB of extensions in total (the action would answer 401).
  std::string body;
  std::string extension(1000, 'e');
  for (int i = 0; i < 64; ++i) body += "1;" + extension + "\r\n \r\n";
  c.send(
      "POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      body + "0\r\n\r\n");
  auto r = try_read(c);
  EXPECT_EQ(r.status, 400u);
}

TEST(HostileInput, ExpectContinueIsAnsweredThenTheBodyIsRead) {
  TestServer server;
  Connection c(server.port());
  c.send(kUpload + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  char interim[25] = {};
  EXPECT_EQ(::recv(c.socket().native_handle(), interim, sizeof interim, MSG_WAITALL), 25);
  EXPECT_EQ(std::string_view(interim, sizeof interim), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("{}");
  EXPECT_EQ(try_read(c).status, 200u);
}

TEST(HostileInput, ClientsSendingExpectContinueWithoutReadingDoNotFreezeTheServer) {
  auto options = TestServer::quiet_options();
  options.io_threads = 1;  // every connection on the loop the attackers would freeze
  TestServer server(options);
  // Each request's header goes alone and its body follows a moment later, so the server answers
  // 100 Continue for every one of them; the attackers never read. Once a connection's send buffer is
  // full, an interim answer written synchronously would block the I/O thread for good.
  const std::string head = kUpload + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  const std::string body = "{}";

  asio::io_context io;
  std::vector<asio::ip::tcp::socket> attackers;
  for (int i = 0; i < 16; ++i) {
    auto& s = attackers.emplace_back(io);
    s.open(asio::ip::tcp::v4());
    int small = 1024;  // a tiny receive window: the server's send buffer fills after a few answers
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    s.non_blocking(true);
  }
  // Per attacker, what is left to send of the current message (a head, then its body, then a head...).
  std::vector<std::string> pending(attackers.size(), head);
  std::vector<bool> sending_head(attackers.size(), true);
  for (int round = 0; round < 400; ++round) {
    for (std::size_t i = 0; i < attackers.size(); ++i) {
      boost::system::error_code ec;
      auto n = attackers[i].write_some(asio::buffer(pending[i]), ec);
      pending[i].erase(0, n);
      if (pending[i].empty()) {
        sending_head[i] = !sending_head[i];
        pending[i] = sending_head[i] ? head : body;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  Connection probe(server.port(), std::chrono::milliseconds(3000));
  probe.send("GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(try_read(probe).status, 200u);
}

TEST(HostileInput, KeptAliveConnectionGetsTheHeaderTimeoutOnceANewRequestStarts) {
  auto options = TestServer::quiet_options();
  options.header_timeout = std::chrono::milliseconds(300);
  options.idle_timeout = std::chrono::milliseconds(20000);
  TestServer server(options);
  Connection c(server.port(), std::chrono::milliseconds(3000));
  c.send("GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(try_read(c).status, 200u);
  c.send("GET /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n");  // a slow header, never finished
  EXPECT_EQ(try_read(c).status, 408u);
}

TEST(HostileInput, UndecodablePathBytesAreNotEchoedIntoJson) {
  TestServer server;
  auto r = fetch(server.port(), "GET", "/api/v1/nowhere/%FF%C0%80");
  EXPECT_EQ(r.status, 404u);
  EXPECT_TRUE(valid_utf8(r.body)) << r.body;
  EXPECT_NO_THROW(r.json());
  EXPECT_NE(r.body.find("%FF%C0%80"), std::string::npos) << r.body;
}

TEST(HostileInput, JsonAnswersAreValidUtf8EvenWhenAHandlerEchoesInvalidBytes) {
  TestServer server;
  auto r = fetch(server.port(), "GET", "/api/v1/demo/status/ab%FFcd");  // the handler echoes its parameter
  EXPECT_EQ(r.status, 200u);
  EXPECT_TRUE(valid_utf8(r.body)) << r.body;
  EXPECT_EQ(r.json().at("data"),
            "ab\xEF\xBF\xBD"
            "cd");
}

TEST(HostileInput, UnknownMethodIs501NotImplemented) {
  TestServer server;
  Connection c(server.port());
  c.send("BREW /api/v1/demo/fast HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = try_read(c);
  EXPECT_EQ(r.status, 501u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_NOT_IMPLEMENTED");
}

TEST(HostileInput, EveryAnswerForbidsContentSniffing) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("igniter-nosniff-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "page.html") << "<h1>hi</h1>";
  auto options = TestServer::quiet_options();
  App app(options);
  app.controller(controller("demo", "/demo")
                     .query("ok", "/ok", [](Ctx& c) { return c.response.success("ok"); })
                     .query("own", "/own", [](Ctx& c) {
                       return c.response.success("own").header("X-Content-Type-Options", "nosniff");
                     }));
  app.static_files("/", dir);
  auto port = app.start();
  for (const auto* target :
       {"/api/v1/demo/ok", "/api/v1/nowhere", "/page.html", "/__igniter/schema", "/metrics"}) {
    auto r = fetch(port, "GET", target);
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << target << " " << r.status;
  }
  // The stream's own head (written by the realtime hub, not the HTTP session).
  auto stream = exchange(port, "GET /api/v1/sse/events?channels=revalidation HTTP/1.1\r\nHost: t\r\n\r\n",
                         std::chrono::milliseconds(500));
  auto head = stream.received.substr(0, stream.received.find("\r\n\r\n"));
  EXPECT_NE(head.find("text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Content-Type-Options: nosniff"), std::string::npos) << head;
  auto own = fetch(port, "GET", "/api/v1/demo/own");
  std::size_t count = 0;
  for (const auto& [name, value] : own.headers)
    count += boost::beast::iequals(name, "X-Content-Type-Options");
  EXPECT_EQ(count, 1u);
  app.stop();
  app.wait();
  fs::remove_all(dir);
}

TEST(HostileInput, HeadOnTheStreamEndpointIs405AllowingGet) {
  TestServer server;
  Connection c(server.port());
  auto r = c.request("HEAD", "/api/v1/sse/events?channels=posts.list");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("Allow"), "GET");
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").status, 200u);  // the connection goes on
  auto options = fetch(server.port(), "OPTIONS", "/api/v1/sse/events");
  EXPECT_EQ(options.header("Allow"), "GET");
}

TEST(HostileInput, MetricsRequireTheTokenWhenOneIsSet) {
  auto options = TestServer::quiet_options();
  options.metrics_token = "s3cret-token";
  TestServer server(options);
  auto none = fetch(server.port(), "GET", "/metrics");
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(fetch(server.port(), "GET", "/metrics", {}, {{"Authorization", "Bearer s3cret-toke"}}).status,
            401u);
  EXPECT_EQ(fetch(server.port(), "GET", "/metrics", {}, {{"Authorization", "Bearer s3cret-token!"}}).status,
            401u);
  EXPECT_EQ(fetch(server.port(), "GET", "/metrics", {}, {{"Authorization", "Basic s3cret-token"}}).status,
            401u);
  auto ok = fetch(server.port(), "GET", "/metrics", {}, {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(ok.status, 200u);
  EXPECT_NE(ok.body.find("igniter_"), std::string::npos);
}

TEST(HostileInput, MetricsAreOpenWithoutAToken) {
  TestServer server;
  EXPECT_EQ(fetch(server.port(), "GET", "/metrics").status, 200u);
}

}  // namespace
}  // namespace igniter::test

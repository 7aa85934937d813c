// HTTPS: the app over TLS with a throwaway CA made for this run (make_test_ca.sh), checked with curl (a
// query, an SSE stream receiving a revalidation, ALPN, the redirect listener, HSTS), raw TLS and TCP
// clients (TLS 1.1 refused, plain HTTP on the TLS port, a client that never shakes hands), a certificate
// reload under an open stream, the C++ client over https, and the harness starting curl beside busy threads.
#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "integration/client/client_app.hpp"
#include "support/harness.hpp"

namespace igniter::test {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The throwaway CA and certificates of this process, removed at exit.
class Certificates : public ::testing::Environment {
 public:
  static const fs::path& dir() {
    static const fs::path made = [] {
      auto dir = fs::temp_directory_path() / ("igniter-tls-test-" + std::to_string(::getpid()));
      std::string command = std::string(IGNITER_MAKE_TEST_CA) + " " + dir.string();
      if (std::system(command.c_str()) != 0) throw std::runtime_error("make_test_ca.sh failed");
      return dir;
    }();
    return made;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(fs::temp_directory_path() / ("igniter-tls-test-" + std::to_string(::getpid())), ignored);
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new Certificates);

std::string ca_file() {
  return (Certificates::dir() / "ca.pem").string();
}

// The server's files, in a directory of the test's own, so that a reload can swap them: leaf `name`.
struct ServerFiles {
  explicit ServerFiles(std::string_view name) {
    static int counter = 0;
    dir = Certificates::dir() / ("server-" + std::to_string(++counter));
    fs::create_directories(dir);
    use(name);
  }
  void use(std::string_view name) const {
    fs::copy_file(Certificates::dir() / (std::string(name) + ".pem"), dir / "server.pem",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(Certificates::dir() / (std::string(name) + ".key"), dir / "server.key",
                  fs::copy_options::overwrite_existing);
  }
  fs::path dir;
};

AppOptions tls_options(const ServerFiles& files, TlsOptions extra = {}) {
  auto o = ClientTestServer::quiet();
  o.tls = std::move(extra);
  o.tls.certificate_chain_file = files.dir / "server.pem";
  o.tls.private_key_file = files.dir / "server.key";
  return o;
}

std::string https_url(std::uint16_t port, std::string_view path = "/api/v1") {
  return "https://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// Runs a program; its standard output (and error when `with_stderr`) as text.
std::string run(const std::string& command, bool with_stderr = false) {
  std::string full = command + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string out;
  char buffer[4096];
  while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

// A child process whose output is read as it comes (curl holding an SSE stream open).
class Child : public ChildProcess {
 public:
  explicit Child(std::vector<std::string> args) : ChildProcess(std::move(args), ChildOutput::capture) {}
};

// A TLS handshake with the server from a client context `context`: the server certificate's common name,
// or the error that ended the handshake.
struct Handshake {
  boost::system::error_code ec;
  std::string common_name;
};
Handshake handshake(std::uint16_t port, ssl::context& context) {
  asio::io_context io;
  ssl::stream<tcp::socket> stream(io, context);
  Handshake out;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, out.ec);
  if (out.ec) return out;
  stream.handshake(ssl::stream_base::client, out.ec);
  if (out.ec) return out;
  if (X509* cert = SSL_get1_peer_certificate(stream.native_handle())) {
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    out.common_name = name;
    X509_free(cert);
  }
  return out;
}
Handshake handshake(std::uint16_t port) {
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(ca_file());
  context.set_verify_mode(ssl::verify_peer);
  return handshake(port, context);
}

// What a plain TCP client receives after sending `bytes` (possibly nothing), until the server closes or
// `timeout` passes; `closed` says which, `elapsed` when.
struct RawRead {
  std::string received;
  bool closed = false;
  std::chrono::milliseconds elapsed{0};
};
RawRead raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds timeout) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  auto started = Clock::now();
  if (!bytes.empty()) asio::write(socket, asio::buffer(bytes));
  RawRead out;
  socket.non_blocking(true);
  while (Clock::now() - started < timeout) {
    pollfd p{socket.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buffer[4096];
    boost::system::error_code ec;
    auto n = socket.read_some(asio::buffer(buffer), ec);
    out.received.append(buffer, n);
    if (ec && ec != asio::error::would_block) {
      out.closed = true;
      break;
    }
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return out;
}

std::string curl(const std::string& args, bool with_stderr = false) {
  return run("curl -sS --max-time 10 --cacert " + ca_file() + " " + args, with_stderr);
}

// --- curl ---------------------------------------------------------------------------------------------

TEST(Https, CurlQueryAnswersOverTlsWithHttp11NegotiatedByAlpn) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  auto verbose = curl("-v " + https_url(server.port(), "/api/v1/posts/"), true);
  EXPECT_NE(verbose.find("ALPN: offers h2,http/1.1"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("ALPN: server accepted http/1.1"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find("< HTTP/1.1 200 OK"), std::string::npos) << verbose;
  EXPECT_NE(verbose.find(R"({"data":{"posts":[]},"error":null})"), std::string::npos) << verbose;
  // The certificate is verified against the test CA, by name and by address.
  auto by_name = curl("-o /dev/null -w '%{http_code}' https://localhost:" + std::to_string(server.port()) +
                      "/api/v1/posts/");
  EXPECT_EQ(by_name, "200");
}

TEST(Https, CurlStreamReceivesARevalidationAfterAMutation) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  Child stream({"curl", "-sSN", "--max-time", "20", "--cacert", ca_file(),
                https_url(server.port(), "/api/v1/sse/events")});
  ASSERT_TRUE(stream.read_until("event: connected")) << stream.text();
  auto created =
      curl("-o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{\"title\":\"t\"}' " +
           https_url(server.port(), "/api/v1/posts/"));
  EXPECT_EQ(created, "201");
  ASSERT_TRUE(stream.read_until("event: revalidate")) << stream.text();
  EXPECT_NE(stream.text().find("posts.list"), std::string::npos) << stream.text();
}

TEST(Https, RedirectListenerAnswers308ToHttpsAndCurlFollowsIt) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files, {.redirect_port = 0}));
  auto redirect = server.app().redirect_port();
  ASSERT_NE(redirect, 0);
  auto answer =
      run("curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{redirect_url}' 'http://127.0.0.1:" +
          std::to_string(redirect) + "/api/v1/posts/?q=1'");
  EXPECT_EQ(answer, "308 https://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/posts/?q=1");
  auto followed =
      curl("-L -o /dev/null -w '%{http_code} %{scheme}' 'http://127.0.0.1:" + std::to_string(redirect) +
           "/api/v1/posts/'");
  EXPECT_EQ(followed, "200 HTTPS");
}

TEST(Https, AnswersCarryHstsWhenConfigured) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files, {.hsts_max_age = std::chrono::seconds(600)}));
  auto head = curl("-D - -o /dev/null " + https_url(server.port(), "/api/v1/posts/"));
  EXPECT_NE(head.find("Strict-Transport-Security: max-age=600"), std::string::npos) << head;
}

TEST(Https, AnAnswerLargerThanOneTlsRecordArrivesWholeTwiceOnOneConnection) {
  // Head and body are one gather-write; over TLS a body past one record (16 KiB) once never left.
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  std::string content(40000, 'x');
  auto created = curl(
      "-o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{\"title\":\"big\","
      "\"content\":\"" +
      content + "\"}' " + https_url(server.port(), "/api/v1/posts/"));
  ASSERT_EQ(created, "201");
  auto url = https_url(server.port(), "/api/v1/posts/1");
  // Two requests, one connection (curl reuses it): sizes of the whole answers, one per line.
  auto sizes = curl("-o /dev/null -o /dev/null -w '%{http_code} %{size_download} %{num_connects}\\n' " + url +
                    " " + url);
  auto expected = std::to_string(
      std::string(R"({"data":{"id":1,"title":"big","content":"","author":"anonymous"},"error":null})")
          .size() +
      content.size());
  EXPECT_EQ(sizes, "200 " + expected + " 1\n200 " + expected + " 0\n") << sizes;
}

TEST(Https, TheStreamHeadAndAStreamRefusalCarryHstsWhenConfigured) {
  ServerFiles files("a");
  auto options = tls_options(files, {.hsts_max_age = std::chrono::seconds(600)});
  options.realtime.max_streams_per_address = 1;  // a second stream is refused (429)
  ClientTestServer server(options);
  Child stream({"curl", "-sSN", "-D", "-", "--max-time", "20", "--cacert", ca_file(),
                https_url(server.port(), "/api/v1/sse/events")});
  ASSERT_TRUE(stream.read_until("event: connected")) << stream.text();
  auto head = stream.text().substr(0, stream.text().find("\r\n\r\n") + 2);
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("Strict-Transport-Security: max-age=600\r\n"), std::string::npos) << head;
  // A stream refused outright (over the per-address limit) too.
  auto refused = curl("-D - -o /dev/null " + https_url(server.port(), "/api/v1/sse/events"));
  EXPECT_NE(refused.find("HTTP/1.1 429"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Strict-Transport-Security: max-age=600\r\n"), std::string::npos) << refused;
  // Without the setting, no HSTS anywhere.
  ClientTestServer plain(tls_options(files));
  Child unset({"curl", "-sSN", "-D", "-", "--max-time", "20", "--cacert", ca_file(),
               https_url(plain.port(), "/api/v1/sse/events")});
  ASSERT_TRUE(unset.read_until("event: connected")) << unset.text();
  EXPECT_EQ(unset.text().find("Strict-Transport-Security"), std::string::npos) << unset.text();
}

// --- protocol and hostile clients -------------------------------------------------------------------

TEST(Https, Tls11IsRefusedByTheServer) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  ssl::context old(ssl::context::tls_client);
  SSL_CTX_set_security_level(old.native_handle(), 0);  // let this client offer TLS 1.1 at all
  SSL_CTX_set_min_proto_version(old.native_handle(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(old.native_handle(), "DEFAULT@SECLEVEL=0");
  auto refused = handshake(server.port(), old);
  ASSERT_TRUE(refused.ec);
  // The server's alert, not a client-side refusal to offer the version.
  EXPECT_NE(refused.ec.message().find("protocol version"), std::string::npos) << refused.ec.message();
  // TLS 1.2 exactly is served.
  ssl::context tls12(ssl::context::tls_client);
  tls12.load_verify_file(ca_file());
  tls12.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_max_proto_version(tls12.native_handle(), TLS1_2_VERSION);
  auto served = handshake(server.port(), tls12);
  EXPECT_FALSE(served.ec) << served.ec.message();
}

TEST(Https, PlainHttpOnTheTlsPortIsClosedWithoutAnAnswerAndTheServerGoesOn) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  auto plain = raw_exchange(server.port(), "GET /api/v1/posts/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3s);
  EXPECT_TRUE(plain.closed);
  EXPECT_LT(plain.elapsed, 2s);
  EXPECT_EQ(plain.received.rfind("HTTP/", 0), std::string::npos) << plain.received;
  EXPECT_EQ(curl("-o /dev/null -w '%{http_code}' " + https_url(server.port(), "/api/v1/posts/")), "200");
  // Counted (and logged at most once per interval), not an error line per connection.
  auto metrics = curl(https_url(server.port(), "/metrics"));
  EXPECT_NE(metrics.find("igniter_tls_handshake_failures_total 1\n"), std::string::npos) << metrics;
}

TEST(Https, AClientThatNeverShakesHandsIsClosedAfterTheHandshakeTimeout) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files, {.handshake_timeout = 300ms}));
  auto silent = raw_exchange(server.port(), "", 5s);
  EXPECT_TRUE(silent.closed);
  EXPECT_GE(silent.elapsed, 250ms);
  EXPECT_LT(silent.elapsed, 2s);  // the timeout plus at most a sweep period
  EXPECT_TRUE(silent.received.empty());
}

TEST(Https, AStalledTlsStreamIsCutAtItsBoundWhileAnotherReceivesEverything) {
  ServerFiles files("a");
  auto options = tls_options(files);
  options.realtime.max_pending_bytes = 64 * 1024;
  options.realtime.history_max_events = 16;
  ClientTestServer server(options);

  // The stalled client (small events and bulk): a small receive buffer, the stream's head and
  // `connected` read, then nothing.
  asio::io_context io;
  ssl::context context(ssl::context::tls_client);
  ssl::stream<tcp::socket> stalled(io, context);
  stalled.next_layer().open(tcp::v4());
  stalled.next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
  stalled.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
  stalled.handshake(ssl::stream_base::client);
  std::string head = "GET /api/v1/sse/events?channels=small,bulk HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  asio::write(stalled, asio::buffer(head));
  std::string seen;
  char buffer[4096];
  while (seen.find("event: connected") == std::string::npos)
    seen.append(buffer, stalled.read_some(asio::buffer(buffer)));

  // The reading client: the small events only.
  client::Client api(https_url(server.port()), {.tls_ca_file = ca_file()});
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"small"}));
  ASSERT_TRUE(recorder.wait_connected(1));

  // 6.4 MB of bulk: more than the stalled client's socket buffers and its bound hold.
  constexpr int kBursts = 20;
  const std::string pad(16 * 1024, 'b');
  int n = 0;
  for (int burst = 0; burst < kBursts; ++burst) {
    for (int i = 0; i < 5; ++i) server.app().realtime().publish("small", json::encode(Message{++n, "small"}));
    for (int i = 0; i < 20; ++i) server.app().realtime().publish("bulk", json::object{{"pad", pad}});
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(recorder.wait_events(static_cast<std::size_t>(n))) << recorder.events().size() << " events";
  EXPECT_EQ(numbers(recorder.events(), "small"), one_to(n));
  EXPECT_EQ(recorder.connected().size(), 1u);  // never cut
  auto deadline = Clock::now() + 5s;
  while (server.app().realtime().stats().slow_client_disconnects == 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.app().realtime().stats().slow_client_disconnects, 1u);
  EXPECT_EQ(server.app().realtime().stats().connections, 1u);  // only the reading client's stream
}

// --- session resumption ----------------------------------------------------------------------------

// One connection: handshake (offering `session` when given), a GET whose answer is read (TLS 1.3 tickets
// arrive after the handshake, read with the answer), close. Whether the session was resumed, and the
// session to offer next time.
struct Visit {
  bool ok = false;
  bool resumed = false;
  std::shared_ptr<SSL_SESSION> session;
};
Visit visit(std::uint16_t port, ssl::context& context, SSL_SESSION* session = nullptr) {
  asio::io_context io;
  ssl::stream<tcp::socket> stream(io, context);
  Visit out;
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return out;
  if (session) SSL_set_session(stream.native_handle(), session);
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return out;
  std::string request = "GET /api/v1/posts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(stream, asio::buffer(request), ec);
  std::string answer;
  char buffer[4096];
  while (!ec) answer.append(buffer, stream.read_some(asio::buffer(buffer), ec));
  out.ok = answer.rfind("HTTP/1.1 200", 0) == 0;
  out.resumed = SSL_session_reused(stream.native_handle()) == 1;
  out.session.reset(SSL_get1_session(stream.native_handle()), SSL_SESSION_free);
  // The server closed (Connection: close) without close_notify. Freeing a connection that was not shut
  // down makes OpenSSL mark its session not resumable: say it was, as a browser's TLS stack does.
  SSL_set_shutdown(stream.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  return out;
}

ssl::context verifying_client(int max_version = 0) {
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(ca_file());
  context.set_verify_mode(ssl::verify_peer);
  if (max_version) SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
  return context;
}

TEST(Https, AReconnectingClientResumesItsSessionOverTls13AndTls12) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  for (int version : {0, TLS1_2_VERSION}) {
    auto context = verifying_client(version);
    auto first = visit(server.port(), context);
    ASSERT_TRUE(first.ok);
    EXPECT_FALSE(first.resumed);
    ASSERT_TRUE(first.session);
    auto again = visit(server.port(), context, first.session.get());
    ASSERT_TRUE(again.ok) << version;
    EXPECT_TRUE(again.resumed) << "version " << version << ": a full handshake again";
  }
}

TEST(Https, SessionsStillResumeAfterACertificateReload) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  auto context = verifying_client();
  auto first = visit(server.port(), context);
  ASSERT_TRUE(first.ok);
  ASSERT_TRUE(server.app().reload_tls());  // the same certificate, as a SIGHUP after a renewal would
  auto again = visit(server.port(), context, first.session.get());
  ASSERT_TRUE(again.ok);
  EXPECT_TRUE(again.resumed) << "the reload dropped the ticket keys";
}

TEST(Https, ResumptionIsOffWithAZeroSessionLifetime) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files, {.session_lifetime = std::chrono::seconds(0)}));
  auto context = verifying_client();
  auto first = visit(server.port(), context);
  ASSERT_TRUE(first.ok);
  auto again = visit(server.port(), context, first.session.get());
  ASSERT_TRUE(again.ok);
  EXPECT_FALSE(again.resumed);
}

// --- reload --------------------------------------------------------------------------------------------

TEST(Https, ReloadKeepsAnOpenStreamAndNewConnectionsSeeTheNewCertificate) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  EXPECT_EQ(handshake(server.port()).common_name, "igniter-test-a");

  client::Client api(https_url(server.port()), {.tls_ca_file = ca_file()});
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"news"}));
  ASSERT_TRUE(recorder.wait_connected(1));

  files.use("b");
  ASSERT_TRUE(server.app().reload_tls());
  EXPECT_EQ(handshake(server.port()).common_name, "igniter-test-b");

  server.app().realtime().publish("news", json::encode(Message{1, "after the reload"}));
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_EQ(numbers(recorder.events(), "news"), std::vector<int>{1});
  EXPECT_EQ(recorder.connected().size(), 1u);  // the same stream: it never reconnected

  // A bad file: the reload fails, the certificate in force stays.
  std::ofstream(files.dir / "server.key") << "not a key\n";
  EXPECT_FALSE(server.app().reload_tls());
  EXPECT_EQ(handshake(server.port()).common_name, "igniter-test-b");
}

TEST(Https, StartFailsWithAMessageNamingAnUnreadableCertificate) {
  ServerFiles files("a");
  auto options = tls_options(files);
  options.tls.certificate_chain_file = files.dir / "missing.pem";
  App app(options);
  try {
    app.start();
    FAIL() << "start() did not throw";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("missing.pem"), std::string::npos) << error.what();
  }
}

// --- the harness ------------------------------------------------------------------------------------

// The curl of a test starts while the in-process server's threads allocate. A child that allocated
// between fork and exec could inherit an allocator lock held by one of them and hang forever (ASan's
// allocator is not reset in the child as glibc's is): the first stream of
// TheStreamHeadAndAStreamRefusalCarryHstsWhenConfigured then went unanswered for 10 s in the ASan build.
TEST(ChildProcessHarness, AChildStartedWhileOtherThreadsAllocateRunsItsProgram) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> allocators;
  for (int t = 0; t < 2; ++t)
    allocators.emplace_back([&stop] {
      // Blocks of the sizes a child's argument list takes, so their allocator locks are taken all the time.
      std::vector<std::unique_ptr<char[]>> blocks(512);
      for (std::size_t i = 0; !stop.load(std::memory_order_relaxed); ++i)
        blocks[i % blocks.size()] = std::make_unique<char[]>(8 << (i % 5));
    });
  int ran = 0;
  for (int i = 0; i < 40; ++i) {
    // From a new thread each time: its allocator cache is empty, so an allocation in the child would take
    // a shared lock (the main thread's cache only sometimes is).
    bool answered = false;
    std::thread([&answered] {
      Child child({"echo", "ran"});
      answered = child.read_until("ran", 5s);
    }).join();
    if (!answered) break;
    ++ran;
  }
  stop = true;
  for (auto& thread : allocators) thread.join();
  EXPECT_EQ(ran, 40);
}

// --- the C++ client ----------------------------------------------------------------------------------

TEST(HttpsClient, CallsAndSubscriptionsWorkOverHttps) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  client::Client api(https_url(server.port()), {.tls_ca_file = ca_file()});
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"news"}));
  ASSERT_TRUE(recorder.wait_connected(1));

  auto created = api.post<Post>("/posts", CreatePost{.title = "over TLS"});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->title, "over TLS");
  auto list = api.get<PostList>("/posts");  // on the kept-alive connection
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->posts.size(), 1u);

  server.app().realtime().publish("news", json::encode(Message{7, "seven"}));
  ASSERT_TRUE(recorder.wait_events(1));
  EXPECT_EQ(numbers(recorder.events(), "news"), std::vector<int>{7});

  client::Client by_name("https://localhost:" + std::to_string(server.port()) + "/api/v1",
                         {.tls_ca_file = ca_file()});
  EXPECT_TRUE(by_name.get<PostList>("/posts"));
}

TEST(HttpsClient, AnUntrustedCertificateFailsWithTlsFailed) {
  ServerFiles files("a");
  ClientTestServer server(tls_options(files));
  client::Client api(https_url(server.port()));  // the system's CAs: the test CA is not among them
  auto list = api.get<PostList>("/posts");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().ec, client::errc::tls_failed);
  EXPECT_NE(list.error().message.find("certificate verify failed"), std::string::npos)
      << list.error().message;
}

TEST(HttpsClient, ACertificateForAnotherHostFailsWithTlsFailed) {
  ServerFiles files("other");
  ClientTestServer server(tls_options(files));
  client::Client api(https_url(server.port()), {.tls_ca_file = ca_file()});
  auto list = api.get<PostList>("/posts");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().ec, client::errc::tls_failed);
  // Verification off (tests only): the same server answers.
  client::Client unchecked(https_url(server.port()), {.tls_verify = false});
  EXPECT_TRUE(unchecked.get<PostList>("/posts"));
}

}  // namespace
}  // namespace igniter::test

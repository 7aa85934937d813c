// The TLS row of the benchmark: the same two measures over plain TCP and over TLS against igniter_bench
// (started with or without TLS_CERT_FILE/TLS_KEY_FILE), from one Asio event loop.
//
//   tls_bench fanout  PORT [--tls] [--subscribers N] [--seconds S]
//     N SSE subscribers to channel "bench"; a publisher (its own thread, one keep-alive connection)
//     POSTs /api/v1/bench/publish back to back for S seconds; prints the events counted at the clients
//     per second (deliveries/s).
//   tls_bench connect PORT [--tls [--resume]] [--concurrency C] [--seconds S]
//     C loops that each connect, shake hands, GET /api/v1/bench/query with `Connection: close`, read the
//     answer and close; prints connections/s. A full handshake every time, unless --resume: then each
//     loop offers the session (ticket) of its previous connection, as a reconnecting browser does, and
//     the count of resumed handshakes is printed too.
//
// One JSON line on stdout. The certificate is not verified (the client's cost is the handshake, not
// the chain check). See bench/notes.md, "TLS".
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string mode;
  std::uint16_t port = 0;
  bool tls = false;
  bool resume = false;
  int subscribers = 1000;
  int concurrency = 16;
  double seconds = 5;
};

// A connection: plain, or TLS over TCP; one branch per operation.
class Conn {
 public:
  Conn(asio::io_context& io, ssl::context* tls) : socket_(io) {
    if (tls) tls_ = std::make_unique<ssl::stream<tcp::socket>>(io, *tls);
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  SSL* native() { return tls_ ? tls_->native_handle() : nullptr; }
  template <class F>
  void start(const tcp::endpoint& endpoint, F done) {
    socket().async_connect(endpoint, [this, done](error_code ec) mutable {
      if (ec || !tls_) return done(ec);
      socket().set_option(tcp::no_delay(true));
      tls_->async_handshake(ssl::stream_base::client, done);
    });
  }
  template <class F>
  void write(const std::string& bytes, F done) {
    if (tls_)
      asio::async_write(*tls_, asio::buffer(bytes), done);
    else
      asio::async_write(socket_, asio::buffer(bytes), done);
  }
  template <class F>
  void read_some(char* data, std::size_t size, F done) {
    if (tls_)
      tls_->async_read_some(asio::buffer(data, size), done);
    else
      socket_.async_read_some(asio::buffer(data, size), done);
  }
  void close() {
    error_code ignored;
    socket().close(ignored);
  }

 private:
  tcp::socket socket_;
  std::unique_ptr<ssl::stream<tcp::socket>> tls_;
};

// Counts `needle` in a byte stream that arrives in pieces.
struct Counter {
  std::string_view needle;
  std::string tail;
  std::uint64_t count = 0;
  void feed(std::string_view piece) {
    std::string text = tail;
    text.append(piece);
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size()))
      ++count;
    auto keep = std::min(text.size(), needle.size() - 1);
    tail = text.substr(text.size() - keep);
  }
};

struct Subscriber {
  Subscriber(asio::io_context& io, ssl::context* tls) : conn(io, tls) {}
  Conn conn;
  char buffer[16 * 1024];
  Counter events{"event: message\n"};
  Counter connected{"event: connected\n"};
  std::string request;
  void read() {
    conn.read_some(buffer, sizeof buffer, [this](error_code ec, std::size_t n) {
      if (ec) return;
      std::string_view piece(buffer, n);
      events.feed(piece);
      connected.feed(piece);
      read();
    });
  }
};

std::string request_line(std::string_view method, std::string_view target, std::uint16_t port,
                         std::string_view body = {}, bool close = false) {
  std::string r = std::string(method) + " " + std::string(target) +
                  " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (close) r += "Connection: close\r\n";
  if (!body.empty())
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

ssl::context client_context() {
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_none);
  return context;
}

// Posts events back to back over one keep-alive connection until `stop`; returns how many were answered.
std::uint64_t publish_until(const Settings& s, std::atomic<bool>& stop) {
  asio::io_context io;
  auto context = client_context();
  Conn conn(io, s.tls ? &context : nullptr);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), s.port);
  error_code result;
  conn.start(endpoint, [&](error_code ec) { result = ec; });
  io.run();
  if (result) return 0;
  std::uint64_t published = 0;
  char buffer[4096];
  Counter ends{"\"error\":null}"};  // the last bytes of every answer's envelope
  auto request = request_line("POST", "/api/v1/bench/publish", s.port, R"({"n":1})");
  std::function<void()> read = [&] {
    conn.read_some(buffer, sizeof buffer, [&](error_code ec, std::size_t n) {
      if (ec) return;
      ends.feed({buffer, n});
      if (ends.count <= published) read();
    });
  };
  while (!stop.load()) {
    io.restart();
    conn.write(request, [&](error_code ec, std::size_t) {
      if (!ec) read();
    });
    io.run();
    if (ends.count <= published) break;  // the connection failed
    ++published;
  }
  return published;
}

int fanout(const Settings& s) {
  asio::io_context io;
  auto context = client_context();
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), s.port);
  std::vector<std::unique_ptr<Subscriber>> subs;
  auto request = request_line("GET", "/api/v1/sse/events?channels=bench", s.port);
  for (int i = 0; i < s.subscribers; ++i) {
    auto sub = std::make_unique<Subscriber>(io, s.tls ? &context : nullptr);
    auto* raw = sub.get();
    raw->request = request;
    raw->conn.start(endpoint, [raw](error_code ec) {
      if (ec) return;
      raw->conn.write(raw->request, [raw](error_code ec2, std::size_t) {
        if (!ec2) raw->read();
      });
    });
    subs.push_back(std::move(sub));
  }
  // Until every subscriber has its `connected` frame (at most 60 s).
  auto deadline = Clock::now() + std::chrono::seconds(60);
  auto all_connected = [&] {
    for (auto& sub : subs)
      if (sub->connected.count == 0) return false;
    return true;
  };
  while (!all_connected() && Clock::now() < deadline) io.run_for(std::chrono::milliseconds(50));
  if (!all_connected()) {
    std::fprintf(stderr, "tls_bench: not every subscriber connected within 60 s\n");
    return 1;
  }
  std::atomic<bool> stop{false};
  std::uint64_t published = 0;
  std::thread publisher([&] { published = publish_until(s, stop); });
  auto started = Clock::now();
  io.run_for(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds)));
  stop = true;
  auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::uint64_t delivered = 0;
  for (auto& sub : subs) delivered += sub->events.count;
  publisher.join();
  std::printf(
      "{\"mode\":\"fanout\",\"tls\":%s,\"subscribers\":%d,\"seconds\":%.2f,\"published\":%llu,"
      "\"deliveries_per_second\":%.0f}\n",
      s.tls ? "true" : "false", s.subscribers, elapsed, static_cast<unsigned long long>(published),
      static_cast<double>(delivered) / elapsed);
  return 0;
}

struct ConnectLoop {
  asio::io_context& io;
  ssl::context* tls;
  tcp::endpoint endpoint;
  std::string request;
  Clock::time_point deadline;
  std::uint64_t completed = 0, failed = 0;
  std::unique_ptr<Conn> conn;
  char buffer[16 * 1024];
  bool resume = false;
  std::uint64_t resumed = 0;
  std::shared_ptr<SSL_SESSION> session;  // of the previous connection, offered to the next (--resume)

  void next() {
    if (Clock::now() >= deadline) return;
    conn = std::make_unique<Conn>(io, tls);
    if (resume && session && conn->native()) SSL_set_session(conn->native(), session.get());
    conn->start(endpoint, [this](error_code ec) {
      if (ec) return fail();
      conn->write(request, [this](error_code ec2, std::size_t) {
        if (ec2) return fail();
        read();
      });
    });
  }
  void read() {
    conn->read_some(buffer, sizeof buffer, [this](error_code ec, std::size_t) {
      if (!ec) return read();
      // The server closes after the answer (Connection: close): EOF, or a TLS stream ended without
      // close_notify, is the normal end.
      ++completed;
      if (resume && conn->native()) {
        resumed += SSL_session_reused(conn->native()) == 1;
        session.reset(SSL_get1_session(conn->native()), SSL_SESSION_free);
        // Freed without a shutdown, OpenSSL would mark the session not resumable (the server closed
        // without close_notify: that is the end of the answer here).
        SSL_set_shutdown(conn->native(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
      }
      conn->close();
      next();
    });
  }
  void fail() {
    ++failed;
    conn->close();
    next();
  }
};

int connect_rate(const Settings& s) {
  asio::io_context io;
  auto context = client_context();
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), s.port);
  auto started = Clock::now();
  auto deadline =
      started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
  std::vector<std::unique_ptr<ConnectLoop>> loops;
  for (int i = 0; i < s.concurrency; ++i) {
    loops.push_back(std::make_unique<ConnectLoop>(
        ConnectLoop{io,
                    s.tls ? &context : nullptr,
                    endpoint,
                    request_line("GET", "/api/v1/bench/query", s.port, {}, true),
                    deadline,
                    0,
                    0,
                    nullptr,
                    {},
                    s.resume,
                    0,
                    nullptr}));
    loops.back()->next();
  }
  io.run();
  auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::uint64_t completed = 0, failed = 0, resumed = 0;
  for (auto& loop : loops) {
    completed += loop->completed;
    failed += loop->failed;
    resumed += loop->resumed;
  }
  std::printf(
      "{\"mode\":\"connect\",\"tls\":%s,\"resume\":%s,\"concurrency\":%d,\"seconds\":%.2f,"
      "\"failed\":%llu,\"resumed\":%llu,\"connections_per_second\":%.0f}\n",
      s.tls ? "true" : "false", s.resume ? "true" : "false", s.concurrency, elapsed,
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(resumed),
      static_cast<double>(completed) / elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: tls_bench fanout|connect PORT [--tls [--resume]] [--subscribers N] [--concurrency C] "
        "[--seconds S]\n");
    return 2;
  }
  s.mode = argv[1];
  s.port = static_cast<std::uint16_t>(std::atoi(argv[2]));
  for (int i = 3; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&] { return i + 1 < argc ? argv[++i] : "0"; };
    if (arg == "--tls")
      s.tls = true;
    else if (arg == "--resume")
      s.resume = true;
    else if (arg == "--subscribers")
      s.subscribers = std::atoi(value());
    else if (arg == "--concurrency")
      s.concurrency = std::atoi(value());
    else if (arg == "--seconds")
      s.seconds = std::atof(value());
  }
  if (s.mode == "fanout") return fanout(s);
  if (s.mode == "connect") return connect_rate(s);
  std::fprintf(stderr, "tls_bench: unknown mode '%s'\n", s.mode.c_str());
  return 2;
}

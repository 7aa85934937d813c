// The real C++ client (igniter::client::Client, its pool, cookie jar and answer handling) against a
// hostile server: a loopback server thread answers the first request of each input with the input's
// bytes, then closes; the client makes three calls in a row (the later ones on the kept-alive connection,
// or a new one that gets nothing). No call may throw, crash or hang (the client's timeout is 2 s, far
// under libFuzzer's -timeout).
//
// Input: one control byte (bit 7: then send the last 64 bytes again for 1 or 2 MiB, bit 0), then what the
// server sends. Run with -malloc_limit_mb=1: the client's buffers must stay bounded (max_body_bytes is
// 256 KiB here).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "igniter/client/client.hpp"
#include "support.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Serves one connection at a time: reads a request head, writes the current script (for the first
// connection of an input only), closes.
class HostileServer {
 public:
  HostileServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
    thread_.detach();  // lives as long as the process
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void set_script(std::string bytes, std::size_t extra) {
    std::lock_guard lock(mutex_);
    script_ = std::move(bytes);
    extra_ = extra;
    fresh_ = true;
  }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) continue;
      std::string script;
      std::size_t extra = 0;
      {
        std::lock_guard lock(mutex_);
        if (fresh_) {
          script = script_;
          extra = extra_;
          fresh_ = false;
        }
      }
      asio::streambuf head;
      asio::read_until(socket, head, "\r\n\r\n", ec);
      if (ec) continue;
      asio::write(socket, asio::buffer(script), ec);
      if (!ec && extra && !script.empty()) {
        auto tail = script.substr(script.size() - std::min<std::size_t>(64, script.size()));
        std::string unit;
        while (unit.size() < 64 * 1024) unit += tail;
        for (std::size_t sent = 0; sent < extra && !ec; sent += unit.size())
          asio::write(socket, asio::buffer(unit), ec);
      }
      socket.shutdown(tcp::socket::shutdown_send, ec);
      // Let the client read to the end before the close (a close with unread input would reset it).
      char sink[4096];
      while (!ec) socket.read_some(asio::buffer(sink), ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::string script_;
  std::size_t extra_ = 0;
  bool fresh_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static HostileServer* server = new HostileServer();
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::size_t extra = (control & 0x80) ? (std::size_t{(control & 1u) + 1u} << 20) : 0;
  server->set_script(std::string(input.rest()), extra);

  igniter::client::ClientOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.max_body_bytes = 256 * 1024;
  igniter::client::Client client("http://127.0.0.1:" + std::to_string(server->port()), options);
  for (int call = 0; call < 3; ++call) {
    auto reply = client.call_json(igniter::Method::GET, "/api/v1/posts", {});
    if (!reply) (void)reply.error().issues.size();
  }
  return 0;
}

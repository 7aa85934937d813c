// The server's HTTP/1.1 reading as it runs: one real HttpSession of a real App::Impl (routes, input
// decoding, static-less unrouted answers, the SSE hand-off) per input, over a loopback TCP connection.
//
// Input: one control byte, then the bytes the client sends. Control bit 7 set: after the payload, its last
// (up to) 64 bytes are sent again and again until 1 or 2 MiB (bit 0) have gone, so a small input can test
// that what the server buffers stays bounded while a client keeps sending (an endless header, chunk-size
// line or body): run with -malloc_limit_mb below that size. A tail holding an empty line repeats whole
// requests: that is pipelining, which the server answers one by one (2 MiB of them take a minute per
// input under ASan), so it is repeated only until 128 KiB have gone. The client then closes its sending side
// and reads until the server closes; the session must be gone and the connection count back to zero.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "igniter/igniter.hpp"
#include "server/app_impl.hpp"
#include "server/http_session.hpp"
#include "support.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using igniter::Ctx;
using igniter::Params;
using igniter::Query;

struct Author {
  std::string name;
  std::optional<std::string> email;
  static void rules(igniter::json::Rules<Author>& r) {
    r.field(&Author::name).non_empty().max_length(50);
    r.field(&Author::email).email();
  }
};
BOOST_DESCRIBE_STRUCT(Author, (), (name, email))

struct Item {
  std::string title;
  std::vector<std::string> tags;
  int priority = 0;
  Author author;
  static void rules(igniter::json::Rules<Item>& r) {
    r.field(&Item::title).non_empty().max_length(100).pattern("^[A-Za-z ]+$");
    r.field(&Item::tags).max_items(5);
    r.field(&Item::priority).min(0).max(10).optional();
  }
};
BOOST_DESCRIBE_STRUCT(Item, (), (title, tags, priority, author))

struct ItemId {
  int id = 0;
};
BOOST_DESCRIBE_STRUCT(ItemId, (), (id))

struct Page {
  std::optional<int> page;
  std::vector<std::string> tag;
};
BOOST_DESCRIBE_STRUCT(Page, (), (page, tag))

igniter::AppOptions options() {
  igniter::AppOptions o;
  o.base_path = "/api";
  o.worker_threads = 0;  // handlers run inline, on the one thread the harness runs
  o.max_body_bytes = 64 * 1024;
  o.max_header_bytes = 8 * 1024;
  o.log_level = igniter::LogLevel::off;
  o.metrics_path = "";  // Hub::stats waits for the app's shards, which this harness does not run
  return o;
}

struct Harness {
  igniter::App::Impl app{options()};
  igniter::server::Shard shard{0};
  tcp::acceptor acceptor{shard.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};

  Harness() {
    auto items = igniter::controller("items", "/items")
                     .query("list", "/",
                            [](Ctx& c, Query<Page> q) {
                              return c.response.success(igniter::json::object{{"page", q->page.value_or(1)}});
                            })
                     .query("get", "/:id",
                            [](Ctx& c, Params<ItemId> p) {
                              return c.response.success(igniter::json::object{{"id", p->id}});
                            })
                     .mutation("create", igniter::POST, "/",
                               [](Ctx& c, const Item& item) { return c.response.created(item); })
                     .mutation("small", igniter::PUT, "/small", igniter::ActionOptions{.max_body_bytes = 16},
                               [](Ctx& c, const Item& item) { return c.response.success(item); });
    app.add_controller(items, false);
  }
};

Harness& harness() {
  static Harness* h = new Harness();  // never destroyed: libFuzzer exits without running destructors
  return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& h = harness();
  igniter::fuzz::Input input(data, size);
  const auto control = input.take();
  const std::string payload(input.rest());
  std::size_t amplify = (control & 0x80) ? (std::size_t{(control & 1u) + 1u} << 20) : 0;
  std::string unit;
  if (amplify && !payload.empty()) {
    auto tail = payload.substr(payload.size() - std::min<std::size_t>(64, payload.size()));
    while (unit.size() < 64 * 1024) unit += tail;
    if (tail.find("\r\n\r\n") != std::string::npos || tail.find("\n\n") != std::string::npos)
      amplify = 128 * 1024;
  } else {
    amplify = 0;
  }

  auto& io = h.shard.io;
  tcp::socket client(io), server(io);
  // libFuzzer's timers send signals that can interrupt these blocking calls (EINTR): retry them, the
  // harness must not fail on its own plumbing.
  boost::system::error_code ec;
  // A connect the signal interrupted goes on in the kernel: retrying it says "already" until it is done.
  do client.connect(h.acceptor.local_endpoint(), ec);
  while (ec == asio::error::interrupted || ec == asio::error::already_started);
  if (ec == asio::error::already_connected) ec = {};
  if (ec) throw boost::system::system_error(ec, "fuzz harness: connect");
  do h.acceptor.accept(server, ec);
  while (ec == asio::error::interrupted);
  if (ec) throw boost::system::system_error(ec, "fuzz harness: accept");
  h.app.connections.open.fetch_add(1);
  std::make_shared<igniter::server::HttpSession>(h.app, h.shard, igniter::server::Stream(std::move(server)))
      ->start();

  bool writing = true, reading = true;
  std::size_t sent = 0;
  std::function<void()> write_more = [&] {
    if (sent >= payload.size() + amplify) {
      boost::system::error_code ignored;
      client.shutdown(tcp::socket::shutdown_send, ignored);
      writing = false;
      return;
    }
    auto bytes = sent < payload.size()
                     ? asio::buffer(payload.data() + sent, payload.size() - sent)
                     : asio::buffer(unit.data(), std::min(unit.size(), payload.size() + amplify - sent));
    asio::async_write(client, bytes, [&](boost::system::error_code ec, std::size_t n) {
      sent += n;
      if (ec) {
        writing = false;
        return;
      }
      write_more();
    });
  };
  write_more();
  std::vector<char> sink(64 * 1024);
  std::function<void()> read_more = [&] {
    client.async_read_some(asio::buffer(sink), [&](boost::system::error_code ec, std::size_t) {
      if (ec) {
        reading = false;
        return;
      }
      read_more();
    });
  };
  read_more();

  io.restart();
  while (writing || reading) io.run_one();
  io.poll();
  boost::system::error_code ignored;
  client.close(ignored);
  io.poll();
  if (!h.shard.sessions.empty()) igniter::fuzz::fail("an HTTP session outlived its connection");
  if (h.app.connections.open.load() != 0) igniter::fuzz::fail("the connection count did not return to zero");
  return 0;
}

// igniter::client against a hostile server (a raw TCP server writing the bytes each test chooses): what a
// server sends can make a call or a stream fail, as an Error value, but never throw, abort the program,
// shift answers between calls, or grow the client's memory without bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "integration/client/client_app.hpp"
#include "integration/client/hostile_server.hpp"

namespace igniter::test {
namespace {

using std::chrono::milliseconds;

// The value of header `name` (as the client wrote it) in a request head; "" when absent.
std::string header_value(std::string_view head, std::string_view name) {
  auto key = "\r\n" + std::string(name) + ": ";
  auto at = head.find(key);
  if (at == std::string_view::npos) return {};
  auto start = at + key.size();
  return std::string(head.substr(start, head.find("\r\n", start) - start));
}

constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";

std::string connected_frame(std::string_view last_event_id = "") {
  return "event: connected\ndata: {\"connectionId\":\"c1\",\"channels\":[\"a\"],\"lastEventId\":" +
         std::string(json::stringify(json::string(last_event_id))) + "}\n\n";
}

client::BackoffOptions quick() {
  return {.initial = milliseconds(20), .max = milliseconds(100)};
}

TEST(ClientHostileServer, CookiesPastAnyLimitStayBoundedAndNeitherCallsNorStreamsThrow) {
  std::atomic<int> answered{0};
  std::atomic<std::size_t> largest_cookie_header{0};
  HostileServer server([&](HostileConnection& c) {
    for (std::string head; !(head = c.read_request()).empty();) {
      auto cookie = header_value(head, "Cookie");
      largest_cookie_header = std::max(largest_cookie_header.load(), cookie.size());
      if (head.starts_with("GET /api/sse/events")) {
        c.write(std::string(kStreamHead) + connected_frame());
        c.wait_closed();
        return;
      }
      // 20 new cookies of 3000 bytes each per answer: 60 KB, more than a request field can carry.
      int n = answered++;
      std::string cookies;
      for (int i = 0; i < 20; ++i)
        cookies += "Set-Cookie: c" + std::to_string(n) + "_" + std::to_string(i) + "=" +
                   std::string(3000, 'v') + "; Path=/\r\n";
      c.write(json_answer(std::to_string(n), cookies));
    }
  });
  client::Client api(server.url());
  for (int i = 0; i < 5; ++i) {
    auto reply = api.get("/cookies");
    ASSERT_TRUE(reply) << i << ": " << reply.error().message;
    EXPECT_EQ(*reply, json::value(i));
  }
  EXPECT_LE(largest_cookie_header.load(), client::ClientOptions{}.max_cookie_jar_bytes + 1000);
  EXPECT_EQ(api.cookie("c4_19"), std::string(3000, 'v'));  // the newest are kept, the oldest evicted
  EXPECT_EQ(api.cookie("c0_0"), "");

  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"a"}));
  EXPECT_TRUE(subscription.wait_open(std::chrono::seconds(5)));
}

TEST(ClientHostileServer, ARequestTooLargeToWriteIsAnErrorForACallAndForAStream) {
  HostileServer server([](HostileConnection& c) {
    while (!c.read_request().empty()) c.write(json_answer("1"));
  });
  client::Client api(server.url());
  api.set_header("X-Large", std::string(70'000, 'x'));  // over what one HTTP/1.1 field may hold here

  auto reply = api.get("/anything");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, client::errc::invalid_request) << reply.error().message;

  // The same inside a subscription's thread: reported, then retried; the program goes on.
  Recorder recorder;
  auto options = recorder.options({"a"});
  options.backoff = quick();
  auto subscription = api.subscribe(std::move(options));
  ASSERT_TRUE(recorder.wait([](Recorder& r) {
    return std::count_if(r.states_.begin(), r.states_.end(), [](const client::StateChange& s) {
             return s.state == client::State::reconnecting && s.error.ec == client::errc::invalid_request;
           }) >= 2;
  }));
  subscription.close();
  EXPECT_EQ(recorder.states().back().state, client::State::closed);
}

TEST(ClientHostileServer, InterimAnswersAreSkippedAndLaterAnswersStayInPlace) {
  HostileServer server([](HostileConnection& c) {
    for (int n = 1; !c.read_request().empty(); ++n) {
      std::string interim = n == 1 ? "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; "
                                     "rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                                   : "HTTP/1.1 100 Continue\r\n\r\n";
      c.write(interim + json_answer(std::to_string(n)));
    }
  });
  client::Client api(server.url());
  for (int n = 1; n <= 3; ++n) {
    auto reply = api.get("/n");
    ASSERT_TRUE(reply) << n << ": " << reply.error().message;
    EXPECT_EQ(reply.status(), 200u);
    EXPECT_EQ(*reply, json::value(n));
  }
  EXPECT_EQ(server.accepted(), 1u);  // one keep-alive connection, answers in step with calls
}

TEST(ClientHostileServer, EndlessInterimAnswersAreAnInvalidAnswer) {
  HostileServer server([](HostileConnection& c) {
    if (c.read_request().empty()) return;
    for (int i = 0; i < 1000 && c.write("HTTP/1.1 100 Continue\r\n\r\n"); ++i) {
    }
    c.wait_closed();
  });
  client::Client api(server.url(), {.timeout = milliseconds(3000)});
  auto reply = api.get("/n");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, client::errc::invalid_answer) << reply.error().message;
}

TEST(ClientHostileServer, AStreamOpensAfterAnEarlyHint) {
  HostileServer server([](HostileConnection& c) {
    if (c.read_request().empty()) return;
    c.write("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + std::string(kStreamHead) + connected_frame());
    c.wait_closed();
  });
  client::Client api(server.url());
  Recorder recorder;
  auto subscription = api.subscribe(recorder.options({"a"}));
  EXPECT_TRUE(subscription.wait_open(std::chrono::seconds(5)));
}

TEST(ClientHostileServer, BytesAfterAnAnswerAreNeverTheNextCallsAnswer) {
  HostileServer server([](HostileConnection& c) {
    if (c.read_request().empty()) return;
    if (c.index() == 0) {
      // One answer, then a second nobody asked for, in the same write.
      c.write(json_answer("\"first\"") + json_answer("\"smuggled\""));
      while (!c.read_request().empty()) c.write(json_answer("\"smuggled again\""));
      return;
    }
    do c.write(json_answer("\"fresh\""));
    while (!c.read_request().empty());
  });
  client::Client api(server.url());
  auto first = api.get("/one");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, json::value("first"));
  auto second = api.get("/two");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, json::value("fresh"));
  EXPECT_EQ(server.accepted(), 2u);
}

TEST(ClientHostileServer, BytesArrivingOnAnIdleConnectionAreNeverTheNextCallsAnswer) {
  std::promise<void> written;
  HostileServer server([&](HostileConnection& c) {
    if (c.read_request().empty()) return;
    if (c.index() == 0) {
      c.write(json_answer("\"first\""));
      c.write(json_answer("\"smuggled\""));  // later, while the connection sits in the pool
      written.set_value();
      while (!c.read_request().empty()) c.write(json_answer("\"smuggled again\""));
      return;
    }
    do c.write(json_answer("\"fresh\""));
    while (!c.read_request().empty());
  });
  client::Client api(server.url());
  auto first = api.get("/one");
  ASSERT_TRUE(first) << first.error().message;
  written.get_future().wait();
  std::this_thread::sleep_for(milliseconds(20));  // loopback delivers at once; a margin all the same
  auto second = api.get("/two");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(*second, json::value("fresh"));
}

// Writes a chunked head and then one chunk-size line that never ends, up to 64 MiB; returns the bytes
// the client let it write before it closed the connection.
std::size_t write_endless_chunk_line(HostileConnection& c, std::string_view head) {
  std::size_t written = 0;
  if (!c.write(std::string(head) + "2")) return 0;
  std::string extensions;
  for (int i = 0; i < 4096; ++i) extensions += ";a=b";
  while (written < (64u << 20) && c.write(extensions)) written += extensions.size();
  c.wait_closed();
  return written;
}

TEST(ClientHostileServer, AnEndlessChunkSizeLineIsAnErrorNotUnboundedMemory) {
  std::atomic<std::size_t> written{0};
  HostileServer server([&](HostileConnection& c) {
    if (c.read_request().empty()) return;
    written = write_endless_chunk_line(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  });
  client::Client api(server.url(), {.timeout = milliseconds(3000)});
  auto start = std::chrono::steady_clock::now();
  auto reply = api.get("/endless");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, client::errc::answer_too_large) << reply.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  api = client::Client(server.url());  // drops the pool, whatever it held
  // The client stopped reading at its bound: the server could not write its 64 MiB.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (written == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_LT(written.load(), 64u << 20);
}

TEST(ClientHostileServer, AnEndlessChunkSizeLineOnAStreamIsReportedAndTheStreamReopens) {
  HostileServer server([&](HostileConnection& c) {
    if (c.read_request().empty()) return;
    write_endless_chunk_line(
        c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
  });
  client::Client api(server.url());
  Recorder recorder;
  auto options = recorder.options({"a"});
  options.backoff = quick();
  auto subscription = api.subscribe(std::move(options));
  ASSERT_TRUE(recorder.wait([](Recorder& r) {
    return std::count_if(r.states_.begin(), r.states_.end(), [](const client::StateChange& s) {
             return s.state == client::State::reconnecting && s.error.ec == client::errc::answer_too_large;
           }) >= 2;
  }));
}

TEST(ClientHostileServer, AHugeAnswerHeadIsAnError) {
  HostileServer server([](HostileConnection& c) {
    if (c.read_request().empty()) return;
    c.write("HTTP/1.1 200 OK\r\n");
    std::string filler;
    for (int i = 0; i < 1000; ++i) filler += "X-Filler: " + std::string(90, 'f') + "\r\n";
    for (int i = 0; i < 100 && c.write(filler); ++i) {
    }
    c.wait_closed();
  });
  client::Client api(server.url(), {.timeout = milliseconds(3000)});
  auto reply = api.get("/head");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, client::errc::answer_too_large) << reply.error().message;
}

TEST(ClientHostileServer, ACookieWhoseMaxAgeOverflowsNegativeIsDeleted) {
  std::vector<std::string> cookies_seen;
  std::mutex mutex;
  HostileServer server([&](HostileConnection& c) {
    for (int n = 1;; ++n) {
      auto head = c.read_request();
      if (head.empty()) return;
      {
        std::lock_guard lock(mutex);
        cookies_seen.push_back(header_value(head, "Cookie"));
      }
      if (n == 1) c.write(json_answer("1", "Set-Cookie: session=abc; Path=/\r\n"));
      if (n == 2)
        c.write(json_answer("2", "Set-Cookie: session=gone; Path=/; Max-Age=-99999999999999999999999\r\n"));
      if (n >= 3) c.write(json_answer("3"));
    }
  });
  client::Client api(server.url());
  ASSERT_TRUE(api.get("/login"));
  EXPECT_EQ(api.cookie("session"), "abc");
  ASSERT_TRUE(api.get("/logout"));
  EXPECT_EQ(api.cookie("session"), "");
  ASSERT_TRUE(api.get("/after"));
  std::lock_guard lock(mutex);
  ASSERT_EQ(cookies_seen.size(), 3u);
  EXPECT_EQ(cookies_seen[1], "session=abc");
  EXPECT_EQ(cookies_seen[2], "");
}

TEST(ClientHostileServer, AnEventIdThatCannotBeAHeaderIsNotSentBack) {
  std::vector<std::string> last_event_ids;
  std::mutex mutex;
  HostileServer server([&](HostileConnection& c) {
    auto head = c.read_request();
    if (head.empty()) return;
    {
      std::lock_guard lock(mutex);
      last_event_ids.push_back(header_value(head, "Last-Event-ID"));
    }
    switch (c.index()) {
      case 0:  // a good id, then one too long to go back as a header, then the end of the stream
        c.write(std::string(kStreamHead) + connected_frame() +
                "id: good-1\ndata: 1\n\nid: " + std::string(5000, 'x') + "\ndata: 2\n\n");
        return;
      case 1:  // a lastEventId that would inject a header line
        c.write(std::string(kStreamHead) + connected_frame("3\r\nX-Injected: yes"));
        return;
      default:
        c.write(std::string(kStreamHead) + connected_frame());
        c.wait_closed();
    }
  });
  client::Client api(server.url());
  Recorder recorder;
  auto options = recorder.options({"a"});
  options.backoff = quick();
  auto subscription = api.subscribe(std::move(options));
  ASSERT_TRUE(recorder.wait_connected(3));
  subscription.close();
  EXPECT_EQ(recorder.events().size(), 2u);
  std::lock_guard lock(mutex);
  ASSERT_GE(last_event_ids.size(), 3u);
  EXPECT_EQ(last_event_ids[0], "");
  EXPECT_EQ(last_event_ids[1], "good-1");
  EXPECT_EQ(last_event_ids[2], "good-1");
}

}  // namespace
}  // namespace igniter::test

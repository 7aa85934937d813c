// The cluster's Redis Stream reader against hostile replies (a fake Redis, and the parsers without
// sockets), and the exact outcome of a publish whose reply does not come in time (a real redis-server
// behind a proxy that holds the publish back).
#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <thread>

#include "redis/fake_redis.hpp"
#include "redis/redis_server.hpp"
#include "server/cluster.hpp"
#include "store/redis/reply_reader.hpp"
#include "support/harness.hpp"

namespace igniter::server {
namespace {

using namespace std::chrono_literals;
using igniter::test::eventually;
using store::Reply;
using store::testing::FakeAnswer;
using store::testing::FakeCommand;
using store::testing::FakeRedis;

Reply reply_of(std::string_view resp) {
  auto replies = store::redis::parse_replies(resp, 1 << 20);
  EXPECT_TRUE(replies.ok() && replies->size() == 1) << resp;
  return replies.ok() && !replies->empty() ? replies->front() : Reply{};
}

std::string bulk(std::string_view text) {
  return "$" + std::to_string(text.size()) + "\r\n" + std::string(text) + "\r\n";
}

const std::string kKey = "igniter:realtime:events";

std::string event_json(std::string_view text) {
  return R"({"c":"news","t":"message","s":[],"d":{"text":")" + std::string(text) +
         R"("},"ts":1700000000000})";
}

// An XREAD reply with one entry of ours.
std::string xread_entry(std::string_view id, std::string_view text) {
  return "*1\r\n*2\r\n" + bulk(kKey) + "*1\r\n*2\r\n" + bulk(id) + "*2\r\n" + bulk("e") +
         bulk(event_json(text));
}

TEST(ClusterStream, StreamIdsAreParsedStrictly) {
  for (std::string_view bad :
       {"", "5", "-", "1-", "-1", "1-2-3", "+1-2", " 1-2", "1 -2", "0x1-2", "1-2 ", "18446744073709551616-0",
        "281474976710656-0", "1-18446744073709551616", "000000000000000000001-0"}) {
    EXPECT_FALSE(stream::parse_stream_id(bad)) << bad;
  }
  auto id = stream::parse_stream_id("1700000000000-3");
  ASSERT_TRUE(id);
  EXPECT_EQ(stream::to_event_id(7, *id), (realtime::EventId{7, (1700000000000ull << 16) | 3}));
  auto last = stream::parse_stream_id("281474976710655-18446744073709551615");
  ASSERT_TRUE(last);
  EXPECT_EQ(stream::to_event_id(7, *last).seq, ~std::uint64_t{0});
}

TEST(ClusterStream, RepliesOfTheWrongShapeAreProtocolErrors) {
  for (std::string_view bad : {
           ":5\r\n",                                               // not an array
           "*1\r\n$-1\r\n",                                        // a nil entry
           "*1\r\n*1\r\n$3\r\n1-0\r\n",                            // an entry without fields
           "*1\r\n*2\r\n:1\r\n*0\r\n",                             // an integer id
           "*1\r\n*2\r\n$1\r\n5\r\n*0\r\n",                        // an id without '-'
           "*1\r\n*2\r\n$3\r\n1-1\r\n*1\r\n$1\r\ne\r\n",           // an odd number of fields
           "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\ne\r\n*0\r\n",     // a value that is an array
           "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n:1\r\n$1\r\nv\r\n",     // a field name that is an integer
           "*1\r\n*2\r\n$22\r\n99999999999999999999-1\r\n*0\r\n",  // an id past 64 bits
       }) {
    EXPECT_EQ(stream::parse_entries(reply_of(bad)).error(), store::errc::protocol) << bad;
  }
  for (std::string_view bad : {":5\r\n", "*1\r\n:1\r\n", "*1\r\n*1\r\n$1\r\nk\r\n",
                               "*1\r\n*2\r\n:1\r\n*0\r\n", "*1\r\n*2\r\n$1\r\nk\r\n:5\r\n"}) {
    EXPECT_EQ(stream::parse_xread(reply_of(bad), "k").error(), store::errc::protocol) << bad;
  }
  EXPECT_TRUE(stream::parse_xread(reply_of("*-1\r\n"), "k")->empty());  // BLOCK timed out
  auto entries = stream::parse_xread(reply_of(xread_entry("1-2", "hi")), kKey);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().id, (stream::StreamId{1, 2}));
}

TEST(ClusterStream, EventsThatAreNotOursAreSkipped) {
  EXPECT_TRUE(stream::decode_event(event_json("ok")));
  // The framework's control events (a revocation) travel on a reserved channel: they are ours.
  auto control = stream::decode_event(R"({"c":"__igniter.revoke","t":"revoke","s":[],"ts":1})");
  ASSERT_TRUE(control);
  EXPECT_EQ(control->channel, "__igniter.revoke");
  for (std::string bad : {
           std::string("not json"),
           std::string("[]"),
           std::string(R"({"c":"news"})"),
           std::string(R"({"c":"news","t":"message","s":[],"ts":9223372036854775807})"),  // time overflow
           std::string(R"({"c":"news","t":"message","s":[],"ts":-1})"),
           std::string(R"({"c":"a b","t":"message","s":[],"ts":1})"),  // not a channel name
           std::string(R"({"c":"news","t":"x\ny","s":[],"ts":1})"),    // not an event type
           std::string(R"({"c":1,"t":"message","s":[],"ts":1})"),
       }) {
    EXPECT_FALSE(stream::decode_event(bad)) << bad;
  }
  EXPECT_FALSE(stream::max_deleted_id(reply_of(":1\r\n")));
  EXPECT_FALSE(stream::max_deleted_id(reply_of("*2\r\n$20\r\nmax-deleted-entry-id\r\n*0\r\n")));
  EXPECT_EQ(stream::max_deleted_id(reply_of("*2\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n5-1\r\n")),
            (stream::StreamId{5, 1}));
}

// A fake Redis for a Cluster: the epoch, XRANGE and XINFO answers, and a queue of XREAD answers (then
// nothing new, after a pause like BLOCK's).
struct FakeStream {
  std::mutex mutex;
  std::deque<std::string> xranges;  // then "*0\r\n"
  std::string every_xrange;         // when set: the answer to every XRANGE
  std::string xinfo = "-ERR no such key\r\n";
  std::deque<std::string> xreads;
  std::atomic<int> xrange_calls{0};

  FakeAnswer answer(const FakeCommand& command) {
    std::lock_guard lock(mutex);
    if (command[0] == "GET") return {bulk("k3x9a2mq")};
    if (command[0] == "SET") return {"$-1\r\n"};  // SET NX: the epoch is there
    if (command[0] == "XRANGE") {
      ++xrange_calls;
      if (!every_xrange.empty()) return {every_xrange};
      if (xranges.empty()) return {"*0\r\n"};
      auto next = std::move(xranges.front());
      xranges.pop_front();
      return {next};
    }
    if (command[0] == "XINFO") return {xinfo};
    if (command[0] == "XREAD") {
      if (xreads.empty()) return {.bytes = "*-1\r\n", .delay = 50ms};
      auto next = std::move(xreads.front());
      xreads.pop_front();
      return {next};
    }
    return FakeRedis::usual(command);
  }
};

struct Received {
  std::mutex mutex;
  std::vector<realtime::Event> events;
  std::atomic<int> gaps{0};

  Cluster::Callbacks callbacks() {
    return {.event =
                [this](realtime::Event event) {
                  std::lock_guard lock(mutex);
                  events.push_back(std::move(event));
                },
            .gap = [this] { ++gaps; }};
  }
  std::size_t count(std::string_view text) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (auto& event : events) {
      auto* object = event.data.if_object();
      auto* value = object ? object->if_contains("text") : nullptr;
      n += value && *value == json::value(text);
    }
    return n;
  }
};

store::StoreOptions quick() {
  return {.timeout = 1000ms, .max_reply_bytes = 64 * 1024, .reconnect_min = 20ms, .reconnect_max = 100ms};
}

TEST(ClusterStream, AMalformedXrangeReplyWhileRecoveringIsAGapNotACrash) {
  FakeStream stream;
  // Start-up loads one entry; after the outage, the "oldest entry" is not an entry.
  stream.xranges = {
      "*1\r\n*2\r\n" + bulk("1600000000000-0") + "*2\r\n" + bulk("e") + bulk(event_json("before")),
      "*1\r\n$1\r\nx\r\n"};
  stream.xinfo = "*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n";  // no max-deleted-entry-id: the XRANGE check runs
  stream.xreads = {"-ERR the stream is away\r\n", xread_entry("1700000000000-1", "after")};
  FakeRedis redis([&](const FakeCommand& command) { return stream.answer(command); });
  Logger logger(LogLevel::off);
  auto store = store::RedisStore::open(redis.url(), quick());
  ASSERT_TRUE(store.ok());
  auto cluster = Cluster::open(*store, 100, logger);
  ASSERT_TRUE(cluster.ok()) << cluster.error().message();
  Received received;
  (*cluster)->start(received.callbacks());
  ASSERT_TRUE(eventually([&] { return received.count("after") == 1; }));
  EXPECT_EQ(received.count("before"), 1u);
  EXPECT_GE(stream.xrange_calls.load(), 2);  // the start-up load and the check after the outage
  EXPECT_EQ(received.gaps.load(), 1) << "a position that cannot be checked is a gap";
}

TEST(ClusterStream, AnXrangeThatRepeatsItsPageEndsTheLoadAndDeliversEachEntryOnce) {
  FakeStream stream;
  // A full page (1 000 entries, the load's page size), whatever the `from` asked: a load that followed
  // it would never end, and the process would never start serving.
  stream.every_xrange = "*1000\r\n";
  for (int i = 1; i <= 1000; ++i)
    stream.every_xrange += "*2\r\n" + bulk("1600000000000-" + std::to_string(i)) + "*2\r\n" + bulk("e") +
                           bulk(event_json("page"));
  stream.xreads = {xread_entry("1600000000000-500", "old"), xread_entry("1700000000000-1", "after")};
  FakeRedis redis([&](const FakeCommand& command) { return stream.answer(command); });
  Logger logger(LogLevel::off);
  auto options = quick();
  options.max_reply_bytes = 1 << 20;
  auto store = store::RedisStore::open(redis.url(), options);
  ASSERT_TRUE(store.ok());
  auto cluster = Cluster::open(*store, 100, logger);
  ASSERT_TRUE(cluster.ok()) << cluster.error().message();
  Received received;
  (*cluster)->start(received.callbacks());  // returns: the load stopped
  ASSERT_TRUE(eventually([&] { return received.count("after") == 1; }));
  EXPECT_EQ(stream.xrange_calls.load(), 2) << "the first page, then the one that did not move";
  EXPECT_EQ(received.count("page"), 1000u);
  EXPECT_EQ(received.count("old"), 0u) << "an entry before the position is never delivered";
}

TEST(ClusterStream, MalformedXreadRepliesReopenTheReaderAndTheStreamGoesOn) {
  FakeStream stream;
  stream.xreads = {
      ":1\r\n",
      "*1\r\n*2\r\n" + bulk(kKey) + "*1\r\n*2\r\n$1\r\n5\r\n*0\r\n",               // an id without '-'
      "*1\r\n*2\r\n" + bulk(kKey) + "*1\r\n*2\r\n$3\r\n1-1\r\n*1\r\n$1\r\ne\r\n",  // odd fields
      "$100000\r\n" + std::string(100000, 'x') + "\r\n",                           // beyond max_reply_bytes
      xread_entry("1700000000000-1", "after"),
  };
  FakeRedis redis([&](const FakeCommand& command) { return stream.answer(command); });
  Logger logger(LogLevel::off);
  auto store = store::RedisStore::open(redis.url(), quick());
  ASSERT_TRUE(store.ok());
  auto cluster = Cluster::open(*store, 100, logger);
  ASSERT_TRUE(cluster.ok());
  Received received;
  (*cluster)->start(received.callbacks());
  ASSERT_TRUE(eventually([&] { return received.count("after") == 1; }));
  std::lock_guard lock(received.mutex);
  EXPECT_EQ(received.events.size(), 1u) << "nothing from the malformed replies";
  EXPECT_EQ(received.events[0].id.seq, (1700000000000ull << 16) | 1);
  // The store's 2 connections, the reader's 2, and 2 more for each reader dropped on a malformed
  // reply (3 of them) or closed over the reply too large (its command connection only).
  EXPECT_GE(redis.connections(), 4 + 2 * 3 + 1);
}

TEST(ClusterStream, AnEpochThatIsNotOneIsRefusedAtOpen) {
  for (std::string epoch :
       {bulk("zzzzzzzzzzzzzzzzzzzz"), bulk(""), bulk("ABC"), std::string("*0\r\n"), std::string(":5\r\n")}) {
    FakeRedis redis([&](const FakeCommand& command) {
      return command[0] == "GET" ? FakeAnswer{epoch} : FakeRedis::usual(command);
    });
    Logger logger(LogLevel::off);
    auto store = store::RedisStore::open(redis.url(), quick());
    ASSERT_TRUE(store.ok());
    EXPECT_EQ(Cluster::open(*store, 100, logger).error(), store::errc::protocol) << epoch;
  }
}

TEST(ClusterPublish, APublishThatTimedOutIsNeverDeliveredLater) {
  if (!store::testing::RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed";
  store::testing::RedisServer redis;
  ASSERT_TRUE(redis.start());
  store::testing::HoldingProxy proxy(redis.port());
  Logger logger(LogLevel::off);
  auto options = quick();
  options.timeout = 300ms;
  auto store = store::RedisStore::open(proxy.url(), options);
  ASSERT_TRUE(store.ok());
  auto cluster = Cluster::open(*store, 100, logger);
  ASSERT_TRUE(cluster.ok());
  Received received;
  (*cluster)->start(received.callbacks());

  realtime::Event event{.channel = "news",
                        .type = "message",
                        .data = json::object{{"text", "held-publish"}},
                        .time = std::chrono::system_clock::now()};
  proxy.hold_when("held-publish");  // the publish reaches the socket, not Redis
  auto first = (*cluster)->publish(event);
  EXPECT_TRUE(proxy.holding());
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.error(), store::errc::timeout) << "the outcome is known: fenced, never delivered";
  proxy.release();  // now Redis reads the held publish, as a server that was paused would

  auto retry = (*cluster)->publish(event);  // what a client told "failed" does
  ASSERT_TRUE(retry.ok()) << retry.error().message();
  ASSERT_TRUE(eventually([&] { return received.count("held-publish") >= 1; }))
      << received.events.size()
      << " events, the first: " << (received.events.empty() ? "" : json::stringify(received.events[0].data));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(received.count("held-publish"), 1u) << "delivered exactly once";
  auto direct = store::RedisStore::open(redis.url());
  ASSERT_TRUE(direct.ok());
  auto all = (*direct)->command({"XRANGE", (*store)->key(kKey), "-", "+"});
  ASSERT_TRUE(all.ok());
  auto entries = stream::parse_entries(*all);
  ASSERT_TRUE(entries.ok());
  std::size_t held = 0;
  for (auto& entry : *entries) held += entry.field("e")->find("held-publish") != std::string::npos;
  EXPECT_EQ(held, 1u) << "in the stream once";
}

}  // namespace
}  // namespace igniter::server

// Hostile clients and publishers against the hub's limits: /metrics under concurrent scrapes and busy
// shards, channels per stream, name length, subscription change rate, event size, the publish inbox,
// streams per address, raw `{}` in the query, hostile resume ids and scope lists, channel lists past the
// limit, first frames past the bound, names that are not UTF-8.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <igniter/realtime/error.hpp>
#include <random>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "integration/realtime/realtime_app.hpp"

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

HttpResult change(std::uint16_t port, const Stream& s, json::object body) {
  body.emplace("connectionId", s.info.at("connectionId"));
  body.emplace("token", s.info.at("token"));
  return fetch(port, "POST", "/api/v1/sse/events/subscriptions", json::serialize(body));
}

std::vector<std::string> random_names(std::size_t n, std::string_view prefix = "r.") {
  std::mt19937_64 random(42);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back(std::string(prefix) + std::to_string(random()));
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

json::array array_of(const std::vector<std::string>& names) {
  json::array out;
  for (const auto& n : names) out.emplace_back(n);
  return out;
}

/// Controllers that let a test occupy an I/O thread: `whoami` answers with the thread serving the
/// connection (every request of a connection is served by the same shard), `block` holds that thread
/// until `release` is set.
struct ShardProbe {
  std::promise<void> release_promise;
  std::shared_future<void> release = release_promise.get_future().share();
  std::atomic<bool> blocking{false};

  void add_to(App& app) {
    ActionOptions on_io{.run_on_io_thread = true};
    app.controller(controller("probe", "/probe")
                       .query("whoami", "/whoami", on_io,
                              [](Ctx& c) {
                                std::ostringstream id;
                                id << std::this_thread::get_id();
                                return c.response.success(id.str());
                              })
                       .query("block", "/block", on_io, [this](Ctx& c) {
                         blocking = true;
                         release.wait();
                         return c.response.success(true);
                       }));
  }
};

std::string shard_of(Connection& c) {
  auto r = c.request("GET", "/api/v1/probe/whoami");
  EXPECT_EQ(r.status, 200u) << r.body;
  return std::string(r.json().at("data").as_string());
}

/// Reads raw stream bytes from `c` into `acc` until `needle` is in it (false after 5 s).
bool read_until(Connection& c, std::string& acc, std::string_view needle) {
  c.set_timeout(100ms);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  char chunk[4096];
  while (acc.find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    boost::system::error_code ec;
    auto n = c.socket().read_some(boost::asio::buffer(chunk), ec);
    if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) return false;
    acc.append(chunk, n);
  }
  return true;
}

TEST(RealtimeMetrics, SixteenConcurrentScrapesRoundAfterRoundNeverCrashTheServer) {
  RealtimeServer server;  // two I/O threads: scrapes on both shards at once
  std::vector<Stream> streams;
  for (int i = 0; i < 8; ++i)
    streams.push_back(open_stream(server.port(), "channels=revalidation,feed.live"));
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop) {
      server.realtime().revalidate({"posts.list"});
      std::this_thread::sleep_for(1ms);  // the streams here are not read: stay under their bound
    }
  });
  std::atomic<int> ok{0};
  for (int round = 0; round < 4; ++round) {
    std::vector<std::thread> scrapers;
    for (int t = 0; t < 16; ++t)
      scrapers.emplace_back([&] {
        for (int i = 0; i < 5; ++i)
          if (fetch(server.port(), "GET", "/metrics").status == 200) ++ok;
      });
    for (auto& t : scrapers) t.join();
  }
  stop = true;
  publisher.join();
  EXPECT_EQ(ok.load(), 4 * 16 * 5);
  auto r = fetch(server.port(), "GET", "/metrics");
  EXPECT_NE(r.body.find("igniter_channel_subscribers{channel=\"feed.live\"} 8\n"), std::string::npos)
      << r.body;
}

TEST(RealtimeMetrics, ScrapeAndSubscriptionChangeAnswerAtOnceWhileTheStreamsShardIsBusy) {
  ShardProbe probe;
  RealtimeSetup setup;
  setup.extra = [&](App& app) { probe.add_to(app); };
  RealtimeServer server(setup);

  // Place connections: the stream and the blocker on one shard, the scrape and the change on the other.
  std::vector<std::unique_ptr<Connection>> busy, other;
  std::string busy_shard;
  for (int i = 0; i < 200 && (busy.size() < 2 || other.empty()); ++i) {
    auto c = std::make_unique<Connection>(server.port());
    auto shard = shard_of(*c);
    if (busy_shard.empty()) busy_shard = shard;
    (shard == busy_shard ? busy : other).push_back(std::move(c));
  }
  ASSERT_GE(busy.size(), 2u);
  ASSERT_FALSE(other.empty());

  auto& stream = *busy[0];
  stream.send("GET /api/v1/sse/events?channels=revalidation HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string bytes;
  ASSERT_TRUE(read_until(stream, bytes, "event: connected\ndata: "));
  ASSERT_TRUE(read_until(stream, bytes, "}\n\n"));
  auto data = bytes.substr(bytes.find("event: connected\ndata: ") + 23);
  auto info = json::parse(data.substr(0, data.find('\n'))).as_object();

  busy[1]->send("GET /api/v1/probe/block HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(eventually([&] { return probe.blocking.load(); }));

  auto& client = *other[0];
  auto start = std::chrono::steady_clock::now();
  auto metrics = client.request("GET", "/metrics");
  auto scrape_time = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_LT(scrape_time, 300ms) << "the scrape waited for the busy shard";

  json::object body{{"connectionId", info.at("connectionId")},
                    {"token", info.at("token")},
                    {"subscribe", json::array{"news"}}};
  start = std::chrono::steady_clock::now();
  auto r = client.request("POST", "/api/v1/sse/events/subscriptions", json::serialize(body));
  auto change_time = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_LT(change_time, 1s) << "the change waited for the busy shard";

  probe.release_promise.set_value();
  EXPECT_EQ(busy[1]->read_response().status, 200u);
  // Published after the answer: it reaches the new channel.
  server.realtime().publish("news", json::object{{"n", 1}});
  EXPECT_TRUE(read_until(stream, bytes, "\"channel\":\"news\""));
}

TEST(RealtimeMetrics, OnlyDeclaredChannelsAreLabelsAndClientChosenNamesAreSummed) {
  RealtimeSetup setup;
  setup.options.realtime.metrics_channels = {"news"};
  RealtimeServer server(setup);
  auto declared = open_stream(server.port(), "channels=revalidation,news,feed.live:%7B%7D");
  auto hostile = open_stream(server.port(), "channels=revalidation");
  auto names = random_names(1000);
  for (std::size_t i = 0; i < names.size(); i += 100) {
    std::vector<std::string> part(names.begin() + static_cast<std::ptrdiff_t>(i),
                                  names.begin() + static_cast<std::ptrdiff_t>(i + 100));
    auto r = change(server.port(), hostile, {{"subscribe", array_of(part)}});
    ASSERT_EQ(r.status, 200u) << r.body;
  }
  HttpResult r;
  ASSERT_TRUE(eventually([&] {
    r = fetch(server.port(), "GET", "/metrics");
    return r.body.find("igniter_other_channel_subscribers 127\n") != std::string::npos;
  })) << r.body;
  for (const char* line : {"igniter_channel_subscribers{channel=\"revalidation\"} 2\n",
                           "igniter_channel_subscribers{channel=\"news\"} 1\n",
                           "igniter_channel_subscribers{channel=\"feed.live\"} 1\n",
                           "igniter_channel_subscribers{channel=\"notifications.stream\"} 0\n"})
    EXPECT_NE(r.body.find(line), std::string::npos) << line << " not in:\n" << r.body;
  EXPECT_EQ(r.body.find("r."), std::string::npos) << "a client-chosen name became a label";
  EXPECT_LT(r.body.size(), 4096u);
}

TEST(RealtimeLimits, ChannelsPastThePerStreamLimitAreRefusedAtConnect) {
  RealtimeServer server;
  auto names = random_names(200);
  auto s = open_stream(server.port(), "channels=" + joined(names));
  ASSERT_FALSE(s.info.empty());
  EXPECT_EQ(s.info.at("channels").as_array().size(), 128u);
  const auto& refused = s.info.at("refused").as_array();
  ASSERT_EQ(refused.size(), 72u);
  EXPECT_EQ(refused[0].at("channel").as_string(), names[128]);
  EXPECT_NE(std::string(refused[0].at("reason").as_string()).find("limit 128"), std::string::npos)
      << refused[0];
}

TEST(RealtimeLimits, EntriesPastTwiceTheLimitAreRefusedInOneEntryAndTheStreamStillOpens) {
  RealtimeSetup setup;
  setup.options.realtime.max_channels_per_connection = 8;
  RealtimeServer server(setup);
  // 16 entries (twice the limit): 8 channels, 8 refused with their reasons.
  auto s = open_stream(server.port(), "channels=" + joined(random_names(16)));
  EXPECT_EQ(s.info.at("channels").as_array().size(), 8u);
  EXPECT_EQ(s.info.at("refused").as_array().size(), 8u);
  // 400 more: not read; one refused entry stands for them, and the stream opens with its channels.
  auto names = random_names(416);
  auto many = open_stream(server.port(), "channels=" + joined(names));
  EXPECT_EQ(many.info.at("channels").as_array().size(), 8u);
  const auto& refused = many.info.at("refused").as_array();
  ASSERT_EQ(refused.size(), 9u);
  EXPECT_EQ(refused.back().at("channel").as_string(), names[16]);
  EXPECT_EQ(refused.back().at("reason").as_string(),
            "not read, with the 399 after it: a stream names at most 16 channels");
  server.realtime().publish(names[0], json::object{{"n", 1}});
  ASSERT_TRUE(many->next_of("message"));
}

TEST(RealtimeLimits, FirstFramesPastTheBoundCutTheStreamAndLeaveNothingBehind) {
  RealtimeSetup setup;
  setup.options.realtime.max_pending_bytes = 8 * 1024;
  setup.options.realtime.metrics_channels = {"news"};
  RealtimeServer server(setup);
  // Each invalid name is refused and echoed in `connected` with its reason: ~12 KiB (a request under the
  // 16 KiB header limit), past the bound.
  std::vector<std::string> names{"revalidation", "news"};
  for (int i = 0; i < 60; ++i) names.push_back("bad%20name%20" + std::string(150, 'a' + i % 26));
  SseClient s(server.port(), sse("channels=" + joined(names)));
  EXPECT_TRUE(s.wait_closed(std::chrono::seconds(5)));
  // Cut before it was registered: no connection, no subscriber and no live delivery is left of it.
  EXPECT_TRUE(eventually([&] { return server.realtime().stats().connections == 0; }));
  auto stats = server.realtime().stats();
  EXPECT_EQ(stats.subscribers["news"], 0u);
  EXPECT_EQ(stats.subscribers["revalidation"], 0u);
  EXPECT_EQ(stats.slow_client_disconnects, 1u);
  auto other = open_stream(server.port(), "channels=news");
  server.realtime().publish("news", json::object{{"n", 1}});
  ASSERT_TRUE(other->next_of("message"));
  EXPECT_EQ(server.realtime().stats().events_delivered, 1u);
}

TEST(RealtimeLimits, RefusedNamesAreEchoedAsValidUtf8) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation,%ff%fe");  // the frame parses: valid UTF-8
  ASSERT_FALSE(s.info.empty());
  ASSERT_EQ(s.info.at("refused").as_array().size(), 1u);
  EXPECT_EQ(s.info.at("refused").at(0).at("channel").as_string(), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(RealtimeLimits, LiveChangesPastTheChannelLimitAreRefusedAndAStreamAtItsLimitCanSwap) {
  RealtimeSetup setup;
  setup.options.realtime.max_channels_per_connection = 10;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=revalidation");
  auto names = random_names(20);
  auto r = change(server.port(), s, {{"subscribe", array_of(names)}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("data").at("subscribed").as_array().size(), 9u) << r.body;
  EXPECT_EQ(r.json().at("data").at("refused").as_array().size(), 11u) << r.body;

  r = change(server.port(), s, {{"subscribe", json::array{"news"}}});
  EXPECT_TRUE(r.json().at("data").at("subscribed").as_array().empty()) << r.body;
  r = change(server.port(), s, {{"unsubscribe", json::array{names[0]}}, {"subscribe", json::array{"news"}}});
  EXPECT_EQ(r.json().at("data").at("subscribed"), (json::array{"news"})) << r.body;
  server.realtime().publish(names[0], 0);
  server.realtime().publish("news", 1);
  auto frame = s->next_event();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->json().at("channel"), "news") << frame->raw;
}

TEST(RealtimeLimits, AChangeOfHundredsOfThousandsOfBadItemsIsAnsweredInAFewKilobytes) {
  RealtimeServer server;
  auto s = open_stream(server.port(), "channels=revalidation");
  json::array zeros(300000, 0);  // ~600 KB of items of the wrong type, past the list's 100
  auto r = change(server.port(), s, {{"subscribe", zeros}});
  EXPECT_GE(r.status, 400u);
  EXPECT_LT(r.status, 500u);
  EXPECT_LT(r.body.size(), 4096u) << r.body.substr(0, 300);  // one issue, not one per item (~78 MB)
  EXPECT_NE(r.body.find("too_big"), std::string::npos) << r.body;
}

TEST(RealtimeLimits, ChannelNamesLongerThanTheLimitAreRefused) {
  RealtimeSetup setup;
  setup.options.realtime.max_channel_name_length = 16;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=short," + std::string(17, 'x'));
  EXPECT_EQ(strings(s.info.at("channels")), (std::vector<std::string>{"short"}));
  ASSERT_EQ(s.info.at("refused").as_array().size(), 1u);
  auto r = change(server.port(), s, {{"subscribe", json::array{std::string(17, 'y')}}});
  EXPECT_TRUE(r.json().at("data").at("subscribed").as_array().empty()) << r.body;
  EXPECT_EQ(r.json().at("data").at("refused").as_array().size(), 1u) << r.body;
}

TEST(RealtimeLimits, RapidSubscriptionChangesAreAnswered429) {
  RealtimeSetup setup;
  setup.options.realtime.subscription_changes_per_second = 1;  // slow, so that a slow machine sees it too
  setup.options.realtime.subscription_change_burst = 5;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=revalidation");
  Connection c(server.port());
  json::object body{{"connectionId", s.info.at("connectionId")},
                    {"token", s.info.at("token")},
                    {"subscribe", json::array{"news"}}};
  int ok = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = c.request("POST", "/api/v1/sse/events/subscriptions", json::serialize(body));
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(r.header("Retry-After"), "1");
    }
  }
  EXPECT_GE(ok, 5);
  EXPECT_GE(limited, 25);
  EXPECT_EQ(ok + limited, 40);
}

TEST(RealtimeLimits, OversizedEventIsRefusedAtPublishAndNoSubscriberIsCut) {
  RealtimeSetup setup;
  setup.options.realtime.max_pending_bytes = 64 * 1024;
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=news,news:%7B%7D");
  auto big = json::object{{"pad", std::string(100 * 1024, 'b')}};
  auto refused = server.realtime().try_publish("news", big);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), realtime::Error::event_too_large);
  EXPECT_THROW(server.realtime().publish("news", big), std::system_error);
  // Under the hard cap too: half the bound, so that the event and its `:{}` copy fit.
  EXPECT_FALSE(server.realtime().try_publish("news", json::object{{"pad", std::string(40 * 1024, 'b')}}));
  EXPECT_TRUE(server.realtime().try_publish("news", json::object{{"pad", std::string(16 * 1024, 'b')}}));
  server.realtime().publish("news", json::object{{"n", 1}});
  auto first = s->next_event();
  ASSERT_TRUE(first) << "the subscriber was cut";
  EXPECT_EQ(payload(*first).at("pad").as_string().size(), 16u * 1024);
  std::optional<SseFrame> frame;
  do frame = s->next_event();
  while (frame && !payload(*frame).as_object().contains("n"));
  ASSERT_TRUE(frame) << "the subscriber was cut";
  EXPECT_EQ(server.realtime().stats().slow_client_disconnects, 0u);
  auto metrics = fetch(server.port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("igniter_events_refused_total 3\n"), std::string::npos) << metrics.body;
}

TEST(RealtimeLimits, FullInboxRefusesPublishesAsOverloadedAndLosesNothing) {
  ShardProbe probe;
  RealtimeSetup setup;
  setup.options.io_threads = 1;
  setup.options.realtime.max_inbox_bytes = 16 * 1024;
  setup.extra = [&](App& app) { probe.add_to(app); };
  RealtimeServer server(setup);
  auto s = open_stream(server.port(), "channels=news");
  Connection blocker(server.port());
  blocker.send("GET /api/v1/probe/block HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_TRUE(eventually([&] { return probe.blocking.load(); }));

  int accepted = 0;
  std::error_code error;
  for (int n = 0; n < 10'000; ++n) {
    auto id = server.realtime().try_publish("news", json::object{{"n", n}, {"pad", std::string(200, 'p')}});
    if (!id) {
      error = id.error();
      break;
    }
    ++accepted;
  }
  EXPECT_EQ(error, realtime::Error::overloaded);
  EXPECT_GT(accepted, 10);
  EXPECT_LT(accepted, 100);  // 16 KiB of ~300-byte frames
  probe.release_promise.set_value();
  EXPECT_EQ(blocker.read_response().status, 200u);

  // Once the shard has drained its inbox (right after the block ends), publishing works again.
  ASSERT_TRUE(eventually([&] {
    return bool(server.realtime().try_publish("news", json::object{{"n", accepted}}));
  }));
  for (int n = 0; n <= accepted; ++n) {
    auto frame = s->next_event();
    ASSERT_TRUE(frame) << "lost after " << n;
    ASSERT_EQ(payload(*frame).at("n"), n);
  }
}

TEST(RealtimeLimits, StreamsPerAddressAreLimitedWhenConfigured) {
  RealtimeSetup setup;
  setup.options.realtime.max_streams_per_address = 2;
  RealtimeServer server(setup);
  auto a = open_stream(server.port(), "channels=revalidation");
  auto b = open_stream(server.port(), "channels=revalidation");
  {
    SseClient third(server.port(), sse("channels=revalidation"));
    EXPECT_EQ(third.read_head(), 429u) << third.body();
    EXPECT_NE(third.body().find("Too many streams"), std::string::npos) << third.body();
  }
  a.client.reset();
  ASSERT_TRUE(eventually([&] { return server.realtime().stats().connections == 1; }));
  auto c = open_stream(server.port(), "channels=revalidation");
  EXPECT_FALSE(c.info.empty());
}

TEST(RealtimeQuery, RawBracesOfThePerActionChannelFormAreAccepted) {
  RealtimeServer server;
  Connection c(server.port());
  c.send("GET /api/v1/sse/events?channels=revalidation,feed.live:{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string bytes;
  ASSERT_TRUE(read_until(c, bytes, "\"feed\":\"live\"")) << bytes;
  EXPECT_TRUE(bytes.starts_with("HTTP/1.1 200 OK\r\n")) << bytes;
  EXPECT_NE(bytes.find("\"channels\":[\"revalidation\",\"feed.live:{}\"]"), std::string::npos) << bytes;
}

TEST(RealtimeResume, HostileLastEventIdsAndScopeListsGetAStreamNeverAnError) {
  RealtimeServer server;
  server.realtime().publish("news", 1);
  for (std::string id :
       {std::string(4000, 'a'), std::string("zzzzzzzzzzzzz-99999999999999999999999"), std::string("-"),
        std::string("0-0"), std::string("1-"), realtime::to_string({.epoch = 1, .seq = ~std::uint64_t{0}})}) {
    auto s = open_stream(server.port(), "channels=news", {.last_event_id = id});
    ASSERT_FALSE(s.info.empty()) << id;
    EXPECT_EQ(s.info.at("resync"), true) << id;
  }
  std::vector<std::string> scopes(800, "user:mallory");
  scopes.push_back("tenant:7");
  auto s = open_stream(server.port(), "channels=news&scopes=" + joined(scopes), as_user("alice"));
  EXPECT_EQ(strings(s.info.at("scopes")), (std::vector<std::string>{"tenant:7"}));
}

}  // namespace
}  // namespace igniter::test

#include "realtime/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace igniter::realtime {
namespace {

using namespace std::chrono;

// 2026-11-27T17:46:02.078Z, as in the captures.
system_clock::time_point at(int hour, int minute, int second, int millis) {
  return sys_days{year{2026} / November / 27} + hours{hour} + minutes{minute} + seconds{second} +
         milliseconds{millis};
}

TEST(Timestamp, IsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_timestamp(at(17, 46, 2, 78)), "2026-11-27T17:46:02.078Z");
  EXPECT_EQ(format_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(sys_days{year{2024} / February / 29} + hours{23} + minutes{59} + seconds{59} +
                             milliseconds{999}),
            "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(system_clock::time_point{} - milliseconds{1}), "1969-12-31T23:59:59.999Z");
  // Sub-millisecond precision is truncated, as Date keeps milliseconds only.
  EXPECT_EQ(format_timestamp(at(17, 46, 2, 78) + microseconds{999}), "2026-11-27T17:46:02.078Z");
}

TEST(EncodeEvent, UnscopedMessageMatchesIgniterBytes) {
  Event event{EventId{36, 7},
              "notifications.stream",
              "message",
              {},
              json::parse(R"({"text":"hi","timestamp":"2026-11-27T17:46:02.733Z"})"),
              at(17, 46, 2, 733)};
  EXPECT_EQ(
      encode_event(event),
      "id: 10-7\n"
      "event: message\n"
      "data: {\"channel\":\"notifications.stream\",\"data\":{\"text\":\"hi\",\"timestamp\":\"2026-11-27T17:"
      "46:02.733Z\"},\"timestamp\":\"2026-11-27T17:46:02.733Z\"}\n\n");
}

TEST(EncodeEvent, ScopedRevalidationMatchesIgniterBytes) {
  // captures/b.sse, third event, with our id in place of the UUID.
  Event event{EventId{36, 2},
              "revalidation",
              "revalidate",
              {"user:42"},
              revalidate_payload({"posts.list", "posts.getById"}, nullptr, at(17, 46, 2, 415)),
              at(17, 46, 2, 415)};
  EXPECT_EQ(
      encode_event(event),
      "id: 10-2\n"
      "event: revalidate\n"
      "data: {\"scopes\":[\"user:42\"],\"channel\":\"revalidation\",\"data\":{\"queryKeys\":[\"posts.list\","
      "\"posts.getById\"],\"timestamp\":\"2026-11-27T17:46:02.415Z\"},\"timestamp\":\"2026-11-27T17:46:02."
      "415Z\"}\n\n");
}

TEST(EncodeEvent, TargetedRevalidationEscapesTheKeyLikeIgniter) {
  // captures/a.sse, fifth event.
  Event event{EventId{36, 5},
              "revalidation",
              "revalidate",
              {},
              revalidate_payload({R"(posts.getById:{"params":{"id":"1"}})"}, nullptr, at(17, 46, 3, 364)),
              at(17, 46, 3, 364)};
  EXPECT_EQ(
      encode_event(event),
      "id: 10-5\n"
      "event: revalidate\n"
      "data: "
      "{\"channel\":\"revalidation\",\"data\":{\"queryKeys\":[\"posts.getById:{\\\"params\\\":{\\\"id\\\":"
      "\\\"1\\\"}}\"],\"timestamp\":\"2026-11-27T17:46:03.364Z\"},\"timestamp\":\"2026-11-27T17:46:03.364Z\"}"
      "\n\n");
}

TEST(EncodeEvent, SeveralScopesKeepTheirOrder) {
  Event event{EventId{1, 1}, "c", "message", {"b", "a"}, json::value(1), at(0, 0, 0, 0)};
  EXPECT_EQ(encode_event(event),
            "id: 1-1\nevent: message\ndata: {\"scopes\":[\"b\",\"a\"],\"channel\":\"c\",\"data\":1,"
            "\"timestamp\":\"2026-11-27T00:00:00.000Z\"}\n\n");
}

TEST(EncodeEvent, NullPayloadIsWrittenAsNull) {
  Event event{EventId{1, 1}, "c", "message", {}, nullptr, at(0, 0, 0, 0)};
  EXPECT_EQ(
      encode_event(event),
      "id: 1-1\nevent: message\ndata: {\"channel\":\"c\",\"data\":null,\"timestamp\":\"2026-11-27T00:00:00."
      "000Z\"}\n\n");
}

TEST(EncodeEvent, LineBreaksInValuesNeverSplitTheFrame) {
  json::object payload;
  payload["text"] = "line1\nline2\r\nline3\u2028";
  payload["key\nwith\rbreaks"] = json::array{"\n", "\r"};
  Event event{EventId{1, 1}, "chan\nnel\r", "mes\r\nsage\n", {"sco\npe"}, payload, at(0, 0, 0, 0)};
  const std::string frame = encode_event(event);
  EXPECT_EQ(std::count(frame.begin(), frame.end(), '\r'), 0);
  EXPECT_EQ(std::count(frame.begin(), frame.end(), '\n'), 4);  // id, event, data lines and the blank line
  EXPECT_TRUE(frame.ends_with("\n\n"));
  EXPECT_TRUE(frame.starts_with(
      "id: 1-1\nevent: message\ndata: {\"scopes\":[\"sco\\npe\"],\"channel\":\"chan\\nnel\\r\""))
      << frame;
  // The data line is valid JSON holding the values unchanged.
  const auto data = frame.substr(frame.find("data: ") + 6, frame.size() - frame.find("data: ") - 8);
  const auto envelope = json::parse(data);
  EXPECT_EQ(envelope.at("data"), json::value(payload));
  EXPECT_EQ(envelope.at("channel").as_string(), "chan\nnel\r");
}

TEST(EncodeEvent, TypeMadeOnlyOfLineBreaksBecomesMessage) {
  Event event{EventId{1, 1}, "c", "\r\n", {}, nullptr, at(0, 0, 0, 0)};
  EXPECT_TRUE(encode_event(event).starts_with("id: 1-1\nevent: message\ndata: "));
}

TEST(EncodeEvent, BodyWithIdPrefixIsTheWholeFrame) {
  Event event{EventId{99, 3}, "c", "message", {"s"}, json::parse(R"({"a":[1,2]})"), at(1, 2, 3, 4)};
  EXPECT_EQ(frame_with_id(event.id, encode_event_body(event)).view(), encode_event(event));
}

TEST(EncodeConnected, WithoutExtensionsMatchesIgniterBytes) {
  ConnectedInfo info;
  info.channels = {"revalidation", "notifications.stream"};
  info.time = at(17, 46, 1, 100);
  // captures/a.sse, first frame.
  EXPECT_EQ(
      encode_connected(info),
      "event: connected\n"
      "data: {\"connected\":true,\"channels\":[\"revalidation\",\"notifications.stream\"],\"timestamp\":"
      "\"2026-11-27T17:46:01.100Z\"}\n\n");
}

TEST(EncodeConnected, WithNoChannelsWritesAnEmptyList) {
  ConnectedInfo info;
  info.time = at(17, 46, 1, 100);
  EXPECT_EQ(encode_connected(info),
            "event: connected\ndata: "
            "{\"connected\":true,\"channels\":[],\"timestamp\":\"2026-11-27T17:46:01.100Z\"}"
            "\n\n");
}

TEST(EncodeConnected, ExtensionsFollowTheIgniterFields) {
  ConnectedInfo info;
  info.channels = {"revalidation"};
  info.time = at(17, 46, 1, 100);
  info.retry = milliseconds{2000};
  info.connection_id = "c-1";
  info.token = "tok";
  info.refused = {{"admin.audit", "forbidden"}, {"bad,name", "channel name is invalid"}};
  info.scopes = std::vector<std::string>{"tenant:7", "user:42"};
  info.position = EventId{36, 12};
  info.resync = true;
  EXPECT_EQ(
      encode_connected(info),
      "retry: 2000\n"
      "id: 10-12\n"
      "event: connected\n"
      "data: {\"connected\":true,\"channels\":[\"revalidation\"],\"timestamp\":\"2026-11-27T17:46:01.100Z\","
      "\"connectionId\":\"c-1\",\"token\":\"tok\",\"scopes\":[\"tenant:7\",\"user:42\"],"
      "\"refused\":[{\"channel\":\"admin.audit\",\"reason\":\"forbidden\"},{\"channel\":\"bad,name\","
      "\"reason\":\"channel name is invalid\"}],\"lastEventId\":\"10-12\",\"resync\":true}\n\n");
}

TEST(EncodeConnected, EmptyGrantedScopesAreStillReported) {
  ConnectedInfo info;
  info.time = at(0, 0, 0, 0);
  info.scopes = std::vector<std::string>{};
  EXPECT_EQ(encode_connected(info),
            "event: connected\ndata: "
            "{\"connected\":true,\"channels\":[],\"timestamp\":\"2026-11-27T00:00:00.000Z\","
            "\"scopes\":[]}\n\n");
}

TEST(Keepalive, MatchesIgniterBytes) {
  EXPECT_EQ(kKeepaliveBytes, ": keepalive\n\n");
}

TEST(RevalidatePayload, OmitsNullDataAndKeepsKeyOrder) {
  EXPECT_EQ(json::serialize(revalidate_payload({"posts.list"}, nullptr, at(17, 46, 2, 77))),
            R"({"queryKeys":["posts.list"],"timestamp":"2026-11-27T17:46:02.077Z"})");
  EXPECT_EQ(json::serialize(revalidate_payload({"a", "b"}, json::parse(R"({"x":1})"), at(17, 46, 2, 77))),
            R"({"queryKeys":["a","b"],"data":{"x":1},"timestamp":"2026-11-27T17:46:02.077Z"})");
}

TEST(RevalidatePayload, AlwaysHasQueryKeys) {
  EXPECT_EQ(json::serialize(revalidate_payload({}, nullptr, at(0, 0, 0, 0))),
            R"({"queryKeys":[],"timestamp":"2026-11-27T00:00:00.000Z"})");
  EXPECT_EQ(json::serialize(revalidate_payload({""}, nullptr, at(0, 0, 0, 0))),
            R"({"queryKeys":[""],"timestamp":"2026-11-27T00:00:00.000Z"})");
}

TEST(StampedPayload, AddsTimestampToObjectsOnly) {
  EXPECT_EQ(json::serialize(stamped_payload(json::parse(R"({"text":"hi"})"), at(17, 46, 2, 733))),
            R"({"text":"hi","timestamp":"2026-11-27T17:46:02.733Z"})");
  EXPECT_EQ(json::serialize(stamped_payload(json::parse(R"({"timestamp":1})"), at(0, 0, 0, 0))),
            R"({"timestamp":1})");
  EXPECT_EQ(json::serialize(stamped_payload(json::value(0), at(0, 0, 0, 0))), "0");
}

TEST(Frame, CopiesShareTheSameBytes) {
  Frame frame = Frame::copy_of("event: x\n\n");
  EXPECT_EQ(frame.use_count(), 1u);
  Frame copy = frame;
  EXPECT_EQ(copy.data(), frame.data());
  EXPECT_EQ(frame.use_count(), 2u);
  Frame moved = std::move(copy);
  EXPECT_FALSE(copy);  // NOLINT(bugprone-use-after-move): a moved-from frame is empty
  EXPECT_EQ(frame.use_count(), 2u);
  moved = Frame();
  EXPECT_EQ(frame.use_count(), 1u);
  EXPECT_EQ(frame.view(), "event: x\n\n");
}

TEST(Frame, JoinConcatenatesInOneFrame) {
  EXPECT_EQ(Frame::join({"ab", "", "cde"}).view(), "abcde");
  EXPECT_EQ(Frame::join({}).size(), 0u);
  EXPECT_EQ(Frame().size(), 0u);
  EXPECT_FALSE(Frame());
}

TEST(Frame, HandleIsOnePointer) {
  EXPECT_EQ(sizeof(Frame), sizeof(void*));
}

}  // namespace
}  // namespace igniter::realtime

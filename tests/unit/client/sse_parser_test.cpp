#include "client/sse_parser.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "client/wire.hpp"
#include "realtime/frame.hpp"

namespace igniter::client::detail {
namespace {

// Every frame `stream` holds, fed in pieces of `piece` bytes (0: all at once).
std::vector<SseFrame> parse(std::string_view stream, std::size_t piece = 0, SseParser* keep = nullptr) {
  SseParser local;
  SseParser& parser = keep ? *keep : local;
  std::vector<SseFrame> out;
  auto collect = [&](const SseFrame& frame) { out.push_back(frame); };
  if (piece == 0) {
    EXPECT_TRUE(parser.feed(stream, collect));
  } else {
    for (std::size_t i = 0; i < stream.size(); i += piece)
      EXPECT_TRUE(parser.feed(stream.substr(i, piece), collect));
  }
  return out;
}

TEST(SseParser, ReadsIdEventAndDataOfOneFrame) {
  auto frames = parse("id: k3-1\nevent: message\ndata: {\"a\":1}\n\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].id, "k3-1");
  EXPECT_EQ(frames[0].event, "message");
  EXPECT_EQ(frames[0].data, "{\"a\":1}");
  EXPECT_FALSE(frames[0].retry);
}

TEST(SseParser, GivesTheSameFramesWhateverThePiecesTheBytesArriveIn) {
  const std::string stream =
      "retry: 2000\nid: a-1\nevent: connected\ndata: {\"x\":1}\n\n: keepalive\n\nid: a-2\ndata: one\ndata: "
      "two\n\n"
      "event: revalidate\r\ndata: crlf\r\n\r\ndata: cr\r\rdata:nospace\n\n";
  auto whole = parse(stream);
  ASSERT_EQ(whole.size(), 5u);
  for (std::size_t piece = 1; piece <= 7; ++piece) {
    auto split = parse(stream, piece);
    ASSERT_EQ(split.size(), whole.size()) << "pieces of " << piece;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(split[i].id, whole[i].id);
      EXPECT_EQ(split[i].event, whole[i].event);
      EXPECT_EQ(split[i].data, whole[i].data) << "pieces of " << piece;
      EXPECT_EQ(split[i].retry, whole[i].retry);
    }
  }
  EXPECT_EQ(whole[0].retry, 2000);
  EXPECT_EQ(whole[1].data, "one\ntwo");
  EXPECT_EQ(whole[2].event, "revalidate");
  EXPECT_EQ(whole[2].data, "crlf");
  EXPECT_EQ(whole[3].data, "cr");
  EXPECT_EQ(whole[4].data, "nospace");
}

TEST(SseParser, CommentsAndBlankLinesDispatchNothing) {
  EXPECT_TRUE(parse(": keepalive\n\n\n\n: another\n\n").empty());
}

TEST(SseParser, FrameWithoutDataDispatchesNothingButMovesTheLastEventId) {
  SseParser parser;
  EXPECT_TRUE(parse("id: a-7\nevent: message\n\n", 0, &parser).empty());
  EXPECT_EQ(parser.last_event_id(), "a-7");
  // An empty `data:` line is data: the frame dispatches with "".
  auto frames = parse("data:\n\n", 0, &parser);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "");
  EXPECT_FALSE(frames[0].id);  // the frame had no id of its own
  EXPECT_EQ(parser.last_event_id(), "a-7");
}

TEST(SseParser, AnIncompleteFrameIsNotDispatchedNorItsIdKept) {
  SseParser parser(1 << 20, "a-1");
  EXPECT_TRUE(parse("id: a-2\ndata: half", 0, &parser).empty());
  EXPECT_EQ(parser.last_event_id(), "a-1");  // a reconnect resumes before the half frame
  auto frames = parse("\n\n", 0, &parser);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "half");
  EXPECT_EQ(parser.last_event_id(), "a-2");
}

TEST(SseParser, EmptyIdResetsAndIdWithNulIsIgnored) {
  SseParser parser(1 << 20, "a-1");
  parse(std::string("id: a\0b\ndata: x\n\n", 17), 0, &parser);
  EXPECT_EQ(parser.last_event_id(), "a-1");
  parse("id\ndata: y\n\n", 0, &parser);
  EXPECT_EQ(parser.last_event_id(), "");
}

TEST(SseParser, AnIdTooLongToSendBackIsIgnored) {
  SseParser parser(1 << 20, "a-1", 16);
  auto frames = parse("id: " + std::string(17, 'x') + "\ndata: x\n\n", 0, &parser);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_FALSE(frames[0].id);
  EXPECT_EQ(parser.last_event_id(), "a-1");
  parse("id: " + std::string(16, 'y') + "\ndata: x\n\n", 0, &parser);
  EXPECT_EQ(parser.last_event_id(), std::string(16, 'y'));
}

TEST(SseParser, RetryOfAnyLengthIsReadWithoutOverflow) {
  auto frames = parse("retry: 1234567890\ndata: a\n\nretry: 99999999999999999999999999\ndata: b\n\n");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].retry, 1234567890L);
  EXPECT_EQ(frames[1].retry, std::numeric_limits<long>::max());
  auto ignored = parse("retry: -1\ndata: c\n\nretry: \ndata: d\n\n");
  ASSERT_EQ(ignored.size(), 2u);
  EXPECT_FALSE(ignored[0].retry);
  EXPECT_FALSE(ignored[1].retry);
}

TEST(SseParser, TheEventTypeCountsTowardTheFrameBound) {
  SseParser parser(64);
  auto none = [](const SseFrame&) {};
  EXPECT_TRUE(parser.feed("event: " + std::string(40, 'e') + "\n", none));
  EXPECT_FALSE(parser.feed("data: " + std::string(30, 'd') + "\n", none));
}

TEST(SseParser, FieldsFollowTheSpecification) {
  // No space after the colon; only one leading space is removed; a field with no colon has an empty
  // value; unknown fields and a non-numeric retry are ignored.
  auto frames = parse("data:a\ndata:  b\ndata\nfoo: bar\nretry: 12x\nevent:e\n\n");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, "a\n b\n");
  EXPECT_EQ(frames[0].event, "e");
  EXPECT_FALSE(frames[0].retry);
}

TEST(SseParser, SkipsOneLeadingByteOrderMarkEvenWhenSplit) {
  const std::string stream =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  for (std::size_t piece : {0, 1, 2}) {
    auto frames = parse(stream, piece);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].data, "x");
  }
  // Not at the start it is content (of an unknown field here, so nothing is dispatched).
  EXPECT_TRUE(parse("\n\xEF\xBB\xBF"
                    "data: x\n\n")
                  .empty());
}

TEST(SseParser, AFrameOverTheBoundFailsTheStream) {
  SseParser parser(64);
  std::size_t frames = 0;
  auto count = [&](const SseFrame&) { ++frames; };
  EXPECT_TRUE(parser.feed("data: small\n\n", count));
  EXPECT_FALSE(parser.feed("data: " + std::string(100, 'x'), count));  // one line, not even ended
  EXPECT_FALSE(parser.feed("\n\ndata: more\n\n", count));              // it stays failed
  EXPECT_EQ(frames, 1u);
  SseParser lines(64);
  bool ok = true;
  for (int i = 0; i < 10 && ok; ++i) ok = lines.feed("data: 0123456789\n", count);  // data grows line by line
  EXPECT_FALSE(ok);
}

TEST(SseParser, StopsWhenTheCallbackSaysSo) {
  SseParser parser;
  std::vector<std::string> seen;
  EXPECT_TRUE(parser.feed("data: 1\n\ndata: 2\n\ndata: 3\n\n", [&](const SseFrame& f) {
    seen.push_back(f.data);
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2"}));
}

// ---- what our server writes -------------------------------------------------------------------------

TEST(SseParser, ReadsTheServersConnectedFrame) {
  realtime::ConnectedInfo info;
  info.channels = {"revalidation", "news"};
  info.retry = std::chrono::milliseconds(2000);
  info.connection_id = "7";
  info.token = "9f0c";
  info.refused = {{"private.x", "Forbidden channel"}};
  info.scopes = std::vector<std::string>{"user:42"};
  info.position = realtime::EventId{36, 41};
  info.resync = true;
  auto frames = parse(realtime::encode_connected(info));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].event, "connected");
  EXPECT_EQ(frames[0].id, "10-41");
  EXPECT_EQ(frames[0].retry, 2000);
  auto connected = parse_connected(frames[0].data);
  ASSERT_TRUE(connected);
  EXPECT_EQ(connected->token, "9f0c");
  EXPECT_EQ(connected->info.connection_id, "7");
  EXPECT_EQ(connected->info.channels, (std::vector<std::string>{"revalidation", "news"}));
  ASSERT_EQ(connected->info.refused.size(), 1u);
  EXPECT_EQ(connected->info.refused[0].channel, "private.x");
  EXPECT_EQ(connected->info.refused[0].reason, "Forbidden channel");
  EXPECT_EQ(connected->info.scopes, (std::vector<std::string>{"user:42"}));
  EXPECT_EQ(connected->info.last_event_id, "10-41");
  EXPECT_TRUE(connected->info.resync);
}

TEST(SseParser, ReadsTheServersEventFrames) {
  realtime::Event event{.id = realtime::EventId{36, 42},
                        .channel = "news",
                        .scopes = {"user:42"},
                        .data = json::object{{"text", "line one\nline two"}},
                        .time = std::chrono::system_clock::time_point{}};
  auto frames = parse(realtime::encode_event(event), 3);
  ASSERT_EQ(frames.size(), 1u);
  auto received = make_event(frames[0].id.value_or(""), frames[0].event, frames[0].data);
  EXPECT_EQ(received.id, "10-42");
  EXPECT_EQ(received.type, "message");
  EXPECT_EQ(received.channel, "news");
  EXPECT_EQ(received.scopes, (std::vector<std::string>{"user:42"}));
  EXPECT_EQ(received.data, (json::object{{"text", "line one\nline two"}}));
  EXPECT_EQ(received.timestamp, "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace igniter::client::detail

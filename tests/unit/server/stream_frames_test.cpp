#include "server/stream_frames.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

std::string text(const realtime::Frame& frame) {
  return std::string(frame.data(), frame.size());
}

TEST(StreamFrames, TheHeadIsAnEventStreamDelimitedByTheClose) {
  auto head = text(stream_head());
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(head.ends_with("\r\n\r\n"));
}

TEST(StreamFrames, OverTlsWithHstsTheHeadAndARefusalCarryIt) {
  auto head = text(stream_head(std::chrono::seconds(600)));
  EXPECT_TRUE(head.starts_with(text(stream_head()).substr(0, text(stream_head()).size() - 2)));
  EXPECT_TRUE(head.ends_with("Strict-Transport-Security: max-age=600\r\n\r\n")) << head;
  EXPECT_EQ(text(stream_head(std::chrono::seconds(0))), text(stream_head()));
  auto refusal = serialize_closing(Response(429, "{}", "application/json"), std::chrono::seconds(600));
  EXPECT_NE(refusal.find("Strict-Transport-Security: max-age=600\r\n"), std::string::npos);
  EXPECT_EQ(serialize_closing(Response(429, "{}", "application/json")).find("Strict"), std::string::npos);
}

TEST(StreamFrames, ARefusalClosesTheConnectionAndCarriesTheBody) {
  auto bytes = serialize_closing(Response(429, "{}", "application/json").header("Retry-After", "5"));
  EXPECT_TRUE(bytes.starts_with("HTTP/1.1 429 Refused\r\nConnection: close\r\n"));
  EXPECT_NE(bytes.find("Retry-After: 5\r\n"), std::string::npos);
  EXPECT_TRUE(bytes.ends_with("Content-Length: 2\r\n\r\n{}"));
}

TEST(StreamFrames, TheAliasFrameNamesTheAliasWithTheEventsId) {
  realtime::StoredEvent stored;
  stored.event.id = {5, 9};
  stored.event.channel = "posts";
  stored.event.time = std::chrono::system_clock::now();
  auto frame = text(alias_frame(stored, "posts:{}"));
  EXPECT_TRUE(frame.starts_with("id: 5-9\n"));
  EXPECT_NE(frame.find("posts:{}"), std::string::npos);
}

TEST(StreamFrames, TheRefetchRevalidatesTheEmptyKey) {
  auto frame = text(refetch_frame({5, 3}, std::chrono::system_clock::now()));
  EXPECT_TRUE(frame.starts_with("id: 5-3\n"));
  EXPECT_NE(frame.find("revalidate"), std::string::npos);
  EXPECT_NE(frame.find("\"queryKeys\":[\"\"]"), std::string::npos);
}

}  // namespace
}  // namespace igniter::server

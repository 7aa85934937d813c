// The bounded RESP reader, from bytes (no socket).
#include "store/redis/reply_reader.hpp"

#include <gtest/gtest.h>

namespace igniter::store::redis {
namespace {

constexpr std::size_t kLimit = 4096;

TEST(ReplyReader, ReadsEveryKindOfReply) {
  auto replies = parse_replies(
      "+OK\r\n-ERR no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n*-1\r\n", kLimit);
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 7u);
  EXPECT_EQ((*replies)[0].kind, Reply::Kind::status);
  EXPECT_EQ((*replies)[1].text, "ERR no");
  EXPECT_EQ((*replies)[2].integer, 42);
  EXPECT_EQ((*replies)[3].text, "abc");
  EXPECT_TRUE((*replies)[4].is_nil());
  ASSERT_EQ((*replies)[5].elements.size(), 2u);
  EXPECT_EQ((*replies)[5].elements[0].text, "a");
  EXPECT_EQ((*replies)[5].elements[1].elements[0].integer, 1);
  EXPECT_TRUE((*replies)[6].is_nil());
}

TEST(ReplyReader, AnIncompleteReplyWaitsForMoreBytes) {
  ReplyReader reader(kLimit);
  std::string_view start = "*2\r\n$3\r\nab", rest = "c\r\n:7\r\n";
  ASSERT_FALSE(reader.feed(start.data(), start.size()));
  auto first = reader.next();
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  ASSERT_FALSE(reader.feed(rest.data(), rest.size()));
  auto second = reader.next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((**second).elements[1].integer, 7);
}

TEST(ReplyReader, AStringAnnouncedBeyondTheLimitIsRefusedBeforeItArrives) {
  ReplyReader reader(kLimit);
  std::string head = "$1000000000\r\n" + std::string(kLimit, 'x');
  ASSERT_FALSE(reader.feed(head.data(), head.size()));
  EXPECT_EQ(reader.next().error(), errc::reply_too_large);
  EXPECT_EQ(reader.next().error(), errc::reply_too_large) << "the reader is spent";
}

TEST(ReplyReader, AnArrayAnnouncedBeyondTheLimitIsRefusedAtItsHeader) {
  EXPECT_EQ(parse_replies("*2000000000\r\n", kLimit).error(), errc::reply_too_large);
  EXPECT_EQ(parse_replies("*100\r\n", kLimit).error(), errc::reply_too_large);  // 100 elements cost > 4096
  EXPECT_TRUE(parse_replies("*10\r\n", kLimit).ok());                           // incomplete, within
}

TEST(ReplyReader, ManySmallRepliesEachGetTheWholeBudget) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += "$100\r\n" + std::string(100, 'v') + "\r\n";
  auto replies = parse_replies(bytes, kLimit);
  ASSERT_TRUE(replies.ok());
  EXPECT_EQ(replies->size(), 1000u);
}

TEST(ReplyReader, NestingDeeperThanSevenIsAProtocolError) {
  EXPECT_EQ(parse_replies("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 1 << 20).error(),
            errc::protocol);
}

TEST(ReplyReader, BytesThatAreNotRespAreAProtocolError) {
  EXPECT_EQ(parse_replies("hello\r\n", kLimit).error(), errc::protocol);
  EXPECT_EQ(parse_replies("*-5\r\n", kLimit).error(), errc::protocol);  // a negative count
}

}  // namespace
}  // namespace igniter::store::redis

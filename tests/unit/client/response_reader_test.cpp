// The client's HTTP answer parser, fed the bytes a hostile server could send: interim answers, bytes
// after the answer, endless lines, oversized heads and bodies, a connection that ends early.
#include "client/response_reader.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>

#include <string>

namespace igniter::client::detail {
namespace {

namespace http = boost::beast::http;

constexpr ResponseLimits kLimits{
    .max_header_bytes = 1024, .max_body_bytes = 4096, .max_interim_responses = 5};

// Feeds `bytes` in pieces of `piece` bytes (0: at once); the first error, if any.
boost::beast::error_code feed(ResponseReader& reader, std::string_view bytes, std::size_t piece = 0) {
  if (piece == 0) return reader.feed(bytes);
  for (std::size_t i = 0; i < bytes.size(); i += piece)
    if (auto ec = reader.feed(bytes.substr(i, piece))) return ec;
  return {};
}

TEST(ResponseReader, ReadsAnAnswerWhateverThePiecesItArrivesIn) {
  const std::string answer =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (std::size_t piece : {0, 1, 2, 7}) {
    ResponseReader reader(kLimits);
    ASSERT_FALSE(feed(reader, answer, piece)) << piece;
    ASSERT_TRUE(reader.done()) << piece;
    EXPECT_EQ(reader.response().result_int(), 200u);
    EXPECT_EQ(reader.body(), "hello world");
    EXPECT_EQ(reader.leftover(), 0u);
    EXPECT_TRUE(reader.reusable());
  }
}

TEST(ResponseReader, SkipsInterimAnswersBeforeTheFinalOne) {
  const std::string answer =
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  for (std::size_t piece : {0, 1, 3}) {
    ResponseReader reader(kLimits);
    ASSERT_FALSE(feed(reader, answer, piece)) << piece;
    ASSERT_TRUE(reader.done());
    EXPECT_EQ(reader.interim(), 2u);
    EXPECT_EQ(reader.response().result_int(), 201u);
    EXPECT_EQ(reader.body(), "ok");
    EXPECT_EQ(reader.leftover(), 0u);
    EXPECT_TRUE(reader.reusable());
  }
}

TEST(ResponseReader, MoreInterimAnswersThanAllowedOrASwitchOfProtocolFail) {
  std::string many;
  for (int i = 0; i < 6; ++i) many += "HTTP/1.1 100 Continue\r\n\r\n";
  ResponseReader reader(kLimits);
  EXPECT_EQ(reader.feed(many + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), http::error::bad_status);
  EXPECT_FALSE(reader.done());
  EXPECT_EQ(reader.feed("more"), http::error::bad_status);  // it stays failed

  ResponseReader five(kLimits);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(five.feed("HTTP/1.1 100 Continue\r\n\r\n"));
  EXPECT_FALSE(five.feed("HTTP/1.1 204 No Content\r\n\r\n"));
  EXPECT_TRUE(five.done());

  ResponseReader upgrade(kLimits);
  EXPECT_EQ(upgrade.feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
            http::error::bad_status);
}

TEST(ResponseReader, BytesAfterTheAnswerAreCountedNotParsedAndEndReuse) {
  ResponseReader reader(kLimits);
  ASSERT_FALSE(
      reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
                  "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"));
  ASSERT_TRUE(reader.done());
  EXPECT_EQ(reader.body(), "first");
  EXPECT_EQ(reader.leftover(), 46u);
  EXPECT_FALSE(reader.reusable());
  EXPECT_FALSE(reader.feed("and more"));
  EXPECT_EQ(reader.leftover(), 54u);
}

TEST(ResponseReader, AnEndlessChunkSizeLineFailsAtTheBound) {
  ResponseReader reader(kLimits);
  ASSERT_FALSE(reader.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2"));
  std::size_t fed = 0;
  boost::beast::error_code ec;
  while (!ec && fed < (1 << 20)) {
    ec = reader.feed(";a=b;a=b;a=b;a=b");
    fed += 16;
  }
  EXPECT_EQ(ec, http::error::buffer_overflow);
  EXPECT_LE(fed, kLimits.max_header_bytes + 16);
}

TEST(ResponseReader, EndlessTrailersFailAtTheBound) {
  ResponseReader reader(kLimits);
  ASSERT_FALSE(reader.feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"));
  boost::beast::error_code ec;
  for (int i = 0; i < 1000 && !ec; ++i) ec = reader.feed("X-Trailer: 0123456789\r\n");
  EXPECT_EQ(ec, http::error::buffer_overflow);
}

TEST(ResponseReader, AHeadOverTheBoundFails) {
  ResponseReader reader(kLimits);
  boost::beast::error_code ec = reader.feed("HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 1000 && !ec; ++i) ec = reader.feed("X-Filler: 0123456789\r\n");
  EXPECT_EQ(ec, http::error::header_limit);
}

TEST(ResponseReader, ABodyOverTheBoundFailsWithoutAllocatingWhatItAnnounces) {
  ResponseReader announced(kLimits);
  EXPECT_EQ(announced.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n"),
            http::error::body_limit);

  ResponseReader chunked(kLimits);
  EXPECT_EQ(feed(chunked, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                              std::string(2048, 'x') + "\r\n801\r\n"),
            http::error::body_limit);

  ResponseReader to_eof(kLimits);
  EXPECT_EQ(feed(to_eof, "HTTP/1.1 200 OK\r\n\r\n" + std::string(5000, 'x'), 100), http::error::body_limit);

  // A stream has no body bound: a huge Content-Length reserves nothing.
  ResponseReader stream({.max_header_bytes = 1024, .max_body_bytes = std::nullopt});
  ASSERT_FALSE(stream.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\ndata: x\n\n"));
  EXPECT_TRUE(stream.head_done());
  EXPECT_EQ(stream.body(), "data: x\n\n");
  EXPECT_LT(stream.body().capacity(), 1u << 20);
}

TEST(ResponseReader, AnAnswerEndedByTheConnectionIsCompleteButNotReusable) {
  ResponseReader reader(kLimits);
  ASSERT_FALSE(reader.feed("HTTP/1.1 200 OK\r\n\r\n{\"data\":1}"));
  EXPECT_TRUE(reader.head_done());
  EXPECT_FALSE(reader.done());
  EXPECT_FALSE(reader.finish());
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.body(), "{\"data\":1}");
  EXPECT_FALSE(reader.reusable());
}

TEST(ResponseReader, AConnectionThatEndsEarlyIsAPartialMessage) {
  ResponseReader nothing(kLimits);
  EXPECT_EQ(nothing.finish(), http::error::end_of_stream);
  EXPECT_FALSE(nothing.got_some());

  ResponseReader head(kLimits);
  ASSERT_FALSE(head.feed("HTTP/1.1 200 OK\r\nContent-"));
  EXPECT_TRUE(head.got_some());
  EXPECT_EQ(head.finish(), http::error::partial_message);

  ResponseReader body(kLimits);
  ASSERT_FALSE(body.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
  EXPECT_EQ(body.finish(), http::error::partial_message);

  ResponseReader interim(kLimits);
  ASSERT_FALSE(interim.feed("HTTP/1.1 100 Continue\r\n\r\n"));
  EXPECT_TRUE(interim.got_some());
  EXPECT_EQ(interim.finish(), http::error::end_of_stream);
}

TEST(ResponseReader, TheAnswerToAHeadHasNoBodyWhateverItsContentLength) {
  ResponseReader reader(kLimits, /*head_request=*/true);
  ASSERT_FALSE(reader.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(reader.body(), "");
  EXPECT_TRUE(reader.reusable());
}

TEST(ResponseReader, GarbageIsAnError) {
  for (std::string_view garbage :
       {"HTTP/1.1 000 Zero\r\n\r\n", "HTTP/1.1 600 Six\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Field\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    ResponseReader reader(kLimits);
    EXPECT_TRUE(reader.feed(garbage)) << garbage;
    EXPECT_FALSE(reader.done());
  }
}

}  // namespace
}  // namespace igniter::client::detail

#include "client/wire.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "igniter/client/client.hpp"

namespace igniter::client::detail {
namespace {

// ---- base URL ---------------------------------------------------------------------------------------

TEST(BaseUrl, HostPortAndBasePath) {
  auto url = parse_base_url("http://127.0.0.1:3000/api/v1");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "3000");
  EXPECT_EQ(url.host_header, "127.0.0.1:3000");
  EXPECT_EQ(url.base_path, "/api/v1");
}

TEST(BaseUrl, DefaultsAndNormalisation) {
  auto url = parse_base_url("HTTP://example.test/");
  EXPECT_EQ(url.host, "example.test");
  EXPECT_EQ(url.port, "80");
  EXPECT_EQ(url.host_header, "example.test");
  EXPECT_EQ(url.base_path, "");
  EXPECT_EQ(parse_base_url("http://localhost:8080/api/v1/").base_path, "/api/v1");
  auto v6 = parse_base_url("http://[::1]:3000/api");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.host_header, "[::1]:3000");
}

TEST(BaseUrl, HttpsDefaultsToPort443) {
  auto url = parse_base_url("https://example.test/api/v1");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.port, "443");
  EXPECT_EQ(url.host_header, "example.test");
  EXPECT_FALSE(parse_base_url("http://example.test").tls);
  EXPECT_EQ(parse_base_url("HTTPS://example.test:8443").port, "8443");
}

TEST(BaseUrl, AnUnreadableCaFileIsRejectedWithItsName) {
  try {
    Client("https://127.0.0.1:3000", {.tls_ca_file = "/nonexistent/ca.pem"});
    FAIL() << "a missing CA file was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/ca.pem"), std::string::npos) << error.what();
  }
}

TEST(BaseUrl, OtherBadUrlsAreRejected) {
  for (const char* bad : {"", "127.0.0.1:3000", "ftp://host/", "http://", "http://user:pw@host/",
                          "http://host/api?x=1", "http://host/api#top", "http://host:0/", "not a url"}) {
    EXPECT_THROW(parse_base_url(bad), std::invalid_argument) << bad;
  }
}

// ---- targets and query strings ----------------------------------------------------------------------

TEST(Target, JoinsBasePathAndPath) {
  EXPECT_EQ(*make_target("/api/v1", "/posts", {}, {}), "/api/v1/posts");
  EXPECT_EQ(*make_target("/api/v1", "posts", {}, {}), "/api/v1/posts");
  EXPECT_EQ(*make_target("", "/posts/", {}, {}), "/posts/");
  EXPECT_EQ(*make_target("/api", "", {}, {}), "/api/");
}

TEST(Target, ReplacesWholeParameterSegmentsEncoded) {
  json::object params{{"id", 42}, {"slug", "a b/c"}};
  EXPECT_EQ(*make_target("/api", "/posts/:id/:slug", params, {}), "/api/posts/42/a%20b%2Fc");
  EXPECT_EQ(*make_target("/api", "/a:id/x", params, {}), "/api/a:id/x");  // not a whole segment
  auto missing = make_target("/api", "/posts/:other", params, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().ec, errc::invalid_request);
  EXPECT_NE(missing.error().message.find(":other"), std::string::npos);
}

TEST(Target, WritesTheQueryString) {
  json::object query{
      {"page", 2},   {"drafts", true}, {"q", "a&b=c d"}, {"none", nullptr}, {"tags", json::array{"x", "y"}},
      {"ratio", 1.5}};
  EXPECT_EQ(*make_target("/api", "/posts", {}, query),
            "/api/posts?page=2&drafts=true&q=a%26b%3Dc%20d&tags=x&tags=y&ratio=1.5");
  EXPECT_EQ(*make_target("/api", "/posts?fixed=1", {}, json::object{{"page", 2}}),
            "/api/posts?fixed=1&page=2");
  EXPECT_EQ(query_string(json::object{{"channels", "a,b"}, {"scopes", ""}}), "channels=a%2Cb&scopes=");
}

TEST(Target, PercentEncodesAllButUnreserved) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("é /?#%"), "%C3%A9%20%2F%3F%23%25");
}

// ---- answers ----------------------------------------------------------------------------------------

TEST(Answer, SuccessGivesTheEnvelopesData) {
  auto reply = interpret_answer(201, R"({"data":{"id":1},"error":null})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply.status(), 201u);
  EXPECT_EQ(*reply, (json::object{{"id", 1}}));
  auto empty = interpret_answer(204, "");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->is_null());
}

TEST(Answer, SuccessWithoutEnvelopeIsAnInvalidAnswer) {
  for (const char* body : {"not json", "[1,2]", R"({"posts":[]})"}) {
    auto reply = interpret_answer(200, body);
    ASSERT_FALSE(reply) << body;
    EXPECT_EQ(reply.error().ec, errc::invalid_answer);
    EXPECT_EQ(reply.error().status, 200u);
  }
}

TEST(Answer, ErrorEnvelopeGivesStatusCodeMessageAndData) {
  auto reply = interpret_answer(
      404, R"({"data":null,"error":{"message":"Post not found","code":"ERR_NOT_FOUND","data":{"id":9}}})");
  ASSERT_FALSE(reply);
  const auto& error = reply.error();
  EXPECT_EQ(error.ec, errc::error_response);
  EXPECT_EQ(reply.status(), 404u);
  EXPECT_EQ(error.status, 404u);
  EXPECT_EQ(error.code, "ERR_NOT_FOUND");
  EXPECT_EQ(error.message, "Post not found");
  EXPECT_EQ(error.data, (json::object{{"id", 9}}));
}

TEST(Answer, ValidationErrorGivesItsIssues) {
  auto reply = interpret_answer(
      400, R"json({"data":null,"error":{"message":"Validation Error","code":"VALIDATION_ERROR",
    "details":[{"code":"too_small","minimum":1,"type":"string","inclusive":true,"exact":false,
                "path":["title"],"message":"String must contain at least 1 character(s)","in":"body"},
               {"code":"invalid_type","expected":"number","received":"string","path":["tags",2],
                "message":"Expected number, received string","in":"body"}]}})json");
  ASSERT_FALSE(reply);
  const auto& issues = reply.error().issues;
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].code, "too_small");
  EXPECT_EQ(json::path_to_string(issues[0].path), "title");
  EXPECT_EQ(issues[0].details.at("minimum"), 1);
  EXPECT_EQ(issues[0].details.at("in"), "body");
  EXPECT_EQ(issues[1].expected, "number");
  EXPECT_EQ(issues[1].received, "string");
  EXPECT_EQ(json::path_to_string(issues[1].path), "tags[2]");
  EXPECT_EQ(json::to_json(issues[1]).at("in"), "body");  // back to the wire shape
}

TEST(Answer, ErrorWithoutEnvelopeStillSaysWhat) {
  auto reply = interpret_answer(502, "Bad Gateway");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, errc::error_response);
  EXPECT_EQ(reply.error().message, "HTTP 502: Bad Gateway");
  EXPECT_TRUE(reply.error().code.empty());
}

struct Post {
  int id = 0;
  std::string title;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title))

TEST(Answer, DataThatDoesNotMatchTheTypeIsAnInvalidAnswerWithIssues) {
  auto reply = decode_reply<Post>(interpret_answer(200, R"({"data":{"id":"seven","title":"x"}})"));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, errc::invalid_answer);
  ASSERT_EQ(reply.error().issues.size(), 1u);
  EXPECT_EQ(json::path_to_string(reply.error().issues[0].path), "id");
  EXPECT_EQ(reply.error().data, (json::object{{"id", "seven"}, {"title", "x"}}));
  auto good = decode_reply<Post>(interpret_answer(201, R"({"data":{"id":7,"title":"x"}})"));
  ASSERT_TRUE(good);
  EXPECT_EQ(good->id, 7);
  EXPECT_EQ(good.status(), 201u);
}

// ---- cookies ----------------------------------------------------------------------------------------

TEST(SetCookie, ReadsNameAndValueAndHonoursMaxAgeZero) {
  auto set = parse_set_cookie("session=abc123; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->name, "session");
  EXPECT_EQ(set->value, "abc123");
  EXPECT_FALSE(set->remove);
  auto cleared = parse_set_cookie("session=; Path=/; Max-Age=0");
  ASSERT_TRUE(cleared);
  EXPECT_TRUE(cleared->remove);
  auto expired = parse_set_cookie("a=b; max-age=-1");
  ASSERT_TRUE(expired);
  EXPECT_TRUE(expired->remove);
  EXPECT_EQ(parse_set_cookie("q=\"quoted\"")->value, "quoted");
  EXPECT_FALSE(parse_set_cookie("no-equals-sign"));
  EXPECT_FALSE(parse_set_cookie("=value"));
}

TEST(SetCookie, MaxAgeIsReadWithoutOverflowAndTheLastOneCounts) {
  auto removes = [](std::string_view line) { return parse_set_cookie(line)->remove; };
  // Negative or zero of any length deletes: a number past what a long long holds is still negative.
  EXPECT_TRUE(removes("a=b; Max-Age=-99999999999999999999999999"));
  EXPECT_TRUE(removes("a=b; Max-Age=-0"));
  EXPECT_TRUE(removes("a=b; Max-Age=0000000000000000000000000000000"));
  // Positive of any length keeps the cookie.
  EXPECT_FALSE(removes("a=b; Max-Age=99999999999999999999999999"));
  // Not `-`? DIGIT+: the attribute is ignored (RFC 6265 §5.2.2), so these keep the cookie.
  for (auto ignored : {"a=b; Max-Age=", "a=b; Max-Age=-", "a=b; Max-Age=1e3", "a=b; Max-Age=+0",
                       "a=b; Max-Age=0x0", "a=b; Max-Age=- 1", "a=b; Max-Age=-1s", "a=b; Max-Age"})
    EXPECT_FALSE(removes(ignored)) << ignored;
  // The last Max-Age counts.
  EXPECT_FALSE(removes("a=b; Max-Age=0; Max-Age=60"));
  EXPECT_TRUE(removes("a=b; Max-Age=60; Max-Age=-1"));
  EXPECT_TRUE(removes("a=b; Max-Age=0; Max-Age=oops"));
}

TEST(CookieJar, StaysWithinItsCountAndBytesByEvictingTheOldest) {
  CookieJar jar({.max_cookies = 3, .max_cookie_bytes = 100, .max_jar_bytes = 1000});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(jar.set("c" + std::to_string(i), "v"));
  EXPECT_EQ(jar.size(), 3u);
  EXPECT_EQ(jar.get("c0"), "");
  EXPECT_EQ(jar.get("c9"), "v");
  std::string header;
  jar.append_header(header);
  EXPECT_EQ(header, "c7=v; c8=v; c9=v");

  CookieJar bytes({.max_cookies = 50, .max_cookie_bytes = 100, .max_jar_bytes = 250});
  for (int i = 0; i < 20; ++i) bytes.set("k" + std::to_string(i), std::string(90, 'x'));  // 92-93 bytes each
  EXPECT_EQ(bytes.size(), 2u);
  EXPECT_LE(bytes.bytes(), 250u);
  EXPECT_EQ(bytes.get("k19"), std::string(90, 'x'));
  EXPECT_EQ(bytes.get("k17"), "");
}

TEST(CookieJar, RefusesACookieOverItsSizeAndKeepsTheRest) {
  CookieJar jar({.max_cookies = 50, .max_cookie_bytes = 10, .max_jar_bytes = 1000});
  EXPECT_TRUE(jar.set("session", "abc"));
  EXPECT_FALSE(jar.set("big", "0123456789"));
  EXPECT_FALSE(jar.set("session", "0123456789"));  // a too large update leaves the old value
  EXPECT_EQ(jar.get("session"), "abc");
  EXPECT_EQ(jar.get("big"), "");
  EXPECT_TRUE(jar.set("session", "xyz"));  // an update replaces, and counts once
  EXPECT_EQ(jar.size(), 1u);
  EXPECT_EQ(jar.bytes(), 10u);
  jar.remove("session");
  EXPECT_EQ(jar.size(), 0u);
  EXPECT_EQ(jar.bytes(), 0u);
}

// ---- realtime ---------------------------------------------------------------------------------------

TEST(Events, FrameWithoutEnvelopeKeepsItsDataWhole) {
  auto plain = make_event("", "", "not json");
  EXPECT_EQ(plain.type, "message");
  EXPECT_EQ(plain.data, "not json");
  EXPECT_EQ(plain.channel, "");
  auto bare = make_event("a-1", "custom", R"({"x":1})");
  EXPECT_EQ(bare.type, "custom");
  EXPECT_EQ(bare.data, (json::object{{"x", 1}}));
}

TEST(Events, TypedPayload) {
  auto event =
      make_event("a-1", "message", R"({"channel":"posts","data":{"id":3,"title":"t"},"timestamp":"x"})");
  auto post = event.as<Post>();
  ASSERT_TRUE(post);
  EXPECT_EQ(post->id, 3);
}

TEST(Events, ChannelChangeAnswer) {
  auto change = parse_channel_change(boost::json::parse(
      R"({"subscribed":["news"],"refused":[{"channel":"private.x","reason":"Forbidden channel"}],"unsubscribed":["old"]})"));
  EXPECT_EQ(change.subscribed, (std::vector<std::string>{"news"}));
  ASSERT_EQ(change.refused.size(), 1u);
  EXPECT_EQ(change.refused[0].reason, "Forbidden channel");
  EXPECT_EQ(change.unsubscribed, (std::vector<std::string>{"old"}));
  EXPECT_FALSE(change.deferred);
}

}  // namespace
}  // namespace igniter::client::detail

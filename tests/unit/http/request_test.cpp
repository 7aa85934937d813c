#include "igniter/http/request.hpp"

#include <gtest/gtest.h>

namespace igniter {
namespace {

Request with_headers(Request::Fields headers) {
  Request r;
  r.headers = std::move(headers);
  return r;
}

TEST(Request, HeaderLookupIgnoresCase) {
  auto r = with_headers({{"Content-Type", "application/json"}});
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_TRUE(r.has_header("CONTENT-TYPE"));
  EXPECT_EQ(r.header("accept"), "");
}

TEST(Request, CookiesAreFoundAcrossHeadersAndUnquoted) {
  auto r = with_headers({{"Cookie", "a=1; session=\"abc\""}, {"cookie", "theme=dark"}});
  EXPECT_EQ(r.cookie("session"), "abc");
  EXPECT_EQ(r.cookie("theme"), "dark");
  EXPECT_EQ(r.cookie("missing"), "");
}

TEST(Request, BearerTokenIsReadFromAuthorization) {
  EXPECT_EQ(with_headers({{"Authorization", "Bearer t0k3n"}}).bearer_token(), "t0k3n");
  EXPECT_EQ(with_headers({{"Authorization", "Basic abc"}}).bearer_token(), "");
}

TEST(Request, RepeatedQueryKeysBecomeArrays) {
  Request r;
  r.query = {{"tag", "a"}, {"tag", "b"}, {"page", "2"}};
  auto q = r.query_object();
  EXPECT_EQ(json::serialize(q), R"({"tag":["a","b"],"page":"2"})");
}

}  // namespace
}  // namespace igniter

#include <gtest/gtest.h>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

const std::vector<std::pair<std::string, std::string>> kAuth{{"Authorization", "Bearer alice"}};

json::array details_of(const HttpResult& r) {
  EXPECT_EQ(r.status, 400u) << r.body;
  auto body = r.json();
  EXPECT_EQ(body.at("data"), nullptr);
  EXPECT_EQ(body.at("error").at("message"), "Validation Error");
  EXPECT_EQ(body.at("error").at("code"), "VALIDATION_ERROR");
  return body.at("error").at("details").as_array();
}

const json::value* find_detail(const json::array& details, const json::array& path) {
  for (const auto& d : details)
    if (d.at("path") == json::value(path)) return &d;
  return nullptr;
}

TEST(Validation, EveryFailingFieldIsReportedWithItsPath) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts",
                 R"({"title":"","content":42,"tags":["a",7,"c"],"priority":11,"status":"archived",
                     "author":{"email":"not-an-email"}})",
                 kAuth);
  auto details = details_of(r);

  auto title = find_detail(details, {"title"});
  ASSERT_TRUE(title) << r.body;
  EXPECT_EQ(title->at("code"), "too_small");
  EXPECT_EQ(title->at("in"), "body");

  auto content = find_detail(details, {"content"});
  ASSERT_TRUE(content);
  EXPECT_EQ(content->at("code"), "invalid_type");
  EXPECT_EQ(content->at("expected"), "string");
  EXPECT_EQ(content->at("received"), "number");

  ASSERT_TRUE(find_detail(details, {"tags", 1}));
  ASSERT_TRUE(find_detail(details, {"priority"}));
  EXPECT_EQ(find_detail(details, {"priority"})->at("code"), "too_big");
  ASSERT_TRUE(find_detail(details, {"status"}));
  EXPECT_EQ(find_detail(details, {"status"})->at("code"), "invalid_enum_value");
  auto name = find_detail(details, {"author", "name"});
  ASSERT_TRUE(name);
  EXPECT_EQ(name->at("message"), "Required");
  ASSERT_TRUE(find_detail(details, {"author", "email"}));
}

TEST(Validation, TooManyItemsIsReportedOnTheArray) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts",
                 R"({"title":"t","content":"c","tags":["a","b","c","d"],"author":{"name":"n"}})", kAuth);
  auto details = details_of(r);
  ASSERT_EQ(details.size(), 1u) << r.body;
  EXPECT_EQ(details[0].at("path"), json::array{"tags"});
  EXPECT_EQ(details[0].at("code"), "too_big");
}

TEST(Validation, QueryStringIsCoercedAndChecked) {
  TestServer server;
  auto details = details_of(fetch(server.port(), "GET", "/api/v1/posts?page=zero&drafts=maybe"));
  ASSERT_TRUE(find_detail(details, {"page"}));
  EXPECT_EQ(find_detail(details, {"page"})->at("in"), "query");
  ASSERT_TRUE(find_detail(details, {"drafts"}));
  auto low = details_of(fetch(server.port(), "GET", "/api/v1/posts?page=0"));
  EXPECT_EQ(find_detail(low, {"page"})->at("code"), "too_small");
}

TEST(Validation, PathParametersAreTyped) {
  TestServer server;
  auto details = details_of(fetch(server.port(), "GET", "/api/v1/posts/abc"));
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].at("path"), json::array{"id"});
  EXPECT_EQ(details[0].at("in"), "params");
}

TEST(Validation, InvalidJsonIs400WithItsOwnCode) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts", R"({"title": "x",)", kAuth);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_INVALID_JSON");
}

TEST(Validation, WrongContentTypeIs415) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts", "title=x",
                 {{"Authorization", "Bearer alice"}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r.status, 415u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_UNSUPPORTED_MEDIA_TYPE");
}

TEST(Validation, EmptyBodyWhereOneIsRequiredIs400) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts", "", kAuth);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_BODY_REQUIRED");
}

TEST(Validation, BodyOfWrongTopLevelTypeIsAValidationError) {
  TestServer server;
  auto details = details_of(fetch(server.port(), "POST", "/api/v1/posts", "[1,2]", kAuth));
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].at("expected"), "object");
  EXPECT_EQ(details[0].at("path"), json::array{});
}

}  // namespace
}  // namespace igniter::test

#include "igniter/json/issue.hpp"

#include <gtest/gtest.h>

namespace igniter::json {
namespace {

TEST(Issue, ToJsonHasZodShapeWithPathSegmentsAsKeysAndIndexes) {
  const Issue issue{.code = "invalid_type",
                    .path = {"author", "tags", std::size_t{2}},
                    .message = "Expected string, received number",
                    .expected = "string",
                    .received = "number"};
  EXPECT_EQ(serialize(to_json(issue)),
            R"({"code":"invalid_type","expected":"string","received":"number","path":["author","tags",2],)"
            R"("message":"Expected string, received number"})");
}

TEST(Issue, ToJsonOmitsEmptyExpectedAndReceivedAndMergesDetails) {
  Issue issue{
      .code = "too_small", .path = {"title"}, .message = "String must contain at least 1 character(s)"};
  issue.details = {{"minimum", 1}, {"type", "string"}, {"inclusive", true}, {"exact", false}};
  EXPECT_EQ(
      serialize(to_json(issue)),
      R"({"code":"too_small","minimum":1,"type":"string","inclusive":true,"exact":false,"path":["title"],)"
      R"j("message":"String must contain at least 1 character(s)"})j");
}

TEST(Issue, ToJsonOfAListIsAnArrayInOrder) {
  const std::vector<Issue> issues{{.code = "custom", .message = "a"}, {.code = "custom", .message = "b"}};
  EXPECT_EQ(serialize(to_json(issues)),
            R"([{"code":"custom","path":[],"message":"a"},{"code":"custom","path":[],"message":"b"}])");
}

TEST(Issue, PathToStringJoinsKeysWithDotsAndIndexesWithBrackets) {
  EXPECT_EQ(path_to_string({"author", "tags", std::size_t{2}}), "author.tags[2]");
  EXPECT_EQ(path_to_string({std::size_t{0}, "name"}), "[0].name");
  EXPECT_EQ(path_to_string({"matrix", std::size_t{1}, std::size_t{3}}), "matrix[1][3]");
  EXPECT_EQ(path_to_string({}), "");
}

}  // namespace
}  // namespace igniter::json

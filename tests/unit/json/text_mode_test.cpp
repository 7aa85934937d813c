// Mode::text: query strings and path parameters, where every value arrives as a string.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "igniter/json/decode.hpp"
#include "unit/json/test_support.hpp"
#include "unit/json/test_types.hpp"

namespace igniter::json::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Search {
  int page = 1;
  std::int8_t level = 0;
  std::uint64_t after = 0;
  double min_score = 0;
  bool archived = false;
  std::string q;
  std::optional<int> limit;
  std::vector<std::string> tags;
  std::vector<int> ids;
  Status status = Status::draft;

  static void rules(Rules<Search>& r) {
    r.field(&Search::page).min(1).optional();
    r.field(&Search::level).optional();
    r.field(&Search::after).optional();
    r.field(&Search::min_score).optional();
    r.field(&Search::archived).optional();
    r.field(&Search::tags).optional();
    r.field(&Search::ids).optional().max_items(3);
    r.field(&Search::status).optional();
  }
};
BOOST_DESCRIBE_STRUCT(Search, (), (page, level, after, min_score, archived, q, limit, tags, ids, status))

Decoded<Search> query(object params) {
  return decode<Search>(params, Mode::text);
}

TEST(TextMode, StringsCoerceToTheMemberType) {
  auto result = query({{"page", "42"},
                       {"level", "-7"},
                       {"after", "18446744073709551615"},
                       {"min_score", "1.5"},
                       {"archived", "true"},
                       {"q", "hello world"},
                       {"limit", "10"},
                       {"status", "published"}});
  ASSERT_THAT(summary(result.issues), IsEmpty());
  EXPECT_EQ(result->page, 42);
  EXPECT_EQ(result->level, -7);
  EXPECT_EQ(result->after, 18446744073709551615ULL);
  EXPECT_EQ(result->min_score, 1.5);
  EXPECT_TRUE(result->archived);
  EXPECT_EQ(result->q, "hello world");
  EXPECT_EQ(result->limit, 10);
  EXPECT_EQ(result->status, Status::published);
}

TEST(TextMode, BooleansAcceptTrueFalseOneAndZero) {
  EXPECT_TRUE(query({{"q", ""}, {"archived", "1"}})->archived);
  EXPECT_FALSE(query({{"q", ""}, {"archived", "0"}})->archived);
  EXPECT_FALSE(query({{"q", ""}, {"archived", "false"}})->archived);
  EXPECT_THAT(summary(query({{"q", ""}, {"archived", "yes"}}).issues),
              ElementsAre("archived: invalid_type: Expected boolean, received string"));
}

TEST(TextMode, NumbersMustBeTheWholeString) {
  for (const char* bad : {"42abc", "4 2", " 42", "+42", "0x10", "abc", "--1"}) {
    EXPECT_THAT(summary(query({{"q", ""}, {"page", bad}}).issues),
                ElementsAre("page: invalid_type: Expected number, received string"))
        << bad;
  }
}

TEST(TextMode, FractionForAnIntegerIsInvalidTypeFloat) {
  EXPECT_THAT(summary(query({{"q", ""}, {"page", "1.5"}}).issues),
              ElementsAre("page: invalid_type: Expected integer, received float"));
  EXPECT_EQ(query({{"q", ""}, {"page", "2.0"}})->page, 2);
}

TEST(TextMode, OutOfRangeNumbersAreTooBigOrTooSmall) {
  EXPECT_THAT(summary(query({{"q", ""}, {"level", "200"}}).issues),
              ElementsAre("level: too_big: Number must be less than or equal to 127"));
  EXPECT_THAT(summary(query({{"q", ""}, {"after", "-1"}}).issues),
              ElementsAre("after: too_small: Number must be greater than or equal to 0"));
  EXPECT_THAT(summary(query({{"q", ""}, {"after", "99999999999999999999"}}).issues),
              ElementsAre("after: too_big: Number must be less than or equal to 18446744073709551615"));
  EXPECT_THAT(
      summary(query({{"q", ""}, {"min_score", "1e999"}}).issues),
      ElementsAre("min_score: too_big: Number must be less than or equal to 1.7976931348623157e+308"));
}

TEST(TextMode, RulesApplyAfterCoercion) {
  EXPECT_THAT(summary(query({{"q", ""}, {"page", "0"}}).issues),
              ElementsAre("page: too_small: Number must be greater than or equal to 1"));
}

TEST(TextMode, ASingleStringIsAVectorOfOne) {
  auto result = query({{"q", ""}, {"tags", "news"}, {"ids", "7"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->tags, (std::vector<std::string>{"news"}));
  EXPECT_EQ(result->ids, (std::vector<int>{7}));
  EXPECT_THAT(summary(query({{"q", ""}, {"ids", "x"}}).issues),
              ElementsAre("ids: invalid_type: Expected number, received string"));
}

TEST(TextMode, ARepeatedKeyArrivesAsAnArrayOfStrings) {
  auto result = query({{"q", ""}, {"tags", array{"a", "b"}}, {"ids", array{"1", "2"}}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(result->ids, (std::vector<int>{1, 2}));
  EXPECT_THAT(summary(query({{"q", ""}, {"ids", array{"1", "x", "3"}}}).issues),
              ElementsAre("ids[1]: invalid_type: Expected number, received string"));
  // Past max_items the count is the answer; the items are not read (json::decode, "Bounds").
  EXPECT_THAT(summary(query({{"q", ""}, {"ids", array{"1", "x", "3", "4"}}}).issues),
              ElementsAre("ids: too_big: Array must contain at most 3 element(s)"));
  EXPECT_THAT(summary(query({{"q", ""}, {"ids", array{"1", "2", "3", "4"}}}).issues),
              ElementsAre("ids: too_big: Array must contain at most 3 element(s)"));
}

TEST(TextMode, ARepeatedKeyForAScalarIsInvalidType) {
  EXPECT_THAT(summary(query({{"q", ""}, {"page", array{"1", "2"}}}).issues),
              ElementsAre("page: invalid_type: Expected number, received array"));
}

TEST(TextMode, AnEmptyValueIsAbsentExceptForAString) {
  auto result = query({{"q", ""}, {"page", ""}, {"limit", ""}, {"tags", ""}, {"status", ""}});
  ASSERT_THAT(summary(result.issues), IsEmpty());
  EXPECT_EQ(result->q, "");
  EXPECT_EQ(result->page, 1);
  EXPECT_EQ(result->limit, std::nullopt);
  EXPECT_TRUE(result->tags.empty());
  EXPECT_EQ(result->status, Status::draft);
}

struct Required {
  int id = 0;
};
BOOST_DESCRIBE_STRUCT(Required, (), (id))

TEST(TextMode, AnEmptyValueForARequiredMemberIsRequired) {
  EXPECT_THAT(summary(decode<Required>(object{{"id", ""}}, Mode::text).issues),
              ElementsAre("id: invalid_type: Required"));
  EXPECT_THAT(summary(decode<Required>(object{}, Mode::text).issues),
              ElementsAre("id: invalid_type: Required"));
}

TEST(TextMode, OptionalInsideAVectorTreatsAnEmptyStringAsNull) {
  auto result = decode<std::vector<std::optional<int>>>(parse(R"(["1",""])"), Mode::text);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (std::vector<std::optional<int>>{1, std::nullopt}));
}

TEST(TextMode, JsonNumbersAndBooleansAreStillAccepted) {
  auto result = query({{"q", ""}, {"page", 3}, {"archived", true}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->page, 3);
  EXPECT_TRUE(result->archived);
}

TEST(TextMode, JsonModeDoesNotCoerceStrings) {
  EXPECT_THAT(summary(decode<Search>(object{{"q", ""}, {"page", "42"}}).issues),
              ElementsAre("page: invalid_type: Expected number, received string"));
  EXPECT_THAT(summary(decode<Search>(object{{"q", ""}, {"tags", "a"}}).issues),
              ElementsAre("tags: invalid_type: Expected array, received string"));
}

TEST(TextMode, ANonObjectTopLevelIsInvalidType) {
  EXPECT_THAT(summary(decode<Search>(value("page=1"), Mode::text).issues),
              ElementsAre(": invalid_type: Expected object, received string"));
}

}  // namespace
}  // namespace igniter::json::test

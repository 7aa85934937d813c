#include "igniter/json/decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/json/test_support.hpp"
#include "unit/json/test_types.hpp"

namespace igniter::json::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Decode, ScalarsDecodeFromTheirJsonTypes) {
  EXPECT_EQ(*decode_text<bool>("true"), true);
  EXPECT_EQ(*decode_text<int>("-42"), -42);
  EXPECT_EQ(*decode_text<std::uint64_t>("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(*decode_text<std::int64_t>("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*decode_text<double>("1.5"), 1.5);
  EXPECT_EQ(*decode_text<float>("0.25"), 0.25f);
  EXPECT_EQ(*decode_text<std::string>(R"("héllo")"), "héllo");
}

TEST(Decode, FloatingPointAcceptsIntegers) {
  EXPECT_EQ(*decode_text<double>("3"), 3.0);
  EXPECT_EQ(*decode_text<double>("18446744073709551615"), 18446744073709551615.0);
}

TEST(Decode, IntegerAcceptsIntegralDoubles) {
  EXPECT_EQ(*decode_text<int>("3.0"), 3);
}

TEST(Decode, IntegerRejectsFractionAsInvalidTypeFloat) {
  auto result = decode_text<int>("1.5");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].code, "invalid_type");
  EXPECT_EQ(result.issues[0].expected, "integer");
  EXPECT_EQ(result.issues[0].received, "float");
  EXPECT_EQ(result.issues[0].message, "Expected integer, received float");
  EXPECT_FALSE(result.value);
}

TEST(Decode, IntegerOutsideItsTypeIsTooBigOrTooSmall) {
  EXPECT_THAT(summary(decode_text<std::int8_t>("128").issues),
              ElementsAre(": too_big: Number must be less than or equal to 127"));
  EXPECT_THAT(summary(decode_text<std::int8_t>("-129").issues),
              ElementsAre(": too_small: Number must be greater than or equal to -128"));
  EXPECT_THAT(summary(decode_text<unsigned>("-1").issues),
              ElementsAre(": too_small: Number must be greater than or equal to 0"));
  EXPECT_THAT(summary(decode_text<std::int64_t>("9223372036854775808").issues),
              ElementsAre(": too_big: Number must be less than or equal to 9223372036854775807"));
  EXPECT_THAT(summary(decode_text<std::uint64_t>("1e20").issues),
              ElementsAre(": too_big: Number must be less than or equal to 18446744073709551615"));
  EXPECT_THAT(summary(decode_text<int>("-1e10").issues),
              ElementsAre(": too_small: Number must be greater than or equal to -2147483648"));
}

TEST(Decode, TooBigIssueCarriesZodDetails) {
  auto result = decode_text<std::uint8_t>("256");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"too_big","maximum":255,"type":"number","inclusive":true,"exact":false,"path":[],)"
            R"("message":"Number must be less than or equal to 255"})");
}

TEST(Decode, FloatRejectsValuesBeyondItsRange) {
  EXPECT_EQ(decode_text<float>("1e39").issues.at(0).code, "too_big");
  EXPECT_EQ(decode_text<float>("-1e39").issues.at(0).code, "too_small");
  EXPECT_TRUE(decode_text<double>("1e300").ok());
}

TEST(Decode, WrongJsonTypeReportsExpectedAndReceived) {
  auto result = decode_text<std::string>("12");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].expected, "string");
  EXPECT_EQ(result.issues[0].received, "number");
  EXPECT_EQ(result.issues[0].message, "Expected string, received number");
  EXPECT_THAT(summary(decode_text<bool>(R"("true")").issues),
              ElementsAre(": invalid_type: Expected boolean, received string"));
  EXPECT_THAT(summary(decode_text<int>("[]").issues),
              ElementsAre(": invalid_type: Expected number, received array"));
  EXPECT_THAT(summary(decode_text<double>("{}").issues),
              ElementsAre(": invalid_type: Expected number, received object"));
  EXPECT_THAT(summary(decode_text<std::vector<int>>("true").issues),
              ElementsAre(": invalid_type: Expected array, received boolean"));
  EXPECT_THAT(summary(decode_text<Author>("null").issues),
              ElementsAre(": invalid_type: Expected object, received null"));
}

TEST(Decode, OptionalIsNulloptForNullAndValueOtherwise) {
  EXPECT_EQ(*decode_text<std::optional<int>>("null"), std::nullopt);
  EXPECT_EQ(*decode_text<std::optional<int>>("7"), 7);
  EXPECT_THAT(summary(decode_text<std::optional<int>>(R"("7")").issues),
              ElementsAre(": invalid_type: Expected number, received string"));
}

TEST(Decode, VectorIssuesCarryTheElementIndex) {
  EXPECT_EQ(*decode_text<std::vector<int>>("[1,2,3]"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(*decode_text<std::vector<bool>>("[true,false]"), (std::vector<bool>{true, false}));
  EXPECT_THAT(summary(decode_text<std::vector<int>>(R"([1,"two",3,null])").issues),
              ElementsAre("[1]: invalid_type: Expected number, received string",
                          "[3]: invalid_type: Expected number, received null"));
}

TEST(Decode, MapIssuesCarryTheKey) {
  auto ordered = decode_text<std::map<std::string, int>>(R"({"a":1,"b":2})");
  EXPECT_EQ(*ordered, (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  auto unordered = decode_text<std::unordered_map<std::string, std::string>>(R"({"k":"v"})");
  EXPECT_EQ(unordered->at("k"), "v");
  EXPECT_THAT(summary(decode_text<std::map<std::string, int>>(R"({"a":1,"b":"x"})").issues),
              ElementsAre("b: invalid_type: Expected number, received string"));
}

TEST(Decode, DescribedEnumDecodesFromItsName) {
  EXPECT_EQ(*decode_text<Status>(R"("published")"), Status::published);
}

TEST(Decode, UnknownEnumNameIsInvalidEnumValueListingTheOptions) {
  auto result = decode_text<Status>(R"("archived")");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"invalid_enum_value","received":"archived","options":["draft","published"],"path":[],)"
            R"("message":"Invalid enum value. Expected 'draft' | 'published', received 'archived'"})");
}

TEST(Decode, EnumGivenANonStringIsInvalidType) {
  auto result = decode_text<Status>("1");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].code, "invalid_type");
  EXPECT_EQ(result.issues[0].expected, "'draft' | 'published'");
  EXPECT_EQ(result.issues[0].message, "Expected 'draft' | 'published', received number");
}

TEST(Decode, JsonValuesPassThrough) {
  EXPECT_EQ(*decode_text<value>(R"({"a":[1,null]})"), parse(R"({"a":[1,null]})"));
  EXPECT_EQ(*decode_text<object>(R"({"a":1})"), parse(R"({"a":1})").as_object());
  EXPECT_EQ(*decode_text<array>("[1]"), parse("[1]").as_array());
  EXPECT_THAT(summary(decode_text<object>("[]").issues),
              ElementsAre(": invalid_type: Expected object, received array"));
  EXPECT_THAT(summary(decode_text<array>("{}").issues),
              ElementsAre(": invalid_type: Expected array, received object"));
}

TEST(Decode, StructDecodesEveryMemberKind) {
  auto result = decode_text<Everything>(R"({
    "flag": true, "count": 5, "tiny": -3, "unsigned_count": 7, "big": -9000000000, "huge": 10000000000000000000,
    "ratio": 0.5, "small_ratio": 2, "text": "hi", "status": "published", "maybe": 4, "numbers": [1, 2],
    "weights": {"a": 1.5}, "labels": {"k": "v"}, "author": {"name": "Ann", "tags": ["x"]},
    "coauthors": [{"name": "Bob", "tags": []}], "extra": [true], "meta": {"m": 1}, "list": [1, "two"]
  })");
  ASSERT_THAT(summary(result.issues), IsEmpty());
  const Everything& e = *result;
  EXPECT_TRUE(e.flag);
  EXPECT_EQ(e.count, 5);
  EXPECT_EQ(e.tiny, -3);
  EXPECT_EQ(e.unsigned_count, 7u);
  EXPECT_EQ(e.big, -9000000000);
  EXPECT_EQ(e.huge, 10000000000000000000ULL);
  EXPECT_EQ(e.ratio, 0.5);
  EXPECT_EQ(e.small_ratio, 2.0f);
  EXPECT_EQ(e.text, "hi");
  EXPECT_EQ(e.status, Status::published);
  EXPECT_EQ(e.maybe, 4);
  EXPECT_EQ(e.numbers, (std::vector<int>{1, 2}));
  EXPECT_EQ(e.weights.at("a"), 1.5);
  EXPECT_EQ(e.labels.at("k"), "v");
  EXPECT_EQ(e.author, (Author{"Ann", {"x"}}));
  EXPECT_EQ(e.coauthors, (std::vector<Author>{{"Bob", {}}}));
  EXPECT_EQ(e.extra, parse("[true]"));
  EXPECT_EQ(e.meta, parse(R"({"m":1})").as_object());
  EXPECT_EQ(e.list, parse(R"([1,"two"])").as_array());
}

TEST(Decode, NestedIssuesCarryTheFullPath) {
  auto result =
      decode_text<std::vector<Author>>(R"([{"name":"A","tags":[]},{"name":"B","tags":["a","b",3]}])");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].path, (Path{std::size_t{1}, "tags", std::size_t{2}}));
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"invalid_type","expected":"string","received":"number","path":[1,"tags",2],)"
            R"("message":"Expected string, received number"})");
}

TEST(Decode, MissingRequiredFieldIsReportedWithItsPath) {
  auto result = decode_text<std::vector<Author>>(R"([{"tags":[]}])");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"invalid_type","expected":"string","received":"undefined","path":[0,"name"],)"
            R"("message":"Required"})");
}

TEST(Decode, MissingMemberNamesWhatWasExpected) {
  auto result = decode_text<Everything>("{}");
  std::vector<std::string> expected;
  for (const Issue& issue : result.issues)
    expected.push_back(path_to_string(issue.path) + "=" + issue.expected);
  // maybe (optional) and extra (json::value) may be absent.
  EXPECT_THAT(expected,
              ElementsAre("flag=boolean", "count=number", "tiny=number", "unsigned_count=number",
                          "big=number", "huge=number", "ratio=number", "small_ratio=number", "text=string",
                          "status='draft' | 'published'", "numbers=array", "weights=object", "labels=object",
                          "author=object", "coauthors=array", "meta=object", "list=array"));
}

TEST(Decode, NullForARequiredMemberIsInvalidType) {
  EXPECT_THAT(summary(decode_text<Author>(R"({"name":null,"tags":[]})").issues),
              ElementsAre("name: invalid_type: Expected string, received null"));
}

TEST(Decode, OptionalMemberMayBeAbsentOrNull) {
  auto absent =
      decode_text<Everything>(R"({"flag":true,"count":1,"tiny":1,"unsigned_count":1,"big":1,"huge":1,
    "ratio":1,"small_ratio":1,"text":"","status":"draft","numbers":[],"weights":{},"labels":{},
    "author":{"name":"","tags":[]},"coauthors":[],"meta":{},"list":[]})");
  ASSERT_THAT(summary(absent.issues), IsEmpty());
  EXPECT_EQ(absent->maybe, std::nullopt);
  EXPECT_TRUE(absent->extra.is_null());
}

TEST(Decode, UnknownKeysAreIgnored) {
  auto result = decode_text<Author>(R"({"name":"Ann","tags":[],"age":40,"nested":{"x":1}})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (Author{"Ann", {}}));
}

TEST(Decode, EveryIssueIsCollectedInDocumentOrder) {
  auto result = decode_text<Everything>(R"({"flag":1,"count":"x","tiny":1000,"text":5,"status":"nope",
    "numbers":[1,"a"],"author":{"tags":[1]},"coauthors":[{},{"name":"ok","tags":[]}]})");
  EXPECT_THAT(
      summary(result.issues),
      ElementsAre(
          "flag: invalid_type: Expected boolean, received number",
          "count: invalid_type: Expected number, received string",
          "tiny: too_big: Number must be less than or equal to 127", "unsigned_count: invalid_type: Required",
          "big: invalid_type: Required", "huge: invalid_type: Required", "ratio: invalid_type: Required",
          "small_ratio: invalid_type: Required", "text: invalid_type: Expected string, received number",
          "status: invalid_enum_value: Invalid enum value. Expected 'draft' | 'published', "
          "received 'nope'",
          "numbers[1]: invalid_type: Expected number, received string", "weights: invalid_type: Required",
          "labels: invalid_type: Required", "author.name: invalid_type: Required",
          "author.tags[0]: invalid_type: Expected string, received number",
          "coauthors[0].name: invalid_type: Required", "coauthors[0].tags: invalid_type: Required",
          "meta: invalid_type: Required", "list: invalid_type: Required"));
  EXPECT_FALSE(result.value.has_value());
  EXPECT_FALSE(result);
}

TEST(Decode, DecodedGivesAccessToTheValue) {
  auto result = decode_text<Author>(R"({"name":"Ann","tags":["a"]})");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result->name, "Ann");
  EXPECT_EQ((*result).tags.size(), 1u);
  Author moved = *std::move(result);
  EXPECT_EQ(moved.name, "Ann");
  EXPECT_EQ(serialize(decode_text<int>(R"("x")").issues_json()),
            R"([{"code":"invalid_type","expected":"number","received":"string","path":[],)"
            R"("message":"Expected number, received string"}])");
}

TEST(Decode, ObjectOverloadDecodesWithoutAValue) {
  const object in{{"name", "Ann"}, {"tags", array{"x"}}};
  auto result = decode<Author>(in);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, (Author{"Ann", {"x"}}));
}

struct Base {
  std::string id;
};
BOOST_DESCRIBE_STRUCT(Base, (), (id))

struct Derived : Base {
  int version = 0;
  static void rules(Rules<Derived>& r) { r.field(&Derived::id).min_length(2); }
};
BOOST_DESCRIBE_STRUCT(Derived, (Base), (version))

TEST(Decode, MembersOfDescribedBasesAreDecodedAndRuled) {
  auto result = decode_text<Derived>(R"({"id":"abc","version":2})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->id, "abc");
  EXPECT_EQ(result->version, 2);
  EXPECT_THAT(summary(decode_text<Derived>(R"({"id":"a","version":2})").issues),
              ElementsAre("id: too_small: String must contain at least 2 character(s)"));
}

struct Tree {
  std::string name;
  std::vector<Tree> children;
};
BOOST_DESCRIBE_STRUCT(Tree, (), (name, children))

TEST(Decode, RecursiveTypesDecode) {
  auto result =
      decode_text<Tree>(R"({"name":"root","children":[{"name":"leaf","children":[{"children":[]}]}]})");
  EXPECT_THAT(summary(result.issues), ElementsAre("children[0].children[0].name: invalid_type: Required"));
}

struct Tagged {
  std::optional<std::vector<int>> tags;
  static void rules(Rules<Tagged>& r) { r.field(&Tagged::tags).max_items(2); }
};
BOOST_DESCRIBE_STRUCT(Tagged, (), (tags))

TEST(Decode, AnOptionalArrayPastItsMaxItemsIsOneIssueToo) {
  auto result = decode_text<Tagged>(R"({"tags":["a","b","c"]})");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].code, "too_big");
  EXPECT_TRUE(decode_text<Tagged>(R"({"tags":null})").ok());
}

TEST(Decode, AnArrayPastItsMaxItemsIsOneIssueWhateverItsItems) {
  std::string tags = "[";
  for (int i = 0; i < 100000; ++i) tags += i ? ",0" : "0";  // every item of the wrong type
  auto result = decode_text<CreatePost>(R"({"title":"t","content":"c","slug":"s","tags":)" + tags + "]}");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].code, "too_big");
  EXPECT_EQ(path_to_string(result.issues[0].path), "tags");
}

TEST(Decode, IssuesStopAtTheFirstHundredWithOneSayingSo) {
  std::string items = "[";
  for (int i = 0; i < 100000; ++i) items += i ? ",{}" : "{}";  // each lacks four required members
  auto result = decode_text<std::vector<CreatePost>>(items + "]");
  ASSERT_EQ(result.issues.size(), detail::Context::kMaxIssues + 1);
  EXPECT_EQ(result.issues[0].code, "invalid_type");
  EXPECT_EQ(result.issues.back().code, "custom");
  EXPECT_EQ(result.issues.back().message, "Decoding stopped after the first 100 issues");
  EXPECT_FALSE(result.value);
  // Exactly the limit: all listed, no note.
  auto exact = decode_text<std::vector<int>>("[" + std::string("\"a\"") + [] {
    std::string rest;
    for (int i = 1; i < 100; ++i) rest += ",\"a\"";
    return rest;
  }() + "]");
  ASSERT_EQ(exact.issues.size(), 100u);
  EXPECT_EQ(exact.issues.back().code, "invalid_type");
}

}  // namespace
}  // namespace igniter::json::test

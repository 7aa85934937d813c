#include "igniter/json/rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "igniter/json/decode.hpp"
#include "unit/json/test_support.hpp"
#include "unit/json/test_types.hpp"

namespace igniter::json::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Strings {
  std::string at_least_3;
  std::string at_most_5;
  std::string exactly_4;
  std::string filled;
  std::string code;
  std::string mail;
  std::string state;

  static void rules(Rules<Strings>& r) {
    r.field(&Strings::at_least_3).min_length(3);
    r.field(&Strings::at_most_5).max_length(5);
    r.field(&Strings::exactly_4).length(4);
    r.field(&Strings::filled).non_empty();
    r.field(&Strings::code).pattern("^[A-Z]{3}$").max_length(10);
    r.field(&Strings::mail).email();
    r.field(&Strings::state).one_of({"draft", "published"});
  }
};
BOOST_DESCRIBE_STRUCT(Strings, (), (at_least_3, at_most_5, exactly_4, filled, code, mail, state))

object valid_strings() {
  return object{{"at_least_3", "abc"}, {"at_most_5", "abcde"}, {"exactly_4", "abcd"}, {"filled", "x"},
                {"code", "ABC"},       {"mail", "a@b.io"},     {"state", "draft"}};
}

TEST(Rules, ValidStringsPassEveryRule) {
  EXPECT_THAT(summary(decode<Strings>(valid_strings()).issues), IsEmpty());
}

TEST(Rules, StringRulesReportZodCodesAndMessages) {
  object in{{"at_least_3", "ab"}, {"at_most_5", "abcdef"},  {"exactly_4", "abc"}, {"filled", ""},
            {"code", "abc"},      {"mail", "not-an-email"}, {"state", "x"}};
  EXPECT_THAT(summary(decode<Strings>(in).issues),
              ElementsAre("at_least_3: too_small: String must contain at least 3 character(s)",
                          "at_most_5: too_big: String must contain at most 5 character(s)",
                          "exactly_4: too_small: String must contain exactly 4 character(s)",
                          "filled: too_small: String must contain at least 1 character(s)",
                          "code: invalid_string: Invalid", "mail: invalid_string: Invalid email",
                          "state: invalid_enum_value: Invalid enum value. Expected 'draft' | 'published', "
                          "received 'x'"));
}

TEST(Rules, TooSmallStringCarriesZodDetails) {
  object in = valid_strings();
  in["exactly_4"] = "abcde";
  auto result = decode<Strings>(in);
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(
      serialize(to_json(result.issues[0])),
      R"({"code":"too_big","maximum":4,"type":"string","inclusive":true,"exact":true,"path":["exactly_4"],)"
      R"j("message":"String must contain exactly 4 character(s)"})j");
}

TEST(Rules, LengthsCountUtf16UnitsLikeJavaScript) {
  object in = valid_strings();
  in["at_least_3"] = "éé";                                               // two characters, four bytes
  in["at_most_5"] = "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80";  // three emoji: six UTF-16 units
  EXPECT_THAT(summary(decode<Strings>(in).issues),
              ElementsAre("at_least_3: too_small: String must contain at least 3 character(s)",
                          "at_most_5: too_big: String must contain at most 5 character(s)"));
  EXPECT_EQ(detail::js_length("aé€\xF0\x9F\x98\x80"), 5u);
}

TEST(Rules, PatternIsNotTriedOnAStringPastItsMaxLength) {
  object in = valid_strings();
  in["code"] = "abcdefghijk";
  EXPECT_THAT(summary(decode<Strings>(in).issues),
              ElementsAre("code: too_big: String must contain at most 10 character(s)"));
}

// A pattern without max_length on a long client-sent string: std::regex recursed per character and
// overflowed the stack (fuzz/regressions/json_decode), killing the server.
TEST(Rules, PatternFailsWithoutSearchingAStringPastItsInputBound) {
  auto result = decode<CreatePost>(
      object{{"title", "t"}, {"content", "c"}, {"tags", array{}}, {"slug", std::string(200'000, 'a')}});
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].code, "invalid_string");
  EXPECT_EQ(path_to_string(result.issues[0].path), "slug");
}

TEST(Rules, PatternStillMatchesAStringAtItsInputBound) {
  auto in = object{{"title", "t"},
                   {"content", "c"},
                   {"tags", array{}},
                   {"slug", std::string(detail::kMaxPatternInput, 'a')}};
  EXPECT_THAT(summary(decode<CreatePost>(in).issues), IsEmpty());
}

TEST(Rules, PatternIssueCarriesTheGivenMessageAndRegexValidation) {
  auto result = decode_text<CreatePost>(R"({"title":"t","content":"c","tags":[],"slug":"Not A Slug"})");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"invalid_string","validation":"regex","path":["slug"],)"
            R"("message":"lowercase letters, digits and dashes"})");
}

TEST(Rules, EmailFollowsZod) {
  for (const char* good : {"a@b.io", "first.last+tag@sub.example.com", "o'neil@x-y.org", "A_B@EXAMPLE.COM"}) {
    EXPECT_TRUE(detail::is_email(good)) << good;
  }
  for (const char* bad : {"", "a", "a@b", "a@b.c", ".a@b.io", "a.@b.io", "a..b@c.io", "a@b..io", "a@-b.io",
                          "a@b.i0", "a@@b.io", "a b@c.io", "a@b.io.", "@b.io", "a'@b.io"}) {
    EXPECT_FALSE(detail::is_email(bad)) << bad;
  }
}

struct Numbers {
  int percent = 0;
  double ratio = 0;
  std::uint8_t level = 0;
  int choice = 0;

  static void rules(Rules<Numbers>& r) {
    r.field(&Numbers::percent).min(0).max(100);
    r.field(&Numbers::ratio).min(0.5).max(1.5);
    r.field(&Numbers::level).max(10);
    r.field(&Numbers::choice).one_of({1, 2, 3});
  }
};
BOOST_DESCRIBE_STRUCT(Numbers, (), (percent, ratio, level, choice))

TEST(Rules, NumberBoundsAreInclusive) {
  EXPECT_TRUE(decode_text<Numbers>(R"({"percent":0,"ratio":0.5,"level":10,"choice":1})").ok());
  EXPECT_TRUE(decode_text<Numbers>(R"({"percent":100,"ratio":1.5,"level":0,"choice":3})").ok());
}

TEST(Rules, NumberRulesReportZodCodesAndMessages) {
  EXPECT_THAT(summary(decode_text<Numbers>(R"({"percent":-1,"ratio":0.25,"level":11,"choice":5})").issues),
              ElementsAre("percent: too_small: Number must be greater than or equal to 0",
                          "ratio: too_small: Number must be greater than or equal to 0.5",
                          "level: too_big: Number must be less than or equal to 10",
                          "choice: invalid_enum_value: Invalid enum value. Expected 1 | 2 | 3, received 5"));
  EXPECT_THAT(summary(decode_text<Numbers>(R"({"percent":101,"ratio":2,"level":1,"choice":2})").issues),
              ElementsAre("percent: too_big: Number must be less than or equal to 100",
                          "ratio: too_big: Number must be less than or equal to 1.5"));
}

struct Lists {
  std::vector<int> some;
  std::vector<std::string> few;
  std::vector<int> any;

  static void rules(Rules<Lists>& r) {
    r.field(&Lists::some).non_empty();
    r.field(&Lists::few).min_items(1).max_items(2);
  }
};
BOOST_DESCRIBE_STRUCT(Lists, (), (some, few, any))

TEST(Rules, ItemCountRulesReportArrayMessages) {
  EXPECT_TRUE(decode_text<Lists>(R"({"some":[1],"few":["a","b"],"any":[]})").ok());
  EXPECT_THAT(summary(decode_text<Lists>(R"({"some":[],"few":["a","b","c"],"any":[]})").issues),
              ElementsAre("some: too_small: Array must contain at least 1 element(s)",
                          "few: too_big: Array must contain at most 2 element(s)"));
}

struct Checked {
  std::string password;
  std::string confirm;
  std::optional<std::string> nickname;
  int retries = 3;

  static void rules(Rules<Checked>& r) {
    r.field(&Checked::password)
        .min_length(8)
        .check([](const std::string& p) { return p.find_first_of("0123456789") != std::string::npos; },
               "Password needs a digit");
    r.field(&Checked::nickname)
        .min_length(2)
        .check([](const std::string& n) { return n != "admin"; }, "Reserved");
    r.field(&Checked::retries).min(1).optional();
    r.check([](const Checked& c) { return c.password == c.confirm; }, "Passwords do not match", {"confirm"});
    r.check([](const Checked& c) { return c.retries < 10; }, "Too many retries");
  }
};
BOOST_DESCRIBE_STRUCT(Checked, (), (password, confirm, nickname, retries))

TEST(Rules, FieldCheckReportsACustomIssueAtTheField) {
  EXPECT_THAT(summary(decode_text<Checked>(R"({"password":"abcdefgh","confirm":"abcdefgh"})").issues),
              ElementsAre("password: custom: Password needs a digit"));
}

TEST(Rules, FieldRulesAllReportTogether) {
  EXPECT_THAT(summary(decode_text<Checked>(R"({"password":"abc","confirm":"abc"})").issues),
              ElementsAre("password: too_small: String must contain at least 8 character(s)",
                          "password: custom: Password needs a digit"));
}

TEST(Rules, RulesOnAnOptionalApplyToTheValueInside) {
  EXPECT_THAT(
      summary(decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1","nickname":"a"})").issues),
      ElementsAre("nickname: too_small: String must contain at least 2 character(s)"));
  EXPECT_THAT(
      summary(
          decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1","nickname":"admin"})").issues),
      ElementsAre("nickname: custom: Reserved"));
  EXPECT_TRUE(decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1","nickname":null})").ok());
}

TEST(Rules, OptionalMemberKeepsItsDefaultWhenMissing) {
  auto result = decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1"})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->retries, 3);
  EXPECT_THAT(
      summary(decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1","retries":0})").issues),
      ElementsAre("retries: too_small: Number must be greater than or equal to 1"));
}

TEST(Rules, OptionalMemberStillRejectsNull) {
  EXPECT_THAT(
      summary(decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg1","retries":null})").issues),
      ElementsAre("retries: invalid_type: Expected number, received null"));
}

TEST(Rules, RulesDoNotRunOnAFieldThatFailedToDecode) {
  EXPECT_THAT(summary(decode_text<Checked>(R"({"password":5,"confirm":"x"})").issues),
              ElementsAre("password: invalid_type: Expected string, received number"));
}

TEST(Rules, ObjectCheckReportsAtItsPath) {
  auto result = decode_text<Checked>(R"({"password":"abcdefg1","confirm":"abcdefg2","retries":12})");
  EXPECT_THAT(summary(result.issues),
              ElementsAre("confirm: custom: Passwords do not match", ": custom: Too many retries"));
  EXPECT_EQ(serialize(to_json(result.issues[0])),
            R"({"code":"custom","path":["confirm"],"message":"Passwords do not match"})");
}

TEST(Rules, ObjectCheckRunsOnlyWhenTheObjectHasNoOtherIssue) {
  EXPECT_THAT(
      summary(decode_text<Checked>(R"({"password":"abcdefg1","confirm":"other","retries":0})").issues),
      ElementsAre("retries: too_small: Number must be greater than or equal to 1"));
}

struct Signup {
  std::vector<Checked> accounts;
};
BOOST_DESCRIBE_STRUCT(Signup, (), (accounts))

TEST(Rules, NestedObjectCheckPathStartsAtTheNestedObject) {
  EXPECT_THAT(summary(decode_text<Signup>(R"({"accounts":[{"password":"abcdefg1","confirm":"abcdefg1"},
                                                  {"password":"abcdefg1","confirm":"x"}]})")
                          .issues),
              ElementsAre("accounts[1].confirm: custom: Passwords do not match"));
}

TEST(Rules, CreatePostExampleReportsEveryRule) {
  auto result = decode_text<CreatePost>(
      R"({"title":"","content":"","tags":["a","b","c","d","e","f"],"priority":11,"slug":"ok-slug"})");
  EXPECT_THAT(summary(result.issues),
              ElementsAre("title: too_small: String must contain at least 1 character(s)",
                          "tags: too_big: Array must contain at most 5 element(s)",
                          "priority: too_big: Number must be less than or equal to 10"));
  auto same = decode_text<CreatePost>(R"({"title":"x","content":"x","tags":[],"slug":"s"})");
  EXPECT_THAT(summary(same.issues), ElementsAre("content: custom: title and content must differ"));
}

TEST(Rules, AreBuiltOnceAndShared) {
  EXPECT_EQ(&rules_of<CreatePost>(), &rules_of<CreatePost>());
}

TEST(Rules, TypesWithoutRulesHaveEmptyRules) {
  const Rules<Author>& rules = rules_of<Author>();
  ASSERT_EQ(rules.fields().size(), 2u);
  EXPECT_EQ(rules.fields()[0].name, "name");
  EXPECT_TRUE(rules.checks().empty());
}

struct Undescribed {
  int listed = 0;
  int hidden = 0;
  static void rules(Rules<Undescribed>& r) { r.field(&Undescribed::hidden).min(1); }
};
BOOST_DESCRIBE_STRUCT(Undescribed, (), (listed))

TEST(Rules, AMemberMissingFromTheDescriptionIsAConfigurationError) {
  EXPECT_THROW(rules_of<Undescribed>(), std::invalid_argument);
  EXPECT_THROW(decode_text<Undescribed>(R"({"listed":1})"), std::invalid_argument);
}

struct BadPattern {
  std::string name;
  static void rules(Rules<BadPattern>& r) { r.field(&BadPattern::name).pattern("(unclosed"); }
};
BOOST_DESCRIBE_STRUCT(BadPattern, (), (name))

TEST(Rules, AnInvalidPatternIsAConfigurationError) {
  EXPECT_THROW(rules_of<BadPattern>(), std::invalid_argument);
  EXPECT_THROW(schema<BadPattern>(), std::invalid_argument);
}

}  // namespace
}  // namespace igniter::json::test

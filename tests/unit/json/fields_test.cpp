// json::Fields: one-off objects with named, typed members and no struct, encoded, decoded and described
// as the equivalent described struct is.
#include "igniter/json/fields.hpp"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include "igniter/json/decode.hpp"
#include "igniter/json/encode.hpp"
#include "igniter/json/schema.hpp"

namespace igniter::json::test {
namespace {

struct Person {
  std::string name;
  int age = 0;
};
BOOST_DESCRIBE_STRUCT(Person, (), (name, age))

// What json::fields<"user", "token", "note">(Person, std::string, std::optional<std::string>) stands for.
struct Login {
  Person user;
  std::string token;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Login, (), (user, token, note))

using LoginFields = Fields<Names<"user", "token", "note">, Person, std::string, std::optional<std::string>>;

TEST(Fields, MemberTypesAreDeducedFromTheValues) {
  auto f = fields<"user", "token", "note">(Person{"ada", 36}, std::string("t"), std::optional<std::string>());
  static_assert(std::is_same_v<decltype(f), LoginFields>);
  std::string token = "copied";
  const std::string& ref = token;
  static_assert(std::is_same_v<decltype(fields<"t">(ref)), Fields<Names<"t">, std::string>>);
}

TEST(Fields, EncodesAsTheEquivalentStructInNameOrder) {
  auto f = fields<"user", "token", "note">(Person{"ada", 36}, std::string("t"), std::optional<std::string>());
  EXPECT_EQ(serialize(encode(f)), R"({"user":{"name":"ada","age":36},"token":"t","note":null})");
  EXPECT_EQ(encode(f), encode(Login{{"ada", 36}, "t", std::nullopt}));
  EXPECT_EQ(serialize(encode(fields<"deleted">(7))), R"({"deleted":7})");
}

TEST(Fields, SchemaIsTheEquivalentStructs) {
  EXPECT_EQ(schema<LoginFields>(), schema<Login>());
  EXPECT_EQ(encoded_schema<LoginFields>(), encoded_schema<Login>());
  EXPECT_EQ(serialize(schema<Fields<Names<"ok">, bool>>()),
            R"({"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]})");
}

TEST(Fields, DecodesWithIssuesAtMemberPaths) {
  auto ok = decode<LoginFields>(parse(R"({"user":{"name":"ada","age":36},"token":"t"})"));
  ASSERT_TRUE(ok) << serialize(ok.issues_json());
  EXPECT_EQ(std::get<0>(ok->values).name, "ada");
  EXPECT_EQ(std::get<1>(ok->values), "t");
  EXPECT_FALSE(std::get<2>(ok->values));

  auto bad = decode<LoginFields>(parse(R"({"user":{"name":"ada","age":"x"}})"));
  ASSERT_EQ(bad.issues.size(), 2u);
  EXPECT_EQ(path_to_string(bad.issues[0].path), "user.age");
  EXPECT_EQ(path_to_string(bad.issues[1].path), "token");
  EXPECT_EQ(bad.issues[1].message, "Required");
  EXPECT_EQ(decode<LoginFields>(parse("[]")).issues.at(0).code, "invalid_type");
}

}  // namespace
}  // namespace igniter::json::test

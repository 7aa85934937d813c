#include "igniter/json/schema.hpp"

#include <gtest/gtest.h>

#include "unit/json/test_types.hpp"

namespace igniter::json::test {
namespace {

TEST(Schema, CreatePostSchemaIsExact) {
  EXPECT_EQ(serialize(schema<CreatePost>()),
            R"({"type":"object","properties":{)"
            R"("title":{"type":"string","minLength":1,"maxLength":200},)"
            R"("content":{"type":"string"},)"
            R"("tags":{"type":"array","items":{"type":"string"},"maxItems":5},)"
            R"("priority":{"type":"integer","minimum":0,"maximum":10},)"
            R"("slug":{"type":"string","pattern":"^[a-z0-9-]+$"}},)"
            R"("required":["title","content","tags","slug"]})");
}

TEST(Schema, ScalarsAndTheirRanges) {
  EXPECT_EQ(serialize(schema<bool>()), R"({"type":"boolean"})");
  EXPECT_EQ(serialize(schema<int>()), R"({"type":"integer","minimum":-2147483648,"maximum":2147483647})");
  EXPECT_EQ(serialize(schema<std::uint8_t>()), R"({"type":"integer","minimum":0,"maximum":255})");
  EXPECT_EQ(serialize(schema<std::int64_t>()), R"({"type":"integer"})");
  EXPECT_EQ(serialize(schema<std::uint64_t>()), R"({"type":"integer","minimum":0})");
  EXPECT_EQ(serialize(schema<double>()), R"({"type":"number"})");
  EXPECT_EQ(serialize(schema<std::string>()), R"({"type":"string"})");
  EXPECT_EQ(serialize(schema<Status>()), R"({"type":"string","enum":["draft","published"]})");
}

TEST(Schema, ContainersAndPassThroughValues) {
  EXPECT_EQ(serialize(schema<std::optional<std::string>>()),
            R"({"anyOf":[{"type":"string"},{"type":"null"}]})");
  EXPECT_EQ(serialize(schema<std::vector<bool>>()), R"({"type":"array","items":{"type":"boolean"}})");
  EXPECT_EQ(serialize(schema<std::map<std::string, double>>()),
            R"({"type":"object","additionalProperties":{"type":"number"}})");
  EXPECT_EQ(serialize(schema<value>()), "{}");
  EXPECT_EQ(serialize(schema<object>()), R"({"type":"object"})");
  EXPECT_EQ(serialize(schema<array>()), R"({"type":"array"})");
}

TEST(Schema, NestedStructsAreInlinedAndOptionalsAreNotRequired) {
  const object s = schema<Everything>().as_object();
  const object& properties = s.at("properties").as_object();
  EXPECT_EQ(serialize(properties.at("author")),
            R"({"type":"object","properties":{"name":{"type":"string"},)"
            R"("tags":{"type":"array","items":{"type":"string"}}},"required":["name","tags"]})");
  EXPECT_EQ(serialize(properties.at("maybe")),
            R"({"anyOf":[{"type":"integer","minimum":-2147483648,"maximum":2147483647},{"type":"null"}]})");
  EXPECT_EQ(serialize(properties.at("coauthors").at("items")), serialize(properties.at("author")));
  EXPECT_EQ(properties.at("status"), parse(R"({"type":"string","enum":["draft","published"]})"));
  EXPECT_EQ(properties.at("extra"), object{});
  std::vector<std::string> keys;
  for (const auto& kv : properties) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"flag", "count", "tiny", "unsigned_count", "big", "huge", "ratio",
                                            "small_ratio", "text", "status", "maybe", "numbers", "weights",
                                            "labels", "author", "coauthors", "extra", "meta", "list"}));
  const array& required = s.at("required").as_array();
  EXPECT_EQ(required.size(), 17u);
  EXPECT_EQ(std::find(required.begin(), required.end(), value("maybe")), required.end());
  EXPECT_EQ(std::find(required.begin(), required.end(), value("extra")), required.end());
}

struct Profile {
  std::string email;
  std::optional<std::string> bio;
  double score = 0;
  std::string state;
  int stars = 1;
  std::string code;

  static void rules(Rules<Profile>& r) {
    r.field(&Profile::email).email();
    r.field(&Profile::bio).max_length(160);
    r.field(&Profile::score).min(0.5).max(2.5);
    r.field(&Profile::state).one_of({"on", "off"});
    r.field(&Profile::stars).one_of({1, 2, 3}).optional();
    r.field(&Profile::code).pattern("^[A-Z]").pattern("[0-9]$");
  }
};
BOOST_DESCRIBE_STRUCT(Profile, (), (email, bio, score, state, stars, code))

TEST(Schema, RulesBecomeKeywords) {
  const value s = schema<Profile>();
  const object& p = s.at("properties").as_object();
  EXPECT_EQ(serialize(p.at("email")), R"({"type":"string","format":"email"})");
  EXPECT_EQ(serialize(p.at("bio")), R"({"anyOf":[{"type":"string","maxLength":160},{"type":"null"}]})");
  EXPECT_EQ(p.at("score"), parse(R"({"type":"number","minimum":0.5,"maximum":2.5})"));
  EXPECT_EQ(serialize(p.at("state")), R"({"type":"string","enum":["on","off"]})");
  EXPECT_EQ(serialize(p.at("stars")),
            R"({"type":"integer","minimum":-2147483648,"maximum":2147483647,"enum":[1,2,3]})");
  EXPECT_EQ(serialize(p.at("code")),
            R"({"type":"string","pattern":"^[A-Z]","allOf":[{"pattern":"[0-9]$"}]})");
  EXPECT_EQ(serialize(s.at("required")), R"(["email","score","state","code"])");
}

TEST(Schema, EncodedSchemaRequiresEveryMemberEncodeWrites) {
  const value s = encoded_schema<Everything>();
  // Optionals, json::value and members with an optional rule are written (null when empty), so required.
  EXPECT_EQ(s.at("required").as_array().size(), 19u);
  EXPECT_EQ(s.at("properties").at("maybe"), schema<Everything>().at("properties").at("maybe"));
  EXPECT_EQ(serialize(s.at("properties").at("author").at("required")), R"(["name","tags"])");
  EXPECT_EQ(serialize(encoded_schema<CreatePost>().at("required")),
            R"(["title","content","tags","priority","slug"])");
  // Inside arrays and optionals too.
  const value list = encoded_schema<std::vector<std::optional<Profile>>>();
  EXPECT_EQ(serialize(list.at("items").at("anyOf").as_array().at(0).at("required")),
            R"(["email","bio","score","state","stars","code"])");
}

struct Node {
  int id = 0;
  std::vector<Node> children;
};
BOOST_DESCRIBE_STRUCT(Node, (), (id, children))

TEST(Schema, ARecursiveTypeIsRejectedInsteadOfRecursingForEver) {
  EXPECT_THROW(schema<Node>(), std::invalid_argument);
}

}  // namespace
}  // namespace igniter::json::test

#include "igniter/json/encode.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "igniter/json/decode.hpp"
#include "unit/json/test_types.hpp"

namespace igniter::json::test {
namespace {

TEST(Encode, ScalarsBecomeTheirJsonTypes) {
  EXPECT_EQ(encode(true), value(true));
  EXPECT_EQ(encode(-3), value(-3));
  EXPECT_EQ(encode(std::uint64_t{18446744073709551615ULL}).as_uint64(), 18446744073709551615ULL);
  EXPECT_EQ(encode(std::int8_t{-5}), value(-5));
  EXPECT_EQ(encode(1.5), value(1.5));
  EXPECT_EQ(encode(0.5f), value(0.5));
  EXPECT_EQ(encode(std::string("hi")), value("hi"));
  EXPECT_EQ(encode(Status::published), value("published"));
}

TEST(Encode, NonFiniteNumbersBecomeNull) {
  EXPECT_TRUE(encode(std::numeric_limits<double>::quiet_NaN()).is_null());
  EXPECT_TRUE(encode(std::numeric_limits<float>::infinity()).is_null());
}

TEST(Encode, EnumValueWithoutANameBecomesNull) {
  EXPECT_TRUE(encode(static_cast<Status>(42)).is_null());
}

TEST(Encode, ContainersAndOptionals) {
  EXPECT_EQ(serialize(encode(std::vector<int>{1, 2})), "[1,2]");
  EXPECT_EQ(serialize(encode(std::vector<bool>{true, false})), "[true,false]");
  EXPECT_EQ(serialize(encode(std::map<std::string, int>{{"b", 2}, {"a", 1}})), R"({"a":1,"b":2})");
  EXPECT_EQ(serialize(encode(std::unordered_map<std::string, std::string>{{"k", "v"}})), R"({"k":"v"})");
  EXPECT_EQ(serialize(encode(std::optional<int>{})), "null");
  EXPECT_EQ(serialize(encode(std::optional<int>{4})), "4");
  EXPECT_EQ(serialize(encode(std::vector<std::optional<std::string>>{"a", std::nullopt})), R"(["a",null])");
}

TEST(Encode, StructsBecomeObjectsInMemberOrder) {
  EXPECT_EQ(serialize(encode(Author{"Ann", {"x", "y"}})), R"({"name":"Ann","tags":["x","y"]})");
  CreatePost post{"T", "C", {"a"}, 3, "t-c"};
  EXPECT_EQ(serialize(encode(post)), R"({"title":"T","content":"C","tags":["a"],"priority":3,"slug":"t-c"})");
}

TEST(Encode, JsonValuesPassThrough) {
  EXPECT_EQ(encode(parse(R"({"a":[1]})")), parse(R"({"a":[1]})"));
  EXPECT_EQ(encode(object{{"a", 1}}), parse(R"({"a":1})"));
  EXPECT_EQ(encode(array{1, "x"}), parse(R"([1,"x"])"));
}

// Every member set, to values at the edges of their kinds.
Everything everything() {
  Everything e;
  e.flag = true;
  e.count = -12;
  e.tiny = -128;
  e.unsigned_count = 4000000000u;
  e.big = std::numeric_limits<std::int64_t>::min();
  e.huge = std::numeric_limits<std::uint64_t>::max();
  e.ratio = 0.1;
  e.small_ratio = 3.25f;
  e.text = "naïve \"quoted\"\n";
  e.status = Status::published;
  e.maybe = 9;
  e.numbers = {1, -2, 3};
  e.weights = {{"w", 0.75}};
  e.labels = {{"k", "v"}, {"k2", ""}};
  e.author = {"Ann", {"a", "b"}};
  e.coauthors = {{"Bob", {}}, {"Cy", {"z"}}};
  e.extra = parse(R"({"free":[1,"form",null]})");
  e.meta = {{"m", 1}};
  e.list = {true};
  return e;
}

TEST(Encode, DecodeOfEncodeGivesTheValueBack) {
  Everything e = everything();

  auto round_trip = decode<Everything>(parse(serialize(encode(e))));
  ASSERT_TRUE(round_trip.ok()) << serialize(round_trip.issues_json());
  EXPECT_EQ(*round_trip, e);

  e.maybe.reset();
  e.extra = nullptr;
  auto with_nulls = decode<Everything>(encode(e));
  ASSERT_TRUE(with_nulls.ok());
  EXPECT_EQ(*with_nulls, e);
}

// What typed answers are written with (ResponseBuilder::success): the text stringify(encode(x)) gives.
template <class T>
void expect_written_as_encoded(const T& in) {
  std::string written;
  detail::write_json(written, in);
  EXPECT_EQ(written, stringify(encode(in)));
}

TEST(Encode, WrittenStraightToTextAsEncodeThenStringifyWouldWrite) {
  Everything e = everything();
  expect_written_as_encoded(e);
  e.small_ratio = 3.3f;  // written as the double it widens to, as encode does
  e.text = std::string("na\xc3\xafve \"quoted\"\\ \n\t\x01\x7f end") + '\0';
  e.status = static_cast<Status>(42);  // no name: null
  e.maybe.reset();
  e.weights = {{"w", 0.75},
               {"nan", std::nan("")},
               {"inf", -std::numeric_limits<double>::infinity()},
               {"neg zero", -0.0},
               {"big", 1e300}};
  e.labels = {{"k", "v"}, {"k\"2", ""}};
  e.extra = parse(R"({"free":[1,"form",null,1.5,{"x":{}}]})");
  e.list = {true, nullptr};
  expect_written_as_encoded(e);
  expect_written_as_encoded(std::vector<Everything>{e, Everything{}});
  expect_written_as_encoded(std::vector<bool>{true, false});
  expect_written_as_encoded(std::optional<std::vector<int>>{});
  expect_written_as_encoded(
      std::map<std::string, std::optional<Author>>{{"a", std::nullopt}, {"b", Author{}}});
  expect_written_as_encoded(fields<"posts", "total">(std::vector<Author>{{"Ann", {"x"}}}, 1));
  expect_written_as_encoded(fields<"a", "a", "b">(1, 2, 3));  // a repeated name keeps its first value
  expect_written_as_encoded(fields<>());
}

}  // namespace
}  // namespace igniter::json::test

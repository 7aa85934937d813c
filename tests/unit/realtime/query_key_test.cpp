#include "igniter/realtime/query_key.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace igniter::realtime {
namespace {

std::string canonical(const json::value& value) {
  std::string out;
  append_canonical_json(out, value);
  return out;
}

TEST(QueryKey, WithoutArgumentsHasThreeEmptyObjects) {
  EXPECT_EQ(query_key("posts.list"), R"(posts.list:{"body":{},"params":{},"query":{}})");
}

TEST(QueryKey, MatchesTheFormTheIgniterClientRegisters) {
  EXPECT_EQ(query_key("posts.getById", json::object(), json::parse(R"({"id":"1"})")),
            R"(posts.getById:{"body":{},"params":{"id":"1"},"query":{}})");
}

TEST(QueryKey, NullArgumentsCountAsEmptyObjects) {
  EXPECT_EQ(query_key("a.b", nullptr, nullptr, json::parse(R"({"page":2})")),
            R"(a.b:{"body":{},"params":{},"query":{"page":2}})");
}

TEST(QueryKey, SortsObjectKeysAtEveryDepth) {
  const auto body = json::parse(R"({"z":1,"a":{"y":[{"d":1,"c":{"f":0,"e":0}}],"b":true},"m":null})");
  EXPECT_EQ(query_key("x.y", body),
            R"(x.y:{"body":{"a":{"b":true,"y":[{"c":{"e":0,"f":0},"d":1}]},"m":null,"z":1},)"
            R"("params":{},"query":{}})");
}

TEST(QueryKey, ArraysKeepTheirOrder) {
  EXPECT_EQ(canonical(json::parse("[3,1,2]")), "[3,1,2]");
}

TEST(QueryKey, KeysSortByCodeUnitSoUpperCaseComesFirst) {
  EXPECT_EQ(canonical(json::parse(R"({"b":1,"B":2,"a":3,"_":4})")), R"({"B":2,"_":4,"a":3,"b":1})");
}

TEST(QueryKey, StringsAreEscapedLikeJsonStringify) {
  json::value text = json::string("q\"b\\s/\n\t\x01\x1f\x7f\xc3\xa9");
  EXPECT_EQ(canonical(text), "\"q\\\"b\\\\s/\\n\\t\\u0001\\u001f\x7f\xc3\xa9\"");
}

TEST(QueryKey, NumbersAreWrittenLikeJavaScript) {
  EXPECT_EQ(canonical(1.0), "1");
  EXPECT_EQ(canonical(-2.0), "-2");
  EXPECT_EQ(canonical(1.5), "1.5");
  EXPECT_EQ(canonical(0.1), "0.1");
  EXPECT_EQ(canonical(-0.0), "0");
  EXPECT_EQ(canonical(1e21), "1e+21");
  EXPECT_EQ(canonical(1.5e300), "1.5e+300");
  EXPECT_EQ(canonical(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(canonical(0.000001), "0.000001");
  EXPECT_EQ(canonical(1e-7), "1e-7");
  EXPECT_EQ(canonical(-1.25e-8), "-1.25e-8");
  EXPECT_EQ(canonical(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(canonical(std::nan("")), "null");
  EXPECT_EQ(canonical(json::value(std::int64_t{-42})), "-42");
  EXPECT_EQ(canonical(json::value(std::int64_t{9007199254740991})), "9007199254740991");
  // Beyond 2^53 JavaScript holds the nearest double.
  EXPECT_EQ(canonical(json::value(std::int64_t{1} << 60)), "1152921504606847000");
  EXPECT_EQ(canonical(json::value(std::numeric_limits<std::uint64_t>::max())), "18446744073709552000");
}

TEST(QueryKey, OtherScalarsAreLiterals) {
  EXPECT_EQ(canonical(json::parse(R"([true,false,null,"",{}, []])")), R"([true,false,null,"",{},[]])");
}

}  // namespace
}  // namespace igniter::realtime

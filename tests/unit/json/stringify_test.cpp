#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "igniter/json/value.hpp"

namespace igniter::json::test {
namespace {

TEST(Stringify, NumbersAreWrittenAsJavaScriptWritesThem) {
  EXPECT_EQ(stringify(value(1.5)), "1.5");
  EXPECT_EQ(stringify(value(0.1)), "0.1");
  EXPECT_EQ(stringify(value(3.0)), "3");
  EXPECT_EQ(stringify(value(-2.25)), "-2.25");
  EXPECT_EQ(stringify(value(std::int64_t{-9007199254740993})), "-9007199254740993");
  EXPECT_EQ(stringify(value(std::uint64_t{18446744073709551615u})), "18446744073709551615");
  EXPECT_EQ(stringify(value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(stringify(value(std::numeric_limits<double>::infinity())), "null");
  // Every double reads back as itself.
  for (double d : {1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456.789})
    EXPECT_EQ(parse(stringify(value(d))).as_double(), d);
}

TEST(Stringify, StringsEscapeQuotesBackslashesAndControlCharactersOnly) {
  EXPECT_EQ(stringify(value("plain")), R"("plain")");
  EXPECT_EQ(stringify(value("a\"b\\c/d")), R"("a\"b\\c/d")");
  EXPECT_EQ(stringify(value("\n\r\t\b\f")), R"("\n\r\t\b\f")");
  EXPECT_EQ(stringify(value(std::string("\x01\x1f", 2))), R"("\u0001\u001f")");
  EXPECT_EQ(stringify(value(std::string("nul\0here", 8))), R"("nul\u0000here")");
  EXPECT_EQ(stringify(value("héllo ✓")), "\"héllo ✓\"");  // UTF-8 passes through
}

TEST(Stringify, EscapesAreFoundAtEveryPositionOfLongStrings) {
  // The scan reads eight bytes at a time: put each special byte at every offset of a 20-byte string.
  for (char special : {'"', '\\', '\x01', '\n', '\x1f', '\x7f', ' '}) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text = "abcdefgh\xc3\xa9ijklmnopqr";  // includes a two-byte UTF-8 letter
      text[at] = special;
      EXPECT_EQ(stringify(value(text)), boost::json::serialize(value(text)))
          << "byte " << int(special) << " at " << at;
    }
  }
}

TEST(Stringify, ContainersKeepOrderAndMatchBoostForEverythingButDoubles) {
  auto text = R"({"a":[1,true,null,"x",{"b":[]}],"c":{},"d":-7,"e":"\u0007"})";
  auto v = parse(text);
  EXPECT_EQ(stringify(v), boost::json::serialize(v));
  EXPECT_EQ(stringify(v.as_object()), stringify(v));
  EXPECT_EQ(stringify(v.at("a").as_array()), R"([1,true,null,"x",{"b":[]}])");
  std::string out = "prefix:";
  stringify_to(out, v.at("c"));
  EXPECT_EQ(out, "prefix:{}");
  EXPECT_EQ(stringify(object{{"price", 9.99}, {"n", 2}}), R"({"price":9.99,"n":2})");
}

}  // namespace
}  // namespace igniter::json::test

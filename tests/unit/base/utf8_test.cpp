// The UTF-8 check and repair behind everything the server echoes (JSON answers, stream frames).
#include "base/utf8.hpp"

#include <gtest/gtest.h>

namespace igniter {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8, WellFormedTextIsValidAndKeptAsItIs) {
  for (std::string text : {std::string(""), std::string("plain ascii, long enough for eight-byte steps"),
                           std::string("h\xC3\xA9llo"), std::string("\xE2\x82\xAC"),
                           std::string("\xF0\x9F\x98\x80"), std::string("\xF4\x8F\xBF\xBF")}) {
    EXPECT_TRUE(valid_utf8(text)) << text;
    EXPECT_EQ(to_valid_utf8(text), text);
  }
}

TEST(Utf8, EveryMalformedSequenceIsInvalidAndEachBadByteBecomesAReplacement) {
  for (std::string bad : {std::string("\xFF"), std::string("\xC0\xAF"),          // overlong '/'
                          std::string("\xE0\x80\xAF"),                           // overlong, three bytes
                          std::string("\xED\xA0\x80"),                           // a surrogate
                          std::string("\xF4\x90\x80\x80"),                       // past U+10FFFF
                          std::string("\xF5\x80\x80\x80"), std::string("\xC3"),  // truncated
                          std::string("\x80")}) {
    EXPECT_FALSE(valid_utf8(bad)) << bad.size();
    auto repaired = to_valid_utf8(bad);
    EXPECT_TRUE(valid_utf8(repaired));
    EXPECT_EQ(repaired, [&] {
      std::string out;
      for (std::size_t i = 0; i < bad.size(); ++i) out += kReplacement;
      return out;
    }());
  }
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b\xC3\xA9"),
            "a" + kReplacement + "b\xC3\xA9");
}

}  // namespace
}  // namespace igniter

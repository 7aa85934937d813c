#include "realtime/channel.hpp"

#include <gtest/gtest.h>

#include <string>

#include "igniter/realtime/error.hpp"

namespace igniter::realtime {
namespace {

TEST(CanonicalChannel, PerActionAliasNamesTheAction) {
  EXPECT_EQ(canonical_channel("posts.list:{}"), "posts.list");
  EXPECT_EQ(canonical_channel("posts.list"), "posts.list");
  EXPECT_EQ(canonical_channel("posts.list:{}:{}"), "posts.list:{}");  // one suffix only
  EXPECT_EQ(canonical_channel("posts.list:{\"a\":1}"), "posts.list:{\"a\":1}");
  EXPECT_EQ(canonical_channel(":{}"), ":{}");  // would leave nothing
}

TEST(ChannelName, AcceptsVisibleAscii) {
  EXPECT_FALSE(check_channel_name("revalidation"));
  EXPECT_FALSE(check_channel_name("notifications.stream"));
  EXPECT_FALSE(check_channel_name("chat:room-1/{x}"));
  EXPECT_FALSE(check_channel_name(std::string(kMaxChannelLength, 'c')));
}

TEST(ChannelName, RefusalsSayWhy) {
  EXPECT_EQ(check_channel_name(""), Error::channel_empty);
  EXPECT_EQ(check_channel_name(std::string(kMaxChannelLength + 1, 'c')), Error::channel_too_long);
  for (const char* bad : {"a,b", "a b", "a\nb", "a\rb", "a\tb", "caf\xc3\xa9", "\x7f"}) {
    EXPECT_EQ(check_channel_name(bad), Error::channel_invalid_character) << bad;
  }
  EXPECT_EQ(check_channel_name(std::string_view("a\0b", 3)), Error::channel_invalid_character);
  EXPECT_EQ(make_error_code(Error::channel_too_long).message(), "channel name is longer than 200 bytes");
  EXPECT_STREQ(make_error_code(Error::channel_empty).category().name(), "igniter.realtime");
}

TEST(EventType, MustBeShortVisibleAscii) {
  EXPECT_FALSE(check_event_type("message"));
  EXPECT_FALSE(check_event_type("revalidate"));
  EXPECT_EQ(check_event_type(""), Error::event_type_invalid);
  EXPECT_EQ(check_event_type("a\nb"), Error::event_type_invalid);
  EXPECT_EQ(check_event_type("a b"), Error::event_type_invalid);
  EXPECT_EQ(check_event_type(std::string(kMaxEventTypeLength + 1, 't')), Error::event_type_invalid);
}

TEST(CommaList, SplitsAndDropsEmptyItems) {
  using List = std::vector<std::string>;
  EXPECT_EQ(split_comma_list("revalidation,notifications.stream"),
            (List{"revalidation", "notifications.stream"}));
  EXPECT_EQ(split_comma_list(""), List{});
  EXPECT_EQ(split_comma_list(",a,,b,"), (List{"a", "b"}));
  EXPECT_EQ(split_comma_list("user:42"), List{"user:42"});
}

}  // namespace
}  // namespace igniter::realtime

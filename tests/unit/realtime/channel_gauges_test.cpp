#include "realtime/channel_gauges.hpp"

#include <gtest/gtest.h>

#include <string>

namespace igniter::realtime {
namespace {

TEST(ChannelGauges, DeclaredChannelsAreCountedOneByOneAndEveryOtherNameInOneSum) {
  ChannelGauges gauges({"revalidation", "posts.list", "revalidation"});
  ASSERT_EQ(gauges.declared(), (std::vector<std::string>{"posts.list", "revalidation"}));
  gauges.add("revalidation", +1);
  gauges.add("posts.list:{}", +1);  // the alias counts for its channel
  gauges.add("posts.list", +1);
  for (int i = 0; i < 1000; ++i) gauges.add("client." + std::to_string(i), +1);
  EXPECT_EQ(gauges.subscribers(0), 2u);
  EXPECT_EQ(gauges.subscribers(1), 1u);
  EXPECT_EQ(gauges.other(), 1000u);
  EXPECT_EQ(gauges.declared().size(), 2u);  // no name was added by subscribing

  gauges.add("posts.list", -1);
  for (int i = 0; i < 1000; ++i) gauges.add("client." + std::to_string(i), -1);
  EXPECT_EQ(gauges.subscribers(0), 1u);
  EXPECT_EQ(gauges.other(), 0u);
  EXPECT_EQ(gauges.subscribers(7), 0u);  // out of range: nothing
}

}  // namespace
}  // namespace igniter::realtime

#include "server/hub_stats.hpp"

#include <gtest/gtest.h>

namespace igniter::server {
namespace {

TEST(PrometheusText, EveryCounterHasHelpTypeAndValue) {
  MetricsSnapshot s;
  s.stats.connections = 3;
  s.stats.events_published = 10;
  s.stats.events_delivered = 30;
  s.http_connections = 5;
  s.refused_publishes = 1;
  s.other_subscribers = 2;
  auto text = prometheus_text(s);
  EXPECT_NE(text.find("# TYPE igniter_sse_connections gauge\nigniter_sse_connections 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("igniter_http_connections 5\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE igniter_events_published_total counter\nigniter_events_published_total 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("igniter_events_delivered_total 30\n"), std::string::npos);
  EXPECT_NE(text.find("igniter_events_refused_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("igniter_other_channel_subscribers 2\n"), std::string::npos);
}

TEST(PrometheusText, ChannelLabelsEscapeQuotesAndBackslashes) {
  MetricsSnapshot s;
  s.stats.subscribers = {{"revalidation", 4}, {"we\"ird\\", 1}};
  auto text = prometheus_text(s);
  EXPECT_NE(text.find("igniter_channel_subscribers{channel=\"revalidation\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("igniter_channel_subscribers{channel=\"we\\\"ird\\\\\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace igniter::server

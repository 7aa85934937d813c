// from_url() and parse_redis_url(): no connection is made here.
#include <gtest/gtest.h>

#include "igniter/store/memory_store.hpp"
#include "igniter/store/redis_store.hpp"

namespace igniter::store {
namespace {

TEST(FromUrl, EmptyOrMemoryUrlsGiveTheMemoryStore) {
  for (const char* url : {"", "memory", "memory://"}) {
    auto store = from_url(std::string_view(url));
    ASSERT_TRUE(store.ok()) << url;
    EXPECT_NE(dynamic_cast<MemoryStore*>(store->get()), nullptr) << url;
  }
}

TEST(FromUrl, AnUnsetEnvironmentVariableGivesTheMemoryStore) {
  const char* unset = nullptr;
  auto store = from_url(unset);
  ASSERT_TRUE(store.ok());
  EXPECT_NE(dynamic_cast<MemoryStore*>(store->get()), nullptr);
}

TEST(FromUrl, TheMemoryStoreGetsTheKeyPrefix) {
  auto store = from_url("memory://", {.key_prefix = "app:"});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->set("k", 1).ok());
  auto* memory = dynamic_cast<MemoryStore*>(store->get());
  EXPECT_EQ(**memory->with_prefix("")->get("app:k"), json::value(1));
}

TEST(FromUrl, OtherSchemesAndGarbageAreInvalidUrls) {
  for (const char* url :
       {"memcached://localhost", "http://localhost:6379", "rediss://localhost:6379", "redis",
        "redis:", "localhost:6379", "memory:///x", " memory", "redis://host:notaport"}) {
    EXPECT_EQ(from_url(std::string_view(url)).error(), errc::invalid_url) << url;
  }
}

TEST(ParseRedisUrl, HostAndPortDefaultToLocalRedis) {
  auto endpoint = parse_redis_url("redis://");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(*endpoint, (RedisEndpoint{.host = "127.0.0.1", .port = 6379}));
}

TEST(ParseRedisUrl, ReadsHostPortAndDatabase) {
  auto endpoint = parse_redis_url("redis://cache.internal:6380/3");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(*endpoint, (RedisEndpoint{.host = "cache.internal", .port = 6380, .db = 3}));
}

TEST(ParseRedisUrl, ReadsUserAndPasswordPercentDecoded) {
  auto endpoint = parse_redis_url("redis://alice:p%40ss%3Aword@10.0.0.5:7000/1");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->user, "alice");
  EXPECT_EQ(endpoint->password, "p@ss:word");
  EXPECT_EQ(endpoint->host, "10.0.0.5");
  EXPECT_EQ(endpoint->port, 7000);
  EXPECT_EQ(endpoint->db, 1);
}

TEST(ParseRedisUrl, PasswordWithoutUserIsForTheDefaultUser) {
  auto endpoint = parse_redis_url("redis://:secret@localhost");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->user, "");
  EXPECT_EQ(endpoint->password, "secret");
  EXPECT_EQ(endpoint->host, "localhost");
  EXPECT_EQ(endpoint->port, 6379);
}

TEST(ParseRedisUrl, SchemeIsCaseInsensitiveAndATrailingSlashMeansDatabaseZero) {
  auto endpoint = parse_redis_url("REDIS://localhost:6379/");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->db, 0);
}

TEST(ParseRedisUrl, IPv6HostLosesItsBrackets) {
  auto endpoint = parse_redis_url("redis://[::1]:6390");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->host, "::1");
  EXPECT_EQ(endpoint->port, 6390);
}

TEST(ParseRedisUrl, RejectsBadPortsDatabasesAndExtras) {
  for (const char* url :
       {"redis://host:0", "redis://host:65536", "redis://host:-1", "redis://host:", "redis://host/x",
        "redis://host/-1", "redis://host/1/2", "redis://host/1?timeout=5", "redis://host#frag", "redis:host",
        "rediss://host", "unix:///tmp/redis.sock", "not a url"}) {
    EXPECT_EQ(parse_redis_url(url).error(), errc::invalid_url) << url;
  }
}

TEST(StoreErrors, HaveTheirOwnCategoryAndReadableMessages) {
  std::error_code code = errc::unavailable;
  EXPECT_STREQ(code.category().name(), "igniter.store");
  EXPECT_EQ(code, errc::unavailable);
  EXPECT_NE(code, errc::timeout);
  for (int value = 1; value <= static_cast<int>(errc::would_deadlock); ++value) {
    EXPECT_NE(store_category().message(value), "unknown store error") << value;
  }
}

}  // namespace
}  // namespace igniter::store

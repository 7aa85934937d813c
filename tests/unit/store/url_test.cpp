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

TEST(ParseSentinelUrl, ReadsSentinelsMasterNameAndDatabase) {
  auto endpoint = parse_redis_url("redis-sentinel://s1.internal:26380,10.0.0.2,[::1]:26381/mymaster/2");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->sentinels,
            (std::vector<RedisAddress>{{"s1.internal", 26380}, {"10.0.0.2", 26379}, {"::1", 26381}}));
  EXPECT_EQ(endpoint->master_name, "mymaster");
  EXPECT_EQ(endpoint->db, 2);
  EXPECT_TRUE(endpoint->user.empty());
  EXPECT_TRUE(endpoint->sentinel_password.empty());
}

TEST(ParseSentinelUrl, UserinfoIsForTheDataNodesAndTheQueryForTheSentinels) {
  auto endpoint = parse_redis_url(
      "Redis-Sentinel://app:p%40ss@h1:1,h2:2/my%2Dmaster?sentinel_user=watch&sentinel_password=s%26cret");
  ASSERT_TRUE(endpoint.ok());
  EXPECT_EQ(endpoint->user, "app");
  EXPECT_EQ(endpoint->password, "p@ss");
  EXPECT_EQ(endpoint->master_name, "my-master");
  EXPECT_EQ(endpoint->sentinel_user, "watch");
  EXPECT_EQ(endpoint->sentinel_password, "s&cret");
  EXPECT_EQ(endpoint->db, 0);
}

TEST(ParseSentinelUrl, RejectsMalformedUrlsWithAReason) {
  for (const char* url : {
           "redis-sentinel://",                               // no Sentinel, no name
           "redis-sentinel://h1:26379",                       // no master name
           "redis-sentinel://h1:26379/",                      // empty master name
           "redis-sentinel:///mymaster",                      // no Sentinel
           "redis-sentinel://h1:26379,/mymaster",             // trailing comma
           "redis-sentinel://h1,,h2/mymaster",                // empty host
           "redis-sentinel://h1:0/mymaster",                  // port out of range
           "redis-sentinel://h1:65536/mymaster",              //
           "redis-sentinel://h1:/mymaster",                   // empty port
           "redis-sentinel://h1:x/mymaster",                  //
           "redis-sentinel://[::1/mymaster",                  // unclosed bracket
           "redis-sentinel://h%31/mymaster",                  // escapes are not host characters
           "redis-sentinel://h1/mymaster/x",                  // db not a number
           "redis-sentinel://h1/mymaster/-1",                 //
           "redis-sentinel://h1/mymaster/1/2",                //
           "redis-sentinel://h1/my%20master",                 // a space would break +switch-master
           "redis-sentinel://h1/my%2",                        // broken escape
           "redis-sentinel://h1/mymaster#frag",               // fragment
           "redis-sentinel://h1/mymaster?timeout=5",          // unknown parameter
           "redis-sentinel://h1/mymaster?sentinel_password",  // no value
           "redis-sentinel://h1/mymaster?sentinel_user=a&sentinel_user=b",
       }) {
    std::string why;
    EXPECT_EQ(parse_redis_url(url, &why).error(), errc::invalid_url) << url;
    EXPECT_FALSE(why.empty()) << url;
  }
}

TEST(ParseSentinelUrl, RejectsMoreThanTheMaximumOfSentinels) {
  std::string url = "redis-sentinel://";
  for (std::size_t i = 0; i <= kMaxSentinels; ++i) url += (i ? ",h" : "h") + std::to_string(i);
  std::string why;
  EXPECT_EQ(parse_redis_url(url + "/m", &why).error(), errc::invalid_url);
  EXPECT_NE(why.find("more than"), std::string::npos) << why;
  auto last = url.rfind(',');
  EXPECT_TRUE(parse_redis_url(url.substr(0, last) + "/m").ok());
}

TEST(ParseSentinelUrl, TheReasonNamesTheFaultyPart) {
  std::string why;
  (void)parse_redis_url("redis-sentinel://h1:26379,h2:99999/mymaster", &why);
  EXPECT_NE(why.find("h2:99999"), std::string::npos) << why;
  (void)parse_redis_url("redis-sentinel://h1/mymaster?db=2", &why);
  EXPECT_NE(why.find("'db'"), std::string::npos) << why;
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

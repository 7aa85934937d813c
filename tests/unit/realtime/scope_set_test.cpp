#include "realtime/scope_set.hpp"

#include <gtest/gtest.h>

namespace igniter::realtime {
namespace {

using Scopes = std::vector<std::string>;

TEST(ScopeSet, UnscopedEventsReachEveryConnection) {
  EXPECT_TRUE(ScopeSet().admits(Scopes{}));
  EXPECT_TRUE(ScopeSet({"user:42"}).admits(Scopes{}));
}

TEST(ScopeSet, ScopedEventNeedsOneExactMatch) {
  const ScopeSet held({"user:42", "tenant:7"});
  EXPECT_TRUE(held.admits(Scopes{"user:42"}));
  EXPECT_TRUE(held.admits(Scopes{"user:1", "tenant:7"}));
  EXPECT_FALSE(held.admits(Scopes{"user:1"}));
  EXPECT_FALSE(held.admits(Scopes{"user:4"}));    // no prefix match
  EXPECT_FALSE(held.admits(Scopes{"user:420"}));  // nor extension
  EXPECT_FALSE(held.admits(Scopes{"USER:42"}));   // case-sensitive
  EXPECT_FALSE(held.admits(Scopes{"user:*"}));    // no wildcards
  EXPECT_FALSE(held.admits(Scopes{""}));
}

TEST(ScopeSet, ConnectionWithoutScopesGetsNoScopedEvent) {
  EXPECT_FALSE(ScopeSet().admits(Scopes{"user:42"}));
}

TEST(ScopeSet, HoldsSortedUniqueNonEmptyScopes) {
  const ScopeSet set({"b", "a", "", "b", "c"});
  EXPECT_EQ(set.values(), (Scopes{"a", "b", "c"}));
  EXPECT_TRUE(set.contains("b"));
  EXPECT_FALSE(set.contains(""));
}

TEST(ScopeSet, EmptyRequestKeepsEveryGrantedScope) {
  const ScopeSet granted({"user:42", "tenant:7"});
  EXPECT_EQ(granted.narrowed_to(Scopes{}), granted);
  EXPECT_EQ(granted.narrowed_to(Scopes{""}), granted);  // what `scopes=` decodes to
}

TEST(ScopeSet, RequestNarrowsToItsIntersectionWithTheGrant) {
  const ScopeSet granted({"user:42", "tenant:7"});
  EXPECT_EQ(granted.narrowed_to(Scopes{"tenant:7", "admin", "tenant:7"}).values(), (Scopes{"tenant:7"}));
  EXPECT_TRUE(granted.narrowed_to(Scopes{"admin"}).empty());  // a claim never adds a scope
  EXPECT_TRUE(ScopeSet().narrowed_to(Scopes{"user:42"}).empty());
}

}  // namespace
}  // namespace igniter::realtime

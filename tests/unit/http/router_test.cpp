#include "http/router.hpp"

#include <gtest/gtest.h>

namespace igniter::http {
namespace {

TEST(Router, MatchesStaticAndParameterSegments) {
  Router router;
  router.add(Method::GET, "/api/v1/posts", 1);
  router.add(Method::GET, "/api/v1/posts/:id", 2);
  router.add(Method::DELETE, "/api/v1/posts/:id", 3);

  EXPECT_EQ(router.match(Method::GET, "/api/v1/posts").route, 1u);
  auto match = router.match(Method::GET, "/api/v1/posts/42");
  ASSERT_TRUE(match.found());
  EXPECT_EQ(match.route, 2u);
  ASSERT_EQ(match.params.size(), 1u);
  EXPECT_EQ(match.params[0].first, "id");
  EXPECT_EQ(match.params[0].second, "42");
  EXPECT_EQ(router.match(Method::DELETE, "/api/v1/posts/42").route, 3u);
}

TEST(Router, IgnoresTrailingAndDoubledSlashes) {
  Router router;
  router.add(Method::GET, "/posts/", 7);
  EXPECT_EQ(router.match(Method::GET, "/posts").route, 7u);
  EXPECT_EQ(router.match(Method::GET, "//posts//").route, 7u);
}

TEST(Router, ReportsAllowedMethodsForAKnownPathWithAnotherMethod) {
  Router router;
  router.add(Method::GET, "/posts", 1);
  router.add(Method::POST, "/posts", 2);
  auto match = router.match(Method::PUT, "/posts");
  EXPECT_FALSE(match.found());
  EXPECT_TRUE(match.path_known());
  EXPECT_EQ(match.allowed, (std::vector<Method>{Method::GET, Method::POST}));
}

TEST(Router, UnknownPathIsNeitherFoundNorKnown) {
  Router router;
  router.add(Method::GET, "/posts/:id", 1);
  auto match = router.match(Method::GET, "/posts/1/comments");
  EXPECT_FALSE(match.found());
  EXPECT_FALSE(match.path_known());
  EXPECT_TRUE(match.params.empty());
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add(Method::GET, "/posts", 1);
  EXPECT_EQ(router.match(Method::HEAD, "/posts").route, 1u);
}

TEST(Router, StaticSegmentWinsOverParameter) {
  Router router;
  router.add(Method::GET, "/posts/:id", 1);
  router.add(Method::GET, "/posts/latest", 2);
  EXPECT_EQ(router.match(Method::GET, "/posts/latest").route, 2u);
  EXPECT_EQ(router.match(Method::GET, "/posts/9").route, 1u);
}

TEST(Router, PathGoingPastAStaticBranchFallsBackToTheParameterSibling) {
  Router router;
  router.add(Method::GET, "/posts/new", 1);
  router.add(Method::GET, "/posts/:id/comments", 2);
  router.add(Method::POST, "/posts/:id/comments/:cid", 3);
  EXPECT_EQ(router.match(Method::GET, "/posts/new").route, 1u);
  auto comments = router.match(Method::GET, "/posts/new/comments");
  EXPECT_EQ(comments.route, 2u);
  ASSERT_EQ(comments.params.size(), 1u);
  EXPECT_EQ(comments.params[0], (std::pair<std::string, std::string>{"id", "new"}));
  auto reply = router.match(Method::GET, "/posts/new/comments/7");  // known path, other method
  EXPECT_FALSE(reply.found());
  EXPECT_EQ(reply.allowed, std::vector<Method>{Method::POST});
  EXPECT_EQ(reply.params.size(), 2u);
  auto none = router.match(Method::GET, "/posts/new/likes");
  EXPECT_FALSE(none.path_known());
  EXPECT_TRUE(none.params.empty());
}

TEST(Router, DuplicateRouteFailsAtRegistration) {
  Router router;
  router.add(Method::GET, "/posts/:id", 1);
  EXPECT_THROW(router.add(Method::GET, "/posts/:id/", 2), std::invalid_argument);
  EXPECT_THROW(router.add(Method::GET, "/posts/:slug/x", 3), std::invalid_argument);
}

TEST(Router, JoinPathNormalisesSlashes) {
  EXPECT_EQ(join_path({"/api/v1/", "/posts", ":id"}), "/api/v1/posts/:id");
  EXPECT_EQ(join_path({"/", "/"}), "/");
}

}  // namespace
}  // namespace igniter::http

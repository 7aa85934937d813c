// Typed calls of igniter::client::Client against a real App: described structs in and out, the server's
// errors as values, cookies, keep-alive reuse across a dropped connection, timeouts, many threads.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <set>
#include <thread>

#include "integration/client/client_app.hpp"
#include "integration/client/tcp_proxy.hpp"

namespace igniter::test {
namespace {

TEST(ClientCalls, DescribedStructsGoInAndComeOut) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));

  auto created = api.post<Post>("/posts", CreatePost{.title = "Hello", .content = "First"});
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created.status(), 201u);
  EXPECT_EQ(created->id, 1);
  EXPECT_EQ(created->title, "Hello");
  EXPECT_EQ(created->author, "anonymous");

  auto one = api.call<Post>(GET, "/posts/:id", {.params = {{"id", 1}}});
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->content, "First");

  auto list = api.get<PostList>("/posts");
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->posts.size(), 1u);
  EXPECT_EQ(list->posts[0].title, "Hello");

  // A query struct: encoded (a vector repeats its key, an empty optional is left out), decoded by the
  // server's typed Query<Search> and echoed back.
  Search search{.q = "a&b=c d/é", .page = 2, .tags = {"x", "y z"}};
  auto found = api.get<Search>("/search", search);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->q, search.q);
  EXPECT_EQ(found->page, 2);
  EXPECT_EQ(found->tags, search.tags);
  EXPECT_FALSE(found->drafts);

  auto raw = api.get("/posts");  // json::value when no type is named
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->at("posts").as_array().size(), 1u);
}

TEST(ClientCalls, ValidationErrorCarriesStatusCodeAndIssues) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));

  auto rejected = api.post<Post>("/posts", CreatePost{.title = ""});
  ASSERT_FALSE(rejected);
  const auto& error = rejected.error();
  EXPECT_EQ(error.ec, client::errc::error_response);
  EXPECT_EQ(error.status, 400u);
  EXPECT_EQ(error.code, "VALIDATION_ERROR");
  EXPECT_EQ(error.message, "Validation Error");
  ASSERT_EQ(error.issues.size(), 1u);
  EXPECT_EQ(json::path_to_string(error.issues[0].path), "title");
  EXPECT_EQ(error.issues[0].code, "too_small");
  EXPECT_EQ(error.issues[0].details.at("in"), "body");

  auto bad_query = api.get<Search>("/search", json::object{{"q", "x"}, {"page", 0}});
  ASSERT_FALSE(bad_query);
  EXPECT_EQ(bad_query.error().status, 400u);
  ASSERT_EQ(bad_query.error().issues.size(), 1u);
  EXPECT_EQ(json::path_to_string(bad_query.error().issues[0].path), "page");
  EXPECT_EQ(bad_query.error().issues[0].details.at("in"), "query");
}

TEST(ClientCalls, NotFoundCarriesTheServersCodeAndMessage) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));

  auto missing = api.call<Post>(GET, "/posts/:id", {.params = {{"id", 999}}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status(), 404u);
  EXPECT_EQ(missing.error().ec, client::errc::error_response);
  EXPECT_EQ(missing.error().code, "ERR_NOT_FOUND");
  EXPECT_EQ(missing.error().message, "Post not found");

  auto no_route = api.get("/nothing/here");
  ASSERT_FALSE(no_route);
  EXPECT_EQ(no_route.error().status, 404u);
  EXPECT_FALSE(no_route.error().message.empty());

  auto no_param = api.call<Post>(GET, "/posts/:id");  // never sent
  ASSERT_FALSE(no_param);
  EXPECT_EQ(no_param.error().ec, client::errc::invalid_request);
  EXPECT_EQ(no_param.status(), 0u);
}

TEST(ClientCalls, AnswerThatDoesNotMatchTheTypeIsReportedWithIssues) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  ASSERT_TRUE(api.post<Post>("/posts", CreatePost{.title = "One"}));

  auto wrong = api.get<Post>("/posts");  // a PostList, not a Post
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().ec, client::errc::invalid_answer);
  EXPECT_EQ(wrong.error().status, 200u);
  EXPECT_FALSE(wrong.error().issues.empty());
  EXPECT_TRUE(wrong.error().data.as_object().contains("posts"));  // what did arrive
}

TEST(ClientCalls, CookiesAnAnswerSetsAreSentBackUntilCleared) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));

  auto anonymous = api.get<Me>("/auth/me");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().status, 401u);
  EXPECT_EQ(anonymous.error().code, "ERR_UNAUTHORIZED");

  ASSERT_TRUE(api.post<Me>("/auth/login", Login{"alice"}));
  EXPECT_EQ(api.cookie("session"), "alice");
  auto me = api.get<Me>("/auth/me");
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(me->user, "alice");
  auto mine = api.post<Post>("/posts", CreatePost{.title = "By alice"});
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->author, "alice");

  ASSERT_TRUE(api.post("/auth/logout"));  // Set-Cookie: session=; Max-Age=0
  EXPECT_EQ(api.cookie("session"), "");
  EXPECT_EQ(api.get<Me>("/auth/me").error().status, 401u);

  api.set_cookie("session", "bob");  // set by hand
  EXPECT_EQ(api.get<Me>("/auth/me")->user, "bob");
  api.set_cookie("session", "");
  api.set_header("Cookie", "session=carol");  // or as a header
  EXPECT_EQ(api.get<Me>("/auth/me")->user, "carol");
  EXPECT_THROW(api.set_header("X-Bad", "a\r\nInjected: yes"), std::invalid_argument);
}

TEST(ClientCalls, OneKeepAliveConnectionServesManyCallsAndADroppedOneIsReplaced) {
  ClientTestServer server;
  TcpProxy proxy(server.port());
  client::Client api(ClientTestServer::url(proxy.port()));

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(api.post<Post>("/posts", CreatePost{.title = "p"}));
  EXPECT_EQ(proxy.accepted(), 1u);

  proxy.cut();  // the idle pooled connection is dead now; the client does not know yet
  auto after = api.post<Post>("/posts", CreatePost{.title = "after the drop"});
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->id, 6);  // sent once
  EXPECT_EQ(proxy.accepted(), 2u);
  EXPECT_EQ(api.get<PostList>("/posts")->posts.size(), 6u);

  proxy.set_down(true);  // a new connection is closed before any answer: an error, not a retry loop
  auto down = api.get<PostList>("/posts");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().ec, client::errc::connection_closed) << down.error().message;
}

TEST(ClientCalls, TimeoutIsAnErrorThatSaysSo) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()), {.timeout = std::chrono::milliseconds(200)});
  auto slow = api.get("/slow");
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().ec, client::errc::timeout);
  EXPECT_EQ(slow.status(), 0u);
  EXPECT_NE(slow.error().message.find("timed out after 200 ms"), std::string::npos) << slow.error().message;
  server.release();
  // The timed-out connection is not reused: the next call gets its own answer.
  auto next = api.call<PostList>(GET, "/posts", {.timeout = std::chrono::seconds(10)});
  ASSERT_TRUE(next) << next.error().message;
}

TEST(ClientCalls, NoServerIsASystemError) {
  std::uint16_t port = 0;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  client::Client api(ClientTestServer::url(port));
  auto reply = api.get("/posts");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().ec, std::errc::connection_refused) << reply.error().message;
  EXPECT_NE(reply.error().message.find("Connecting to 127.0.0.1:"), std::string::npos)
      << reply.error().message;
}

TEST(ClientCalls, ConcurrentCallsFromManyThreadsShareOneClient) {
  ClientTestServer server;
  client::Client api(ClientTestServer::url(server.port()));
  constexpr int kThreads = 4, kCalls = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        auto created =
            api.post<Post>("/posts", CreatePost{.title = std::to_string(t) + "-" + std::to_string(i)});
        if (!created) ++failures;
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = api.get<PostList>("/posts");
  ASSERT_TRUE(list);
  std::set<std::string> titles;
  for (const auto& post : list->posts) titles.insert(post.title);
  EXPECT_EQ(titles.size(), static_cast<std::size_t>(kThreads * kCalls));
}

}  // namespace
}  // namespace igniter::test

// The demo app (examples/posts) over real sockets: its HTTP API, its SQLite storage across a restart, and
// what its SSE stream delivers to whom.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace {

using igniter::test::HttpResult;
using igniter::test::SseClient;
using igniter::test::SseFrame;
namespace json = igniter::json;

std::string str(const json::value& v) {
  return std::string(v.as_string());
}

struct Session {
  std::string token;
  std::int64_t id = 0;
  std::string username;
};

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "igniter-demo-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    data_dir_ = pattern;
    start();
  }
  void TearDown() override {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  void start(std::size_t page_size = 20, std::size_t max_page_size = 100,
             std::vector<std::string> trusted_proxies = {}) {
    server_ = std::make_unique<posts::PostsServer>(
        posts::PostsOptions{.data_dir = data_dir_,
                            .public_dir = POSTS_PUBLIC_DIR,
                            .page_size = page_size,
                            .max_page_size = max_page_size,
                            .app = {.io_threads = 1,
                                    .worker_threads = 2,
                                    .trusted_proxies = std::move(trusted_proxies),
                                    .log_level = igniter::LogLevel::off}});
    port_ = server_->app().start(0);
  }
  void stop() {
    if (!server_) return;
    server_->app().stop();
    server_->app().wait();
    server_.reset();
  }

  HttpResult call(std::string_view method, std::string_view path, std::string_view body = {},
                  const std::string& token = {}) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return igniter::test::fetch(port_, method, "/api/v1" + std::string(path), body, std::move(headers));
  }

  Session login(const std::string& username) {
    auto r = call("POST", "/auth/login", R"({"username":")" + username + R"("})");
    EXPECT_EQ(r.status, 200u) << r.body;
    auto data = r.json().at("data");
    return {str(data.at("token")), data.at("user").at("id").as_int64(), username};
  }

  json::value create_post(const Session& s, const std::string& title, const std::string& content = "text") {
    auto r = call("POST", "/posts", json::serialize(json::object{{"title", title}, {"content", content}}),
                  s.token);
    EXPECT_EQ(r.status, 201u) << r.body;
    return r.json().at("data");
  }

  /// An SSE connection authenticated by the session cookie, as the page's EventSource is; past its
  /// `connected` frame.
  std::unique_ptr<SseClient> open_stream(
      const std::string& token, const std::string& query = "channels=revalidation,notifications.stream") {
    igniter::test::SseOptions options;
    if (!token.empty()) options.headers.emplace_back("Cookie", "theme=dark; session=" + token);
    auto sse = std::make_unique<SseClient>(port_, "/api/v1/sse/events?" + query, std::move(options));
    EXPECT_EQ(sse->read_head(), 200u);
    auto connected = sse->next_of("connected");
    EXPECT_TRUE(connected);
    if (connected) connected_ = connected->json();
    return sse;
  }

  /// The payload of the next revalidation event (or null after the bounded wait).
  /// The next revalidation, skipping the online list's (presence: sent whenever a user's stream opens).
  static json::value next_revalidation(SseClient& sse) {
    for (;;) {
      auto frame = sse.next_of("revalidate");
      if (!frame) return nullptr;
      auto payload = frame->json();
      if (json::serialize(payload.at("data").at("queryKeys")) != R"(["presence.online"])") return payload;
    }
  }

  /// The envelope of the next notification (stream messages other than notifications are skipped).
  static json::value next_notification(SseClient& sse) {
    for (;;) {
      auto frame = sse.next_of("message");
      if (!frame) return nullptr;
      auto envelope = frame->json();
      const auto* data = envelope.at("data").if_object();
      if (data && data->contains("kind")) return envelope;
    }
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<posts::PostsServer> server_;
  std::uint16_t port_ = 0;
  json::value connected_;
};

// ---- auth ----

TEST_F(DemoTest, LoginCreatesTheUserAndSetsAnHttpOnlySessionCookie) {
  auto r = call("POST", "/auth/login", R"({"username":"alice"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto data = r.json().at("data");
  EXPECT_EQ(str(data.at("user").at("username")), "alice");
  EXPECT_EQ(str(data.at("user").at("name")), "alice");
  EXPECT_EQ(str(data.at("user").at("role")), "user");
  auto token = str(data.at("token"));
  EXPECT_EQ(token.size(), 64u);
  auto cookie = r.header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("session=" + token + ";", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Path=/"), std::string::npos) << cookie;

  // A second login finds the same user and opens another session.
  auto again = login("alice");
  EXPECT_EQ(again.id, data.at("user").at("id").as_int64());
  EXPECT_NE(again.token, token);
}

// Behind a TLS-terminating proxy (nginx with deploy/nginx.conf), the app speaks plain HTTP: it learns the
// client's https from the proxy's X-Forwarded-Proto, believed from a trusted proxy only.
TEST_F(DemoTest, TheSessionCookieIsSecureWhenATrustedProxySaysTheClientUsedHttps) {
  auto login_via_proxy = [&](std::string_view proto) {
    auto r =
        igniter::test::fetch(port_, "POST", "/api/v1/auth/login", R"({"username":"alice"})",
                             {{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-Proto", std::string(proto)}});
    EXPECT_EQ(r.status, 200u) << r.body;
    return r.header("Set-Cookie");
  };
  // Nobody trusted (the default): a client cannot make itself look like https (nor anything else).
  auto untrusted = login_via_proxy("https");
  EXPECT_EQ(untrusted.find("Secure"), std::string::npos) << untrusted;
  EXPECT_EQ(call("POST", "/auth/login", R"({"username":"bob"})").header("Set-Cookie").find("Secure"),
            std::string::npos);

  stop();
  start(20, 100, {"127.0.0.1"});
  auto secure = login_via_proxy("https");
  EXPECT_NE(secure.find("; Secure"), std::string::npos) << secure;
  EXPECT_NE(secure.find("HttpOnly"), std::string::npos) << secure;
  auto plain = login_via_proxy("http");
  EXPECT_EQ(plain.find("Secure"), std::string::npos) << plain;
  // Logout clears the cookie with the same attributes, or a browser would keep the Secure one.
  auto alice = login("alice");
  auto logout =
      igniter::test::fetch(port_, "POST", "/api/v1/auth/logout", {},
                           {{"Authorization", "Bearer " + alice.token}, {"X-Forwarded-Proto", "https"}});
  EXPECT_NE(logout.header("Set-Cookie").find("; Secure"), std::string::npos) << logout.header("Set-Cookie");
}

TEST_F(DemoTest, TheSessionWorksAsCookieAndAsBearerToken) {
  auto alice = login("alice");
  auto bearer = call("GET", "/users/profile", {}, alice.token);
  ASSERT_EQ(bearer.status, 200u) << bearer.body;
  EXPECT_EQ(str(bearer.json().at("data").at("user").at("username")), "alice");

  auto cookie = igniter::test::fetch(port_, "GET", "/api/v1/users/profile", {},
                                     {{"Cookie", "a=b; session=" + alice.token}});
  ASSERT_EQ(cookie.status, 200u) << cookie.body;
  EXPECT_EQ(cookie.json().at("data").at("user").at("id").as_int64(), alice.id);
}

TEST_F(DemoTest, LoginRejectsInvalidUsernames) {
  for (const char* body : {R"({"username":""})", R"({"username":"has space"})", R"({})",
                           R"({"username":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})"}) {
    auto r = call("POST", "/auth/login", body);
    EXPECT_EQ(r.status, 400u) << body;
    EXPECT_EQ(str(r.json().at("error").at("code")), "VALIDATION_ERROR") << body;
    EXPECT_TRUE(r.header("Set-Cookie").empty());
  }
}

TEST_F(DemoTest, LogoutEndsTheSessionAndClearsTheCookie) {
  auto alice = login("alice");
  auto r = call("POST", "/auth/logout", {}, alice.token);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.json().at("data").at("loggedOut"), json::value(true));
  auto cookie = r.header("Set-Cookie");
  EXPECT_EQ(cookie.rfind("session=;", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("Max-Age=0"), std::string::npos) << cookie;

  EXPECT_EQ(call("GET", "/users/profile", {}, alice.token).status, 401u);
  EXPECT_EQ(call("POST", "/posts", R"({"title":"t","content":"c"})", alice.token).status, 401u);
}

TEST_F(DemoTest, ProtectedActionsAnswer401WithoutAValidSession) {
  EXPECT_EQ(call("GET", "/users/profile").status, 401u);
  EXPECT_EQ(call("GET", "/users/profile", {}, "not-a-token").status, 401u);
  EXPECT_EQ(call("PATCH", "/users/profile", R"({"name":"x"})").status, 401u);
  auto create = call("POST", "/posts", R"({"title":"t","content":"c"})", "forged");
  EXPECT_EQ(create.status, 401u);
  EXPECT_EQ(str(create.json().at("error").at("code")), "ERR_UNAUTHORIZED");
  EXPECT_EQ(call("DELETE", "/posts/1").status, 401u);
  EXPECT_EQ(call("POST", "/notifications", R"({"text":"hi"})").status, 401u);
  auto cookie = igniter::test::fetch(port_, "GET", "/api/v1/users/profile", {}, {{"Cookie", "session=nope"}});
  EXPECT_EQ(cookie.status, 401u);
  // Nothing was created on the way.
  EXPECT_TRUE(call("GET", "/posts").json().at("data").at("posts").as_array().empty());
}

// ---- posts ----

TEST_F(DemoTest, PostsAreListedNewestFirstAndReadById) {
  EXPECT_TRUE(call("GET", "/posts").json().at("data").at("posts").as_array().empty());
  auto alice = login("alice");
  auto first = create_post(alice, "First", "one");
  auto second = create_post(alice, "Second", "two");
  EXPECT_EQ(str(first.at("author").at("username")), "alice");
  EXPECT_FALSE(str(first.at("createdAt")).empty());

  auto list = call("GET", "/posts");
  ASSERT_EQ(list.status, 200u);
  auto posts = list.json().at("data").at("posts").as_array();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(str(posts[0].at("title")), "Second");
  EXPECT_EQ(str(posts[1].at("title")), "First");

  auto one = call("GET", "/posts/" + std::to_string(first.at("id").as_int64()));
  ASSERT_EQ(one.status, 200u) << one.body;
  EXPECT_EQ(str(one.json().at("data").at("content")), "one");
  EXPECT_EQ(one.json().at("data").at("author").at("id").as_int64(), alice.id);
}

/// The ids of `GET /posts<query>`'s page, and its nextCursor (0 when null).
std::pair<std::vector<std::int64_t>, std::int64_t> page_of(const HttpResult& r) {
  EXPECT_EQ(r.status, 200u) << r.body;
  if (r.status != 200u) return {};
  auto data = r.json().at("data");
  std::vector<std::int64_t> ids;
  for (const auto& post : data.at("posts").as_array()) ids.push_back(post.at("id").as_int64());
  const auto& next = data.at("nextCursor");
  return {ids, next.is_null() ? 0 : next.as_int64()};
}

TEST_F(DemoTest, PostsAreListedAPageAtATimeWithACursor) {
  auto alice = login("alice");
  std::vector<std::int64_t> written;  // oldest first
  for (int i = 0; i < 45; ++i)
    written.push_back(server_->db().create_post(alice.id, "Post " + std::to_string(i), "").id);
  std::vector<std::int64_t> newest_first(written.rbegin(), written.rend());

  // Default page: the 20 newest, and the cursor of the next page (the last id of this one).
  auto [first, cursor] = page_of(call("GET", "/posts"));
  ASSERT_EQ(first.size(), 20u);
  EXPECT_EQ(first, std::vector<std::int64_t>(newest_first.begin(), newest_first.begin() + 20));
  EXPECT_EQ(cursor, first.back());

  // A post written meanwhile does not shift the next page: nothing repeats, nothing is skipped.
  create_post(alice, "Written while reading");
  auto [second, cursor2] = page_of(call("GET", "/posts?before=" + std::to_string(cursor)));
  EXPECT_EQ(second, std::vector<std::int64_t>(newest_first.begin() + 20, newest_first.begin() + 40));
  auto [last, end] = page_of(call("GET", "/posts?before=" + std::to_string(cursor2) + "&limit=20"));
  EXPECT_EQ(last, std::vector<std::int64_t>(newest_first.begin() + 40, newest_first.end()));
  EXPECT_EQ(end, 0) << "the last page has a null nextCursor";

  // `limit` picks the page size; a page that ends exactly at the oldest post says there is no more.
  auto [three, after_three] = page_of(call("GET", "/posts?limit=3&before=" + std::to_string(written[3])));
  EXPECT_EQ(three, (std::vector<std::int64_t>{written[2], written[1], written[0]}));
  EXPECT_EQ(after_three, 0);
  auto [hundred, more] = page_of(call("GET", "/posts?limit=100"));
  EXPECT_EQ(hundred.size(), 46u);
  EXPECT_EQ(more, 0);
  EXPECT_TRUE(page_of(call("GET", "/posts?before=1")).first.empty());
}

TEST_F(DemoTest, PostsPageSizeIsBoundedAndABadCursorAnswers400) {
  auto alice = login("alice");
  for (int i = 0; i < 3; ++i) create_post(alice, "Post " + std::to_string(i));
  for (std::string query :
       {"limit=0", "limit=-1", "limit=101", "limit=1000000", "limit=abc", "limit=1.5", "before=abc",
        "before=0", "before=-3", "before=1.5", "before=99999999999999999999", "limit=2&before=x"}) {
    auto r = call("GET", "/posts?" + query);
    EXPECT_EQ(r.status, 400u) << query << ": " << r.body;
    EXPECT_TRUE(r.json().at("data").is_null()) << query;
  }
  EXPECT_EQ(page_of(call("GET", "/posts?limit=100")).first.size(), 3u);
  EXPECT_EQ(page_of(call("GET", "/posts?limit=1")).first.size(), 1u);

  // Both sizes are settings: a smaller maximum refuses what the default one allowed.
  stop();
  start(/*page_size=*/2, /*max_page_size=*/2);
  auto [ids, cursor] = page_of(call("GET", "/posts"));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(cursor, ids.back());
  EXPECT_EQ(call("GET", "/posts?limit=3").status, 400u);
  stop();
  EXPECT_THROW(start(/*page_size=*/5, /*max_page_size=*/2), std::invalid_argument);
  EXPECT_THROW(start(/*page_size=*/0, /*max_page_size=*/2), std::invalid_argument);
}

TEST_F(DemoTest, GetByIdAnswers404ForAMissingPostAnd400ForABadId) {
  auto missing = call("GET", "/posts/999");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(str(missing.json().at("error").at("code")), "ERR_NOT_FOUND");
  EXPECT_EQ(call("GET", "/posts/abc").status, 400u);
}

TEST_F(DemoTest, SchemaTypesTheAnswersTheHandlersDeclare) {
  auto schema = igniter::test::fetch(port_, "GET", "/__igniter/schema");
  ASSERT_EQ(schema.status, 200u);
  auto document = schema.json();
  const auto& controllers = document.at("data").at("controllers");
  auto answer = [&](std::string_view controller, std::string_view action) {
    return controllers.at(controller).at("actions").at(action).at("response");
  };
  auto post = answer("posts", "list").at("properties").at("posts").at("items");
  EXPECT_EQ(json::serialize(answer("posts", "list").at("properties").at("nextCursor")),
            R"({"anyOf":[{"type":"integer"},{"type":"null"}]})");
  EXPECT_EQ(str(post.at("properties").at("title").at("type")), "string");
  EXPECT_EQ(str(post.at("properties").at("author").at("properties").at("username").at("type")), "string");
  EXPECT_EQ(answer("posts", "getById"), post);
  EXPECT_EQ(answer("posts", "create"), post);  // c.response.created(post): a TypedResponse<Post>
  EXPECT_EQ(
      str(answer("users", "getProfile").at("properties").at("user").at("properties").at("role").at("type")),
      "string");
  EXPECT_EQ(str(answer("auth", "login").at("properties").at("token").at("type")), "string");
  EXPECT_TRUE(answer("notifications", "send").is_null());
}

TEST_F(DemoTest, CreatePostValidatesTheTitle) {
  auto alice = login("alice");
  auto empty = call("POST", "/posts", R"({"title":"","content":"c"})", alice.token);
  ASSERT_EQ(empty.status, 400u);
  auto error = empty.json().at("error");
  EXPECT_EQ(str(error.at("code")), "VALIDATION_ERROR");
  EXPECT_NE(json::serialize(error.at("details")).find("title"), std::string::npos) << empty.body;

  auto too_long = json::serialize(json::object{{"title", std::string(201, 'x')}, {"content", "c"}});
  EXPECT_EQ(call("POST", "/posts", too_long, alice.token).status, 400u);
  EXPECT_EQ(call("POST", "/posts", R"({"content":"no title"})", alice.token).status, 400u);
  EXPECT_EQ(call("POST", "/posts", R"({"title":5})", alice.token).status, 400u);
  EXPECT_EQ(call("POST", "/posts", "{not json", alice.token).status, 400u);
  EXPECT_TRUE(call("GET", "/posts").json().at("data").at("posts").as_array().empty());

  auto longest = json::serialize(json::object{{"title", std::string(200, 'x')}});  // content is optional
  EXPECT_EQ(call("POST", "/posts", longest, alice.token).status, 201u);
}

TEST_F(DemoTest, OnlyTheAuthorCanDeleteAPost) {
  auto alice = login("alice");
  auto bob = login("bob");
  auto id = std::to_string(create_post(alice, "Alice's").at("id").as_int64());

  auto foreign = call("DELETE", "/posts/" + id, {}, bob.token);
  EXPECT_EQ(foreign.status, 403u);
  EXPECT_EQ(str(foreign.json().at("error").at("code")), "ERR_FORBIDDEN");
  EXPECT_EQ(call("GET", "/posts/" + id).status, 200u);

  auto own = call("DELETE", "/posts/" + id, {}, alice.token);
  EXPECT_EQ(own.status, 200u) << own.body;
  EXPECT_EQ(call("GET", "/posts/" + id).status, 404u);
  EXPECT_EQ(call("DELETE", "/posts/" + id, {}, alice.token).status, 404u);
}

// ---- users ----

TEST_F(DemoTest, UpdateProfileRenamesTheUserEverywhere) {
  auto alice = login("alice");
  create_post(alice, "Hello");
  auto r = call("PATCH", "/users/profile", R"({"name":"Alice Liddell"})", alice.token);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(str(r.json().at("data").at("user").at("name")), "Alice Liddell");
  EXPECT_EQ(str(call("GET", "/users/profile", {}, alice.token).json().at("data").at("user").at("name")),
            "Alice Liddell");
  auto posts = call("GET", "/posts").json().at("data").at("posts").as_array();
  EXPECT_EQ(str(posts.at(0).at("author").at("name")), "Alice Liddell");

  EXPECT_EQ(call("PATCH", "/users/profile", R"({"name":""})", alice.token).status, 400u);
  auto too_long = json::serialize(json::object{{"name", std::string(81, 'n')}});
  EXPECT_EQ(call("PATCH", "/users/profile", too_long, alice.token).status, 400u);
}

// ---- notifications (HTTP side) ----

TEST_F(DemoTest, NotificationsAreValidatedAndNeedAKnownRecipient) {
  auto alice = login("alice");
  EXPECT_EQ(call("POST", "/notifications", R"({"text":""})", alice.token).status, 400u);
  auto unknown = call("POST", "/notifications", R"({"text":"hi","to":"nobody"})", alice.token);
  EXPECT_EQ(unknown.status, 404u);
  auto sent = call("POST", "/notifications", R"({"text":"hi"})", alice.token);
  ASSERT_EQ(sent.status, 201u) << sent.body;
  EXPECT_EQ(str(sent.json().at("data").at("from")), "alice");
  EXPECT_TRUE(sent.json().at("data").at("to").is_null());
}

// ---- storage ----

TEST_F(DemoTest, DataSurvivesARestartOnTheSameDataDir) {
  auto alice = login("alice");
  ASSERT_EQ(call("PATCH", "/users/profile", R"({"name":"Alice L."})", alice.token).status, 200u);
  auto post = create_post(alice, "Persistent", "still here");
  EXPECT_TRUE(std::filesystem::exists(data_dir_ / "posts.db"));

  stop();
  start();

  auto posts = call("GET", "/posts").json().at("data").at("posts").as_array();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(str(posts[0].at("title")), "Persistent");
  EXPECT_EQ(posts[0].at("id"), post.at("id"));
  auto profile = call("GET", "/users/profile", {}, alice.token);  // the session survived too
  ASSERT_EQ(profile.status, 200u) << profile.body;
  EXPECT_EQ(str(profile.json().at("data").at("user").at("name")), "Alice L.");
  EXPECT_EQ(login("alice").id, alice.id);
  EXPECT_NE(login("bob").id, alice.id);
  EXPECT_EQ(server_->db().schema_version(), 2);
}

TEST_F(DemoTest, TheDataDirIsCreatedOnFirstStart) {
  stop();
  data_dir_ /= "nested/dir";
  start();
  EXPECT_TRUE(std::filesystem::exists(data_dir_ / "posts.db"));
  login("alice");
  data_dir_ = data_dir_.parent_path().parent_path();  // TearDown removes the whole tree
}

// ---- the web page ----

TEST_F(DemoTest, ServesTheWebPageAtTheRoot) {
  auto page = igniter::test::fetch(port_, "GET", "/");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.header("Content-Type").rfind("text/html", 0), 0u);
  EXPECT_NE(page.body.find("app.js"), std::string::npos);
  auto script = igniter::test::fetch(port_, "GET", "/app.js");
  ASSERT_EQ(script.status, 200u);
  EXPECT_NE(script.body.find("EventSource"), std::string::npos);
}

TEST_F(DemoTest, ThePageIsServedWithABrowserPolicy) {
  for (std::string path : {"/", "/index.html", "/app.js", "/style.css"}) {
    auto file = igniter::test::fetch(port_, "GET", path);
    ASSERT_EQ(file.status, 200u) << path;
    auto csp = file.header("Content-Security-Policy");
    // Only the page's own scripts (no inline ones: no 'unsafe-inline'), no plugins, no <base> hijack, and
    // no framing by anyone (clickjacking), also for browsers that only know X-Frame-Options.
    for (std::string directive :
         {"default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"})
      EXPECT_NE(csp.find(directive), std::string::npos) << path << ": " << csp;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
    EXPECT_EQ(file.header("X-Frame-Options"), "DENY") << path;
    EXPECT_EQ(file.header("Referrer-Policy"), "no-referrer") << path;
    EXPECT_EQ(file.header("X-Content-Type-Options"), "nosniff") << path;

    // A revalidated copy (304) keeps the policy.
    auto again = igniter::test::fetch(port_, "GET", path, {}, {{"If-None-Match", file.header("ETag")}});
    EXPECT_EQ(again.status, 304u) << path;
    EXPECT_EQ(again.header("Content-Security-Policy"), csp) << path;
    EXPECT_EQ(again.header("X-Frame-Options"), "DENY") << path;
  }
  // The page has no inline script for the policy to block: every <script> has a src, no on...= handler.
  auto page = igniter::test::fetch(port_, "GET", "/");
  EXPECT_FALSE(std::regex_search(page.body, std::regex("<script(?![^>]*\\ssrc=)"))) << page.body;
  EXPECT_FALSE(std::regex_search(page.body, std::regex("\\son[a-z]+\\s*=", std::regex::icase))) << page.body;
}

TEST_F(DemoTest, AnswersCarryingATokenOrAUsersDataAreNotStored) {
  auto r = call("POST", "/auth/login", R"({"username":"alice"})");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  auto token = str(r.json().at("data").at("token"));
  auto profile = call("GET", "/users/profile", {}, token);
  ASSERT_EQ(profile.status, 200u) << profile.body;
  EXPECT_EQ(profile.header("Cache-Control"), "no-store");
  auto renamed = call("PATCH", "/users/profile", R"({"name":"Alice"})", token);
  ASSERT_EQ(renamed.status, 200u) << renamed.body;
  EXPECT_EQ(renamed.header("Cache-Control"), "no-store");
}

// ---- realtime ----

TEST_F(DemoTest, ConnectionsHoldTheScopesOfTheirSessionOnly) {
  auto alice = login("alice");
  auto admin = login("admin");
  // The session's own scope (revoked at logout) is its row id: alice's is the first, admin's the second.
  {
    auto sse = open_stream(alice.token);
    EXPECT_EQ(json::serialize(connected_.at("scopes")),
              R"(["role:user","session:1","user:)" + std::to_string(alice.id) + R"("])");
  }
  {
    auto sse = open_stream(admin.token);
    EXPECT_EQ(json::serialize(connected_.at("scopes")),
              R"(["role:admin","session:2","user:)" + std::to_string(admin.id) + R"("])");
  }
  {
    // A page claiming another user's scope gets nothing it was not granted.
    auto sse = open_stream(alice.token, "channels=revalidation&scopes=user:" + std::to_string(admin.id));
    EXPECT_TRUE(connected_.at("scopes").as_array().empty()) << connected_;
  }
  {
    auto sse = open_stream("", "channels=revalidation&scopes=role:admin");
    EXPECT_TRUE(connected_.at("scopes").as_array().empty()) << connected_;
  }
}

TEST_F(DemoTest, TheNotificationsStreamRequiresLogin) {
  auto anonymous = open_stream("");
  EXPECT_EQ(json::serialize(connected_.at("channels")), R"(["revalidation"])");
  ASSERT_TRUE(connected_.as_object().contains("refused")) << connected_;
  EXPECT_EQ(str(connected_.at("refused").at(0).at("channel")), "notifications.stream");
  EXPECT_EQ(str(connected_.at("refused").at(0).at("reason")), "Login required");

  auto alice = login("alice");
  auto sse = open_stream(alice.token);
  EXPECT_EQ(json::serialize(connected_.at("channels")), R"(["revalidation","notifications.stream"])");
  auto hello = sse->next_of("message");  // the stream query's own answer, to this subscriber only
  ASSERT_TRUE(hello);
  EXPECT_EQ(str(hello->json().at("data").at("status")), "Connected to notifications stream");
}

TEST_F(DemoTest, CreatingAPostRevalidatesTheListForEveryone) {
  auto anonymous = open_stream("");
  auto alice = login("alice");
  create_post(alice, "Live");
  auto payload = next_revalidation(*anonymous);
  ASSERT_FALSE(payload.is_null());
  EXPECT_EQ(json::serialize(payload.at("channel")), R"("revalidation")");
  EXPECT_EQ(json::serialize(payload.at("data").at("queryKeys")), R"(["posts.list"])");
  EXPECT_FALSE(payload.as_object().contains("scopes"));
}

TEST_F(DemoTest, FailedMutationsRevalidateNothing) {
  auto alice = login("alice");
  auto bob = login("bob");
  auto id = std::to_string(create_post(alice, "Keep").at("id").as_int64());
  auto sse = open_stream("");
  EXPECT_EQ(call("POST", "/posts", R"({"title":""})", alice.token).status, 400u);
  EXPECT_EQ(call("DELETE", "/posts/" + id, {}, bob.token).status, 403u);
  create_post(alice, "Marker");
  auto payload = next_revalidation(*sse);
  ASSERT_FALSE(payload.is_null());
  EXPECT_EQ(json::serialize(payload.at("data").at("queryKeys")), R"(["posts.list"])");
  EXPECT_TRUE(sse->drain(std::chrono::milliseconds(100)).empty());
}

TEST_F(DemoTest, DeletingAPostRevalidatesTheListAndThatPostsInstance) {
  auto alice = login("alice");
  auto id = create_post(alice, "Short-lived").at("id").as_int64();
  auto sse = open_stream(alice.token);
  ASSERT_EQ(call("DELETE", "/posts/" + std::to_string(id), {}, alice.token).status, 200u);
  auto payload = next_revalidation(*sse);
  ASSERT_FALSE(payload.is_null());
  // The second key is exactly what the Igniter client registers `posts.getById` with params {id}.
  EXPECT_EQ(json::serialize(payload.at("data").at("queryKeys")),
            R"(["posts.list","posts.getById:{\"body\":{},\"params\":{\"id\":\")" + std::to_string(id) +
                R"(\"},\"query\":{}}"])");
}

TEST_F(DemoTest, TheOnlineListShowsSignedInUsersOnceAndCountsSignedOutPages) {
  auto alice = login("alice");
  auto alice_sse = open_stream(alice.token);
  auto alice_other_browser = open_stream(login("alice").token);
  auto guest = open_stream("");
  auto online = call("GET", "/presence/online", {}, "");
  ASSERT_EQ(online.status, 200u) << online.body;
  EXPECT_EQ(json::serialize(online.json().at("data")),
            R"({"users":[{"id":)" + std::to_string(alice.id) + R"(,"username":"alice"}],"anonymous":1})");
  auto revalidation = guest->next_of("revalidate");  // the list's key: open pages refetch it
  ASSERT_TRUE(revalidation);
  EXPECT_EQ(json::serialize(revalidation->json().at("data").at("queryKeys")), R"(["presence.online"])");
}

TEST_F(DemoTest, ProfileRevalidationReachesOnlyThatUser) {
  auto alice = login("alice");
  auto bob = login("bob");
  auto alice_sse = open_stream(alice.token);
  auto bob_sse = open_stream(bob.token);
  auto alice_tab2 = open_stream(alice.token);  // alice's second tab sees it too

  ASSERT_EQ(call("PATCH", "/users/profile", R"({"name":"Alice"})", alice.token).status, 200u);
  create_post(bob, "after the rename");  // an unscoped event published after the scoped one

  for (auto* sse : {alice_sse.get(), alice_tab2.get()}) {
    auto first = next_revalidation(*sse);
    ASSERT_FALSE(first.is_null());
    EXPECT_EQ(json::serialize(first.at("data").at("queryKeys")), R"(["users.getProfile"])");
    EXPECT_EQ(json::serialize(first.at("scopes")), R"(["user:)" + std::to_string(alice.id) + R"("])");
    auto second = next_revalidation(*sse);
    ASSERT_FALSE(second.is_null());
    EXPECT_EQ(json::serialize(second.at("data").at("queryKeys")), R"(["posts.list"])");
  }
  // Events arrive in publication order: bob's first revalidation being the later, unscoped one proves
  // that the profile revalidation never reached him.
  auto bobs = next_revalidation(*bob_sse);
  ASSERT_FALSE(bobs.is_null());
  EXPECT_EQ(json::serialize(bobs.at("data").at("queryKeys")), R"(["posts.list"])");
}

TEST_F(DemoTest, TargetedNotificationReachesOnlyItsUser) {
  auto alice = login("alice");
  auto bob = login("bob");
  auto carol = login("carol");
  auto alice_sse = open_stream(alice.token);
  auto bob_sse = open_stream(bob.token);
  auto carol_sse = open_stream(carol.token);

  auto sent = call("POST", "/notifications", R"({"text":"Your report is ready","to":"bob"})", alice.token);
  ASSERT_EQ(sent.status, 201u) << sent.body;
  ASSERT_EQ(call("POST", "/notifications", R"({"text":"Hello all"})", carol.token).status, 201u);

  auto for_bob = next_notification(*bob_sse);
  ASSERT_FALSE(for_bob.is_null());
  EXPECT_EQ(str(for_bob.at("channel")), "notifications.stream");
  EXPECT_EQ(str(for_bob.at("data").at("text")), "Your report is ready");
  EXPECT_EQ(str(for_bob.at("data").at("from")), "alice");
  EXPECT_EQ(str(for_bob.at("data").at("to")), "bob");
  EXPECT_EQ(json::serialize(for_bob.at("scopes")), R"(["user:)" + std::to_string(bob.id) + R"("])");
  auto broadcast = next_notification(*bob_sse);
  ASSERT_FALSE(broadcast.is_null());
  EXPECT_EQ(str(broadcast.at("data").at("text")), "Hello all");

  // The sender and a bystander get only the broadcast, published after the targeted one.
  for (auto* sse : {alice_sse.get(), carol_sse.get()}) {
    auto first = next_notification(*sse);
    ASSERT_FALSE(first.is_null());
    EXPECT_EQ(str(first.at("data").at("text")), "Hello all");
    EXPECT_FALSE(first.as_object().contains("scopes"));
  }
}

// ---- revocation: logout and expiry reach open streams ----

/// Reads `sse` until the server's `: revoked` comment; true when the stream then closes with nothing after.
bool revoked_and_closed(SseClient& sse) {
  for (;;) {
    auto frame = sse.next(std::chrono::seconds(5));
    if (!frame) return false;
    if (frame->comment_only() && frame->comments == std::vector<std::string>{"revoked"}) break;
  }
  return !sse.next(std::chrono::seconds(5)) && sse.closed_by_server();
}

TEST_F(DemoTest, LogoutClosesThatSessionsStreamsWhileTheUsersOtherSessionKeepsReceiving) {
  auto laptop = login("alice");
  auto phone = login("alice");  // the same user in another browser
  auto bob = login("bob");
  auto laptop_sse = open_stream(laptop.token);
  auto phone_sse = open_stream(phone.token);

  ASSERT_EQ(call("POST", "/auth/logout", {}, laptop.token).status, 200u);
  EXPECT_TRUE(revoked_and_closed(*laptop_sse));
  ASSERT_EQ(call("POST", "/notifications", R"({"text":"Private to alice","to":"alice"})", bob.token).status,
            201u);
  auto on_phone = next_notification(*phone_sse);
  ASSERT_FALSE(on_phone.is_null());
  EXPECT_EQ(str(on_phone.at("data").at("text")), "Private to alice");

  // The logged-out browser reconnects (EventSource does) with its stale cookie: no scope, no notifications.
  auto again = open_stream(laptop.token);
  EXPECT_TRUE(connected_.at("scopes").as_array().empty()) << connected_;
  EXPECT_EQ(json::serialize(connected_.at("channels")), R"(["revalidation"])") << connected_;
}

TEST_F(DemoTest, ExpiredSessionsAreRefusedAndTheirStreamsRevoked) {
  stop();
  server_ = std::make_unique<posts::PostsServer>(
      posts::PostsOptions{.data_dir = data_dir_,
                          .public_dir = POSTS_PUBLIC_DIR,
                          .app = {.io_threads = 1, .worker_threads = 2, .log_level = igniter::LogLevel::off},
                          .session_ttl = std::chrono::milliseconds(1500),
                          .session_sweep_interval = std::chrono::milliseconds(100)});
  port_ = server_->app().start(0);
  auto alice = login("alice");
  auto sse = open_stream(alice.token);
  EXPECT_EQ(call("GET", "/users/profile", {}, alice.token).status, 200u);
  auto cookie = call("POST", "/auth/login", R"({"username":"bob"})").header("Set-Cookie");
  EXPECT_NE(cookie.find("Max-Age=1;"), std::string::npos) << cookie;  // the browser forgets it too

  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(revoked_and_closed(*sse));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1000));
  EXPECT_EQ(call("GET", "/users/profile", {}, alice.token).status, 401u);
}

TEST_F(DemoTest, AnExpiredTokenIsRefusedEvenBeforeTheSweepPurgesIt) {
  stop();
  server_ = std::make_unique<posts::PostsServer>(
      posts::PostsOptions{.data_dir = data_dir_,
                          .public_dir = POSTS_PUBLIC_DIR,
                          .app = {.io_threads = 1, .worker_threads = 2, .log_level = igniter::LogLevel::off},
                          .session_ttl = std::chrono::milliseconds(300),
                          .session_sweep_interval = std::chrono::hours(1)});
  port_ = server_->app().start(0);
  auto alice = login("alice");
  EXPECT_EQ(call("GET", "/users/profile", {}, alice.token).status, 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(call("GET", "/users/profile", {}, alice.token).status, 401u);
  auto sse = open_stream(alice.token);
  EXPECT_TRUE(connected_.at("scopes").as_array().empty()) << connected_;
}

}  // namespace

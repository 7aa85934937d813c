#include <gtest/gtest.h>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

TEST(Actions, QueryAnswersInIgniterEnvelope) {
  TestServer server;
  auto r = fetch(server.port(), "GET", "/api/v1/posts");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"data":{"posts":[],"page":1,"drafts":false,"q":null},"error":null})");
  EXPECT_FALSE(r.header("x-request-id").empty());
}

TEST(Actions, MutationRoundTripWithTypedBodyAndProcedureContext) {
  TestServer server;
  auto created =
      fetch(server.port(), "POST", "/api/v1/posts", R"({"title":"Hello","content":"World","tags":[],
      "author":{"name":"Ann"}})",
            {{"Authorization", "Bearer alice"}});
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(created.body, R"({"data":{"id":1,"title":"Hello","author":"alice"},"error":null})");

  auto one = fetch(server.port(), "GET", "/api/v1/posts/1");
  EXPECT_EQ(one.status, 200u);
  EXPECT_EQ(one.json().at("data").at("title"), "Hello");
  auto list = fetch(server.port(), "GET", "/api/v1/posts?page=3&drafts=true&q=hello%20world");
  EXPECT_EQ(
      list.body,
      R"({"data":{"posts":[{"id":1,"title":"Hello","author":"alice"}],"page":3,"drafts":true,"q":"hello world"},"error":null})");
}

TEST(Actions, ProcedureAnswersEarlyWithUnauthorized) {
  TestServer server;
  auto r = fetch(server.port(), "POST", "/api/v1/posts",
                 R"({"title":"x","content":"y","tags":[],"author":{"name":"a"}})");
  EXPECT_EQ(r.status, 401u);
  EXPECT_EQ(r.body, R"({"data":null,"error":{"message":"Login required","code":"ERR_UNAUTHORIZED"}})");
}

TEST(Actions, ProcedureThrowingHttpErrorAnswersForbidden) {
  TestServer server;
  auto banned = fetch(server.port(), "POST", "/api/v1/posts", R"({})", {{"Authorization", "Bearer banned"}});
  EXPECT_EQ(banned.status, 403u);
  EXPECT_EQ(banned.json().at("error").at("code"), "ERR_FORBIDDEN");
  // A second procedure reads what the first stored (c.get<User>()) and refuses non-admins.
  auto user = fetch(server.port(), "DELETE", "/api/v1/posts/1", {}, {{"Authorization", "Bearer bob"}});
  EXPECT_EQ(user.status, 403u);
  EXPECT_EQ(user.json().at("error").at("message"), "Admins only");
  auto root = fetch(server.port(), "DELETE", "/api/v1/posts/1", {}, {{"Authorization", "Bearer root"}});
  EXPECT_EQ(root.status, 404u);
}

TEST(Actions, ProceduresRunBeforeValidation) {
  TestServer server;
  // No credentials and an invalid body: the caller learns it must log in, not what the schema is.
  auto r = fetch(server.port(), "POST", "/api/v1/posts", R"({"title":5})");
  EXPECT_EQ(r.status, 401u);
}

struct StatusCase {
  const char* name;
  unsigned status;
  const char* body;
  friend void PrintTo(const StatusCase& c, std::ostream* os) { *os << c.name; }
};

class ResponseHelpers : public ::testing::TestWithParam<StatusCase> {};

TEST_P(ResponseHelpers, AnswerWithTheirStatusAndEnvelope) {
  static TestServer server;
  auto [name, status, body] = GetParam();
  auto r = fetch(server.port(), "GET", std::string("/api/v1/demo/status/") + name);
  EXPECT_EQ(r.status, status);
  EXPECT_EQ(r.body, body);
}

INSTANTIATE_TEST_SUITE_P(
    Statuses, ResponseHelpers,
    ::testing::Values(
        StatusCase{"ok", 200, R"({"data":"ok","error":null})"},
        StatusCase{"created", 201, R"({"data":{"ok":true},"error":null})"},
        StatusCase{"json", 200, R"({"data":[1,2],"error":null})"},
        StatusCase{"teapot", 418, R"({"data":"short and stout","error":null})"},
        StatusCase{"nocontent", 204, ""},
        StatusCase{
            "redirect", 302,
            R"({"data":null,"error":{"message":"Redirect","code":"ERR_REDIRECT","data":{"destination":"/elsewhere","type":"replace"}}})"},
        StatusCase{
            "bad", 400,
            R"({"data":null,"error":{"message":"Bad input","code":"ERR_BAD_REQUEST","data":{"field":"x"}}})"},
        StatusCase{"unauthorized", 401,
                   R"({"data":null,"error":{"message":"Unauthorized","code":"ERR_UNAUTHORIZED"}})"},
        StatusCase{"forbidden", 403,
                   R"({"data":null,"error":{"message":"Forbidden","code":"ERR_FORBIDDEN"}})"},
        StatusCase{"notfound", 404,
                   R"({"data":null,"error":{"message":"Not Found","code":"ERR_NOT_FOUND"}})"},
        StatusCase{"conflict", 409, R"({"data":null,"error":{"message":"Exists","code":"ERR_CONFLICT"}})"},
        StatusCase{
            "unprocessable", 422,
            R"({"data":null,"error":{"message":"Unprocessable Entity","code":"ERR_UNPROCESSABLE_ENTITY"}})"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Actions, NoContentCarriesNoLengthAndNoBodyEvenWhenAHandlerGaveOne) {
  TestServer server;
  Connection c(server.port());
  for (const char* code : {"nocontent", "nocontent-with-body"}) {
    auto r = c.request("GET", std::string("/api/v1/demo/status/") + code);
    EXPECT_EQ(r.status, 204u) << code;
    EXPECT_EQ(r.header("content-length"), "") << code;
    EXPECT_EQ(r.body, "") << code;
  }
  // The connection is still framed: the next answer on it is read whole.
  EXPECT_EQ(c.request("GET", "/api/v1/demo/status/ok").body, R"({"data":"ok","error":null})");
}

TEST(Actions, AStatusThatIsNotAFinalOneIsSentAsA500) {
  TestServer server;
  Connection c(server.port());
  for (const char* code : {"interim", "four-digits"}) {
    auto r = c.request("GET", std::string("/api/v1/demo/status/") + code);
    EXPECT_EQ(r.status, 500u) << code;
    EXPECT_EQ(r.json().at("error").at("code"), "ERR_INTERNAL_SERVER_ERROR") << code;
  }
}

TEST(Actions, RedirectCarriesLocation) {
  TestServer server;
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/demo/status/redirect").header("location"), "/elsewhere");
}

TEST(Actions, CookiesAndHeadersAreSetWithTheirAttributes) {
  TestServer server;
  Connection c(server.port());
  auto r = c.request("GET", "/api/v1/demo/cookie", {}, {{"Cookie", "seen=yes; other=1"}});
  EXPECT_EQ(r.body, R"({"data":"yes","error":null})");
  std::vector<std::string> cookies;
  for (auto& [k, v] : r.headers)
    if (k == "Set-Cookie") cookies.push_back(v);
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies[0], "session=abc123; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(cookies[1], "old=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(r.header("x-custom"), "yes");
}

struct Tenant {
  std::string id;
};

TEST(Actions, AppWideProceduresRunBeforeEveryActionAndItsOwnProcedures) {
  App app(TestServer::quiet_options());
  std::vector<std::string> order;
  std::mutex mutex;
  auto note = [&](std::string step) {
    std::lock_guard lock(mutex);
    order.push_back(std::move(step));
  };
  app.use(procedure("tenant", [&](Ctx& c) -> std::optional<Response> {
    note("tenant");
    auto tenant = c.request.header("x-tenant");
    if (tenant.empty()) return c.response.bad_request("X-Tenant is required");
    c.set(Tenant{std::string(tenant)});
    return std::nullopt;
  }));
  auto own = procedure("own", [&](Ctx& c) { note("own:" + c.get<Tenant>().id); });
  app.controller(controller("who", "/who").query("get", "/", {own}, [&](Ctx& c) {
    note("handler");
    return c.response.success(c.get<Tenant>().id);
  }));
  auto port = app.start();
  EXPECT_EQ(fetch(port, "GET", "/api/v1/who", {}, {{"X-Tenant", "acme"}}).body,
            R"({"data":"acme","error":null})");
  EXPECT_EQ(order, (std::vector<std::string>{"tenant", "own:acme", "handler"}));
  auto refused = fetch(port, "GET", "/api/v1/who");
  EXPECT_EQ(refused.status, 400u);
  EXPECT_EQ(refused.json().at("error").at("message"), "X-Tenant is required");
  EXPECT_EQ(order.size(), 4u);  // only the app-wide procedure ran
}

TEST(Actions, UnknownRouteIs404) {
  TestServer server;
  auto r = fetch(server.port(), "GET", "/api/v1/nothing/here");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_NOT_FOUND");
}

TEST(Actions, WrongMethodOnKnownPathIs405WithAllow) {
  TestServer server;
  auto r = fetch(server.port(), "PATCH", "/api/v1/posts");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, POST");
}

TEST(Actions, HandlerExceptionIs500WithRequestIdAndNoDetails) {
  std::vector<std::string> lines;
  std::mutex m;
  auto options = TestServer::quiet_options();
  TestServer server(options);
  server.app().logger().set_level(LogLevel::error);
  auto r = fetch(server.port(), "GET", "/api/v1/demo/boom");
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  auto id = r.json().at("error").at("data").at("requestId").as_string();
  EXPECT_EQ(id, r.header("x-request-id"));
  EXPECT_EQ(r.json().at("error").at("code"), "ERR_INTERNAL_SERVER_ERROR");
}

TEST(Actions, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer server;
  Connection c(server.port());
  for (int i = 0; i < 50; ++i) {
    auto r = c.request("GET", "/api/v1/demo/fast");
    ASSERT_EQ(r.status, 200u);
    EXPECT_TRUE(r.keep_alive);
  }
}

TEST(Actions, HeadAnswersHeadersWithoutBody) {
  TestServer server;
  Connection c(server.port());
  auto r = c.request("HEAD", "/api/v1/demo/fast");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("content-length"), "28");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(c.request("GET", "/api/v1/demo/fast").body, R"({"data":"fast","error":null})");
}

TEST(Actions, BlockingHandlerDoesNotDelayOtherRequests) {
  TestServer server;
  std::thread slow([&] { EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/demo/slow").status, 200u); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the slow handler is now sleeping
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/demo/fast").status, 200u);
  auto elapsed = std::chrono::steady_clock::now() - start;
  slow.join();
  // Five round trips while a handler blocks for 200 ms: far below the 200 ms the block would cost.
  EXPECT_LT(elapsed, std::chrono::milliseconds(100));
}

TEST(Actions, SchemaDescribesEveryAction) {
  TestServer server;
  auto schema = server.app().schema();
  auto& create = schema.at("controllers").at("posts").at("actions").at("create");
  EXPECT_EQ(create.at("method"), "POST");
  EXPECT_EQ(create.at("path"), "/posts");
  EXPECT_EQ(create.at("type"), "mutation");
  EXPECT_EQ(create.at("body").at("properties").at("title").at("maxLength"), 200);
  auto& get = schema.at("controllers").at("posts").at("actions").at("getById");
  EXPECT_EQ(get.at("path"), "/posts/:id");
  EXPECT_TRUE(get.at("body").is_null());
  EXPECT_EQ(get.at("params").at("properties").at("id").at("type"), "integer");
  auto served = fetch(server.port(), "GET", "/__igniter/schema");
  EXPECT_EQ(served.status, 200u);
  EXPECT_EQ(served.json().at("data"), schema);
}

}  // namespace
}  // namespace igniter::test

// The OpenAPI document of the server integration tests' app, as served at /__igniter/openapi.json: every
// action with its method, path, parameters, body and answers; the SSE endpoint; the setting that hides it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

json::value fetch_document(std::uint16_t port, std::string_view path = "/__igniter/openapi.json") {
  auto response = fetch(port, "GET", path);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("content-type"), "application/json; charset=utf-8");
  return json::parse(response.body);
}

const json::value& at(const json::value& value, std::initializer_list<std::string_view> keys) {
  const json::value* node = &value;
  for (auto key : keys) {
    const auto* next = node->is_object() ? node->as_object().if_contains(key) : nullptr;
    if (!next) throw std::out_of_range("no " + std::string(key) + " in " + json::stringify(*node));
    node = next;
  }
  return *node;
}

const json::object& parameter(const json::value& operation, std::string_view in, std::string_view name) {
  for (const auto& p : at(operation, {"parameters"}).as_array())
    if (p.at("in").as_string() == in && p.at("name").as_string() == name) return p.as_object();
  throw std::out_of_range("no " + std::string(in) + " parameter " + std::string(name));
}

class OpenApiDocument : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer;
    document_ = new json::value(fetch_document(server_->port()));
  }
  static void TearDownTestSuite() {
    delete document_;
    delete server_;
  }
  static const json::value& operation(std::string_view path, std::string_view method) {
    return at(*document_, {"paths", path, method});
  }
  static TestServer* server_;
  static json::value* document_;
};
TestServer* OpenApiDocument::server_ = nullptr;
json::value* OpenApiDocument::document_ = nullptr;

TEST_F(OpenApiDocument, IsOpenApi31WithTheAppsTitleAndVersion) {
  EXPECT_EQ(at(*document_, {"openapi"}), "3.1.0");
  EXPECT_EQ(at(*document_, {"info", "title"}), "igniter-cpp app");
  EXPECT_EQ(at(*document_, {"info", "version"}), "0.1.0");
}

TEST_F(OpenApiDocument, ListsEveryActionOnceByKeyWithItsMethodAndOpenApiPath) {
  const std::vector<std::tuple<std::string, std::string, std::string>> expected{
      {"/api/v1/posts", "get", "posts.list"},
      {"/api/v1/posts/{id}", "get", "posts.getById"},
      {"/api/v1/posts", "post", "posts.create"},
      {"/api/v1/posts/{id}", "delete", "posts.remove"},
      {"/api/v1/posts/upload", "put", "posts.upload"},
      {"/api/v1/demo/slow", "get", "demo.slow"},
      {"/api/v1/demo/fast", "get", "demo.fast"},
      {"/api/v1/demo/boom", "get", "demo.boom"},
      {"/api/v1/demo/status/{code}", "get", "demo.status"},
      {"/api/v1/demo/cookie", "get", "demo.cookie"},
      {"/api/v1/sse/events", "get", "realtime.events"},
      {"/api/v1/sse/events/subscriptions", "post", "realtime.subscriptions"},
  };
  std::size_t operations = 0;
  for (const auto& [path, item] : at(*document_, {"paths"}).as_object())
    operations += item.as_object().size();
  EXPECT_EQ(operations, expected.size());
  for (const auto& [path, method, key] : expected)
    EXPECT_EQ(at(operation(path, method), {"operationId"}), key.c_str()) << method << " " << path;
}

TEST_F(OpenApiDocument, TypesPathParametersFromParamsAndAsStringsWithout) {
  auto typed = parameter(operation("/api/v1/posts/{id}", "get"), "path", "id");
  EXPECT_EQ(typed.at("required"), true);
  EXPECT_EQ(typed.at("schema"),
            (json::object{{"type", "integer"}, {"minimum", -2147483648LL}, {"maximum", 2147483647}}));
  auto untyped = parameter(operation("/api/v1/demo/status/{code}", "get"), "path", "code");
  EXPECT_EQ(untyped.at("schema"), (json::object{{"type", "string"}}));
}

TEST_F(OpenApiDocument, ListsQueryParametersWithTheirConstraintsAndWhetherRequired) {
  const auto& list = operation("/api/v1/posts", "get");
  auto page = parameter(list, "query", "page");
  EXPECT_EQ(page.at("required"), false);
  EXPECT_EQ(at(page.at("schema"), {"type"}), "integer");
  EXPECT_EQ(at(page.at("schema"), {"minimum"}), 1);
  auto q = parameter(list, "query", "q");
  EXPECT_EQ(q.at("required"), false);
  EXPECT_EQ(at(list, {"parameters"}).as_array().size(), 3u);
}

TEST_F(OpenApiDocument, DescribesTheBodyAsJsonSchemaWithItsRules) {
  const auto& body = at(operation("/api/v1/posts", "post"), {"requestBody"});
  EXPECT_EQ(at(body, {"required"}), true);
  const auto& schema = at(body, {"content", "application/json", "schema"});
  EXPECT_EQ(at(schema, {"properties", "title", "minLength"}), 1);
  EXPECT_EQ(at(schema, {"properties", "title", "maxLength"}), 200);
  EXPECT_EQ(at(schema, {"properties", "tags", "maxItems"}), 3);
  EXPECT_EQ(at(schema, {"properties", "priority", "maximum"}), 10);
  EXPECT_EQ(at(schema, {"properties", "status", "enum"}), (json::array{"draft", "published"}));
  EXPECT_EQ(at(schema, {"properties", "author", "properties", "email", "anyOf"}).as_array().at(0),
            (json::object{{"type", "string"}, {"format", "email"}}));
  EXPECT_EQ(at(schema, {"required"}), (json::array{"title", "content", "tags", "author"}));
  EXPECT_FALSE(operation("/api/v1/posts", "get").as_object().contains("requestBody"));
}

TEST_F(OpenApiDocument, AnswersAreIgnitersEnvelopesAndErrorsFollowTheActionsInputsAndProcedures) {
  const auto& create = at(operation("/api/v1/posts", "post"), {"responses"}).as_object();
  // A handler returning a TypedResponse<Post> (`c.response.created(post)`): any 2xx (it picks 201), with
  // the Post in the envelope.
  EXPECT_FALSE(create.contains("200"));
  const auto& success = at(create.at("2XX"), {"content", "application/json", "schema"});
  EXPECT_EQ(at(success, {"required"}), (json::array{"data", "error"}));
  EXPECT_EQ(at(success, {"properties", "error"}), (json::object{{"type", "null"}}));
  EXPECT_EQ(at(success, {"properties", "data", "required"}), (json::array{"id", "title", "author"}));
  for (auto status : {"400", "401", "403", "413", "415", "500", "default"})
    EXPECT_TRUE(create.contains(status)) << status;
  EXPECT_FALSE(create.contains("404"));  // no path parameter

  // No procedure, no input, no path parameter: only what any action may answer.
  const auto& fast = at(operation("/api/v1/demo/fast", "get"), {"responses"}).as_object();
  std::vector<std::string> statuses;
  for (const auto& [status, response] : fast) statuses.emplace_back(status);
  EXPECT_EQ(statuses, (std::vector<std::string>{"2XX", "500", "default"}));

  // The validation error: Igniter's error envelope with zod issues, each saying which input failed.
  EXPECT_EQ(at(create.at("400"), {"$ref"}), "#/components/responses/BadRequest");
  const auto& validation =
      at(*document_, {"components", "schemas", "ValidationError", "properties", "error"});
  EXPECT_EQ(at(validation, {"properties", "code", "const"}), "VALIDATION_ERROR");
  EXPECT_EQ(at(validation, {"properties", "details", "items", "$ref"}),
            "#/components/schemas/ValidationIssue");
  EXPECT_EQ(at(*document_, {"components", "schemas", "ValidationIssue", "properties", "in", "enum"}),
            (json::array{"body", "query", "params"}));
  EXPECT_EQ(at(*document_, {"components", "schemas", "InternalError", "properties", "error", "properties",
                            "data", "required"}),
            (json::array{"requestId"}));
}

TEST_F(OpenApiDocument, TheSseEndpointIsAnEventStreamWithItsParametersAndEvents) {
  const auto& events = operation("/api/v1/sse/events", "get");
  for (auto name : {"channels", "scopes", "lastEventId"})
    EXPECT_NO_THROW(parameter(events, "query", name)) << name;
  EXPECT_NO_THROW(parameter(events, "header", "Last-Event-ID"));
  const auto& stream = at(events, {"responses", "200", "content", "text/event-stream"});
  for (auto type : {"connected", "revalidate", "message"})
    EXPECT_TRUE(at(stream, {"x-igniter-events"}).as_object().contains(type)) << type;
  EXPECT_EQ(at(events, {"x-igniter-channels"}), (json::array{"revalidation"}));  // the test app has no stream
  EXPECT_TRUE(at(events, {"responses"}).as_object().contains("429"));
}

TEST(OpenApiSettings, TitleVersionAndPathComeFromAppOptions) {
  auto options = TestServer::quiet_options();
  options.openapi = {.path = "/openapi.json", .title = "Posts", .version = "2.3.4", .description = "A blog."};
  TestServer server(options);
  auto document = fetch_document(server.port(), "/openapi.json");
  EXPECT_EQ(at(document, {"info"}),
            (json::object{{"title", "Posts"}, {"version", "2.3.4"}, {"description", "A blog."}}));
  EXPECT_EQ(fetch(server.port(), "GET", "/__igniter/openapi.json").status, 404);
  EXPECT_EQ(document, server.app().openapi());
}

TEST(OpenApiSettings, AnEmptyPathServesNoDocument) {
  auto options = TestServer::quiet_options();
  options.openapi.path = "";
  TestServer server(options);
  EXPECT_EQ(fetch(server.port(), "GET", "/__igniter/openapi.json").status, 404);
}

TEST(OpenApiSettings, AppWideProceduresAddUnauthorizedAndForbiddenToEveryAction) {
  App app(TestServer::quiet_options());
  app.use(procedure("gate", [](Ctx&) {}));
  app.controller(controller("ping", "/ping").query("get", "/", [](Ctx&) { return 1; }));
  auto document = app.openapi();
  const auto& responses = at(document, {"paths", "/api/v1/ping", "get", "responses"}).as_object();
  EXPECT_TRUE(responses.contains("401"));
  EXPECT_TRUE(responses.contains("403"));
  // A handler returning a value answers exactly 200, with its type as `data`.
  EXPECT_EQ(at(responses.at("200"), {"content", "application/json", "schema", "properties", "data"}),
            (json::object{{"type", "integer"}, {"minimum", -2147483648LL}, {"maximum", 2147483647}}));
}

TEST(OpenApiReferencePage, IsOffByDefault) {
  TestServer server;
  EXPECT_EQ(fetch(server.port(), "GET", "/__igniter/docs").status, 404);
}

TEST(OpenApiReferencePage, ServesAPageThatLoadsTheDocumentWithTheBundledScript) {
  auto script =
      std::filesystem::temp_directory_path() / ("igniter-redoc-" + std::to_string(::getpid()) + ".js");
  std::ofstream(script) << "window.redocLoaded = true;";
  auto options = TestServer::quiet_options();
  options.openapi.title = "Posts <API>";
  options.openapi.docs_path = "/__igniter/docs";
  options.openapi.docs_script = script;
  TestServer server(options);
  std::filesystem::remove(script);  // read at start

  auto page = fetch(server.port(), "GET", "/__igniter/docs");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find(R"(<redoc spec-url="/__igniter/openapi.json">)"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(R"(<script src="/__igniter/docs/redoc.standalone.js">)"), std::string::npos);
  EXPECT_NE(page.body.find("Posts &lt;API&gt;"), std::string::npos);
  EXPECT_NE(page.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  auto bundle = fetch(server.port(), "GET", "/__igniter/docs/redoc.standalone.js");
  EXPECT_EQ(bundle.status, 200);
  EXPECT_EQ(bundle.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(bundle.body, "window.redocLoaded = true;");
}

TEST(OpenApiReferencePage, WithoutItsScriptTheAppRefusesToStart) {
  auto options = TestServer::quiet_options();
  options.openapi.docs_path = "/__igniter/docs";
  options.openapi.docs_script = "/nonexistent/redoc.standalone.js";
  App app(options);
  try {
    app.start();
    FAIL() << "started without the page's script";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/redoc.standalone.js"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(app.port(), 0);
}

}  // namespace
}  // namespace igniter::test

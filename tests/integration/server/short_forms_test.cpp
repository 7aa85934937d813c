// The one-line forms of user code: a path parameter read without a struct (Param<"id", T>), status,
// cookies and revalidation chained on a typed answer (TypedResponse<T>), one-off answers without a struct
// (json::fields), and the public timestamp helper.
#include <gtest/gtest.h>

#include <boost/describe.hpp>
#include <chrono>
#include <cstdint>
#include <igniter/igniter.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

struct Item {
  std::int64_t id = 0;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(Item, (), (id, name))

// Compile-time: a typed value gives a TypedResponse of its type, chaining keeps it, JSON values and
// scalars stay untyped Responses (their schema would say nothing).
using Typed = decltype(std::declval<ResponseBuilder&>().success(Item{}));
static_assert(std::is_same_v<Typed, TypedResponse<Item>>);
static_assert(
    std::is_same_v<decltype(std::declval<Typed>().set_status(201).cookie("a", "b").revalidate({"k"})),
                   TypedResponse<Item>&&>);
static_assert(std::is_same_v<decltype(std::declval<ResponseBuilder&>().created(json::fields<"n">(1))),
                             TypedResponse<json::Fields<json::Names<"n">, int>>>);
static_assert(std::is_same_v<decltype(std::declval<ResponseBuilder&>().success(json::object{})), Response>);
static_assert(std::is_same_v<decltype(std::declval<ResponseBuilder&>().success(std::string{})), Response>);
static_assert(std::is_base_of_v<Response, TypedResponse<Item>>);

AppOptions quiet() {
  AppOptions o;
  o.log_level = LogLevel::off;
  o.io_threads = 1;
  o.worker_threads = 2;
  return o;
}

class ItemsServer {
 public:
  ItemsServer() : app_(quiet()) {
    app_.controller(
        controller("items", "/items")
            .query("get", "/:id",
                   [](Ctx&, Param<"id", std::int64_t> id) {
                     if (id > 100) throw HttpError(404, "Item not found");
                     return Item{id, "item " + std::to_string(id)};
                   })
            .query("pair", "/:id/in/:group",
                   [](Ctx&, Param<"group"> group, Param<"id", int> id) {
                     return json::fields<"group", "id">(*group, *id);
                   })
            .mutation("create", POST, "/",
                      [](Ctx& c, const Item& body) {
                        return c.response.created(body)
                            .cookie("last", std::to_string(body.id))
                            .header("X-Item", body.name)
                            .revalidate({"items.get"});
                      })
            // Declared `-> TypedResponse<Item>` so that it may also return an error Response.
            .mutation("rename", PATCH, "/:id",
                      [](Ctx& c, Param<"id", std::int64_t> id, const Item& body) -> TypedResponse<Item> {
                        if (id != body.id) return c.response.conflict("Ids differ");
                        return c.response.success(body).set_status(202);
                      })
            .mutation("remove", DELETE, "/:id", [](Ctx& c, Param<"id", std::int64_t> id) {
              return c.response.success(json::fields<"deleted", "at">(*id, std::string("now")));
            }));
    port_ = app_.start();
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }

 private:
  App app_;
  std::uint16_t port_ = 0;
};

const json::value& action(const json::value& schema, std::string_view name) {
  return schema.at("controllers").at("items").at("actions").at(name);
}

TEST(ShortForms, PathParamArrivesDecodedAsItsType) {
  ItemsServer server;
  auto one = fetch(server.port(), "GET", "/api/v1/items/7");
  EXPECT_EQ(one.status, 200u);
  EXPECT_EQ(one.body, R"({"data":{"id":7,"name":"item 7"},"error":null})");
  auto pair = fetch(server.port(), "GET", "/api/v1/items/3/in/tools");
  EXPECT_EQ(pair.status, 200u);
  EXPECT_EQ(pair.body, R"({"data":{"group":"tools","id":3},"error":null})");
}

TEST(ShortForms, PathParamOfTheWrongTypeAnswers400WithAnIssueAtItsName) {
  ItemsServer server;
  auto bad = fetch(server.port(), "GET", "/api/v1/items/abc");
  ASSERT_EQ(bad.status, 400u) << bad.body;
  auto error = bad.json().at("error");
  EXPECT_EQ(error.at("code"), "VALIDATION_ERROR");
  ASSERT_EQ(error.at("details").as_array().size(), 1u);
  auto issue = error.at("details").at(0);
  EXPECT_EQ(issue.at("code"), "invalid_type");
  EXPECT_EQ(json::serialize(issue.at("path")), R"(["id"])");
  EXPECT_EQ(issue.at("in"), "params");
  // Past the type's range is an issue too, not a wrapped-around number.
  auto big = fetch(server.port(), "GET", "/api/v1/items/99999999999/in/tools");
  EXPECT_EQ(big.status, 400u);
  EXPECT_EQ(json::serialize(big.json().at("error").at("details").at(0).at("path")), R"(["id"])");
}

TEST(ShortForms, ReadingAParamThePathDoesNotHaveFailsAtRegistration) {
  try {
    controller("items", "/items").query("get", "/:key", [](Ctx&, Param<"id", int> id) { return *id; });
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'id'"), std::string::npos) << e.what();
  }
  // A name that is only a prefix of a segment does not count.
  EXPECT_THROW(
      controller("items", "/items").query("get", "/:identifier", [](Ctx&, Param<"id"> id) { return *id; }),
      std::invalid_argument);
}

TEST(ShortForms, TypedAnswerChainsStatusCookieHeaderAndRevalidation) {
  ItemsServer server;
  SseClient stream(server.port(), "/api/v1/sse/events?channels=revalidation");
  ASSERT_EQ(stream.read_head(), 200u) << stream.body();
  ASSERT_TRUE(stream.next_of("connected"));
  auto created = fetch(server.port(), "POST", "/api/v1/items", R"({"id":5,"name":"five"})",
                       {{"Content-Type", "application/json"}});
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(created.body, R"({"data":{"id":5,"name":"five"},"error":null})");
  EXPECT_EQ(created.header("set-cookie"), "last=5; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(created.header("x-item"), "five");
  auto frame = stream.next_of("revalidate");
  ASSERT_TRUE(frame);
  EXPECT_EQ(json::serialize(frame->json().at("data").at("queryKeys")), R"(["items.get"])");
}

TEST(ShortForms, TypedResponseHandlerMayAlsoReturnAnError) {
  ItemsServer server;
  auto ok = fetch(server.port(), "PATCH", "/api/v1/items/4", R"({"id":4,"name":"four"})",
                  {{"Content-Type", "application/json"}});
  EXPECT_EQ(ok.status, 202u) << ok.body;
  auto clash = fetch(server.port(), "PATCH", "/api/v1/items/4", R"({"id":9,"name":"nine"})",
                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(clash.status, 409u);
  EXPECT_EQ(clash.body, R"({"data":null,"error":{"message":"Ids differ","code":"ERR_CONFLICT"}})");
}

TEST(ShortForms, DeducedAnswersAndParamsAreInTheSchema) {
  ItemsServer server;
  auto schema = server.app().schema();
  EXPECT_EQ(action(schema, "get").at("response"), json::encoded_schema<Item>());
  EXPECT_EQ(action(schema, "create").at("response"), json::encoded_schema<Item>());
  EXPECT_EQ(action(schema, "rename").at("response"), json::encoded_schema<Item>());
  EXPECT_EQ(json::serialize(action(schema, "remove").at("response")),
            R"({"type":"object","properties":{"deleted":{"type":"integer"},"at":{"type":"string"}},)"
            R"("required":["deleted","at"]})");
  EXPECT_EQ(json::serialize(action(schema, "get").at("params")),
            R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})");
  EXPECT_EQ(json::serialize(action(schema, "pair").at("params").at("required")), R"(["group","id"])");
}

TEST(ShortForms, DeclaringTheSameAnswerAsTheTypedResponseIsAcceptedAnotherOneIsNot) {
  auto handler = [](Ctx& c) { return c.response.success(Item{}); };
  EXPECT_NO_THROW(
      controller("items", "/items").query("a", "/", ActionOptions{.response = returns<Item>()}, handler));
  EXPECT_THROW(
      controller("items", "/items").query("a", "/", ActionOptions{.response = returns<int>()}, handler),
      std::invalid_argument);
}

TEST(ShortForms, IsoTimestampIsUtcToTheMillisecond) {
  using namespace std::chrono;
  EXPECT_EQ(iso_timestamp(system_clock::time_point(milliseconds(1'764'748'416'123))),
            "2025-12-03T07:53:36.123Z");
  EXPECT_EQ(iso_timestamp(system_clock::time_point()), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_timestamp(system_clock::time_point(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso_timestamp().size(), 24u);
}

}  // namespace
}  // namespace igniter::test

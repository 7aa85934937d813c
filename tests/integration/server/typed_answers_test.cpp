// Handlers that return a value instead of a Response: the success envelope, HttpError for failures, and the
// answer's JSON Schema in the app's schema (also for Response handlers that declare it with returns<T>()).
#include <gtest/gtest.h>

#include <boost/describe.hpp>
#include <igniter/igniter.hpp>
#include <map>
#include <mutex>
#include <stdexcept>

#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {
namespace {

struct Note {
  int id = 0;
  std::string text;
  std::optional<std::string> tag;
};
BOOST_DESCRIBE_STRUCT(Note, (), (id, text, tag))

struct NoteList {
  std::vector<Note> notes;
  int page = 1;
};
BOOST_DESCRIBE_STRUCT(NoteList, (), (notes, page))

struct PageQuery {
  int page = 1;
  static void rules(json::Rules<PageQuery>& r) { r.field(&PageQuery::page).min(1).optional(); }
};
BOOST_DESCRIBE_STRUCT(PageQuery, (), (page))

struct NoteId {
  int id = 0;
};
BOOST_DESCRIBE_STRUCT(NoteId, (), (id))

struct NewNote {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(NewNote, (), (text))

AppOptions quiet() {
  AppOptions o;
  o.log_level = LogLevel::off;
  o.io_threads = 1;
  o.worker_threads = 2;
  return o;
}

class NotesServer {
 public:
  NotesServer() : app_(quiet()) {
    app_.controller(
        controller("notes", "/notes")
            // Typed: the value is the answer's data, its type the schema's "response".
            .query("list", "/",
                   [this](Ctx&, Query<PageQuery> q) -> NoteList {
                     std::lock_guard lock(mutex_);
                     NoteList out{{}, q->page};
                     for (const auto& [id, note] : notes_) out.notes.push_back(note);
                     return out;
                   })
            .query("get", "/:id",
                   [this](Ctx&, const Params<NoteId>& p) {
                     std::lock_guard lock(mutex_);
                     auto it = notes_.find(p->id);
                     if (it == notes_.end()) throw HttpError(404, "Note not found");
                     return it->second;
                   })
            // A typed response that also declares its answer (as before answers were deduced): accepted.
            .mutation("create", POST, "/", ActionOptions{.response = returns<Note>()},
                      [this](Ctx& c, const NewNote& body) {
                        std::lock_guard lock(mutex_);
                        Note note{next_id_++, body.text, std::nullopt};
                        notes_[note.id] = note;
                        return c.response.created(note).revalidate({"notes.list"});
                      })
            // Neither: the answer is unknown to the schema.
            .query("count", "/count", [](Ctx& c) {
              return c.response.success(json::object{{"n", 1}});
            }));
    port_ = app_.start();
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }

 private:
  std::mutex mutex_;
  std::map<int, Note> notes_;
  int next_id_ = 1;
  App app_;
  std::uint16_t port_ = 0;
};

const json::value& action(const json::value& schema, std::string_view name) {
  return schema.at("controllers").at("notes").at("actions").at(name);
}

TEST(TypedAnswers, ValueFromHandlerIsAnsweredInTheSuccessEnvelope) {
  NotesServer server;
  auto created = fetch(server.port(), "POST", "/api/v1/notes", R"({"text":"hello"})");
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(created.body, R"({"data":{"id":1,"text":"hello","tag":null},"error":null})");

  auto list = fetch(server.port(), "GET", "/api/v1/notes?page=2");
  EXPECT_EQ(list.status, 200u);
  EXPECT_EQ(list.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(list.body, R"({"data":{"notes":[{"id":1,"text":"hello","tag":null}],"page":2},"error":null})");
  auto one = fetch(server.port(), "GET", "/api/v1/notes/1");
  EXPECT_EQ(one.status, 200u);
  EXPECT_EQ(one.body, R"({"data":{"id":1,"text":"hello","tag":null},"error":null})");
}

TEST(TypedAnswers, HttpErrorFromATypedHandlerIsAnsweredInTheErrorEnvelope) {
  NotesServer server;
  auto missing = fetch(server.port(), "GET", "/api/v1/notes/7");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(missing.body, R"({"data":null,"error":{"message":"Note not found","code":"ERR_NOT_FOUND"}})");
}

TEST(TypedAnswers, InvalidInputNeverReachesATypedHandler) {
  NotesServer server;
  auto bad = fetch(server.port(), "GET", "/api/v1/notes?page=0");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.json().at("error").at("code"), "VALIDATION_ERROR");
}

TEST(TypedAnswers, SchemaCarriesTheAnswerTypeWhereKnownAndNullElsewhere) {
  NotesServer server;
  auto schema = server.app().schema();
  EXPECT_EQ(action(schema, "list").at("response"), json::encoded_schema<NoteList>());
  auto& notes = action(schema, "list").at("response").at("properties").at("notes");
  EXPECT_EQ(notes.at("type"), "array");
  EXPECT_EQ(notes.at("items").at("properties").at("text").at("type"), "string");
  // Encoded answers always carry every member, an empty optional as null.
  EXPECT_EQ(json::serialize(notes.at("items").at("required")), R"(["id","text","tag"])");
  EXPECT_EQ(action(schema, "get").at("response"), json::encoded_schema<Note>());
  EXPECT_EQ(action(schema, "create").at("response"), json::encoded_schema<Note>());
  ASSERT_TRUE(action(schema, "count").as_object().contains("response"));
  EXPECT_TRUE(action(schema, "count").at("response").is_null());
  auto served = fetch(server.port(), "GET", "/__igniter/schema");
  EXPECT_EQ(served.json().at("data"), schema);
}

TEST(TypedAnswers, ResponseHandlerDeclaringItsAnswerStillRevalidates) {
  NotesServer server;
  SseClient stream(server.port(), "/api/v1/sse/events?channels=revalidation");
  ASSERT_EQ(stream.read_head(), 200u) << stream.body();
  ASSERT_TRUE(stream.next_of("connected"));
  auto created = fetch(server.port(), "POST", "/api/v1/notes", R"({"text":"hi"})");
  ASSERT_EQ(created.status, 201u);
  auto frame = stream.next_of("revalidate");
  ASSERT_TRUE(frame);
  EXPECT_EQ(json::serialize(frame->json().at("data").at("queryKeys")), R"(["notes.list"])");
}

TEST(TypedAnswers, DeclaringTheAnswerOfATypedHandlerTwiceFailsAtRegistration) {
  EXPECT_THROW(
      controller("notes", "/notes")
          .query("get", "/", ActionOptions{.response = returns<Note>()}, [](Ctx&) { return Note{}; }),
      std::invalid_argument);
}

}  // namespace
}  // namespace igniter::test

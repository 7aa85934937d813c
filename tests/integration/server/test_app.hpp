#pragma once
// A small app used by the server integration tests: posts with typed inputs, an auth procedure, helpers
// for every response kind.

#include <boost/describe.hpp>
#include <igniter/igniter.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "support/http_client.hpp"

namespace igniter::test {

enum class Status { draft, published };
BOOST_DESCRIBE_ENUM(Status, draft, published)

struct Author {
  std::string name;
  std::optional<std::string> email;
  static void rules(json::Rules<Author>& r) { r.field(&Author::email).email(); }
};
BOOST_DESCRIBE_STRUCT(Author, (), (name, email))

struct CreatePost {
  std::string title;
  std::string content;
  std::vector<std::string> tags;
  int priority = 0;
  Status status = Status::draft;
  Author author;
  static void rules(json::Rules<CreatePost>& r) {
    r.field(&CreatePost::title).non_empty().max_length(200);
    r.field(&CreatePost::tags).max_items(3);
    r.field(&CreatePost::priority).min(0).max(10).optional();
    r.field(&CreatePost::status).optional();
  }
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content, tags, priority, status, author))

struct Post {
  int id = 0;
  std::string title;
  std::string author;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title, author))

struct IdParams {
  int id = 0;
};
BOOST_DESCRIBE_STRUCT(IdParams, (), (id))

struct ListQuery {
  int page = 1;
  bool drafts = false;
  std::optional<std::string> q;
  static void rules(json::Rules<ListQuery>& r) {
    r.field(&ListQuery::page).min(1).optional();
    r.field(&ListQuery::drafts).optional();
  }
};
BOOST_DESCRIBE_STRUCT(ListQuery, (), (page, drafts, q))

struct User {
  std::string name;
  std::string role;
};

/// Built once per test: an App with posts, auth and helper actions, started on a free port.
class TestServer {
 public:
  explicit TestServer(AppOptions options = quiet_options()) : app_(std::move(options)) {
    auto auth = procedure("auth", [](Ctx& c) -> std::optional<Response> {
      auto token = c.request.bearer_token();
      if (token.empty()) return c.response.unauthorized("Login required");
      if (token == "banned") throw HttpError(403, "Account suspended");
      c.set(User{std::string(token), token == "root" ? "admin" : "user"});
      return std::nullopt;
    });
    auto admin = procedure("admin", [](Ctx& c) {
      if (c.get<User>().role != "admin") throw HttpError(403, "Admins only");
    });

    app_.controller(controller("posts", "/posts")
                        .query("list", "/",
                               [this](Ctx& c, const Query<ListQuery>& q) {
                                 std::lock_guard lock(mutex_);
                                 json::array items;
                                 for (auto& [id, post] : posts_) items.push_back(json::encode(post));
                                 return c.response.success(json::object{{"posts", items},
                                                                        {"page", q->page},
                                                                        {"drafts", q->drafts},
                                                                        {"q", json::encode(q->q)}});
                               })
                        .query("getById", "/:id",
                               [this](Ctx& c, const Params<IdParams>& p) -> Response {
                                 std::lock_guard lock(mutex_);
                                 auto it = posts_.find(p->id);
                                 if (it == posts_.end()) return c.response.not_found("Post not found");
                                 return c.response.success(it->second);
                               })
                        .mutation("create", POST, "/", {auth},
                                  [this](Ctx& c, const CreatePost& body) {
                                    std::lock_guard lock(mutex_);
                                    Post post{next_id_++, body.title, c.get<User>().name};
                                    posts_[post.id] = post;
                                    return c.response.created(post).revalidate({"posts.list"});
                                  })
                        .mutation("remove", DELETE, "/:id", {auth, admin},
                                  [this](Ctx& c, const Params<IdParams>& p) {
                                    std::lock_guard lock(mutex_);
                                    if (!posts_.erase(p->id)) return c.response.not_found("Post not found");
                                    return c.response.no_content();
                                  })
                        .mutation("upload", PUT, "/upload", ActionOptions{.max_body_bytes = 64},
                                  [](Ctx& c, const json::value& body) { return c.response.success(body); }));

    app_.controller(
        controller("demo", "/demo")
            .query("slow", "/slow",
                   [](Ctx& c) {
                     std::this_thread::sleep_for(std::chrono::milliseconds(200));
                     return c.response.success("slept");
                   })
            .query("fast", "/fast", [](Ctx& c) { return c.response.success("fast"); })
            .query("boom", "/boom",
                   [](Ctx&) -> Response { throw std::runtime_error("secret database password leaked"); })
            .query("status", "/status/:code",
                   [](Ctx& c) {
                     auto code = std::string(c.request.param("code"));
                     if (code == "created") return c.response.created(json::object{{"ok", true}});
                     if (code == "json") return c.response.json(json::array{1, 2});
                     if (code == "teapot") return c.response.status(418, "short and stout");
                     if (code == "nocontent") return c.response.no_content();
                     // Handler mistakes the server must not put on the wire as they are.
                     if (code == "nocontent-with-body") return Response(204, "oops", "text/plain");
                     if (code == "interim") return Response(100, "", "");
                     if (code == "four-digits") return Response(1000, "x", "text/plain");
                     if (code == "redirect") return c.response.redirect("/elsewhere");
                     if (code == "bad")
                       return c.response.bad_request("Bad input", json::object{{"field", "x"}});
                     if (code == "unauthorized") return c.response.unauthorized();
                     if (code == "forbidden") return c.response.forbidden();
                     if (code == "notfound") return c.response.not_found();
                     if (code == "conflict") return c.response.conflict("Exists");
                     if (code == "unprocessable") return c.response.unprocessable();
                     return c.response.success(code);
                   })
            .query("cookie", "/cookie", [](Ctx& c) {
              CookieOptions session{.max_age = std::chrono::seconds(3600), .secure = true};
              return c.response.success(std::string(c.request.cookie("seen")))
                  .cookie("session", "abc123", session)
                  .clear_cookie("old")
                  .header("X-Custom", "yes");
            }));
    port_ = app_.start();
  }

  static AppOptions quiet_options() {
    AppOptions o;
    o.log_level = LogLevel::off;
    o.io_threads = 2;
    o.worker_threads = 4;
    return o;
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }

 private:
  std::mutex mutex_;
  std::map<int, Post> posts_;
  int next_id_ = 1;
  App app_;
  std::uint16_t port_ = 0;
};

}  // namespace igniter::test

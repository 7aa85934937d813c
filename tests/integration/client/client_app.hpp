#pragma once
// The app the C++ client's integration tests call: typed posts (validation, 404), a search with a typed
// query, a cookie login, a handler that waits until the test releases it, and realtime with scopes from
// the session and a guard on "private." channels. Plus a recorder of what a Subscription reports.

#include <gtest/gtest.h>

#include <boost/describe.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <igniter/igniter.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace igniter::test {

struct Post {
  int id = 0;
  std::string title;
  std::string content;
  std::string author;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title, content, author))

struct CreatePost {
  std::string title;
  std::string content;
  static void rules(json::Rules<CreatePost>& r) {
    r.field(&CreatePost::title).non_empty().max_length(200);
    r.field(&CreatePost::content).optional();
  }
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content))

struct PostList {
  std::vector<Post> posts;
};
BOOST_DESCRIBE_STRUCT(PostList, (), (posts))

struct IdParams {
  int id = 0;
};
BOOST_DESCRIBE_STRUCT(IdParams, (), (id))

struct Search {
  std::string q;
  int page = 1;
  std::vector<std::string> tags;
  std::optional<bool> drafts;
  static void rules(json::Rules<Search>& r) {
    r.field(&Search::page).min(1).optional();
    r.field(&Search::tags).optional();
  }
};
BOOST_DESCRIBE_STRUCT(Search, (), (q, page, tags, drafts))

struct Login {
  std::string username;
  static void rules(json::Rules<Login>& r) { r.field(&Login::username).non_empty(); }
};
BOOST_DESCRIBE_STRUCT(Login, (), (username))

struct Me {
  std::string user;
};
BOOST_DESCRIBE_STRUCT(Me, (), (user))

/// What the tests publish: a number, and the text of it.
struct Message {
  int n = 0;
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Message, (), (n, text))

struct Session {
  std::string user;
};

/// The app, started on a free port.
class ClientTestServer {
 public:
  explicit ClientTestServer(AppOptions options = quiet()) : app_(std::move(options)) {
    app_.use(procedure("session", [](Ctx& c) {
      if (auto user = c.request.cookie("session"); !user.empty()) c.set(Session{std::string(user)});
    }));
    auto member = procedure("member", [](Ctx& c) -> std::optional<Response> {
      if (c.find<Session>() == nullptr) return c.response.unauthorized("Login required");
      return std::nullopt;
    });

    app_.controller(controller("posts", "/posts")
                        .query("list", "/",
                               [this](Ctx& c) {
                                 std::lock_guard lock(mutex_);
                                 return c.response.success(PostList{posts_});
                               })
                        .query("getById", "/:id",
                               [this](Ctx& c, const Params<IdParams>& p) -> Response {
                                 std::lock_guard lock(mutex_);
                                 for (const auto& post : posts_)
                                   if (post.id == p->id) return c.response.success(post);
                                 return c.response.not_found("Post not found");
                               })
                        .mutation("create", POST, "/", [this](Ctx& c, const CreatePost& body) {
                          auto* session = c.find<Session>();
                          std::lock_guard lock(mutex_);
                          posts_.push_back({static_cast<int>(posts_.size()) + 1, body.title, body.content,
                                            session ? session->user : "anonymous"});
                          return c.response.created(posts_.back()).revalidate({"posts.list"});
                        }));
    app_.controller(controller("search", "/search").query("find", "/", [](Ctx& c, const Query<Search>& q) {
      return c.response.success(*q);
    }));
    app_.controller(
        controller("auth", "/auth")
            .mutation("login", POST, "/login",
                      [](Ctx& c, const Login& body) {
                        return c.response.success(Me{body.username}).cookie("session", body.username);
                      })
            .mutation("logout", POST, "/logout",
                      [](Ctx& c) { return c.response.success(json::object{}).clear_cookie("session"); })
            .query("me", "/me", {member},
                   [](Ctx& c) { return c.response.success(Me{c.get<Session>().user}); }));
    app_.controller(controller("slow", "/slow").query("wait", "/", [this](Ctx& c) {
      release_.wait_for(std::chrono::seconds(20));
      return c.response.success(json::object{});
    }));
    app_.realtime().scopes([](Ctx& c) -> std::vector<std::string> {
      auto* session = c.find<Session>();
      if (session == nullptr) return {};
      return {"user:" + session->user};
    });
    app_.realtime().authorize([](Ctx&, std::string_view channel) -> std::optional<std::string> {
      if (channel.starts_with("private.")) return "Forbidden channel";
      return std::nullopt;
    });
    port_ = app_.start();
  }
  ~ClientTestServer() { release(); }

  static AppOptions quiet() {
    AppOptions o;
    o.log_level = LogLevel::off;
    o.io_threads = 2;
    o.worker_threads = 4;
    return o;
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }
  /// Lets the `slow` handlers finish.
  void release() {
    std::call_once(released_, [this] { gate_.set_value(); });
  }
  /// The base URL of the app on `port` (its own, or a proxy's).
  static std::string url(std::uint16_t port) {
    return "http://127.0.0.1:" + std::to_string(port) + "/api/v1";
  }

 private:
  std::mutex mutex_;
  std::vector<Post> posts_;
  std::promise<void> gate_;
  std::shared_future<void> release_ = gate_.get_future().share();
  std::once_flag released_;
  App app_;
  std::uint16_t port_ = 0;
};

/// Everything a Subscription reported, with bounded waits.
class Recorder {
 public:
  /// Options that record into this recorder (channels etc. to be filled in by the test).
  client::SubscribeOptions options(std::vector<std::string> channels = {}) {
    client::SubscribeOptions o;
    o.channels = std::move(channels);
    o.on_event = [this](const client::Event& e) { add([&] { events_.push_back(e); }); };
    o.on_connected = [this](const client::Connected& c) { add([&] { connected_.push_back(c); }); };
    o.on_state = [this](const client::StateChange& s) { add([&] { states_.push_back(s); }); };
    return o;
  }

  /// Waits until `condition(*this)` holds (checked under the lock after each report); false after 10 s.
  template <class F>
  bool wait(F condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return condition(*this); });
  }
  bool wait_events(std::size_t n) {
    return wait([n](Recorder& r) { return r.events_.size() >= n; });
  }
  bool wait_connected(std::size_t n) {
    return wait([n](Recorder& r) { return r.connected_.size() >= n; });
  }

  // Copies, taken under the lock.
  std::vector<client::Event> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<client::Connected> connected() {
    std::lock_guard lock(mutex_);
    return connected_;
  }
  std::vector<client::StateChange> states() {
    std::lock_guard lock(mutex_);
    return states_;
  }

  // For wait() conditions (called under the lock).
  std::vector<client::Event> events_;
  std::vector<client::Connected> connected_;
  std::vector<client::StateChange> states_;

 private:
  template <class F>
  void add(F f) {
    {
      std::lock_guard lock(mutex_);
      f();
    }
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
};

/// The payloads' `n` of message events on `channel` (every channel when empty), in arrival order.
inline std::vector<int> numbers(const std::vector<client::Event>& events, std::string_view channel = {}) {
  std::vector<int> out;
  for (const auto& e : events)
    if (e.type == "message" && (channel.empty() || e.channel == channel))
      if (auto m = e.as<Message>()) out.push_back(m->n);
  return out;
}

/// 1, 2, ..., n.
inline std::vector<int> one_to(int n) {
  std::vector<int> out;
  for (int i = 1; i <= n; ++i) out.push_back(i);
  return out;
}

}  // namespace igniter::test

#include "app.hpp"

#include <boost/describe.hpp>
#include <igniter/realtime/query_key.hpp>
#include <igniter/server/realtime.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace posts {
namespace {

using igniter::Ctx;
using igniter::HttpError;
using igniter::Param;
using igniter::Query;
namespace json = igniter::json;

// ---- What the API speaks (JSON shapes, described for encoding, decoding and validation) ----

struct User {
  std::int64_t id = 0;
  std::string username;
  std::string name;
  std::string role;
  std::string createdAt;
};
BOOST_DESCRIBE_STRUCT(User, (), (id, username, name, role, createdAt))

struct Author {
  std::int64_t id = 0;
  std::string username;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(Author, (), (id, username, name))

struct Post {
  std::int64_t id = 0;
  std::string title;
  std::string content;
  Author author;
  std::string createdAt;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title, content, author, createdAt))

// The answer of `GET /posts`. One-off answers need no struct: `json::fields<"user">(user)` is typed too.
struct PostList {
  std::vector<Post> posts;                 // one page, newest first
  std::optional<std::int64_t> nextCursor;  // the `before` of the next page; null on the last page
};
BOOST_DESCRIBE_STRUCT(PostList, (), (posts, nextCursor))

struct Login {
  std::string username;
  static void rules(json::Rules<Login>& r) {
    r.field(&Login::username)
        .non_empty()
        .max_length(32)
        .pattern("^[A-Za-z0-9_.-]+$", "Letters, digits, '_', '.' and '-' only");
  }
};
BOOST_DESCRIBE_STRUCT(Login, (), (username))

struct CreatePost {
  std::string title;
  std::string content;
  static void rules(json::Rules<CreatePost>& r) {
    r.field(&CreatePost::title).non_empty().max_length(200);
    r.field(&CreatePost::content).max_length(10'000).optional();
  }
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content))

struct UpdateProfile {
  std::string name;
  static void rules(json::Rules<UpdateProfile>& r) {
    r.field(&UpdateProfile::name).non_empty().max_length(80);
  }
};
BOOST_DESCRIBE_STRUCT(UpdateProfile, (), (name))

struct Notify {
  std::string text;
  std::optional<std::string> to;  // a username; absent = everyone
  static void rules(json::Rules<Notify>& r) {
    r.field(&Notify::text).non_empty().max_length(500);
    r.field(&Notify::to).optional();
  }
};
BOOST_DESCRIBE_STRUCT(Notify, (), (text, to))

// `GET /presence/online`: the signed-in users with a page open (each once), and how many pages are open
// signed out.
struct OnlineUser {
  std::int64_t id = 0;
  std::string username;
};
BOOST_DESCRIBE_STRUCT(OnlineUser, (), (id, username))

struct Online {
  std::vector<OnlineUser> users;
  std::uint64_t anonymous = 0;
};
BOOST_DESCRIBE_STRUCT(Online, (), (users, anonymous))

// `GET /posts?limit=&before=`: a page of at most `limit` posts (PostsOptions::page_size when absent),
// those older than the post `before` (a previous page's nextCursor) when given.
struct ListQuery {
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> before;
  static void rules(json::Rules<ListQuery>& r) {
    r.field(&ListQuery::limit).min(1).optional();
    r.field(&ListQuery::before).min(1).optional();
  }
};
BOOST_DESCRIBE_STRUCT(ListQuery, (), (limit, before))

User to_user(const UserRow& row) {
  return User{row.id, row.username, row.name, row.role, row.created_at};
}

Post to_post(const PostRow& row) {
  return Post{row.id, row.title, row.content, Author{row.author_id, row.author_username, row.author_name},
              row.created_at};
}

// The session token of a request: a Bearer token wins over the cookie.
std::string_view session_token(const Ctx& c) {
  auto bearer = c.request.bearer_token();
  return bearer.empty() ? c.request.cookie(kSessionCookie) : bearer;
}

std::string user_scope(std::int64_t id) {
  return "user:" + std::to_string(id);
}

// Who is on the revalidation channel (every page's stream), as users: presence lists `user:<id>` members.
Online online(Database& db, const igniter::Presence& here) {
  Online out{.users = {}, .anonymous = here.anonymous};
  for (const auto& id : here.members)
    if (auto user = db.user_by_id(std::stoll(id))) out.users.push_back({user->id, user->username});
  return out;
}

// Presence on every page's stream (the revalidation channel); a stream holding `user:<id>` is member <id>.
// When members change, open pages refetch the online list.
igniter::PresenceOptions presence_options() {
  return {.channels = {"revalidation"},
          .member = igniter::member_from_scope("user:"),
          .revalidate = {"presence.online"}};
}

// What the page's files are sent with: the page runs only its own scripts (no inline ones, no eval),
// talks only to its own origin, cannot be framed (clickjacking) and leaks no URL in a Referer.
// `data:` images: the React page's empty favicon (`<link rel="icon" href="data:,">`).
igniter::StaticOptions page_options() {
  return {.headers = {{"Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                       "form-action 'self'; frame-ancestors 'none'"},
                      {"X-Frame-Options", "DENY"},
                      {"Referrer-Policy", "no-referrer"}}};
}

// Answers that carry a session token or one user's data must not be kept by a browser or proxy cache.
template <class R>
R no_store(R response) {
  return std::move(response.header("Cache-Control", "no-store"));
}

// Every stream of a session holds this too: logout and expiry revoke it, which closes that session's
// streams only (the same user signed in elsewhere keeps `user:<id>` and its stream).
std::string session_scope(std::int64_t session_id) {
  return "session:" + std::to_string(session_id);
}

// The post `id`, or 404.
PostRow post_of(Database& db, std::int64_t id) {
  auto row = db.post_by_id(id);
  if (!row) throw HttpError(404, "Post not found");
  return *row;
}

}  // namespace

PostsServer::PostsServer(PostsOptions options)
    : db_(options.data_dir, options.session_ttl), app_(std::move(options.app)) {
  Database& db = db_;
  if (options.page_size < 1 || options.page_size > options.max_page_size)
    throw std::invalid_argument("PostsOptions: page_size must be between 1 and max_page_size");

  // Reads the cookie or Bearer token and puts the signed-in user in the context; 401 without one.
  auto auth = igniter::procedure("auth", [&db](Ctx& c) {
    auto user = db.user_by_token(session_token(c));
    if (!user) throw HttpError(401, "Login required");
    c.set(to_user(*user));
  });

  // Typed answers: `c.response.success(post)` is a TypedResponse<Post>, so status, cookies and revalidation
  // chain on it and the app's schema (and the page's generated client) still knows the answer's type.
  // Reached over HTTPS (AppOptions::tls, or a trusted proxy's X-Forwarded-Proto): the session cookie is
  // then Secure, never sent over plain HTTP.
  app_.controller(
      igniter::controller("auth", "/auth")
          .mutation("login", igniter::POST, "/login",
                    [&db, ttl = std::chrono::floor<std::chrono::seconds>(options.session_ttl)](
                        Ctx& c, const Login& body) {
                      auto user = db.find_or_create_user(body.username);
                      auto token = db.create_session(user.id);
                      return no_store(c.response.success(json::fields<"user", "token">(to_user(user), token)))
                          .cookie(kSessionCookie, token, {.max_age = ttl, .secure = c.request.secure()});
                    })
          .mutation("logout", igniter::POST, "/logout", [this, &db](Ctx& c) {
            // The token is worthless first, then its open streams close: each reconnects and is granted
            // scopes from what it sends now (nothing, once the cookie is cleared).
            auto session = db.delete_session(session_token(c));
            if (session) revoke_session(*session);
            return c.response.success(json::fields<"loggedOut">(session.has_value()))
                .clear_cookie(kSessionCookie, {.secure = c.request.secure()});
          }));

  app_.controller(
      igniter::controller("posts", "/posts")
          // Keyset pagination: `before` is a post id, so a page never repeats or skips a post because
          // others were written or deleted meanwhile, and the last page costs what the first one does.
          .query("list", "/",
                 [&db, page_size = options.page_size, max_page_size = options.max_page_size](
                     Ctx&, const Query<ListQuery>& q) {
                   auto limit = static_cast<std::size_t>(q->limit.value_or(std::int64_t(page_size)));
                   if (limit > max_page_size)
                     throw HttpError(400,
                                     "limit: at most " + std::to_string(max_page_size) + " posts per page");
                   // One row more than asked says whether there is a next page.
                   auto rows = db.list_posts(q->before, limit + 1);
                   PostList list;
                   if (rows.size() > limit) list.nextCursor = rows[limit - 1].id;
                   rows.resize(std::min(rows.size(), limit));
                   for (const auto& row : rows) list.posts.push_back(to_post(row));
                   return list;
                 })
          .cache({.ttl = std::chrono::seconds(30), .vary = igniter::Vary::public_})  // docs/query-cache.md
          .query("getById", "/:id",
                 [&db](Ctx&, Param<"id", std::int64_t> id) { return to_post(post_of(db, id)); })
          .mutation("create", igniter::POST, "/", {auth},
                    [&db](Ctx& c, const CreatePost& body) {
                      auto row = db.create_post(c.get<User>().id, body.title, body.content);
                      return c.response.created(to_post(row)).revalidate({"posts.list"});
                    })
          .mutation("remove", igniter::DELETE, "/:id", {auth}, [&db](Ctx& c, Param<"id", std::int64_t> id) {
            if (post_of(db, id).author_id != c.get<User>().id)
              throw HttpError(403, "Only the author can delete this post");
            if (!db.delete_post(id)) throw HttpError(404, "Post not found");
            // The list, and the open pages of exactly this post (the key the client uses).
            auto page = igniter::realtime::query_key("posts.getById", {}, {{"id", std::to_string(id)}});
            return c.response.success(json::fields<"deleted">(*id)).revalidate({"posts.list", page});
          }));

  app_.controller(
      igniter::controller("users", "/users")
          .query("getProfile", "/profile", {auth},
                 [](Ctx& c) { return no_store(c.response.success(json::fields<"user">(c.get<User>()))); })
          .mutation("updateProfile", igniter::PATCH, "/profile", {auth},
                    [&db](Ctx& c, const UpdateProfile& body) {
                      auto row = db.rename_user(c.get<User>().id, body.name);
                      if (!row) throw HttpError(404, "User not found");
                      // Only this user's tabs refetch their profile (the seed's scoped example).
                      return no_store(c.response.success(json::fields<"user">(to_user(*row))))
                          .revalidate({"users.getProfile"},
                                      [](Ctx& c) { return std::vector{user_scope(c.get<User>().id)}; })
                          .revalidate({"posts.list"});  // the list shows authors' names
                    }));

  app_.controller(
      igniter::controller("notifications", "/notifications")
          .stream("stream", "/stream", {auth},
                  [](Ctx& c) {
                    return c.response.success(json::object{{"status", "Connected to notifications stream"}});
                  })
          .mutation("send", igniter::POST, "/", {auth}, [&db](Ctx& c, const Notify& body) {
            igniter::realtime::PublishOptions target;
            auto recipient = body.to ? db.user_by_username(*body.to) : std::nullopt;
            if (body.to && !recipient) throw HttpError(404, "No user named " + *body.to);
            if (recipient) target.scopes = {user_scope(recipient->id)};
            json::object message{{"kind", "notification"},
                                 {"text", body.text},
                                 {"from", c.get<User>().username},
                                 {"to", recipient ? json::value(recipient->username) : nullptr},
                                 {"sentAt", igniter::iso_timestamp()}};
            auto id = c.realtime().publish("notifications.stream", message, std::move(target));
            message["eventId"] = igniter::realtime::to_string(id);
            return c.response.created(std::move(message));
          }));

  // Who has a page open (presence_options() says what is tracked and who a stream's member is).
  app_.controller(igniter::controller("presence", "/presence").query("online", "/online", [&db](Ctx& c) {
    return online(db, c.realtime().presence("revalidation"));
  }));
  app_.realtime().track_presence(presence_options());

  // Scopes come from the session only; whatever a page asks for can narrow them, never widen them.
  app_.realtime().scopes([&db](Ctx& c) {
    auto session = db.session_by_token(session_token(c));
    if (!session) return std::vector<std::string>{};
    return std::vector{user_scope(session->user.id), "role:" + session->user.role,
                       session_scope(session->id)};
  });

  sweeper_ = std::jthread([this, interval = options.session_sweep_interval](std::stop_token stop) {
    sweep_sessions(std::move(stop), interval);
  });

  if (!options.public_dir.empty()) app_.static_files("/", options.public_dir, page_options());
}

void PostsServer::revoke_session(std::int64_t id) {
  auto scope = session_scope(id);
  if (app_.realtime().revoke(scope)) return;
  std::lock_guard lock(pending_mutex_);
  pending_revocations_.push_back(std::move(scope));
}

void PostsServer::sweep_sessions(std::stop_token stop, std::chrono::milliseconds interval) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(sweep_mutex_);
      sweep_wake_.wait_for(lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) break;
    try {
      std::vector<std::string> retry;
      {
        std::lock_guard lock(pending_mutex_);
        retry.swap(pending_revocations_);
      }
      for (auto& scope : retry) {
        if (app_.realtime().revoke(scope)) continue;
        std::lock_guard lock(pending_mutex_);
        pending_revocations_.push_back(std::move(scope));
      }
      for (auto id : db_.purge_expired_sessions()) revoke_session(id);
    } catch (const std::exception&) {
      // The database is busy or gone for now: the next sweep tries again.
    }
  }
}

}  // namespace posts

#pragma once
// The app the realtime integration tests run: posts whose mutations revalidate, two stream queries (one
// behind a session procedure), a scope resolver and a channel guard; plus helpers to open SSE streams.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <igniter/igniter.hpp>
#include <igniter/realtime/query_key.hpp>
#include <igniter/server/realtime.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"

namespace igniter::test {

/// Put in the context by the app-wide `session` procedure from the `session` cookie.
struct Session {
  std::string user;
};

/// What a RealtimeServer is built with.
struct RealtimeSetup {
  AppOptions options = quiet();
  bool resolver = true;             ///< Grant `user:<session>` and `tenant:7` to a logged-in connection.
  bool guard = true;                ///< Refuse channels starting with "private.".
  std::function<void(App&)> extra;  ///< Adds more controllers before the app starts.

  static AppOptions quiet() {
    AppOptions o;
    o.log_level = LogLevel::off;
    o.io_threads = 2;
    o.worker_threads = 4;
    return o;
  }
};

/// An App started on a free port with the realtime test controllers.
class RealtimeServer {
 public:
  explicit RealtimeServer(RealtimeSetup setup = {}) : app_(setup.options) {
    app_.use(procedure("session", [](Ctx& c) {
      if (auto user = c.request.cookie("session"); !user.empty()) c.set(Session{std::string(user)});
    }));
    auto member = procedure("member", [](Ctx& c) -> std::optional<Response> {
      auto* session = c.find<Session>();
      if (session == nullptr) return c.response.unauthorized("Login required");
      if (session->user == "banned") throw HttpError(403, "Account suspended");
      return std::nullopt;
    });

    app_.controller(
        controller("posts", "/posts")
            .mutation("create", POST, "/",
                      [](Ctx& c, const json::value& body) {
                        return c.response.created(body).revalidate({"posts.list"});
                      })
            .mutation(
                "reject", POST, "/reject",
                [](Ctx& c) { return c.response.bad_request("Invalid post").revalidate({"posts.list"}); })
            .mutation("rename", PATCH, "/profile", {member},
                      [](Ctx& c) {
                        return c.response.success(json::object{{"ok", true}})
                            .revalidate({"users.getProfile"}, [](Ctx& ctx) -> std::vector<std::string> {
                              return {"user:" + ctx.get<Session>().user};
                            });
                      })
            .mutation("broken", POST, "/broken", [](Ctx& c) {
              return c.response.success(json::object{{"ok", true}})
                  .revalidate({"posts.list"}, [](Ctx&) -> std::vector<std::string> {
                    throw std::runtime_error("scopes down");
                  });
            }));
    app_.controller(
        controller("notifications", "/notifications").stream("stream", "/stream", {member}, [](Ctx& c) {
          return c.response.success(
              json::object{{"status", "Connected to notifications stream"}, {"user", c.get<Session>().user}});
        }));
    app_.controller(controller("feed", "/feed").stream("live", "/live", [](Ctx& c) {
      return c.response.success(json::object{{"feed", "live"}});
    }));

    if (setup.resolver)
      app_.realtime().scopes([](Ctx& c) -> std::vector<std::string> {
        auto* session = c.find<Session>();
        if (session == nullptr) return {};
        return {"user:" + session->user, "tenant:7"};
      });
    if (setup.guard)
      app_.realtime().authorize([](Ctx&, std::string_view channel) -> std::optional<std::string> {
        if (channel.starts_with("private.")) return "Forbidden channel";
        return std::nullopt;
      });
    if (setup.extra) setup.extra(app_);
    port_ = app_.start();
  }

  std::uint16_t port() const { return port_; }
  App& app() { return app_; }
  Realtime& realtime() { return app_.realtime(); }

 private:
  App app_;
  std::uint16_t port_ = 0;
};

/// The SSE endpoint with a query string, e.g. sse("channels=revalidation&scopes=").
inline std::string sse(std::string_view query = {}) {
  std::string target = "/api/v1/sse/events";
  if (!query.empty()) target += "?" + std::string(query);
  return target;
}

/// SseOptions carrying a `session` cookie.
inline SseOptions as_user(std::string user, SseOptions options = {}) {
  options.headers.emplace_back("Cookie", "session=" + user);
  return options;
}

/// An open stream and its `connected` frame.
struct Stream {
  std::unique_ptr<SseClient> client;
  SseFrame connected;
  json::object info;  ///< The connected frame's data.

  SseClient* operator->() const { return client.get(); }
};

/// Opens a stream and reads its head and `connected` frame (failing the test if either is missing).
inline Stream open_stream(std::uint16_t port, std::string_view query, SseOptions options = {}) {
  Stream s;
  s.client = std::make_unique<SseClient>(port, sse(query), std::move(options));
  EXPECT_EQ(s.client->read_head(), 200u) << s.client->body();
  auto frame = s.client->next_event();
  EXPECT_TRUE(frame.has_value()) << "no connected frame";
  if (frame) {
    EXPECT_EQ(frame->event, "connected") << frame->raw;
    s.connected = *frame;
    s.info = frame->json().as_object();
  }
  return s;
}

/// The JSON strings of `array` (a `channels` or `scopes` member).
inline std::vector<std::string> strings(const json::value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.as_array()) out.emplace_back(v.as_string());
  return out;
}

/// The envelope's `data` of a frame.
inline json::value payload(const SseFrame& frame) {
  return frame.json().at("data");
}

}  // namespace igniter::test

#pragma once
// The app both processes of the presence tests run (this test process's App and presence_node): channel
// `room` tracked, members from `user:<X-User>`, joins/leaves on `presence`, `GET /presence/room`.
#include <igniter/igniter.hpp>

namespace igniter::test {

inline void configure_presence(App& app, std::chrono::milliseconds expiry) {
  app.realtime().scopes([](Ctx& c) {
    auto user = c.request.header("x-user");
    return user.empty() ? std::vector<std::string>{} : std::vector<std::string>{"user:" + std::string(user)};
  });
  app.realtime().track_presence({.channels = {"room"},
                                 .member = member_from_scope("user:"),
                                 .events_channel = "presence",
                                 .serve_http = true,
                                 .heartbeat = expiry / 4,
                                 .expiry = expiry});
  app.controller(igniter::controller("presence", "/presence").query("room", "/room", [](Ctx& c) {
    return c.realtime().presence("room");
  }));
}

}  // namespace igniter::test

#pragma once
/// PostsServer: the demo app — posts, profiles and notifications over SQLite, live through the realtime
/// hub, with its web page. main.cpp reads the environment and listens; tests build it on a temp dir.

#include <igniter/igniter.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "db.hpp"

namespace posts {

/// Settings of the demo app.
struct PostsOptions {
  std::filesystem::path data_dir = "data";  ///< Holds posts.db; created when missing.
  std::filesystem::path public_dir;         ///< The web page served at "/"; empty = none.
  std::size_t page_size = 20;               ///< Posts per `GET /posts` page when the page gives no limit.
  std::size_t max_page_size = 100;          ///< Largest `limit` a page may ask for (400 past it).
  igniter::AppOptions app;                  ///< Framework settings (store, threads, log level...).
  std::chrono::milliseconds session_ttl = kDefaultSessionTtl;  ///< A session expires this long after login.
  /// How often expired sessions are purged and their open streams revoked.
  std::chrono::milliseconds session_sweep_interval = std::chrono::minutes(1);
};

/// The name of the HTTP-only cookie that carries the session token.
inline constexpr std::string_view kSessionCookie = "session";

/// The demo app: its database and the igniter App with every controller, the scope resolver and the
/// static page. The database outlives the App (handlers use it until the App has stopped). A background
/// thread purges expired sessions every `session_sweep_interval` and revokes their streams.
class PostsServer {
 public:
  /// Opens the database (running migrations) and configures the App. Throws std::runtime_error when the
  /// database cannot be opened.
  explicit PostsServer(PostsOptions options);

  igniter::App& app() noexcept { return app_; }
  Database& db() noexcept { return db_; }

  /// Closes the open streams of session `id` (scope `session:<id>`), on every process; kept for the next
  /// sweep when the realtime store does not take it. Any thread.
  void revoke_session(std::int64_t id);

 private:
  // Purges expired sessions and revokes their streams (and revocations that failed before) until stopped.
  void sweep_sessions(std::stop_token stop, std::chrono::milliseconds interval);

  Database db_;
  igniter::App app_;
  std::mutex pending_mutex_;
  std::vector<std::string> pending_revocations_;  // scopes whose revocation the store did not take yet
  std::mutex sweep_mutex_;
  std::condition_variable_any sweep_wake_;
  std::jthread sweeper_;  // last: stopped and joined first, while the App and the database still exist
};

}  // namespace posts

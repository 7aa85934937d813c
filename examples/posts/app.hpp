#pragma once
/// PostsServer: the demo app — posts, profiles and notifications over SQLite, live through the realtime
/// hub, with its web page. main.cpp reads the environment and listens; tests build it on a temp dir.

#include <igniter/igniter.hpp>

#include <cstddef>
#include <filesystem>

#include "db.hpp"

namespace posts {

/// Settings of the demo app.
struct PostsOptions {
  std::filesystem::path data_dir = "data";  ///< Holds posts.db; created when missing.
  std::filesystem::path public_dir;         ///< The web page served at "/"; empty = none.
  std::size_t page_size = 20;               ///< Posts per `GET /posts` page when the page gives no limit.
  std::size_t max_page_size = 100;          ///< Largest `limit` a page may ask for (400 past it).
  igniter::AppOptions app;                  ///< Framework settings (store, threads, log level...).
};

/// The name of the HTTP-only cookie that carries the session token.
inline constexpr std::string_view kSessionCookie = "session";

/// The demo app: its database and the igniter App with every controller, the scope resolver and the
/// static page. The database outlives the App (handlers use it until the App has stopped).
class PostsServer {
 public:
  /// Opens the database (running migrations) and configures the App. Throws std::runtime_error when the
  /// database cannot be opened.
  explicit PostsServer(PostsOptions options);

  igniter::App& app() noexcept { return app_; }
  Database& db() noexcept { return db_; }

 private:
  Database db_;
  igniter::App app_;
};

}  // namespace posts

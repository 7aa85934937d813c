#pragma once
/// Database: the demo's SQLite storage (users, sessions, posts), one file in the data directory.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace posts {

/// A user row. Users are created on first login (demo auth: no passwords).
struct UserRow {
  std::int64_t id = 0;
  std::string username;    ///< Unique login name.
  std::string name;        ///< Display name, editable in the profile.
  std::string role;        ///< "admin" for the user named admin, "user" otherwise.
  std::string created_at;  ///< ISO-8601, UTC.
};

/// A live session and its user.
struct SessionRow {
  std::int64_t id = 0;  ///< The session's row id: names it without its secret token (scope `session:<id>`).
  UserRow user;
};

/// How long a session lasts after login, unless its user logs out first.
inline constexpr std::chrono::milliseconds kDefaultSessionTtl = std::chrono::hours(24 * 7);

/// A post row with its author's names joined in.
struct PostRow {
  std::int64_t id = 0;
  std::string title;
  std::string content;
  std::int64_t author_id = 0;
  std::string author_username;
  std::string author_name;
  std::string created_at;  ///< ISO-8601, UTC.
};

/// The demo's storage. Opens (creating when missing) `<data_dir>/posts.db` and brings its schema to the
/// latest version at construction. Every member may be called from any thread: one mutex serializes
/// them, since handlers run on several threads at once and SQLite calls block. SQLite failures throw
/// std::runtime_error (the framework answers 500).
class Database {
 public:
  /// Opens the database under `data_dir`, creating the directory and the file when missing. Sessions
  /// expire `session_ttl` after login.
  explicit Database(const std::filesystem::path& data_dir,
                    std::chrono::milliseconds session_ttl = kDefaultSessionTtl);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// The schema version in force (SQLite's user_version), after migrations ran.
  int schema_version();

  /// The user named `username`, created (with role "user", or "admin" for "admin") when absent.
  UserRow find_or_create_user(std::string_view username);
  std::optional<UserRow> user_by_id(std::int64_t id);
  std::optional<UserRow> user_by_username(std::string_view username);
  /// Sets the display name; the updated row, or nullopt when the user does not exist.
  std::optional<UserRow> rename_user(std::int64_t id, std::string_view name);

  /// Stores a new session for `user_id` and returns its random token (64 hex digits).
  std::string create_session(std::int64_t user_id);
  /// The user a session token belongs to, or nullopt for an unknown, expired or empty token.
  std::optional<UserRow> user_by_token(std::string_view token);
  /// The session of a token, or nullopt for an unknown, expired or empty token.
  std::optional<SessionRow> session_by_token(std::string_view token);
  /// Forgets a session; its id when there was one.
  std::optional<std::int64_t> delete_session(std::string_view token);
  /// Forgets every expired session; their ids (so that their open streams can be revoked).
  std::vector<std::int64_t> purge_expired_sessions();

  /// At most `limit` posts, newest first, only those whose id is below `before` when given (keyset
  /// pagination: the next page starts before the last id of this one, whatever was written meanwhile).
  std::vector<PostRow> list_posts(std::optional<std::int64_t> before, std::size_t limit);
  std::optional<PostRow> post_by_id(std::int64_t id);
  PostRow create_post(std::int64_t author_id, std::string_view title, std::string_view content);
  /// Deletes a post; true when there was one.
  bool delete_post(std::int64_t id);

 private:
  void migrate();

  std::string session_cutoff_;  // the SQLite date modifier of the session lifetime, "-604800.000 seconds"
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace posts

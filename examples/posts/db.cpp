#include "db.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <random>
#include <stdexcept>

namespace posts {
namespace {

// Each entry brings the schema from version i to i + 1; never edit one that has shipped, append.
constexpr std::array kMigrations{
    R"sql(
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'user',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE sessions (
        token TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
      CREATE TABLE posts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL,
        content TEXT NOT NULL,
        author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      );
    )sql",
    R"sql(
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE INDEX posts_author ON posts(author_id);
    )sql",
};

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw std::runtime_error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error("sqlite: " + text);
  }
}

// One prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
      fail(db, "sqlite prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, std::string_view value) {
    check(sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  /// True while there is a row to read.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "sqlite step");
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "sqlite bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr std::string_view kUserColumns = "id, username, name, role, created_at";

UserRow read_user(const Statement& s) {
  return UserRow{s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4)};
}

std::optional<UserRow> one_user(Statement& s) {
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

constexpr std::string_view kPostSelect =
    "SELECT p.id, p.title, p.content, p.author_id, u.username, u.name, p.created_at "
    "FROM posts p JOIN users u ON u.id = p.author_id ";

PostRow read_post(const Statement& s) {
  return PostRow{s.integer(0), s.text(1), s.text(2), s.integer(3), s.text(4), s.text(5), s.text(6)};
}

std::string random_token() {
  std::random_device device;  // the kernel's CSPRNG on Linux
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (int i = 0; i < 8; ++i) {
    std::uint32_t word = device();
    for (int j = 0; j < 8; ++j, word >>= 4) out += kHex[word & 0xf];
  }
  return out;
}

}  // namespace

Database::Database(const std::filesystem::path& data_dir, std::chrono::milliseconds session_ttl) {
  char cutoff[48];
  std::snprintf(cutoff, sizeof cutoff, "-%lld.%03lld seconds",
                static_cast<long long>(session_ttl.count() / 1000),
                static_cast<long long>(session_ttl.count() % 1000));
  session_cutoff_ = cutoff;
  std::filesystem::create_directories(data_dir);
  auto file = (data_dir / "posts.db").string();
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open " + file + ": " + message);
  }
  try {
    sqlite3_busy_timeout(db_, 5000);
    exec(db_, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    migrate();
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Database::~Database() {
  sqlite3_close(db_);
}

void Database::migrate() {
  std::lock_guard lock(mutex_);
  Statement version(db_, "PRAGMA user_version");
  version.step();
  auto current = static_cast<std::size_t>(version.integer(0));
  if (current > kMigrations.size())
    throw std::runtime_error("the database schema (version " + std::to_string(current) +
                             ") is newer than this program");
  for (auto i = current; i < kMigrations.size(); ++i) {
    exec(db_, "BEGIN IMMEDIATE");
    try {
      exec(db_, kMigrations[i]);
      exec(db_, ("PRAGMA user_version = " + std::to_string(i + 1)).c_str());
      exec(db_, "COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

int Database::schema_version() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

UserRow Database::find_or_create_user(std::string_view username) {
  std::lock_guard lock(mutex_);
  auto select = [&] {
    Statement s(db_, "SELECT " + std::string(kUserColumns) + " FROM users WHERE username = ?1");
    s.bind(1, username);
    return one_user(s);
  };
  if (auto user = select()) return *user;
  Statement insert(db_, "INSERT INTO users (username, name, role) VALUES (?1, ?1, ?2)");
  insert.bind(1, username).bind(2, std::string_view(username == "admin" ? "admin" : "user")).step();
  if (auto user = select()) return *user;
  fail(db_, "user vanished after insert");
}

std::optional<UserRow> Database::user_by_id(std::int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT " + std::string(kUserColumns) + " FROM users WHERE id = ?1");
  s.bind(1, id);
  return one_user(s);
}

std::optional<UserRow> Database::user_by_username(std::string_view username) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT " + std::string(kUserColumns) + " FROM users WHERE username = ?1");
  s.bind(1, username);
  return one_user(s);
}

std::optional<UserRow> Database::rename_user(std::int64_t id, std::string_view name) {
  std::lock_guard lock(mutex_);
  Statement update(db_, "UPDATE users SET name = ?2 WHERE id = ?1");
  update.bind(1, id).bind(2, name).step();
  Statement s(db_, "SELECT " + std::string(kUserColumns) + " FROM users WHERE id = ?1");
  s.bind(1, id);
  return one_user(s);
}

std::string Database::create_session(std::int64_t user_id) {
  auto token = random_token();
  std::lock_guard lock(mutex_);
  Statement s(db_, "INSERT INTO sessions (token, user_id) VALUES (?1, ?2)");
  s.bind(1, token).bind(2, user_id).step();
  return token;
}

std::optional<UserRow> Database::user_by_token(std::string_view token) {
  auto session = session_by_token(token);
  if (!session) return std::nullopt;
  return std::move(session->user);
}

std::optional<SessionRow> Database::session_by_token(std::string_view token) {
  if (token.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  // Expired rows stay until purge_expired_sessions runs; they are already worthless here.
  Statement s(db_,
              "SELECT s.rowid, u.id, u.username, u.name, u.role, u.created_at "
              "FROM sessions s JOIN users u ON u.id = s.user_id "
              "WHERE s.token = ?1 AND s.created_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2)");
  s.bind(1, token).bind(2, std::string_view(session_cutoff_));
  if (!s.step()) return std::nullopt;
  return SessionRow{s.integer(0), UserRow{s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5)}};
}

std::optional<std::int64_t> Database::delete_session(std::string_view token) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM sessions WHERE token = ?1 RETURNING rowid");
  s.bind(1, token);
  if (!s.step()) return std::nullopt;
  return s.integer(0);
}

std::vector<std::int64_t> Database::purge_expired_sessions() {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "DELETE FROM sessions WHERE created_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1) "
              "RETURNING rowid");
  s.bind(1, std::string_view(session_cutoff_));
  std::vector<std::int64_t> ids;
  while (s.step()) ids.push_back(s.integer(0));
  return ids;
}

std::vector<PostRow> Database::list_posts(std::optional<std::int64_t> before, std::size_t limit) {
  std::lock_guard lock(mutex_);
  // The id is the rowid: "id < ?1 ORDER BY id DESC LIMIT ?2" is a range scan of `limit` rows, however
  // many posts there are.
  Statement s(db_, std::string(kPostSelect) + "WHERE p.id < ?1 ORDER BY p.id DESC LIMIT ?2");
  s.bind(1, before.value_or(std::numeric_limits<std::int64_t>::max()))
      .bind(2, static_cast<std::int64_t>(
                   std::min<std::size_t>(limit, std::numeric_limits<std::int32_t>::max())));
  std::vector<PostRow> out;
  while (s.step()) out.push_back(read_post(s));
  return out;
}

std::optional<PostRow> Database::post_by_id(std::int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, std::string(kPostSelect) + "WHERE p.id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_post(s);
}

PostRow Database::create_post(std::int64_t author_id, std::string_view title, std::string_view content) {
  std::lock_guard lock(mutex_);
  Statement insert(db_, "INSERT INTO posts (title, content, author_id) VALUES (?1, ?2, ?3)");
  insert.bind(1, title).bind(2, content).bind(3, author_id).step();
  Statement s(db_, std::string(kPostSelect) + "WHERE p.id = ?1");
  s.bind(1, sqlite3_last_insert_rowid(db_));
  if (!s.step()) fail(db_, "post vanished after insert");
  return read_post(s);
}

bool Database::delete_post(std::int64_t id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "DELETE FROM posts WHERE id = ?1");
  s.bind(1, id).step();
  return sqlite3_changes(db_) > 0;
}

}  // namespace posts

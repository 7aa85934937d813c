// The query cache's bench server (bench/cache/run.sh): the posts demo's SQLite list (examples/posts
// Database::list_posts, 20 posts a page, with authors) as `posts.list`, cached when QCACHE=1, and an
// unauthenticated create that revalidates it (the loadgen's reval mode posts it).
//
//   PORT    port on 127.0.0.1 (3000)
//   QCACHE  1 = `.cache({.ttl = 30s, .vary = Vary::public_})` on posts.list; else not cached
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <igniter/igniter.hpp>
#include <string>

#include "db.hpp"

struct NewPost {
  std::string title;
  std::string content;
};
BOOST_DESCRIBE_STRUCT(NewPost, (), (title, content))

int main() {
  const char* port = std::getenv("PORT");
  const char* cached = std::getenv("QCACHE");
  auto dir = std::filesystem::temp_directory_path() / ("qcache-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  posts::Database db(dir);
  auto author = db.find_or_create_user("bench");
  for (int i = 0; i < 50; ++i) db.create_post(author.id, "post " + std::to_string(i), "seeded by the bench");

  // 9 000 clients hold 18 001 connections (a stream and a keep-alive connection each, and the mutator):
  // over the default limit derived from a 20 000-descriptor RLIMIT_NOFILE (90% of it).
  igniter::App app({.max_connections = 19'500, .log_level = igniter::LogLevel::warn});
  auto list = [&db](igniter::Ctx&) {
    igniter::json::array out;
    for (const auto& row : db.list_posts(std::nullopt, 20))
      out.push_back(igniter::json::object{
          {"id", row.id}, {"title", row.title}, {"content", row.content}, {"author", row.author_username}});
    return igniter::json::value(igniter::json::object{{"posts", std::move(out)}});
  };
  auto posts = igniter::controller("posts", "/posts").query("list", "/", list);
  if (cached && std::string(cached) == "1")
    posts.cache({.ttl = std::chrono::seconds(30), .vary = igniter::Vary::public_});
  posts.mutation("create", igniter::POST, "/", [&db, &author](igniter::Ctx& c, const NewPost& body) {
    auto row = db.create_post(author.id, body.title, body.content);
    return c.response.created(igniter::json::object{{"id", row.id}}).revalidate({"posts.list"});
  });
  app.controller(posts);
  app.listen(static_cast<std::uint16_t>(port ? std::atoi(port) : 3000), "127.0.0.1");
  std::filesystem::remove_all(dir);
}

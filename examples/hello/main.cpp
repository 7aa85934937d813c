// The README's example: a typed query and a mutation that makes every open page refetch the list.
#include <igniter/igniter.hpp>

#include <cstdlib>
#include <mutex>

struct CreatePost {
  std::string title;
  std::string content;
  static void rules(igniter::json::Rules<CreatePost>& r) {
    r.field(&CreatePost::title).non_empty().max_length(200);
  }
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content))

int main() {
  std::mutex mutex;
  std::vector<CreatePost> posts;

  auto posts_controller =
      igniter::controller("posts", "/posts")
          .query("list", "/",
                 [&](igniter::Ctx& c) {
                   std::lock_guard lock(mutex);
                   return c.response.success(igniter::json::fields<"posts">(posts));  // {"posts":[...]}
                 })
          .mutation("create", igniter::POST, "/", [&](igniter::Ctx& c, const CreatePost& body) {
            std::lock_guard lock(mutex);
            posts.push_back(body);
            return c.response.created(body).revalidate({"posts.list"});
          });

  igniter::App app;
  app.controller(posts_controller);
  const char* port = std::getenv("PORT");
  app.listen(port ? static_cast<std::uint16_t>(std::atoi(port)) : 3000);  // until Ctrl-C, then drains
}

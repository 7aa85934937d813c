// A plain C++ program on igniter::client: logs in to the posts demo (examples/posts), creates and lists
// posts with typed calls, and prints what its realtime stream receives for a while.
//
//   ./build/dev/examples/posts/posts &                                  # the demo, on :3000
//   ./build/dev/examples/client/client_example [base-url] [seconds]     # default: :3000/api/v1, 10 s
#include <igniter/client/client.hpp>

#include <boost/describe.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace client = igniter::client;

// The demo's shapes, as this program wants them (members it does not name are ignored).
struct Author {
  std::string username;
};
BOOST_DESCRIBE_STRUCT(Author, (), (username))

struct Post {
  std::int64_t id = 0;
  std::string title;
  Author author;
};
BOOST_DESCRIBE_STRUCT(Post, (), (id, title, author))

struct PostList {
  std::vector<Post> posts;
};
BOOST_DESCRIBE_STRUCT(PostList, (), (posts))

struct Login {
  std::string username;
};
BOOST_DESCRIBE_STRUCT(Login, (), (username))

struct CreatePost {
  std::string title;
  std::string content;
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content))

struct Notify {
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Notify, (), (text))

int fail(const char* what, const client::Error& error) {
  std::cerr << what << ": " << error.message << " (status " << error.status << ")\n";
  for (const auto& issue : error.issues)
    std::cerr << "  " << igniter::json::path_to_string(issue.path) << ": " << issue.message << "\n";
  return 1;
}

int run(const char* base_url, int seconds) {
  client::Client api(base_url);  // throws std::invalid_argument for a bad URL (https included)

  // The answer sets the session cookie; the client sends it with every later call and stream.
  if (auto login = api.post("/auth/login", Login{"cpp-client"}); !login) return fail("login", login.error());

  auto post = api.post<Post>("/posts", CreatePost{"Hello from C++", "Sent with igniter::client"});
  if (!post) return fail("create", post.error());
  auto list = api.get<PostList>("/posts");
  if (!list) return fail("list", list.error());
  std::cout << "created post " << post->id << "; " << list->posts.size() << " posts on the server\n";

  auto subscription = api.subscribe({
      .channels = {"revalidation", "notifications.stream"},
      .on_event =
          [](const client::Event& e) {
            std::cout << e.type << " on " << e.channel << ": " << igniter::json::stringify(e.data) << "\n";
          },
      .on_connected =
          [](const client::Connected& c) {
            std::cout << "stream open" << (c.resync ? " (events were missed: refetch)" : "") << "\n";
          },
      .on_state =
          [](const client::StateChange& s) {
            if (s.state == client::State::reconnecting)
              std::cout << "stream lost (" << s.error.message << "), retrying in " << s.retry_in.count()
                        << " ms\n";
          },
  });

  // Published to every page of the demo, and to this stream once it is open.
  if (!subscription.wait_open(std::chrono::seconds(5))) std::cerr << "the stream is not open yet\n";
  if (auto sent = api.post("/notifications", Notify{"Hello from the C++ client"}); !sent)
    return fail("notify", sent.error());
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  std::cout << "last event id: " << subscription.last_event_id() << "\n";
  return 0;
}  // the subscription closes here: its thread is joined

int main(int argc, char** argv) {
  try {
    return run(argc > 1 ? argv[1] : "http://127.0.0.1:3000/api/v1", argc > 2 ? std::atoi(argv[2]) : 10);
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 2;
  }
}

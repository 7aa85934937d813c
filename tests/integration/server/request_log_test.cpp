// Request logging under load: every answered request has its line on stderr once the server has stopped
// cleanly (App::stop in process; SIGTERM to the posts demo), although lines are written by a background
// thread. stderr goes to a file, as it would under a supervisor.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <igniter/igniter.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

extern char** environ;

namespace igniter::test {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t count_lines_containing(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find(needle) != std::string::npos) ++count;
  return count;
}

/// Keeps `clients` keep-alive connections busy with GETs of `target` until the server closes them;
/// counts the 200 answers received.
class Load {
 public:
  Load(std::uint16_t port, int clients, std::string target) {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, port, target] {
        try {
          Connection connection(port);
          for (;;) {
            auto answer = connection.request("GET", target);
            if (answer.status == 200) ++answered_;
            if (!answer.keep_alive) return;
          }
        } catch (const std::exception&) {
          // The server closed the connection between two requests: the load ends.
        }
      });
  }
  ~Load() { join(); }
  void join() {
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }
  std::size_t answered() const { return answered_.load(); }
  /// Waits (bounded) until at least `count` answers arrived.
  bool wait_for(std::size_t count) const {
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (answered_.load() < count)
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      else
        std::this_thread::sleep_for(5ms);
    return true;
  }

 private:
  std::atomic<std::size_t> answered_{0};
  std::vector<std::thread> threads_;
};

/// A temporary file that stands in for the process's stderr while it lives.
class StderrToFile {
 public:
  StderrToFile()
      : path_(std::filesystem::temp_directory_path() /
              ("igniter_request_log_" + std::to_string(::getpid()))) {
    int file = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    saved_ = ::dup(2);
    ::dup2(file, 2);
    ::close(file);
  }
  ~StderrToFile() {
    restore();
    std::filesystem::remove(path_);
  }
  void restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
};

TEST(RequestLog, EveryAnsweredRequestHasItsLineOnceTheAppHasStopped) {
  StderrToFile stderr_file;
  std::size_t answered = 0;
  {
    App app({.io_threads = 2, .worker_threads = 2, .log_level = LogLevel::info});
    app.controller(controller("items", "/items").query("one", "/one", [](Ctx& c) {
      return c.response.success(json::object{{"id", 1}, {"title", "hello"}});
    }));
    auto port = app.start();
    Load load(port, 8, "/api/v1/items/one");
    ASSERT_TRUE(load.wait_for(3000));
    app.stop();  // while the clients are still sending
    load.join();
    app.wait();
    answered = load.answered();
    // No destructor yet: App::wait() alone has written every line.
    auto text = read_file(stderr_file.path());
    EXPECT_EQ(count_lines_containing(text, "INFO  GET /api/v1/items/one 200 "), answered);
  }
  stderr_file.restore();
  EXPECT_GE(answered, 3000u);
}

TEST(RequestLog, ControlBytesFromARequestCannotForgeLogLines) {
  StderrToFile stderr_file;
  std::string text;
  {
    App app({.io_threads = 1, .worker_threads = 1, .log_level = LogLevel::info});
    // A handler whose error message carries what the client sent (decoded query, User-Agent): the error
    // line is logged with it.
    app.controller(controller("echo", "/echo").query("boom", "/boom", [](Ctx& c) -> Response {
      throw std::runtime_error("q=" + std::string(c.request.query_param("q")) +
                               " ua=" + std::string(c.request.header("user-agent")));
    }));
    auto port = app.start();
    const std::string forged =
        "%0D%0A2026-12-03T00:00:00.000Z%20INFO%20%20GET%20/admin%20200%20forged%1B%5B2J";
    EXPECT_EQ(fetch(port, "GET", "/api/v1/nothing" + forged + "?x=" + forged).status, 404u);
    // A C1 control (8-bit CSI, UTF-8 encoded) passes the HTTP parser in a header and reaches the handler.
    auto boom = fetch(port, "GET", "/api/v1/echo/boom?q=" + forged, {},
                      {{"User-Agent",
                        "agent\xc2\x9b"
                        "31m"}});
    EXPECT_EQ(boom.status, 500u);
    // Raw C0 controls in a header do not: the request is refused before anything is logged.
    EXPECT_EQ(fetch(port, "GET", "/api/v1/echo/boom", {}, {{"User-Agent", "agent\x1b[31m"}}).status, 400u);
    app.stop();
    app.wait();
    text = read_file(stderr_file.path());
  }
  stderr_file.restore();
  // Every line is one of ours: a timestamp and a level, nothing a client wrote.
  std::regex ours(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) .*)");
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(std::regex_match(line, ours)) << "a line the server did not write: " << line;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "a terminal escape reached the log";
  EXPECT_EQ(text.find('\r'), std::string::npos);
  // One line per request, and one for the handler's error, with the client's bytes escaped.
  EXPECT_EQ(count_lines_containing(text, "INFO  GET /api/v1/nothing%0D%0A2026"), 1u) << text;
  EXPECT_EQ(count_lines_containing(text, " 404 "), 1u) << text;
  EXPECT_EQ(count_lines_containing(text, "INFO  GET /api/v1/echo/boom 500 "), 1u) << text;
  EXPECT_EQ(count_lines_containing(text,
                                   "failed: q=\\r\\n2026-12-03T00:00:00.000Z INFO  GET /admin 200 "
                                   "forged\\x1b[2J ua=agent\\xc2\\x9b31m"),
            1u)
      << text;
  EXPECT_EQ(count_lines_containing(text, "forged"), 2u) << text;
}

#ifdef POSTS_SERVER
TEST(RequestLog, TheDemoWritesEveryRequestLineWhenStoppedBySigterm) {
  auto dir =
      std::filesystem::temp_directory_path() / ("igniter_request_log_demo_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto log_path = dir / "stderr.log";

  std::vector<std::string> env_text = {"PORT=0", "HOST=127.0.0.1", "DATA_DIR=" + (dir / "data").string()};
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    if (!text.starts_with("PORT=") && !text.starts_with("HOST=") && !text.starts_with("DATA_DIR="))
      env_text.emplace_back(text);
  }
  std::vector<char*> envp;
  for (auto& text : env_text) envp.push_back(text.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  char program[] = POSTS_SERVER;
  char* argv[] = {program, nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, program, &files, nullptr, argv, envp.data()), 0);
  posix_spawn_file_actions_destroy(&files);

  // The demo announces its port on stderr (through the same logger).
  std::uint16_t port = 0;
  std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       !port && std::chrono::steady_clock::now() < deadline;) {
    std::smatch match;
    auto text = read_file(log_path);
    if (std::regex_search(text, match, listening))
      port = static_cast<std::uint16_t>(std::stoi(match[1]));
    else
      std::this_thread::sleep_for(10ms);
  }
  if (!port) ::kill(pid, SIGKILL);
  ASSERT_NE(port, 0) << read_file(log_path);

  Load load(port, 8, "/api/v1/posts");
  EXPECT_TRUE(load.wait_for(2000));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  load.join();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  auto text = read_file(log_path);
  EXPECT_EQ(count_lines_containing(text, "INFO  GET /api/v1/posts 200 "), load.answered());
  EXPECT_EQ(count_lines_containing(text, "received SIGTERM, shutting down"), 1u);
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace igniter::test

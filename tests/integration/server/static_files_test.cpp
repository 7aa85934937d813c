#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/server/test_app.hpp"

namespace igniter::test {
namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("igniter-static-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "public" / "assets");
    write(base_ / "public" / "index.html", "<h1>home</h1>");
    write(base_ / "public" / "assets" / "app.js", "console.log(1)");
    write(base_ / "public" / "style.css", "body{}");
    write(base_ / "secret.txt", "TOP SECRET");
    fs::create_symlink(base_ / "secret.txt", base_ / "public" / "link.txt");
    server_ = std::make_unique<TestServer>();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(base_);
  }
  static void write(const fs::path& p, std::string_view text) { std::ofstream(p) << text; }

  fs::path base_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(StaticFiles, ServesFilesWithContentTypeAndCachingHeaders) {
  // Configure before start: a second app for static files only.
  AppOptions o = TestServer::quiet_options();
  App app(o);
  app.static_files("/", base_ / "public");
  auto port = app.start();

  auto index = fetch(port, "GET", "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.body, "<h1>home</h1>");
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  EXPECT_FALSE(index.header("etag").empty());

  auto js = fetch(port, "GET", "/assets/app.js");
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(fetch(port, "GET", "/style.css").header("content-type"), "text/css; charset=utf-8");

  auto again = fetch(port, "GET", "/assets/app.js", {}, {{"If-None-Match", js.header("etag")}});
  EXPECT_EQ(again.status, 304u);
  EXPECT_TRUE(again.body.empty());

  Connection c(port);
  auto head = c.request("HEAD", "/style.css");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("content-length"), "6");
}

TEST_F(StaticFiles, TraversalAttemptsAreRefused) {
  App app(TestServer::quiet_options());
  app.static_files("/", base_ / "public");
  auto port = app.start();
  for (const char* target :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
        "/assets/%2E%2E/%2e%2e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt", "/link.txt", "/index.html%00.txt", "/nothing.html"}) {
    Connection c(port);
    c.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    EXPECT_TRUE(r.status == 404u || r.status == 400u) << target << " answered " << r.status;
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << target;
  }
}

TEST_F(StaticFiles, ApiRoutesWinOverStaticFilesAndSpaFallbackServesIndex) {
  App app(TestServer::quiet_options());
  app.controller(
      controller("ping", "/ping").query("get", "/", [](Ctx& c) { return c.response.success("pong"); }));
  app.static_files("/", base_ / "public", {.spa_fallback = true});
  auto port = app.start();
  EXPECT_EQ(fetch(port, "GET", "/api/v1/ping").body, R"({"data":"pong","error":null})");
  auto page = fetch(port, "GET", "/some/client/route", {}, {{"Accept", "text/html"}});
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.body, "<h1>home</h1>");
  EXPECT_EQ(fetch(port, "GET", "/missing.js").status, 404u);
}

TEST(StaticFilesConfig, MissingDirectoryFailsAtConfiguration) {
  App app(TestServer::quiet_options());
  EXPECT_THROW(app.static_files("/", "/definitely/not/here"), std::invalid_argument);
}

}  // namespace
}  // namespace igniter::test

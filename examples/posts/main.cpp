// The demo server: reads its settings from the environment, then serves until Ctrl-C.
//
//   PORT           port to listen on (3000)
//   HOST           address to bind (127.0.0.1: demo logins have no passwords, keep it local)
//   DATA_DIR       where posts.db lives (./data), created on first start
//   IGNITER_STORE  "memory" (default) or "redis://host:port"
//   PUBLIC_DIR     the web page (default: <executable dir>/public, else the source tree's public/)
//   TLS_CERT_FILE  with TLS_KEY_FILE: serve HTTPS with this PEM certificate chain (docs/tls.md); the
//   TLS_KEY_FILE   session cookie is then Secure and answers carry Strict-Transport-Security. SIGHUP
//                  reloads both files (open streams stay open)
//   TLS_REDIRECT_PORT  with TLS: a plain HTTP port that redirects (308) to https
//   HSTS_MAX_AGE   with TLS: Strict-Transport-Security max-age in seconds (31536000)
#include <igniter/store/store.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "app.hpp"

namespace {

std::string env(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

std::filesystem::path public_dir() {
  if (const char* dir = std::getenv("PUBLIC_DIR"); dir && *dir) return dir;
  std::error_code ec;
  auto beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "public";
  if (!ec && std::filesystem::is_regular_file(beside / "index.html", ec)) return beside;
  return POSTS_PUBLIC_DIR;
}

}  // namespace

int main() {
  try {
    auto port_text = env("PORT", "3000");
    char* end = nullptr;
    long port = std::strtol(port_text.c_str(), &end, 10);
    if (*end != '\0' || port < 0 || port > 65535) {
      std::cerr << "PORT must be a number from 0 to 65535, not '" << port_text << "'\n";
      return 2;
    }
    auto host = env("HOST", "127.0.0.1");
    auto store_url = env("IGNITER_STORE", "memory");
    auto store = igniter::store::from_url(store_url);
    if (!store) {
      std::cerr << "IGNITER_STORE=" << store_url << ": " << store.error().message() << "\n";
      return 2;
    }

    igniter::AppOptions app{.store = std::move(*store)};
    auto cert = env("TLS_CERT_FILE", ""), key = env("TLS_KEY_FILE", "");
    if (cert.empty() != key.empty()) {
      std::cerr << "TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither\n";
      return 2;
    }
    if (!cert.empty()) {
      app.tls = {.certificate_chain_file = cert,
                 .private_key_file = key,
                 .hsts_max_age = std::chrono::seconds(std::stol(env("HSTS_MAX_AGE", "31536000")))};
      if (auto redirect = env("TLS_REDIRECT_PORT", ""); !redirect.empty())
        app.tls.redirect_port = static_cast<std::uint16_t>(std::stoul(redirect));
    }
    posts::PostsServer server(
        {.data_dir = env("DATA_DIR", "data"), .public_dir = public_dir(), .app = std::move(app)});
    std::cout << "Posts demo: open " << (cert.empty() ? "http" : "https") << "://"
              << (host == "0.0.0.0" ? "127.0.0.1" : host) << ":" << port << "/  (data in "
              << std::filesystem::absolute(env("DATA_DIR", "data")).string() << ", store " << store_url
              << "; Ctrl-C stops it)" << std::endl;
    // Until SIGINT/SIGTERM, then drains; with TLS, SIGHUP calls App::reload_tls().
    server.app().listen(static_cast<std::uint16_t>(port), host);
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "posts: " << error.what() << "\n";
    return 1;
  }
}

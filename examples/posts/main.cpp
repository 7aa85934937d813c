// The demo server: reads its settings from the environment, then serves until Ctrl-C.
//
//   PORT           port to listen on (3000)
//   HOST           address to bind (127.0.0.1: demo logins have no passwords, keep it local)
//   DATA_DIR       where posts.db lives (./data), created on first start
//   IGNITER_STORE  "memory" (default), "redis://host:port" or "redis-sentinel://h1:p1,h2:p2/mymaster"
//   PUBLIC_DIR     the web page (default: <executable dir>/public, else the source tree's public/)
//   TRUSTED_PROXIES  comma-separated proxy addresses/CIDRs whose X-Forwarded-For/-Proto are believed (none)
//   API_DOCS_SCRIPT  Redoc's standalone bundle (scripts/setup-api-reference.sh): serves the API reference
//                    page at /__igniter/docs; unset = no page (the OpenAPI document is served either way)
//   TLS_CERT_FILE  with TLS_KEY_FILE: serve HTTPS with this PEM certificate chain (docs/tls.md); the
//   TLS_KEY_FILE   session cookie is then Secure and answers carry Strict-Transport-Security. SIGHUP
//                  reloads both files (open streams stay open)
//   TLS_REDIRECT_PORT  with TLS: a plain HTTP port that redirects (308) to https
//   HSTS_MAX_AGE   with TLS: Strict-Transport-Security max-age in seconds (31536000)

#include <igniter/store/redis_store.hpp>
#include <igniter/store/store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "app.hpp"

namespace {

std::string env(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::filesystem::path public_dir() {
  if (const char* dir = std::getenv("PUBLIC_DIR"); dir && *dir) return dir;
  std::error_code ec;
  auto beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "public";
  if (!ec && std::filesystem::is_regular_file(beside / "index.html", ec)) return beside;
  return POSTS_PUBLIC_DIR;
}

// The app's settings: the store, and how the API describes itself (docs/openapi.md).
igniter::AppOptions app_options(std::shared_ptr<igniter::store::Store> store) {
  auto docs_script = env("API_DOCS_SCRIPT", "");
  return {.trusted_proxies = comma_list(env("TRUSTED_PROXIES", "")),
          .openapi = {.title = "igniter-cpp posts demo",
                      .docs_path = docs_script.empty() ? "" : "/__igniter/docs",
                      .docs_script = docs_script},
          .store = std::move(store)};
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
      std::string why;  // what is wrong with a malformed URL, in one line
      if (store.error() == igniter::store::errc::invalid_url)
        (void)igniter::store::parse_redis_url(store_url, &why);
      std::cerr << "IGNITER_STORE=" << store_url << ": " << store.error().message()
                << (why.empty() ? "" : " (" + why + ")") << "\n";
      return 2;
    }

    auto app = app_options(std::move(*store));
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

#include "server/static_files.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "http/router.hpp"

namespace igniter::server {

namespace fs = std::filesystem;

std::string_view content_type_for(const fs::path& file) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
  };
  auto ext = file.extension().string();
  for (auto& [e, type] : kTypes)
    if (iequals(e, ext)) return type;
  return "application/octet-stream";
}

StaticDirectory::StaticDirectory(std::string url_prefix, const fs::path& directory, StaticOptions options)
    : prefix_(http::join_path({url_prefix})), options_(std::move(options)) {
  std::error_code ec;
  root_ = fs::canonical(directory, ec);
  if (ec || !fs::is_directory(root_))
    throw std::invalid_argument("static_files: not a directory: " + directory.string());
}

std::optional<fs::path> StaticDirectory::resolve(std::string_view path) const {
  // `path` is already percent-decoded, so "%2e%2e" arrives here as "..": check segments after decoding.
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos)
    return std::nullopt;
  auto segments = http::split_path(path);
  auto prefix_segments = http::split_path(prefix_);
  if (segments.size() < prefix_segments.size()) return std::nullopt;
  for (std::size_t i = 0; i < prefix_segments.size(); ++i)
    if (segments[i] != prefix_segments[i]) return std::nullopt;
  fs::path file = root_;
  for (std::size_t i = prefix_segments.size(); i < segments.size(); ++i) {
    if (segments[i] == ".." || segments[i] == ".") return std::nullopt;
    file /= fs::path(std::string(segments[i]));
  }
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= options_.index;
  // canonical() follows symlinks: a link that leads out of the directory is refused here.
  auto real = fs::canonical(file, ec);
  if (ec || !fs::is_regular_file(real, ec)) return std::nullopt;
  auto root = root_.native() + "/";
  if (real.native().compare(0, root.size(), root) != 0) return std::nullopt;
  return real;
}

std::optional<Response> StaticDirectory::serve(const Request& request) const {
  if (request.method != Method::GET && request.method != Method::HEAD) return std::nullopt;
  auto file = resolve(request.path);
  if (!file && options_.spa_fallback &&
      request.header("accept").find("text/html") != std::string_view::npos &&
      !http::split_path(request.path).empty())
    file = resolve(prefix_);
  if (!file) return std::nullopt;

  std::error_code ec;
  auto size = fs::file_size(*file, ec);
  auto mtime = fs::last_write_time(*file, ec);
  if (ec) return std::nullopt;
  auto stamp = std::chrono::duration_cast<std::chrono::microseconds>(mtime.time_since_epoch()).count();
  std::ostringstream etag;
  etag << '"' << std::hex << size << '-' << stamp << '"';

  auto with_headers = [this](Response response) {
    for (const auto& [name, value] : options_.headers) response.header(name, value);
    return response;
  };
  if (request.header("if-none-match") == etag.str())
    return with_headers(
        Response(304, {}, {}).header("ETag", etag.str()).header("Cache-Control", options_.cache_control));

  std::ifstream in(*file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string body(size, '\0');
  in.read(body.data(), static_cast<std::streamsize>(size));
  body.resize(static_cast<std::size_t>(in.gcount()));
  return with_headers(Response(200, std::move(body), std::string(content_type_for(*file)))
                          .header("ETag", etag.str())
                          .header("Cache-Control", options_.cache_control)
                          .header("X-Content-Type-Options", "nosniff"));
}

}  // namespace igniter::server

#pragma once
// Serves files from a directory, never anything outside it.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "igniter/http/request.hpp"
#include "igniter/server/app.hpp"
#include "igniter/server/response.hpp"

namespace igniter::server {

/// One directory mounted at a URL prefix. Read-only after construction: safe from any thread.
class StaticDirectory {
 public:
  /// Throws std::invalid_argument when `directory` is not an existing directory.
  StaticDirectory(std::string url_prefix, const std::filesystem::path& directory, StaticOptions options);

  /// The response for a GET or HEAD of `request`, or nothing when the path is not under the prefix or names
  /// no file here (the caller then answers 404). Traversal attempts (`..`, encoded or not, NUL, symlinks
  /// leading out of the directory) answer 404 as well, so they reveal nothing.
  std::optional<Response> serve(const Request& request) const;

 private:
  std::optional<std::filesystem::path> resolve(std::string_view decoded_path) const;

  std::string prefix_;
  std::filesystem::path root_;
  StaticOptions options_;
};

/// The Content-Type for a file name's extension (application/octet-stream when unknown).
std::string_view content_type_for(const std::filesystem::path& file);

}  // namespace igniter::server

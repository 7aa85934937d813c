#pragma once
// Matches a decoded path against route patterns such as /api/v1/posts/:id.

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "igniter/http/method.hpp"

namespace igniter::http {

/// What a path matched: the route for the method (if any), its parameters, and the methods the path allows.
struct RouteMatch {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t route = kNone;                                ///< Id given to add(), or kNone.
  std::vector<std::pair<std::string, std::string>> params;  ///< Decoded path parameters.
  std::vector<Method> allowed;  ///< Methods this path answers (for 405 and Allow).

  bool found() const noexcept { return route != kNone; }
  bool path_known() const noexcept { return !allowed.empty(); }
};

/// A segment trie: static segments first, then one `:param` child per node. A static segment wins; when
/// the path continues where that branch has no route, the parameter sibling is tried instead
/// (`/posts/new` and `/posts/:id/comments` both match what they should). Built at start-up, then
/// read-only, so concurrent match() calls are safe.
class Router {
 public:
  /// Registers `pattern` for `method` under `id`. Throws std::invalid_argument on a duplicate route or a
  /// parameter name that conflicts with a sibling's (misconfiguration fails at start-up).
  void add(Method method, std::string_view pattern, std::size_t id);

  /// Matches a decoded path (no query string). Trailing slashes are ignored; empty segments too.
  RouteMatch match(Method method, std::string_view path) const;

 private:
  struct Node {
    std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
    std::unique_ptr<Node> param;
    std::string param_name;
    std::array<std::size_t, kMethodCount> routes;
    Node() { routes.fill(RouteMatch::kNone); }
    bool has_route() const noexcept;
  };
  // The node `segments` lead to from `node` (nullptr when none has a route), appending parameters.
  static const Node* find(const Node& node, const std::string_view* segment, const std::string_view* end,
                          std::vector<std::pair<std::string, std::string>>& params);
  Node root_;
};

/// Splits a path into its non-empty segments.
std::vector<std::string_view> split_path(std::string_view path);

/// Joins path pieces with single slashes: join_path("/api/v1/", "/posts", "/:id") == "/api/v1/posts/:id".
std::string join_path(std::initializer_list<std::string_view> parts);

}  // namespace igniter::http

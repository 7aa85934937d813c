#include "http/router.hpp"

#include <stdexcept>

namespace igniter::http {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if (!segment.empty()) segments.push_back(segment);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::string join_path(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts)
    for (auto segment : split_path(part)) {
      out += '/';
      out += segment;
    }
  return out.empty() ? "/" : out;
}

void Router::add(Method method, std::string_view pattern, std::size_t id) {
  Node* node = &root_;
  for (auto segment : split_path(pattern)) {
    if (segment.front() == ':') {
      auto name = segment.substr(1);
      if (name.empty())
        throw std::invalid_argument("route " + std::string(pattern) + ": empty parameter name");
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param->param_name = name;
      } else if (node->param->param_name != name) {
        throw std::invalid_argument("route " + std::string(pattern) + ": parameter :" + std::string(name) +
                                    " conflicts with :" + node->param->param_name + " at the same place");
      }
      node = node->param.get();
    } else {
      auto& child = node->children[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  auto& slot = node->routes[static_cast<std::size_t>(method)];
  if (slot != RouteMatch::kNone)
    throw std::invalid_argument("duplicate route: " + std::string(to_string(method)) + " " +
                                std::string(pattern));
  slot = id;
}

bool Router::Node::has_route() const noexcept {
  for (auto route : routes)
    if (route != RouteMatch::kNone) return true;
  return false;
}

const Router::Node* Router::find(const Node& node, const std::string_view* segment,
                                 const std::string_view* end,
                                 std::vector<std::pair<std::string, std::string>>& params) {
  if (segment == end) return node.has_route() ? &node : nullptr;
  if (auto it = node.children.find(*segment); it != node.children.end())
    if (auto* found = find(*it->second, segment + 1, end, params)) return found;
  if (!node.param) return nullptr;
  params.emplace_back(node.param->param_name, std::string(*segment));
  if (auto* found = find(*node.param, segment + 1, end, params)) return found;
  params.pop_back();
  return nullptr;
}

RouteMatch Router::match(Method method, std::string_view path) const {
  RouteMatch result;
  auto segments = split_path(path);
  const Node* node = find(root_, segments.data(), segments.data() + segments.size(), result.params);
  if (node == nullptr) {
    result.params.clear();
    return result;
  }
  for (std::size_t m = 0; m < kMethodCount; ++m)
    if (node->routes[m] != RouteMatch::kNone) result.allowed.push_back(static_cast<Method>(m));
  auto lookup =
      method == Method::HEAD && node->routes[static_cast<std::size_t>(Method::HEAD)] == RouteMatch::kNone
          ? Method::GET
          : method;
  result.route = node->routes[static_cast<std::size_t>(lookup)];
  return result;
}

}  // namespace igniter::http

#include "scope_set.hpp"

#include <algorithm>

namespace igniter::realtime {

ScopeSet::ScopeSet(std::vector<std::string> scopes) : scopes_(std::move(scopes)) {
  std::erase_if(scopes_, [](const std::string& scope) { return scope.empty(); });
  std::sort(scopes_.begin(), scopes_.end());
  scopes_.erase(std::unique(scopes_.begin(), scopes_.end()), scopes_.end());
}

bool ScopeSet::contains(std::string_view scope) const noexcept {
  auto it = std::lower_bound(scopes_.begin(), scopes_.end(), scope,
                             [](const std::string& held, std::string_view wanted) { return held < wanted; });
  return it != scopes_.end() && *it == scope;
}

bool ScopeSet::admits(std::span<const std::string> event_scopes) const noexcept {
  if (event_scopes.empty()) return true;
  return std::any_of(event_scopes.begin(), event_scopes.end(),
                     [this](const std::string& scope) { return contains(scope); });
}

ScopeSet ScopeSet::narrowed_to(std::span<const std::string> requested) const {
  const bool wants_all =
      std::all_of(requested.begin(), requested.end(), [](const std::string& scope) { return scope.empty(); });
  if (wants_all) return *this;
  ScopeSet narrowed;
  for (const auto& scope : requested) {
    if (contains(scope)) narrowed.scopes_.push_back(scope);
  }
  std::sort(narrowed.scopes_.begin(), narrowed.scopes_.end());
  narrowed.scopes_.erase(std::unique(narrowed.scopes_.begin(), narrowed.scopes_.end()),
                         narrowed.scopes_.end());
  return narrowed;
}

}  // namespace igniter::realtime

#pragma once
/// The scopes a connection holds, and the rule deciding which scoped events reach it.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace igniter::realtime {

/// The scopes held by one connection: sorted, unique, case-sensitive strings.
///
/// Empty strings are never held (an empty `scopes=` item means "none requested", not a scope).
/// Immutable after construction; cheap to read from the connection's shard.
class ScopeSet {
 public:
  ScopeSet() = default;
  /// The set of `scopes`, sorted, with duplicates and empty strings removed.
  explicit ScopeSet(std::vector<std::string> scopes);

  /// True when an event scoped to `event_scopes` reaches this connection: unscoped events always do,
  /// scoped ones when at least one of their scopes is held exactly (no wildcard, no case folding).
  bool admits(std::span<const std::string> event_scopes) const noexcept;

  /// True when `scope` is held.
  bool contains(std::string_view scope) const noexcept;

  /// The scopes of this (granted) set that `requested` asks for; an empty request (or one holding only
  /// empty strings) asks for every granted scope. Never grants a scope outside this set.
  ScopeSet narrowed_to(std::span<const std::string> requested) const;

  const std::vector<std::string>& values() const noexcept { return scopes_; }
  bool empty() const noexcept { return scopes_.empty(); }
  std::size_t size() const noexcept { return scopes_.size(); }

  friend bool operator==(const ScopeSet&, const ScopeSet&) = default;

 private:
  std::vector<std::string> scopes_;
};

}  // namespace igniter::realtime

#pragma once
/// The query cache: answers of query actions kept for a TTL and dropped by the revalidations that
/// reach them (docs/query-cache.md). A query opts in with `.cache({.ttl = 30s})` on its controller.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace igniter {

/// What a cached answer varies by: which requesters may be given the same copy.
enum class Vary {
  /// The scopes the app's scope resolver (`app.realtime().scopes(...)`) grants the requester: requesters
  /// with the same granted scopes share a copy. Needs a scope resolver (start-up fails without one).
  scopes,
  /// Nothing: one copy for everyone. Only for answers that are the same whoever asks.
  public_,
};

/// How one query action's answers are cached: `.cache({.ttl = 30s, .vary = Vary::public_})`.
struct CacheOptions {
  std::chrono::milliseconds ttl{0};  ///< How long an answer is kept at most (a revalidation drops it sooner).
  Vary vary = Vary::scopes;          ///< Who may share a copy (default: requesters with the same scopes).
};

/// Bounds of the app's query cache (AppOptions::query_cache); every field has a safe default.
struct QueryCacheOptions {
  std::size_t max_entries = 10'000;           ///< Answers kept in process memory; the oldest goes first.
  std::size_t max_bytes = 64u << 20;          ///< Bytes of answers kept in process memory (bodies + keys).
  std::size_t max_entry_bytes = 1u << 20;     ///< A larger answer is served but not kept.
  std::size_t max_key_bytes = 2048;           ///< A request whose key (query, params, scopes) is longer is
                                              ///< served uncached: clients cannot grow keys without bound.
  std::size_t max_revalidations_kept = 4096;  ///< Redis store: revalidations remembered to check entries
                                              ///< made by other processes; older entries count as stale.
  std::chrono::milliseconds max_reader_wait{100};  ///< Redis store: how long a request waits for this
                                                   ///< process to read the event stream as far as it was
                                                   ///< when the copy was read; then the handler runs.
};

/// Counters of the query cache (also served at /metrics).
struct QueryCacheStats {
  std::uint64_t hits = 0;     ///< Answers served without running the handler (kept, or a run joined).
  std::uint64_t misses = 0;   ///< Answers for which the handler ran.
  std::uint64_t errors = 0;   ///< Cache failures (store unreachable, bad entry): the handler ran instead.
  std::uint64_t dropped = 0;  ///< Entries dropped by revalidations.
  std::uint64_t lagging = 0;  ///< Redis store: waits for this process's stream reader that timed out
                              ///< (max_reader_wait; the handler ran, counted in misses too).
  std::uint64_t entries = 0;  ///< Entries held in process memory now.
};

}  // namespace igniter

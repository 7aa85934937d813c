#pragma once
// The query cache (docs/query-cache.md): answers of `.cache(...)` queries, one handler run at a time per
// key, dropped by the revalidations that reach them before those leave this process. Socket-free: the
// hub calls observe() for every event before fanning it out; App::Impl::handle calls serve().

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "igniter/base/result.hpp"
#include "igniter/realtime/event.hpp"
#include "igniter/server/query_cache.hpp"
#include "igniter/server/response.hpp"
#include "igniter/store/redis_store.hpp"
#include "igniter/store/store.hpp"

namespace igniter::server {

/// Which cached answers a request may share: its action, its instance (as clients key it) and its
/// vary key. Built by make().
struct CacheKey {
  std::string action;               ///< "posts.list"
  std::string instance;             ///< `posts.list:{"body":{},"params":{},"query":{...}}`, values as strings
  bool is_public = false;           ///< Vary::public_: one copy for everyone
  std::vector<std::string> scopes;  ///< Vary::scopes: the requester's granted scopes, sorted, unique

  /// The key of a request for `action` with path `params` and `query` (JSON objects of strings).
  static CacheKey make(std::string_view action, const json::value& params, const json::value& query,
                       Vary vary, std::vector<std::string> granted_scopes);
  /// What identifies a copy within its action: instance and vary key.
  std::string id() const;
  /// Bytes a client controls (checked against QueryCacheOptions::max_key_bytes).
  std::size_t size() const;
};

/// `key` (a revalidation's query key) in the form CacheKey::instance has, when it is an instance key of
/// `action` (`<action>:{...}`): every scalar written as a string, as a URL carries it. nullopt when it
/// does not parse as one (then it reaches every instance of the action: dropping more is safe).
std::optional<std::string> normalized_instance_key(std::string_view key, std::string_view action);

/// Whether a revalidation of `revalidation_key` reaches requests keyed `key` the way clients match
/// their query keys (prefix of `<action>:{...}`), before scopes are considered.
bool revalidation_reaches(std::string_view revalidation_key, const CacheKey& key);

/// The answers of cached queries and the runs producing them. Thread-safe: any thread.
class QueryCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  /// A copy read from the shared store, with how far the event stream was at that moment.
  struct SharedRead {
    std::optional<json::value> copy;  ///< The copy's value; nullopt when none is kept.
    std::uint64_t head = 0;           ///< Sequence of the stream's last event when read (0: none).
  };
  /// Reads the copy under `name` (before the store's key prefix) and the stream's head, atomically.
  using SharedReader = std::function<Result<SharedRead>(const std::string& name)>;

  /// `shared`: a store shared by several processes (Redis) to keep answers in; null = this process's
  /// memory. `scoped_drop_all`: scoped revalidations drop copies whatever their scopes (when clients
  /// choose their own scopes, RealtimeOptions::trust_client_scopes).
  QueryCache(QueryCacheOptions options, std::shared_ptr<store::Store> shared, bool scoped_drop_all,
             Clock clock = {});

  /// Sets the position of the event history before the first event observe() will see: answers a shared
  /// store holds from before it count as stale.
  void start_at(realtime::EventId latest);

  /// Called with every event this process records, in order, before it is fanned out; a revalidation
  /// drops every copy (and detaches every run in flight) it reaches. Never blocks on I/O.
  void observe(const realtime::Event& event);
  /// Events were lost on the way to this process (its streams refetch everything): drops every copy.
  void flush();
  /// This process's stream reader has handed every event up to `id` to observe() (or skipped it): wakes
  /// the requests waiting for it to read that far.
  void read_to(realtime::EventId id);

  /// How copies are read from the shared store: with Redis, redis_reader() (the copy and the stream's
  /// last id in one script). Without one, the store's get() and no stream head (nothing is waited for).
  void read_with(SharedReader reader);
  /// Reads `name` (prefixed) and the last entry id of `stream_key` (a Redis key, prefixed) in one EVAL.
  static SharedReader redis_reader(std::shared_ptr<store::RedisStore> store, std::string stream_key);

  /// The answer for `key`: a kept copy, the answer of a run already in flight for it (waiting for it), or
  /// run()'s, kept for `ttl` when it is a 200 without cookies. Blocks on the shared store and on runs of
  /// others: call it on a worker thread. A failure of the cache is counted and run() answers instead.
  /// Exceptions of run() propagate (nothing is kept; waiters run their own).
  Response serve(const CacheKey& key, std::chrono::milliseconds ttl, const std::function<Response()>& run);

  QueryCacheStats stats() const;
  /// Requests waiting for a run of another or for this process's stream reader (tests use it to line
  /// requests up without sleeping).
  std::size_t waiting() const;
  const QueryCacheOptions& options() const noexcept { return options_; }

 private:
  struct Answer {
    unsigned status = 200;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  using AnswerPtr = std::shared_ptr<const Answer>;
  struct Flight {
    std::uint64_t position = 0;  // observed position when the run started
    bool stale = false;          // a revalidation reached it while it ran: its answer is not kept
    bool done = false;
    AnswerPtr answer;  // null when the run failed or its answer cannot be shared
  };
  struct Entry {
    CacheKey key;
    std::string id;
    AnswerPtr answer;
    std::chrono::steady_clock::time_point expires;
    std::size_t bytes = 0;
  };
  struct Bucket {  // one action's copies and runs
    std::unordered_map<std::string, std::list<Entry>::iterator> entries;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights;
  };
  struct Record {  // a revalidation remembered to check copies other processes kept (shared store only)
    std::uint64_t position = 0;
    std::vector<std::string> keys;  // empty: every key (a flush)
    std::vector<std::string> scopes;
  };

  static AnswerPtr shareable(const Response& response, std::size_t max_bytes);
  static Response to_response(const Answer& answer);
  bool scopes_reached(const CacheKey& key, const std::vector<std::string>& scopes) const;
  bool reached(const CacheKey& key, const std::vector<std::string>& keys,
               const std::vector<std::string>& scopes) const;
  // Under mutex_: drops the copies and detaches the runs a revalidation reaches.
  void drop_locked(const std::vector<std::string>& keys, const std::vector<std::string>& scopes);
  void erase_locked(std::list<Entry>::iterator it);
  void keep_locked(const CacheKey& key, std::string id, AnswerPtr answer, std::chrono::milliseconds ttl);
  void remember_locked(Record record);
  // The copy kept for `key` in a value read from the shared store, when no revalidation this process has
  // read since it was made reaches it. Under mutex_.
  AnswerPtr check_shared_locked(const CacheKey& key, const json::value& value);
  // Waits for the run in flight `joined` (lock held on mutex_; `joined` by value, as landing erases it
  // from its bucket); its answer, or nullopt when the requester must run its own (the run failed, or its
  // answer was its requester's own).
  std::optional<Response> join_locked(std::unique_lock<std::mutex>& lock, std::shared_ptr<Flight> joined);
  struct Landed {
    Response response;
    AnswerPtr answer;  // null when it cannot be shared
  };
  // Runs the handler as `flight`, this process's one run for `id`, and lands it however it ends (waiters
  // wake, the slot frees); with `keep_for`, a fresh answer is kept in this process's memory.
  Landed fly(const CacheKey& key, const std::string& id, const std::shared_ptr<Flight>& flight,
             std::optional<std::chrono::milliseconds> keep_for, const std::function<Response()>& run);
  // The shared store: one read (copy and stream head), a wait for this process's reader to have read as
  // far as that head, then a run joined, the copy, or a run of its own.
  Response serve_shared(const CacheKey& key, const std::string& id, std::chrono::milliseconds ttl,
                        const std::function<Response()>& run);
  void store_shared(const std::string& id, const Answer& answer, std::uint64_t position,
                    std::chrono::milliseconds ttl);
  std::string shared_key(const std::string& id) const;

  QueryCacheOptions options_;
  std::shared_ptr<store::Store> shared_;
  bool scoped_drop_all_;
  Clock clock_;
  SharedReader reader_;

  mutable std::mutex mutex_;
  std::condition_variable landed_;  // a run finished
  std::condition_variable read_;    // this process's stream reader advanced position_
  std::list<Entry> order_;          // oldest first
  std::unordered_map<std::string, Bucket> buckets_;
  std::size_t bytes_ = 0;
  std::size_t waiting_ = 0;
  std::uint64_t epoch_ = 0;
  std::uint64_t position_ = 0;  // 2·seq of the last event observed; odd after a flush
  std::uint64_t floor_ = 0;     // shared copies made before it are stale (older revalidations forgotten)
  std::deque<Record> records_;

  std::atomic<std::uint64_t> hits_{0}, misses_{0}, errors_{0}, dropped_{0}, lagging_{0};
};

}  // namespace igniter::server

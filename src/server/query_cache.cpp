#include "server/query_cache.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "igniter/http/request.hpp"
#include "igniter/realtime/query_key.hpp"
#include "server/cluster_stream.hpp"

namespace igniter::server {

namespace {

constexpr char kSeparator = '\x1f';

// A copy and the event stream's last entry id, read atomically: whatever revalidation was in the stream
// before the copy was read is at or before that id. "" when the stream is empty.
constexpr const char* kReadScript = R"lua(
local copy = redis.call('GET', KEYS[1])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local head = ''
if last[1] then head = last[1][1] end
return {copy, head}
)lua";  // between instance and vary key: never in a URL-decoded JSON key

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

// Writes every scalar as the string a URL would carry; false for nested arrays or objects, which a
// query string cannot carry as the client keyed them.
bool stringify_scalars(json::value& value, int depth) {
  if (auto* object = value.if_object()) {
    if (depth > 0) return false;
    for (auto& member : *object)
      if (!stringify_scalars(member.value(), depth + 1)) return false;
    return true;
  }
  if (auto* array = value.if_array()) {
    if (depth > 1) return false;  // a repeated query parameter is an array of strings, no deeper
    for (auto& item : *array)
      if (item.is_array() || item.is_object() || !stringify_scalars(item, depth + 1)) return false;
    return true;
  }
  if (value.is_string()) return true;
  if (depth < 1) return false;  // params and query are objects
  std::string text;
  realtime::append_canonical_json(text, value);
  value = json::string(text);
  return true;
}

}  // namespace

CacheKey CacheKey::make(std::string_view action, const json::value& params, const json::value& query,
                        Vary vary, std::vector<std::string> granted_scopes) {
  CacheKey key;
  key.action = std::string(action);
  key.instance = realtime::query_key(action, json::object(), params, query);
  key.is_public = vary == Vary::public_;
  if (!key.is_public) {
    std::sort(granted_scopes.begin(), granted_scopes.end());
    granted_scopes.erase(std::unique(granted_scopes.begin(), granted_scopes.end()), granted_scopes.end());
    std::erase(granted_scopes, std::string());
    key.scopes = std::move(granted_scopes);
  }
  return key;
}

std::string CacheKey::id() const {
  std::string out = instance;
  out += kSeparator;
  if (is_public) {
    out += '*';
  } else {
    for (const auto& scope : scopes) {
      out += scope;
      out += kSeparator;
    }
  }
  return out;
}

std::size_t CacheKey::size() const {
  std::size_t bytes = instance.size() + 1;
  for (const auto& scope : scopes) bytes += scope.size() + 1;
  return bytes;
}

std::optional<std::string> normalized_instance_key(std::string_view key, std::string_view action) {
  if (key.size() <= action.size() || !starts_with(key, action) || key[action.size()] != ':')
    return std::nullopt;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(key.substr(action.size() + 1), ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  auto& object = parsed.as_object();
  json::value parts[3] = {json::object(), json::object(), json::object()};
  const char* names[3] = {"body", "params", "query"};
  for (std::size_t i = 0; i < 3; ++i) {
    auto it = object.find(names[i]);
    if (it == object.end() || it->value().is_null()) continue;
    if (!it->value().is_object()) return std::nullopt;
    parts[i] = it->value();
    if (i > 0 && !stringify_scalars(parts[i], 0)) return std::nullopt;
  }
  if (!parts[0].as_object().empty()) return std::nullopt;  // a GET has no body: cannot be told apart
  return realtime::query_key(action, parts[0], parts[1], parts[2]);
}

bool revalidation_reaches(std::string_view revalidation_key, const CacheKey& key) {
  if (starts_with(key.action, revalidation_key)) return true;  // "posts", "posts.list", "" (everything)
  if (!starts_with(revalidation_key, key.action) || revalidation_key.size() <= key.action.size() ||
      revalidation_key[key.action.size()] != ':')
    return false;  // another action ("posts.listAll" does not reach "posts.list")
  auto instance = normalized_instance_key(revalidation_key, key.action);
  return !instance || starts_with(key.instance, *instance);
}

QueryCache::QueryCache(QueryCacheOptions options, std::shared_ptr<store::Store> shared, bool scoped_drop_all,
                       Clock clock)
    : options_(options),
      shared_(std::move(shared)),
      scoped_drop_all_(scoped_drop_all),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  if (shared_)
    reader_ = [store = shared_](const std::string& name) -> Result<SharedRead> {
      auto got = store->get(name);
      if (!got) return got.error();
      return SharedRead{.copy = std::move(*got), .head = 0};
    };
}

void QueryCache::start_at(realtime::EventId latest) {
  std::lock_guard lock(mutex_);
  epoch_ = latest.epoch;
  position_ = floor_ = latest.seq * 2;
  records_.clear();
}

void QueryCache::observe(const realtime::Event& event) {
  std::lock_guard lock(mutex_);
  if (event.id.epoch != epoch_) {
    // Another history (the cluster's epoch was recreated): positions of the old one mean nothing now.
    epoch_ = event.id.epoch;
    floor_ = event.id.seq * 2;
    records_.clear();
  }
  position_ = std::max(position_, event.id.seq * 2);
  read_.notify_all();
  if (event.channel != realtime::kRevalidationChannel || event.type != realtime::kRevalidateType) return;
  std::vector<std::string> keys;
  if (const auto* data = event.data.if_object())
    if (auto it = data->find("queryKeys"); it != data->end() && it->value().is_array())
      for (const auto& key : it->value().as_array())
        if (key.is_string()) keys.emplace_back(key.as_string());
  if (keys.empty()) return;  // reaches no client
  drop_locked(keys, event.scopes);
  if (shared_) remember_locked({.position = position_, .keys = std::move(keys), .scopes = event.scopes});
}

void QueryCache::flush() {
  std::lock_guard lock(mutex_);
  position_ |= 1;  // after the last event seen, before the next one
  drop_locked({std::string()}, {});
  if (shared_) remember_locked({.position = position_, .keys = {std::string()}, .scopes = {}});
}

void QueryCache::read_to(realtime::EventId id) {
  {
    std::lock_guard lock(mutex_);
    if (id.epoch != epoch_) return;  // observe() switches histories with the first event of the new one
    position_ = std::max(position_, id.seq * 2);
  }
  read_.notify_all();
}

void QueryCache::read_with(SharedReader reader) {
  reader_ = std::move(reader);
}

QueryCache::SharedReader QueryCache::redis_reader(std::shared_ptr<store::RedisStore> store,
                                                  std::string stream_key) {
  return [store = std::move(store),
          stream_key = std::move(stream_key)](const std::string& name) -> Result<SharedRead> {
    auto reply = store->command({"EVAL", kReadScript, "2", store->key(name), stream_key});
    if (!reply) return reply.error();
    using Kind = store::Reply::Kind;
    if (reply->kind != Kind::array || reply->elements.size() != 2) return store::errc::protocol;
    const auto& copy = reply->elements[0];
    const auto& head = reply->elements[1];
    if ((copy.kind != Kind::string && copy.kind != Kind::nil) || head.kind != Kind::string)
      return store::errc::protocol;
    SharedRead read;
    if (!head.text.empty()) {
      auto id = stream::parse_stream_id(head.text);
      if (!id) return store::errc::protocol;
      read.head = stream::to_event_id(0, *id).seq;
    }
    if (copy.kind == Kind::string) {
      boost::system::error_code ec;
      auto value = json::parse(copy.text, ec);
      if (ec) return store::errc::invalid_value;
      read.copy = std::move(value);
    }
    return read;
  };
}

void QueryCache::remember_locked(Record record) {
  records_.push_back(std::move(record));
  while (records_.size() > std::max<std::size_t>(options_.max_revalidations_kept, 1)) {
    floor_ = records_.front().position;  // copies made before it cannot be checked against it any more
    records_.pop_front();
  }
}

bool QueryCache::scopes_reached(const CacheKey& key, const std::vector<std::string>& scopes) const {
  if (scopes.empty() || key.is_public || scoped_drop_all_) return true;
  return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& scope) {
    return std::binary_search(key.scopes.begin(), key.scopes.end(), scope);
  });
}

bool QueryCache::reached(const CacheKey& key, const std::vector<std::string>& keys,
                         const std::vector<std::string>& scopes) const {
  if (!scopes_reached(key, scopes)) return false;
  return std::any_of(keys.begin(), keys.end(), [&](const std::string& revalidation) {
    return revalidation_reaches(revalidation, key);
  });
}

void QueryCache::drop_locked(const std::vector<std::string>& keys, const std::vector<std::string>& scopes) {
  for (auto& item : buckets_) {
    const std::string& action = item.first;  // a named reference: clang 14 cannot capture a binding
    auto& bucket = item.second;
    // Cheap test first: most revalidations name other actions.
    bool maybe = std::any_of(keys.begin(), keys.end(), [&](const std::string& key) {
      return starts_with(action, key) || starts_with(key, action);
    });
    if (!maybe) continue;
    for (auto it = bucket.entries.begin(); it != bucket.entries.end();) {
      auto entry = (it++)->second;
      if (reached(entry->key, keys, scopes)) {
        erase_locked(entry);
        dropped_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // Runs that started before this revalidation may answer from before it: their answers are not kept,
    // and requests from now on start a run of their own.
    for (auto it = bucket.flights.begin(); it != bucket.flights.end();) {
      std::string_view id = it->first;
      CacheKey probe{.action = action};
      probe.instance = std::string(id.substr(0, id.find(kSeparator)));
      auto vary = id.substr(id.find(kSeparator) + 1);
      probe.is_public = vary == "*";
      for (std::size_t at = 0; !probe.is_public && at < vary.size();) {
        auto end = vary.find(kSeparator, at);
        probe.scopes.emplace_back(vary.substr(at, end - at));
        at = end + 1;
      }
      if (reached(probe, keys, scopes)) {
        it->second->stale = true;
        it = bucket.flights.erase(it);
      } else {
        ++it;
      }
    }
  }
}

void QueryCache::erase_locked(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  auto bucket = buckets_.find(it->key.action);
  if (bucket != buckets_.end()) bucket->second.entries.erase(it->id);
  order_.erase(it);
}

void QueryCache::keep_locked(const CacheKey& key, std::string id, AnswerPtr answer,
                             std::chrono::milliseconds ttl) {
  std::size_t bytes = answer->body.size() + answer->content_type.size() + id.size() * 2 + 128;
  for (const auto& [name, value] : answer->headers) bytes += name.size() + value.size();
  if (bytes > options_.max_bytes || options_.max_entries == 0) return;
  auto& bucket = buckets_[key.action];
  if (auto old = bucket.entries.find(id); old != bucket.entries.end()) erase_locked(old->second);
  while (!order_.empty() && (order_.size() >= options_.max_entries || bytes_ + bytes > options_.max_bytes))
    erase_locked(order_.begin());
  order_.push_back(
      {.key = key, .id = id, .answer = std::move(answer), .expires = clock_() + ttl, .bytes = bytes});
  bytes_ += bytes;
  buckets_[key.action].entries.emplace(std::move(id), std::prev(order_.end()));
}

QueryCache::AnswerPtr QueryCache::shareable(const Response& response, std::size_t max_bytes) {
  if (response.status() != 200 || !response.revalidations().empty()) return nullptr;
  if (response.body().size() > max_bytes) return nullptr;
  for (const auto& [name, value] : response.headers())
    if (iequals(name, "set-cookie")) return nullptr;  // someone's session: never anyone else's
  return std::make_shared<const Answer>(
      Answer{response.status(), response.content_type(), response.headers(), response.body()});
}

Response QueryCache::to_response(const Answer& answer) {
  Response response(answer.status, answer.body, answer.content_type);
  for (const auto& [name, value] : answer.headers) response.header(name, value);
  return response;
}

std::string QueryCache::shared_key(const std::string& id) const {
  return "igniter:qcache:" + id;
}

QueryCache::AnswerPtr QueryCache::check_shared_locked(const CacheKey& key, const json::value& value) {
  const auto* object = value.if_object();
  auto field = [&](std::string_view name) -> const json::value* {
    if (!object) return nullptr;
    auto it = object->find(name);
    return it == object->end() ? nullptr : &it->value();
  };
  const auto *epoch = field("e"), *position = field("p"), *status = field("s"), *type = field("t"),
             *headers = field("h"), *body = field("b");
  auto number = [](const json::value* value) -> std::optional<std::uint64_t> {
    if (!value || !value->is_string()) return std::nullopt;
    const auto& text = value->get_string();
    std::uint64_t out = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return out;
  };
  auto epoch_number = number(epoch), made_at = number(position);
  if (!epoch_number || !made_at || !status || !status->is_int64() || !type || !type->is_string() ||
      !headers || !headers->is_array() || !body || !body->is_string()) {
    errors_.fetch_add(1, std::memory_order_relaxed);  // not ours, or from another version
    return nullptr;
  }
  Answer answer{static_cast<unsigned>(status->as_int64()),
                std::string(type->as_string()),
                {},
                std::string(body->as_string())};
  for (const auto& header : headers->as_array()) {
    const auto* pair = header.if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    answer.headers.emplace_back(std::string((*pair)[0].as_string()), std::string((*pair)[1].as_string()));
  }
  // The copy was made by a run that had seen events up to `made`. It is fresh when this process has seen
  // them too (else a revalidation may be on its way here: count it stale), remembers every revalidation
  // since (else it cannot tell), and none of those reaches it.
  const std::uint64_t made = *made_at;
  if (*epoch_number != epoch_ || made < floor_ || made > position_) return nullptr;
  for (auto it = records_.rbegin(); it != records_.rend() && it->position > made; ++it)
    if (reached(key, it->keys, it->scopes)) return nullptr;
  return std::make_shared<const Answer>(std::move(answer));
}

void QueryCache::store_shared(const std::string& id, const Answer& answer, std::uint64_t position,
                              std::chrono::milliseconds ttl) {
  json::array headers;
  for (const auto& [name, value] : answer.headers) headers.push_back(json::array{name, value});
  std::uint64_t epoch;
  {
    std::lock_guard lock(mutex_);
    epoch = epoch_;
  }
  json::object value{{"e", std::to_string(epoch)},
                     {"p", std::to_string(position)},
                     {"s", static_cast<std::int64_t>(answer.status)},
                     {"t", answer.content_type},
                     {"h", std::move(headers)},
                     {"b", answer.body}};
  if (auto done = shared_->set(shared_key(id), value, ttl); !done)
    errors_.fetch_add(1, std::memory_order_relaxed);
}

Response QueryCache::serve(const CacheKey& key, std::chrono::milliseconds ttl,
                           const std::function<Response()>& run) {
  if (key.size() > options_.max_key_bytes) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return run();
  }
  std::string id = key.id();
  if (shared_) return serve_shared(key, id, ttl, run);
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mutex_);
    auto& bucket = buckets_[key.action];
    if (auto it = bucket.entries.find(id); it != bucket.entries.end()) {
      if (it->second->expires > clock_()) {
        auto answer = it->second->answer;
        lock.unlock();
        hits_.fetch_add(1, std::memory_order_relaxed);
        return to_response(*answer);
      }
      erase_locked(it->second);
    }
    if (auto it = bucket.flights.find(id); it != bucket.flights.end()) {
      // A run for this key is in flight and no revalidation reached it since it started: its answer is
      // as fresh as one this request would get.
      if (auto answer = join_locked(lock, it->second)) return std::move(*answer);
    } else {
      flight = std::make_shared<Flight>();
      flight->position = position_;
      bucket.flights.emplace(id, flight);
    }
  }
  if (!flight) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return run();
  }

  return fly(key, id, flight, ttl, run).response;
}

std::optional<Response> QueryCache::join_locked(std::unique_lock<std::mutex>& lock,
                                                std::shared_ptr<Flight> joined) {
  ++waiting_;
  landed_.wait(lock, [&] { return joined->done; });
  --waiting_;
  if (!joined->answer) return std::nullopt;  // failed, or its requester's own (a cookie, an error)
  auto answer = joined->answer;
  lock.unlock();
  hits_.fetch_add(1, std::memory_order_relaxed);
  return to_response(*answer);
}

QueryCache::Landed QueryCache::fly(const CacheKey& key, const std::string& id,
                                   const std::shared_ptr<Flight>& flight,
                                   std::optional<std::chrono::milliseconds> keep_for,
                                   const std::function<Response()>& run) {
  auto land = [&](AnswerPtr answer) {
    std::lock_guard lock(mutex_);
    flight->done = true;
    flight->answer = answer;
    if (answer && keep_for && !flight->stale) keep_locked(key, id, answer, *keep_for);
    auto& flights = buckets_[key.action].flights;
    if (auto it = flights.find(id); it != flights.end() && it->second == flight) flights.erase(it);
    landed_.notify_all();
  };
  misses_.fetch_add(1, std::memory_order_relaxed);
  Landed landed;
  try {
    landed.response = run();
  } catch (...) {
    land(nullptr);
    throw;
  }
  try {
    landed.answer = shareable(landed.response, options_.max_entry_bytes);
  } catch (const std::exception&) {
    errors_.fetch_add(1, std::memory_order_relaxed);
  }
  land(landed.answer);
  return landed;
}

Response QueryCache::serve_shared(const CacheKey& key, const std::string& id, std::chrono::milliseconds ttl,
                                  const std::function<Response()>& run) {
  // One round trip: the copy, and how far the stream was when it was read. A revalidation a client heard
  // of before sending this request is in the stream by then, so at or before that head.
  std::optional<SharedRead> read;
  try {
    auto got = reader_(shared_key(id));
    if (got) read = std::move(*got);
  } catch (const std::exception&) {
  }
  if (!read) {
    // Without the head, neither a copy nor a run in flight is known to be fresh: run, keep nothing.
    errors_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return run();
  }
  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mutex_);
    // Until this process has read as far as that head, it may not know a revalidation that reaches the
    // copy or the runs in flight here: wait for its reader (bounded), on this worker thread.
    const std::uint64_t head = read->head * 2;
    if (position_ < head) {
      ++waiting_;
      bool caught_up = read_.wait_for(lock, options_.max_reader_wait, [&] { return position_ >= head; });
      --waiting_;
      if (!caught_up) {
        lock.unlock();
        lagging_.fetch_add(1, std::memory_order_relaxed);
        misses_.fetch_add(1, std::memory_order_relaxed);
        return run();
      }
    }
    auto& bucket = buckets_[key.action];
    if (auto it = bucket.flights.find(id); it != bucket.flights.end()) {
      // In flight, and no revalidation this process has read (every one up to the head) reached it.
      if (auto answer = join_locked(lock, it->second)) return std::move(*answer);
      lock.unlock();
      misses_.fetch_add(1, std::memory_order_relaxed);
      return run();
    }
    if (read->copy) {
      if (auto kept = check_shared_locked(key, *read->copy)) {
        lock.unlock();
        hits_.fetch_add(1, std::memory_order_relaxed);
        return to_response(*kept);
      }
    }
    flight = std::make_shared<Flight>();
    flight->position = position_;
    bucket.flights.emplace(id, flight);
  }

  auto landed = fly(key, id, flight, std::nullopt, run);
  if (landed.answer) {
    bool stale;
    {
      std::lock_guard lock(mutex_);
      stale = flight->stale;
    }
    // A revalidation between this check and the write still wins: readers check the copy's position
    // against the revalidations they have seen.
    if (!stale) {
      try {
        store_shared(id, *landed.answer, flight->position, ttl);
      } catch (const std::exception&) {
        errors_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  return std::move(landed.response);
}

std::size_t QueryCache::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

QueryCacheStats QueryCache::stats() const {
  QueryCacheStats stats{.hits = hits_.load(std::memory_order_relaxed),
                        .misses = misses_.load(std::memory_order_relaxed),
                        .errors = errors_.load(std::memory_order_relaxed),
                        .dropped = dropped_.load(std::memory_order_relaxed),
                        .lagging = lagging_.load(std::memory_order_relaxed)};
  std::lock_guard lock(mutex_);
  stats.entries = order_.size();
  return stats;
}

}  // namespace igniter::server

#include "server/presence.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "base/thread_name.hpp"
#include "igniter/json/value.hpp"
#include "igniter/realtime/query_key.hpp"
#include "igniter/server/realtime.hpp"
#include "realtime/channel.hpp"

namespace igniter {

PresenceMember member_from_scope(std::string prefix) {
  return [prefix = std::move(prefix)](Ctx&,
                                      const std::vector<std::string>& scopes) -> std::optional<std::string> {
    for (const auto& scope : scopes)
      if (scope.size() > prefix.size() && scope.starts_with(prefix)) return scope.substr(prefix.size());
    return std::nullopt;
  };
}

}  // namespace igniter

namespace igniter::server {

namespace {

using Clock = std::chrono::steady_clock;

// Writes this process's entries for several channels in one round trip. KEYS: per channel its hash (process
// -> entry) and its expiry set (process -> when its entry dies, in Redis's clock: no two machines' clocks
// are compared). ARGV: process id, ttl in ms, then one entry per channel ('' removes ours).
constexpr std::string_view kWriteScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local h, z, v = KEYS[2 * i - 1], KEYS[2 * i], ARGV[2 + i]
  if v == '' then
    redis.call('HDEL', h, ARGV[1])
    redis.call('ZREM', z, ARGV[1])
  else
    redis.call('HSET', h, ARGV[1], v)
    redis.call('ZADD', z, now + ttl, ARGV[1])
    redis.call('PEXPIRE', h, ttl)
    redis.call('PEXPIRE', z, ttl)
  end
end
return #KEYS / 2
)lua";

// Reads a channel: drops the entries of processes that stopped refreshing them (killed), then returns the
// rest as [process, entry, ...].
constexpr std::string_view kReadScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, p in ipairs(dead) do redis.call('HDEL', KEYS[1], p) end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
return redis.call('HGETALL', KEYS[1])
)lua";

std::string random_process_id() {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) id += kHex[random() & 15];
  return id;
}

// The instance key of `GET <sse_path>/presence?channel=<c>` as clients register it.
std::string http_query_key(std::string_view channel) {
  return realtime::query_key("__realtime.presence", json::object(), json::object(),
                             json::object{{"channel", channel}});
}

}  // namespace

std::string encode_process_presence(const LocalPresence& local) {
  json::array members;
  for (const auto& m : local.members) members.emplace_back(m);
  return json::stringify(
      json::object{{"n", local.streams}, {"a", local.anonymous}, {"m", std::move(members)}});
}

std::optional<LocalPresence> decode_process_presence(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& o = value.as_object();
  auto n = o.if_contains("n"), a = o.if_contains("a"), m = o.if_contains("m");
  if (!n || !a || !m || !n->is_number() || !a->is_number() || !m->is_array()) return std::nullopt;
  auto count = [](const json::value& v) -> std::optional<std::uint64_t> {
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    return std::nullopt;
  };
  auto streams = count(*n), anonymous = count(*a);
  if (!streams || !anonymous) return std::nullopt;
  LocalPresence out{.streams = *streams, .anonymous = *anonymous, .members = {}};
  for (const auto& member : m->as_array()) {
    if (!member.is_string()) return std::nullopt;
    out.members.emplace_back(member.as_string());
  }
  return out;
}

Presence merge_presence(const std::vector<LocalPresence>& processes, std::size_t max_listed) {
  Presence out;
  std::set<std::string_view> members;
  for (const auto& p : processes) {
    out.count += p.streams;
    out.anonymous += p.anonymous;
    members.insert(p.members.begin(), p.members.end());
  }
  for (auto m : members) {
    if (out.members.size() == max_listed) {
      out.truncated = true;
      break;
    }
    out.members.emplace_back(m);
  }
  return out;
}

PresenceTracker::PresenceTracker(PresenceOptions options, std::shared_ptr<store::RedisStore> redis,
                                 Realtime& realtime, Logger& logger)
    : options_(std::move(options)),
      redis_(std::move(redis)),
      realtime_(realtime),
      logger_(logger),
      process_(random_process_id()),
      book_(
          [&] {
            std::vector<std::string> channels;
            for (const auto& name : options_.channels) {
              auto channel = realtime::canonical_channel(name);
              if (auto ec = realtime::check_channel_name(channel))
                throw std::invalid_argument("PresenceOptions::channels: \"" + name + "\": " + ec.message());
              channels.emplace_back(channel);
            }
            return channels;
          }(),
          {.linger = options_.linger,
           .max_members_per_channel = options_.max_members_per_channel,
           .max_member_bytes = options_.max_member_bytes}) {
  if (!options_.events_channel.empty())
    if (auto ec = realtime::check_channel_name(options_.events_channel))
      throw std::invalid_argument("PresenceOptions::events_channel: \"" + options_.events_channel +
                                  "\": " + ec.message());
  if (options_.flush_interval.count() <= 0 || options_.heartbeat.count() <= 0 ||
      options_.expiry <= options_.heartbeat)
    throw std::invalid_argument(
        "PresenceOptions: flush_interval and heartbeat must be positive, and expiry longer than heartbeat");
}

PresenceTracker::~PresenceTracker() {
  stop();
}

bool PresenceTracker::tracks(std::string_view channel) const {
  return book_.tracks(realtime::canonical_channel(channel));
}

std::optional<std::string> PresenceTracker::member_of(Ctx& ctx,
                                                      const std::vector<std::string>& scopes) const {
  if (!options_.member) return std::nullopt;
  try {
    return options_.member(ctx, scopes);
  } catch (const std::exception& error) {
    logger_.error(std::string("presence: the member function threw (the stream counts as anonymous): ") +
                  error.what());
    return std::nullopt;
  }
}

void PresenceTracker::opened(std::uint64_t stream, std::optional<std::string> member,
                             const std::vector<std::string>& channels) {
  auto now = Clock::now();
  book_.open(stream, std::move(member));
  for (const auto& name : channels) book_.join(stream, realtime::canonical_channel(name), now);
}

void PresenceTracker::changed(std::uint64_t stream, const std::vector<std::string>& left,
                              const std::vector<std::string>& joined) {
  auto now = Clock::now();
  for (const auto& name : left) book_.leave(stream, realtime::canonical_channel(name), now);
  for (const auto& name : joined) book_.join(stream, realtime::canonical_channel(name), now);
}

void PresenceTracker::closed(std::uint64_t stream) {
  book_.close(stream, Clock::now());
}

std::string PresenceTracker::hash_key(std::string_view channel) const {
  return redis_->key("igniter:presence:{" + std::string(channel) + "}");
}

std::string PresenceTracker::expiry_key(std::string_view channel) const {
  return redis_->key("igniter:presence:{" + std::string(channel) + "}:expiry");
}

Result<std::vector<std::pair<std::string, LocalPresence>>> PresenceTracker::read_processes(
    std::string_view channel) {
  auto reply = redis_->command({"EVAL", kReadScript, "2", hash_key(channel), expiry_key(channel)});
  if (!reply) return reply.error();
  if (reply->kind != store::Reply::Kind::array || reply->elements.size() % 2 != 0)
    return reply->kind == store::Reply::Kind::error ? store::errc::command_failed : store::errc::protocol;
  std::vector<std::pair<std::string, LocalPresence>> out;
  for (std::size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    const auto& process = reply->elements[i];
    const auto& entry = reply->elements[i + 1];
    if (process.kind != store::Reply::Kind::string || entry.kind != store::Reply::Kind::string) continue;
    auto local = decode_process_presence(entry.text);
    if (!local) continue;  // not ours: skipped, like the cluster's reader does
    out.emplace_back(process.text, std::move(*local));
  }
  return out;
}

Result<Presence> PresenceTracker::read(std::string_view name) {
  auto channel = realtime::canonical_channel(name);
  if (!book_.tracks(channel)) return std::make_error_code(std::errc::invalid_argument);
  auto mine = book_.local(channel, Clock::now());
  if (!redis_) return merge_presence({mine}, options_.max_members_listed);
  auto processes = read_processes(channel);
  if (!processes) return processes.error();
  // Our own entry as it is now, not as last written: a page sees its own stream at once.
  std::vector<LocalPresence> all{std::move(mine)};
  for (auto& [process, local] : *processes)
    if (process != process_) all.push_back(std::move(local));
  return merge_presence(all, options_.max_members_listed);
}

bool PresenceTracker::write(const std::vector<std::string>& channels, Clock::time_point now, bool remove) {
  if (channels.empty()) return true;
  std::vector<std::string> args{"EVAL", std::string(kWriteScript), std::to_string(channels.size() * 2)};
  std::vector<std::string> values;
  for (const auto& channel : channels) {
    args.push_back(hash_key(channel));
    args.push_back(expiry_key(channel));
    auto local = book_.local(channel, now);
    bool empty = remove || (local.streams == 0 && local.members.empty());
    values.push_back(empty ? std::string() : encode_process_presence(local));
  }
  args.push_back(process_);
  args.push_back(std::to_string(options_.expiry.count()));
  for (auto& v : values) args.push_back(std::move(v));
  auto reply = redis_->command(std::move(args));
  bool ok = reply && reply->kind == store::Reply::Kind::integer;
  if (!ok) {
    if (!redis_failing_)
      logger_.warn("presence: cannot write to Redis (" + (reply ? reply->text : reply.error().message()) +
                   "); retrying");
    redis_failing_ = true;
    return false;
  }
  if (redis_failing_) logger_.info("presence: writing to Redis again");
  redis_failing_ = false;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    if (values[i].empty())
      written_.erase(channels[i]);
    else
      written_.insert(channels[i]);
  }
  return true;
}

void PresenceTracker::announce(const std::vector<PresenceChange>& changes) {
  // With Redis, a member joining here while another process lists it (a stream that moved) is no join,
  // and one leaving here while another process lists it is no leave.
  std::string read_channel;
  std::vector<std::pair<std::string, LocalPresence>> others;
  for (const auto& change : changes) {
    if (redis_) {
      if (change.channel != read_channel) {
        read_channel = change.channel;
        auto processes = read_processes(change.channel);
        others = processes ? std::move(*processes) : decltype(others){};
      }
      bool elsewhere = std::any_of(others.begin(), others.end(), [&](const auto& p) {
        return p.first != process_ &&
               std::binary_search(p.second.members.begin(), p.second.members.end(), change.member);
      });
      if (elsewhere) continue;
    }
    revalidate_channels_.insert(change.channel);
    if (options_.events_channel.empty()) continue;
    auto published = realtime_.try_publish(options_.events_channel,
                                           json::object{{"channel", change.channel},
                                                        {"member", change.member},
                                                        {"action", change.joined ? "join" : "leave"}});
    if (!published)
      logger_.warn("presence: a " + std::string(change.joined ? "join" : "leave") + " on " + change.channel +
                   " was not published: " + published.error().message());
  }
}

void PresenceTracker::flush(Clock::time_point now, bool final) {
  auto delta = book_.take(now);
  if (redis_) {
    if (final) {
      write({written_.begin(), written_.end()}, now, true);
      return;
    }
    std::set<std::string> channels(delta.channels.begin(), delta.channels.end());
    if (resend_all_ || now >= next_heartbeat_) {
      channels.insert(written_.begin(), written_.end());
      for (auto& c : book_.occupied()) channels.insert(std::move(c));
    }
    bool all = resend_all_ || now >= next_heartbeat_;
    bool ok = write({channels.begin(), channels.end()}, now, false);
    if (all && ok) next_heartbeat_ = now + options_.heartbeat;
    resend_all_ = !ok;
  }
  if (final) return;
  announce(delta.changes);
  if (revalidate_channels_.empty() || now < next_revalidate_) return;
  std::vector<std::string> keys = options_.revalidate;
  if (options_.serve_http)
    for (const auto& channel : revalidate_channels_) keys.push_back(http_query_key(channel));
  revalidate_channels_.clear();
  next_revalidate_ = now + options_.revalidate_interval;
  if (keys.empty()) return;
  if (auto id = realtime_.try_revalidate(std::move(keys)); !id)
    logger_.warn("presence: revalidation not published: " + id.error().message());
}

void PresenceTracker::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.flush_interval, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      flush(Clock::now(), false);
    } catch (const std::exception& error) {
      logger_.error(std::string("presence: ") + error.what());
    }
    lock.lock();
  }
}

void PresenceTracker::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  resend_all_ = true;
  thread_ = std::thread([this] {
    name_this_thread("igniter-presence");
    run();
  });
}

void PresenceTracker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  try {
    flush(Clock::now(), true);
  } catch (const std::exception&) {
    // Redis gone: our entries expire by themselves.
  }
}

}  // namespace igniter::server

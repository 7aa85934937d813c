#include "server/cluster.hpp"

#include <random>

#include "base/thread_name.hpp"
#include "realtime/frame.hpp"
#include "realtime/history.hpp"

namespace igniter::server {

namespace {

using Reply = store::Reply;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Entries per XREAD and per XRANGE page; halved (down to 1) while replies exceed max_reply_bytes.
constexpr std::size_t kReadCount = 1000;
// How long a fence outlives the publish it stops: far longer than any connection stays buffered.
constexpr auto kFenceTtl = 1h;
// How long publish() waits for the command connection to come back to fence a publish.
constexpr auto kFenceWait = 2s;
// Added to "how long ago" a publish was sent when the fence looks for it: covers the difference between
// the publish's and the fence's trip to Redis (looking further back only costs a longer scan).
constexpr auto kFenceMargin = 1s;
// Publishes of unknown outcome remembered for a later fence; beyond, the oldest are forgotten (logged).
constexpr std::size_t kMaxUnknown = 1000;

// The publish: refused once a fence for its token exists, so that a publish that arrives late (held in a
// socket buffer while we gave up) can never run after we told the caller it failed.
constexpr const char* kPublishScript = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'u', ARGV[3])
)lua";

// The fence: set first (atomically with the search, as scripts are), then look for the entry among those
// added since the publish was sent (ARGV[3] ms ago): its id if it ran, nil if it never will.
constexpr const char* kFenceScript = R"lua(
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
local now = redis.call('TIME')
local since = math.max(0, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3]))
local entries = redis.call('XRANGE', KEYS[1], string.format('%d', since), '+')
for _, entry in ipairs(entries) do
  local fields = entry[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'u' and fields[i + 1] == ARGV[2] then return entry[1] end
  end
end
return false
)lua";

// The cluster-wide resync, once: when the stream already holds a resync added after the latest miss it
// must cover (ARGV[3] ms ago; -1: any resync in the stream, for a loss of the stream itself), that one
// serves every process, and no second one is added.
constexpr const char* kResyncScript = R"lua(
local start = '-'
if tonumber(ARGV[3]) >= 0 then
  local now = redis.call('TIME')
  start = string.format('%d', math.max(0, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[3])))
end
local recent = redis.call('XREVRANGE', KEYS[1], '+', start, 'COUNT', 1000)
for _, entry in ipairs(recent) do
  local fields = entry[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'k' and fields[i + 1] == 'resync' then return entry[1] end
  end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'k', 'resync')
)lua";

// After a failover, once per new master for the whole cluster. First the stream's last id is raised to
// ARGV[4], the last id the caller read, when the stream is behind it (the promoted replica missed the old
// master's last entries, or its clock is behind): entries added from then on get ids past every id our
// clients have seen, so that no reader skips them and no history refuses them (a refusal of XSETID: no
// stream, an id below max-deleted-entry-id, is harmless). Then the resync that tells every client of every
// process to refetch: the one already added for this master (field r = its replication id ARGV[3]), or a
// new one. Returns its id.
constexpr const char* kSwitchScript = R"lua(
local function split(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local behind = true
if #top > 0 then
  local ms, seq = split(ARGV[4])
  local top_ms, top_seq = split(top[1][1])
  behind = top_ms < ms or (top_ms == ms and top_seq < seq)
end
if behind then pcall(redis.call, 'XSETID', KEYS[1], ARGV[4]) end
local recent = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1000)
for _, entry in ipairs(recent) do
  local fields = entry[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'r' and fields[i + 1] == ARGV[3] then return entry[1] end
  end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[2], 'k', 'resync', 'r', ARGV[3])
)lua";

// The replication id of the server `store` talks to: a promoted replica starts a new one (so does a
// restart), which is how a failover shows, whoever performed it. Empty when INFO is refused or malformed.
std::string replication_id(store::RedisStore& store) {
  auto reply = store.command({"INFO", "replication"});
  if (!reply || reply->kind != Reply::Kind::string) return {};
  constexpr std::string_view kField = "master_replid:";
  auto at = reply->text.find(kField);
  if (at == std::string::npos) return {};
  auto begin = at + kField.size();
  auto end = reply->text.find_first_of("\r\n", begin);
  auto id = reply->text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  if (id.size() != 40 || id.find_first_not_of("0123456789abcdef") != std::string::npos) return {};
  return id;
}

std::uint64_t parse_base36(std::string_view text) {
  if (text.empty() || text.size() > 12) return 0;  // 36^12 < 2^64: no overflow
  std::uint64_t value = 0;
  for (char c : text) {
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
    if (digit < 0) return 0;
    value = value * 36 + static_cast<std::uint64_t>(digit);
  }
  return value;
}

std::string to_base36(std::uint64_t value) {
  std::string out;
  do {
    int digit = static_cast<int>(value % 36);
    out.insert(out.begin(), static_cast<char>(digit < 10 ? '0' + digit : 'a' + digit - 10));
    value /= 36;
  } while (value);
  return out;
}

// 128 random bits in hex: names one publish for its fence.
std::string random_token() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (int word = 0; word < 2; ++word) {
    auto bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4) token += kHex[bits & 0xf];
  }
  return token;
}

std::string milliseconds_text(Clock::duration duration) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

}  // namespace

Cluster::Cluster(std::shared_ptr<store::RedisStore> store, std::string stream_key, std::string epoch_text,
                 std::uint64_t epoch, std::size_t max_events, Logger& logger)
    : store_(std::move(store)),
      stream_key_(std::move(stream_key)),
      epoch_key_(store_->key("igniter:realtime:epoch")),
      epoch_text_(std::move(epoch_text)),
      epoch_(epoch),
      max_events_(max_events),
      logger_(logger) {}

Result<std::unique_ptr<Cluster>> Cluster::open(std::shared_ptr<store::RedisStore> store,
                                               std::size_t max_events, Logger& logger) {
  // The first process to start names the epoch; every other one reads it.
  auto epoch_key = store->key("igniter:realtime:epoch");
  auto proposed = to_base36(realtime::random_epoch());
  auto set = store->command({"SET", epoch_key, proposed, "NX"});
  if (!set) return set.error();
  auto get = store->command({"GET", epoch_key});
  if (!get) return get.error();
  if (get->kind != Reply::Kind::string) return store::errc::protocol;
  auto epoch = parse_base36(get->text);
  if (epoch == 0) return store::errc::protocol;
  auto stream_key = Cluster::stream_key(*store);
  return std::unique_ptr<Cluster>(
      new Cluster(std::move(store), std::move(stream_key), get->text, epoch, max_events, logger));
}

std::string Cluster::stream_key(const store::RedisStore& store) {
  return store.key("igniter:realtime:events");
}

Cluster::~Cluster() {
  stop();
}

std::string Cluster::fence_key(std::string_view token) const {
  return store_->key("igniter:realtime:fence:") + std::string(token);
}

void Cluster::note_failure() {
  last_failure_.store(std::max<std::int64_t>(1, Clock::now().time_since_epoch().count()));
  resync_pending_ = true;
}

Result<realtime::EventId> Cluster::publish(const realtime::Event& event) {
  auto payload = stream::encode_event(event);
  if (payload.size() > store_->options().max_reply_bytes / 4) {
    logger_.error("realtime: an event of " + std::to_string(payload.size()) +
                  " bytes is too large for the Redis stream (max_reply_bytes / 4)");
    return store::errc::invalid_argument;
  }
  Unknown attempt{.token = random_token(), .sent = Clock::now()};
  auto reply = store_->command({"EVAL", kPublishScript, "2", stream_key_, fence_key(attempt.token),
                                std::to_string(max_events_), payload, attempt.token});
  if (reply) {
    if (reply->kind == Reply::Kind::string) {
      if (auto id = stream::parse_stream_id(reply->text)) return stream::to_event_id(epoch_, *id);
    }
    note_failure();
    logger_.error("realtime: Redis refused the publish: " +
                  (reply->is_error() ? reply->text : std::string("an unexpected reply")));
    // A demoted master (failover under way): it did not run, like a publish while Redis is away.
    if (reply->is_error() && reply->text.starts_with("READONLY")) return store::errc::unavailable;
    return reply->is_error() ? store::errc::command_failed : store::errc::protocol;
  }
  if (reply.error() != store::errc::timeout) {  // never sent: it cannot run
    note_failure();
    return reply.error();
  }
  // Written, unanswered: it may have run, or may still run. The fence settles it.
  auto deadline = Clock::now() + kFenceWait;
  auto fenced = fence(attempt);
  while (!fenced && fenced.error() == store::errc::unavailable && Clock::now() < deadline && !stopping_) {
    std::this_thread::sleep_for(20ms);  // the command connection reconnects after the one that timed out
    fenced = fence(attempt);
  }
  if (fenced && *fenced) return **fenced;  // it ran: the event is in the stream
  note_failure();
  if (fenced) return store::errc::unavailable;  // fenced: it never ran and never will
  logger_.warn("realtime: a publish got no answer and could not be fenced; it may still be delivered once");
  std::lock_guard lock(mutex_);
  if (unknown_.size() >= kMaxUnknown) unknown_.erase(unknown_.begin());
  unknown_.push_back(std::move(attempt));
  return store::errc::timeout;
}

Result<std::optional<realtime::EventId>> Cluster::fence(const Unknown& publish) {
  auto ago = Clock::now() - publish.sent + kFenceMargin;
  auto reply = store_->command({"EVAL", kFenceScript, "2", stream_key_, fence_key(publish.token),
                                milliseconds_text(kFenceTtl), publish.token, milliseconds_text(ago)});
  if (!reply) return reply.error();
  if (reply->is_nil()) return std::optional<realtime::EventId>{};
  if (reply->kind == Reply::Kind::string) {
    if (auto id = stream::parse_stream_id(reply->text))
      return std::optional<realtime::EventId>(stream::to_event_id(epoch_, *id));
  }
  return reply->is_error() ? store::errc::command_failed : store::errc::protocol;
}

void Cluster::start(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  // What the stream still holds becomes this process's history, so that clients resume here too.
  load_retained();
  replication_id_ = replication_id(*store_);
  if (replication_id_.empty())
    logger_.warn("realtime: INFO replication is refused or unreadable: a Redis failover will not be noticed");
  reader_ = open_reader();
  thread_ = std::thread([this] {
    name_this_thread("igniter-cluster");
    read_loop();
  });
}

void Cluster::load_retained() {
  std::string from = "-";
  for (;;) {
    auto reply = store_->command({"XRANGE", stream_key_, from, "+", "COUNT", std::to_string(kReadCount)});
    if (!reply || reply->is_error()) return;  // the reader reads on from where this stopped
    auto entries = stream::parse_entries(*reply);
    if (!entries) {
      logger_.warn("realtime: a malformed XRANGE reply from Redis; the history is not loaded");
      return;
    }
    auto before = last_id_;
    deliver(*entries);
    if (entries->size() < kReadCount) return;
    if (!(before < last_id_)) {
      // A full page that did not move past the last one: not Redis's XRANGE (it answers ids after
      // `from` only). Reading on would never end; the reader goes on from here.
      logger_.warn("realtime: XRANGE answered a page that did not move forward; the history load stops");
      return;
    }
    from = "(" + last_id_.text();
  }
}

std::shared_ptr<store::RedisStore> Cluster::open_reader() {
  auto options = store_->options();
  options.timeout = std::max(options.timeout, std::chrono::milliseconds(3000));  // > XREAD's BLOCK
  options.require_connection = false;
  options.logger = &logger_;
  auto reader = store::RedisStore::open(store_->endpoint(), options);
  if (!reader) {
    logger_.error("realtime: cannot open the stream reader: " + reader.error().message());
    return nullptr;
  }
  // A reconnection between two reads is a loss like a failed read: recover() must look (a failover).
  reader_watch_ = (*reader)->on_connection_change([this](bool up) {
    if (!up) reader_lost_ = true;
  });
  return std::move(*reader);
}

void Cluster::stop() {
  stopping_ = true;
  { std::lock_guard lock(mutex_); }  // orders the flag before a waiter's check: the wake is not lost
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  reader_watch_.unsubscribe();
  reader_.reset();
}

Result<store::Reply> Cluster::read_blocking(std::vector<std::string> args) {
  // Sent asynchronously so that stop() need not wait out the BLOCK: it wakes this wait, and the reply,
  // if one still comes, lands in `state`, which the handler keeps alive.
  struct State {
    std::optional<Result<store::Reply>> reply;
  };
  auto state = std::make_shared<State>();
  reader_->command_async(std::move(args), [this, state](Result<store::Reply> reply) {
    {
      std::lock_guard lock(mutex_);
      state->reply = std::move(reply);
    }
    wake_.notify_all();
  });
  std::unique_lock lock(mutex_);
  // The connection's watchdog answers an overdue reply with an error (the reader's timeout is > BLOCK);
  // the bound here only guards against a reply that never comes at all.
  auto bound = reader_->options().timeout + std::chrono::seconds(2);
  if (!wake_.wait_for(lock, bound, [&] { return state->reply.has_value() || stopping_.load(); }))
    return store::errc::timeout;
  if (!state->reply) return store::errc::unavailable;  // stopping
  return std::move(*state->reply);
}

void Cluster::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void Cluster::deliver(const std::vector<stream::StreamEntry>& entries) {
  for (const auto& entry : entries) {
    // Redis answers ids after the one asked from only: an entry at or before the last one is a reply
    // that repeats itself (a hostile or broken server), never delivered twice.
    if (entry.id <= last_id_) continue;
    last_id_ = entry.id;
    // Entries that are not ours (another writer's fields, a payload we cannot decode) are skipped.
    const auto* payload = entry.field("e");
    if (!payload) continue;
    if (auto event = stream::decode_event(*payload)) {
      event->id = stream::to_event_id(epoch_, entry.id);
      callbacks_.event(std::move(*event));
    }
  }
  if (!entries.empty() && callbacks_.read) callbacks_.read(stream::to_event_id(epoch_, last_id_));
}

void Cluster::read_loop() {
  auto backoff = std::chrono::milliseconds(100);
  bool was_down = false;
  std::size_t count = kReadCount;
  while (!stopping_) {
    if (!reader_) reader_ = open_reader();
    if (reader_lost_.exchange(false)) was_down = true;  // recovered after this read
    auto entries = [&]() -> Result<std::vector<stream::StreamEntry>> {
      if (!reader_) return store::errc::unavailable;
      auto reply = read_blocking({"XREAD", "BLOCK", "1000", "COUNT", std::to_string(count), "STREAMS",
                                  stream_key_, last_id_.text()});
      if (!reply) return reply.error();
      if (reply->is_error()) return store::errc::command_failed;
      return stream::parse_xread(*reply, stream_key_);
    }();
    if (stopping_) break;
    if (!entries) {
      auto error = entries.error();
      if (!was_down) logger_.warn("realtime: Redis stream unreadable (" + error.message() + "); retrying");
      was_down = true;
      // Too large: fewer entries per read (an entry itself is at most a quarter of the limit).
      if (error == store::errc::reply_too_large) count = std::max<std::size_t>(1, count / 2);
      // A reply of the wrong shape: the connection it came on is dropped, like a protocol error.
      if (error == store::errc::protocol) reader_.reset();
      pause(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    if (was_down) {
      was_down = false;
      logger_.info("realtime: Redis stream readable again");
      recover();
    }
    if (resync_pending_) publish_resync();
    fence_unknown();
    deliver(*entries);
    if (!entries->empty() && count < kReadCount) count = std::min(kReadCount, count * 2);
  }
}

// After the stream was unreachable: did this process miss anything?
void Cluster::recover() {
  // Another master (a Sentinel failover): it may lack the old master's last entries, which some of our
  // clients got and others did not, and publishes it acknowledged may be gone. Our clients refetch; the
  // stream is moved past what we read, so that what comes next reaches them.
  auto current = reader_ ? replication_id(*reader_) : std::string();
  if (!current.empty() && current != replication_id_) {
    if (!replication_id_.empty()) {
      logger_.warn("realtime: Redis has another master (failover or restart); every client will refetch");
      auto resync = resync_event();
      auto reply = reader_->command({"EVAL", kSwitchScript, "1", stream_key_, std::to_string(max_events_),
                                     stream::encode_event(resync), current, last_id_.text()});
      std::optional<stream::StreamId> id;
      if (reply && reply->kind == Reply::Kind::string) id = stream::parse_stream_id(reply->text);
      // Not in the stream where our reader will see it (a failed script, a skewed clock): ours refetch now.
      if (!id || *id <= last_id_) callbacks_.gap();
    }
    replication_id_ = current;
  }
  // Redis lost its data (a restart without persistence, a flush): the epoch key went with the stream.
  // The first process back puts the epoch back and announces one resync for the whole cluster; the
  // others find the key and that resync in the stream, and add none of their own.
  auto set = store_->command({"SET", epoch_key_, epoch_text_, "NX"});
  if (set && set->kind == Reply::Kind::status) {
    logger_.warn("realtime: Redis lost the stream; every client will refetch");
    if (last_failure_.load() == 0) last_failure_.store(-1);  // any resync in the new stream covers it
    resync_pending_ = true;
    return;
  }
  if (set && set->is_nil()) {
    auto get = store_->command({"GET", epoch_key_});
    if (get && get->kind == Reply::Kind::string && get->text != epoch_text_)
      logger_.error(
          "realtime: another cluster epoch took over in Redis; resumes across processes will resync");
  }
  // Trimmed past our position while we were away: those events are gone for this process's clients.
  auto info = store_->command({"XINFO", "STREAM", stream_key_});
  if (!info || info->is_error()) return;  // no stream yet: nothing was trimmed
  if (auto deleted = stream::max_deleted_id(*info)) {
    if (*deleted > last_id_) callbacks_.gap();
    return;
  }
  // Redis before 7.0 (no max-deleted-entry-id): an oldest entry past ours means some were trimmed.
  auto first = store_->command({"XRANGE", stream_key_, "-", "+", "COUNT", "1"});
  if (!first) return;
  auto entries = stream::parse_entries(*first);
  if (!entries) return callbacks_.gap();  // cannot tell: assume the worst
  if (!entries->empty() && last_id_ != stream::StreamId{} && entries->front().id > last_id_) callbacks_.gap();
}

realtime::Event Cluster::resync_event() {
  auto now = std::chrono::system_clock::now();
  return realtime::Event{.channel = std::string(realtime::kRevalidationChannel),
                         .type = std::string(realtime::kRevalidateType),
                         .data = realtime::revalidate_payload({""}, nullptr, now),
                         .time = now};
}

void Cluster::publish_resync() {
  // A publish failed (or the stream was lost): tell every client of every process to refetch, once.
  auto since = last_failure_.load();
  std::string ago =
      since > 0 ? milliseconds_text(Clock::now() - Clock::time_point(Clock::duration(since))) : "-1";
  auto resync = resync_event();
  resync_pending_ = false;
  auto reply = store_->command({"EVAL", kResyncScript, "1", stream_key_, std::to_string(max_events_),
                                stream::encode_event(resync), ago});
  if (!reply || reply->kind != Reply::Kind::string) {
    resync_pending_ = true;  // tried again after the next read
    return;
  }
  // Only the failure this resync covers is cleared; a newer one asks for another.
  last_failure_.compare_exchange_strong(since, 0);
}

void Cluster::fence_unknown() {
  std::vector<Unknown> pending;
  {
    std::lock_guard lock(mutex_);
    pending.swap(unknown_);
  }
  std::vector<Unknown> left;
  for (auto& publish : pending) {
    auto fenced = fence(publish);
    if (!fenced) {
      left.push_back(std::move(publish));
    } else if (*fenced) {
      logger_.warn("realtime: a publish reported as timed out was delivered after all (" +
                   realtime::to_string(**fenced) + ")");
    } else {
      logger_.info("realtime: a publish reported as timed out is fenced: it will not be delivered");
    }
  }
  if (left.empty()) return;
  std::lock_guard lock(mutex_);
  unknown_.insert(unknown_.begin(), std::make_move_iterator(left.begin()),
                  std::make_move_iterator(left.end()));
  if (unknown_.size() > kMaxUnknown)
    unknown_.erase(unknown_.begin(), unknown_.begin() + (unknown_.size() - kMaxUnknown));
}

}  // namespace igniter::server

#include "server/cluster.hpp"

#include <charconv>

#include "igniter/json/json.hpp"
#include "realtime/frame.hpp"
#include "realtime/history.hpp"

namespace igniter::server {

namespace {

using Reply = store::Reply;

std::uint64_t parse_base36(std::string_view text) {
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

std::int64_t to_millis(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// Events travel as one JSON field: {"c":channel,"t":type,"s":[scopes],"d":data,"ts":millis}.
std::string encode(const realtime::Event& event) {
  json::array scopes;
  for (const auto& s : event.scopes) scopes.emplace_back(s);
  return json::stringify(json::object{{"c", event.channel},
                                      {"t", event.type},
                                      {"s", std::move(scopes)},
                                      {"d", event.data},
                                      {"ts", to_millis(event.time)}});
}

std::optional<realtime::Event> decode(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  auto& o = value.as_object();
  auto* c = o.if_contains("c");
  auto* t = o.if_contains("t");
  auto* s = o.if_contains("s");
  auto* ts = o.if_contains("ts");
  if (!c || !c->is_string() || !t || !t->is_string() || !s || !s->is_array() || !ts || !ts->is_int64())
    return std::nullopt;
  realtime::Event event;
  event.channel = c->as_string();
  event.type = t->as_string();
  for (const auto& scope : s->as_array())
    if (scope.is_string()) event.scopes.emplace_back(scope.as_string());
  if (auto* d = o.if_contains("d")) event.data = *d;
  event.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(ts->as_int64()));
  return event;
}

}  // namespace

realtime::EventId Cluster::to_event_id(std::uint64_t epoch, std::string_view stream_id) {
  // "<millis>-<n>" → millis·2^16 + n: monotonic like the stream's ids, and one integer as our ids need.
  auto dash = stream_id.find('-');
  std::uint64_t millis = 0, n = 0;
  std::from_chars(stream_id.data(), stream_id.data() + dash, millis);
  std::from_chars(stream_id.data() + dash + 1, stream_id.data() + stream_id.size(), n);
  return {epoch, (millis << 16) | std::min<std::uint64_t>(n, 0xffff)};
}

Cluster::Cluster(std::shared_ptr<store::RedisStore> store, std::string stream_key, std::uint64_t epoch,
                 std::size_t max_events, Logger& logger)
    : store_(std::move(store)),
      stream_key_(std::move(stream_key)),
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
  auto stream_key = store->key("igniter:realtime:events");
  return std::unique_ptr<Cluster>(
      new Cluster(std::move(store), std::move(stream_key), epoch, max_events, logger));
}

Cluster::~Cluster() {
  stop();
}

Result<realtime::EventId> Cluster::publish(const realtime::Event& event) {
  auto reply = store_->command(
      {"XADD", stream_key_, "MAXLEN", "~", std::to_string(max_events_), "*", "e", encode(event)});
  if (!reply || reply->kind != Reply::Kind::string) {
    resync_pending_ = true;
    if (!reply) return reply.error();
    logger_.error("realtime: XADD refused: " + reply->text);
    return store::errc::command_failed;
  }
  return to_event_id(epoch_, reply->text);
}

void Cluster::start(Callbacks callbacks) {
  callbacks_ = std::move(callbacks);
  // What the stream still holds becomes this process's history, so that clients resume here too.
  auto retained = store_->command({"XRANGE", stream_key_, "-", "+"});
  if (retained && retained->kind == Reply::Kind::array) deliver(*retained);
  auto options = store::StoreOptions{
      .timeout = std::chrono::milliseconds(3000), .require_connection = false, .logger = &logger_};
  auto reader = store::RedisStore::open(store_->endpoint(), options);
  if (!reader) {
    logger_.error("realtime: cannot open the stream reader: " + reader.error().message());
    return;
  }
  reader_ = std::move(*reader);
  thread_ = std::thread([this] { read_loop(); });
}

void Cluster::stop() {
  stopping_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  reader_.reset();
}

bool Cluster::deliver(const Reply& entries) {
  for (const auto& entry : entries.elements) {
    if (entry.kind != Reply::Kind::array || entry.elements.size() != 2) continue;
    const auto& id = entry.elements[0].text;
    const auto& fields = entry.elements[1].elements;
    last_id_ = id;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].text != "e") continue;
      if (auto event = decode(fields[i + 1].text)) {
        event->id = to_event_id(epoch_, id);
        callbacks_.event(std::move(*event));
      }
    }
  }
  return true;
}

void Cluster::read_loop() {
  auto backoff = std::chrono::milliseconds(100);
  bool was_down = false;
  while (!stopping_) {
    auto reply =
        reader_->command({"XREAD", "BLOCK", "1000", "COUNT", "1000", "STREAMS", stream_key_, last_id_});
    if (!reply || reply->kind == Reply::Kind::error) {
      if (!was_down) logger_.warn("realtime: Redis stream unreachable; retrying");
      was_down = true;
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, backoff, [this] { return stopping_.load(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    if (was_down) {
      was_down = false;
      logger_.info("realtime: Redis stream reachable again");
      // Trimmed past our position while we were away: those events are gone for our clients.
      auto first = store_->command({"XRANGE", stream_key_, "-", "+", "COUNT", "1"});
      if (first && first->kind == Reply::Kind::array && !first->elements.empty() && last_id_ != "0-0") {
        auto first_id = to_event_id(epoch_, first->elements[0].elements[0].text);
        if (first_id > to_event_id(epoch_, last_id_)) callbacks_.gap();
      }
    }
    if (resync_pending_.exchange(false)) {
      // A publish failed while Redis was away: tell every client of every process to refetch.
      realtime::Event resync{
          .channel = std::string(realtime::kRevalidationChannel),
          .type = std::string(realtime::kRevalidateType),
          .data = realtime::revalidate_payload({""}, nullptr, std::chrono::system_clock::now()),
          .time = std::chrono::system_clock::now()};
      if (!publish(resync)) resync_pending_ = true;
    }
    if (reply->kind != Reply::Kind::array) continue;  // nil: BLOCK timed out with nothing new
    for (const auto& stream : reply->elements)
      if (stream.kind == Reply::Kind::array && stream.elements.size() == 2) deliver(stream.elements[1]);
  }
}

}  // namespace igniter::server

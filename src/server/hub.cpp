#include "server/hub.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <random>
#include <sstream>
#include <stdexcept>

#include "igniter/realtime/error.hpp"
#include "realtime/channel.hpp"
#include "realtime/frame.hpp"
#include "server/app_impl.hpp"
#include "server/revocation.hpp"
#include "server/sse_session.hpp"

namespace igniter::server {

namespace asio = boost::asio;
using SystemClock = std::chrono::system_clock;

namespace {

realtime::HistoryLimits limits_of(const realtime::RealtimeOptions& o) {
  return {.max_events = o.history_max_events, .max_age = o.history_max_age};
}

std::array<std::uint64_t, 2> random_token() {
  std::random_device random;  // the kernel's CSPRNG on Linux
  auto word = [&] { return (static_cast<std::uint64_t>(random()) << 32) | random(); };
  return {word(), word()};
}

/// The response head of every stream: the headers Igniter.js sends, and a body delimited by the close.
const realtime::Frame& stream_head() {
  static const realtime::Frame head = realtime::Frame::copy_of(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-cache, no-transform\r\n"
      "Connection: keep-alive\r\n"
      "X-Accel-Buffering: no\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "Server: igniter-cpp\r\n"
      "\r\n");
  return head;
}

/// A plain HTTP response with Connection: close, for refusing a stream outright.
std::string serialize_closing(const Response& response) {
  std::ostringstream out;
  out << "HTTP/1.1 " << response.status() << " Refused\r\nConnection: close\r\n"
      << "X-Content-Type-Options: nosniff\r\n";
  if (!response.content_type().empty()) out << "Content-Type: " << response.content_type() << "\r\n";
  for (const auto& [name, value] : response.headers()) out << name << ": " << value << "\r\n";
  out << "Content-Length: " << response.body().size() << "\r\n\r\n" << response.body();
  return out.str();
}

/// The Igniter.js per-action hook subscribes to `<channel>:{}` and only takes envelopes naming that exact
/// channel: its subscribers get the event re-encoded under the alias (once per shard and event).
realtime::Frame alias_frame(const realtime::StoredEvent& stored, std::string_view alias) {
  realtime::Event aliased = stored.event;
  aliased.channel = alias;
  return realtime::frame_with_id(stored.event.id, realtime::encode_event_body(aliased));
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Whether `names` holds the alias `<channel>:{}` (no allocation: replay calls it for every event).
bool contains_alias(const std::vector<std::string>& names, std::string_view channel) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) {
    return n.size() == channel.size() + 3 && n.starts_with(channel) && n.ends_with(":{}");
  });
}

/// The revalidation of the empty key (Igniter.js clients refetch everything), framed with `id`.
realtime::Frame refetch_frame(realtime::EventId id, SystemClock::time_point now) {
  realtime::Event refetch{.channel = std::string(realtime::kRevalidationChannel),
                          .type = std::string(realtime::kRevalidateType),
                          .data = realtime::revalidate_payload({""}, nullptr, now),
                          .time = now};
  return realtime::frame_with_id(id, realtime::encode_event_body(refetch));
}

/// An event's frame is `id: <id>\n` + its body: the most it can take on top of the body.
constexpr std::size_t kIdLineBytes = realtime::kMaxEventIdLength + 5;

}  // namespace

RealtimeShard::RealtimeShard(asio::io_context& io) : keepalive(io) {}
RealtimeShard::~RealtimeShard() {
  sessions.clear();
}

void RealtimeShard::flush_dirty() {
  auto batch = std::move(dirty);
  dirty.clear();
  for (auto* session : batch) session->flush();
}

bool RealtimeShard::subscribe(realtime::Subscriber& session, std::string_view channel) {
  if (!index.subscribe(session, channel)) return false;
  if (gauges) gauges->add(channel, +1);
  return true;
}

bool RealtimeShard::unsubscribe(realtime::Subscriber& session, std::string_view channel) {
  if (!index.unsubscribe(session, channel)) return false;
  if (gauges) gauges->add(channel, -1);
  return true;
}

void RealtimeShard::unsubscribe_all(realtime::Subscriber& session) {
  if (gauges) session.for_each_channel([&](std::string_view channel) { gauges->add(channel, -1); });
  index.unsubscribe_all(session);
}

AddressSlot& AddressSlot::operator=(AddressSlot&& other) noexcept {
  if (this != &other) {
    if (hub_) hub_->release_address(address_);
    hub_ = std::exchange(other.hub_, nullptr);
    address_ = std::move(other.address_);
  }
  return *this;
}

AddressSlot::~AddressSlot() {
  if (hub_) hub_->release_address(address_);
}

namespace {

std::unique_ptr<Cluster> open_cluster(const std::shared_ptr<store::Store>& store,
                                      const realtime::RealtimeOptions& options, Logger& logger) {
  auto redis = std::dynamic_pointer_cast<store::RedisStore>(store);
  if (!redis) return nullptr;
  auto cluster = Cluster::open(std::move(redis), options.history_max_events, logger);
  if (!cluster)
    throw std::runtime_error("realtime: cannot set up the Redis stream: " + cluster.error().message());
  return std::move(*cluster);
}

}  // namespace

Hub::Hub(App::Impl& app, realtime::RealtimeOptions options)
    : app_(app),
      options_(std::move(options)),
      cluster_(open_cluster(app.store, options_, app.logger)),
      history_(cluster_ ? cluster_->epoch() : realtime::random_epoch(), limits_of(options_)) {
  for (const auto& name : options_.metrics_channels)
    if (auto ec = realtime::check_channel_name(realtime::canonical_channel(name)))
      throw std::invalid_argument("RealtimeOptions::metrics_channels: \"" + name + "\": " + ec.message());
}

Hub::~Hub() {
  if (cluster_) cluster_->stop();  // its reader thread feeds history_: stop it first
}

std::size_t Hub::max_event_frame() const noexcept {
  // An event and its `x:{}` copy (3 bytes more) must fit in an empty queue: else a subscriber of both
  // spellings would be cut as slow, and cut again on every resume until the event left the history.
  std::size_t half = options_.max_pending_bytes / 2;
  return std::min(options_.max_event_bytes, half > 8 ? half - 8 : 0);
}

Result<realtime::EventId> Hub::publish(realtime::Event event) {
  if (event.time == SystemClock::time_point{}) event.time = SystemClock::now();
  auto body = realtime::encode_event_body(event);
  const std::size_t frame_bytes = body.size() + kIdLineBytes;
  if (frame_bytes > max_event_frame()) {
    refused_publishes.fetch_add(1, std::memory_order_relaxed);
    return realtime::Error::event_too_large;
  }
  auto full = [&] {
    return std::any_of(shards_.begin(), shards_.end(),
                       [&](Shard* shard) { return !shard->realtime->inbox->has_room(frame_bytes); });
  };
  if (cluster_) {
    {
      std::lock_guard lock(publish_mutex_);
      if (full()) {
        refused_publishes.fetch_add(1, std::memory_order_relaxed);
        return realtime::Error::overloaded;
      }
    }
    return cluster_->publish(event);
  }
  // One lock around recording and enqueueing, so that every shard receives events in id order. Only
  // the shards take from the inboxes meanwhile: room checked here is still there when pushing.
  std::lock_guard lock(publish_mutex_);
  if (full()) {
    refused_publishes.fetch_add(1, std::memory_order_relaxed);
    return realtime::Error::overloaded;
  }
  auto stored = history_.record(std::move(event), body);
  fan_out_locked(stored);
  return stored->event.id;
}

bool Hub::run_in_event_order(Shard& shard, std::function<void()> task) {
  auto& rt = *shard.realtime;
  if (!rt.inbox) {  // not started: nothing to order against
    asio::post(shard.io, std::move(task));
    return true;
  }
  auto first = rt.inbox->try_push({.event = nullptr, .task = std::move(task)});
  if (!first) return false;
  if (*first) asio::post(shard.io, [this, &shard] { start_pass(shard); });
  return true;
}

bool Hub::run_on_every_shard(const std::function<void(Shard&)>& task) {
  std::vector<Shard*> shards;
  {
    std::lock_guard lock(publish_mutex_);
    shards = shards_;
  }
  bool all = true;
  for (auto* shard : shards) all = run_in_event_order(*shard, [task, shard] { task(*shard); }) && all;
  return all;
}

void Hub::broadcast_resync() {
  // Events were lost on the way to this process: every client here refetches, and resumes from before
  // now are gaps.
  history_.declare_gap();
  auto frame = refetch_frame(history_.latest_id(), SystemClock::now());
  std::lock_guard lock(publish_mutex_);
  resyncs.fetch_add(1, std::memory_order_relaxed);
  for (auto* shard : shards_) {
    asio::post(shard->io, [shard, frame] {
      auto& rt = *shard->realtime;
      for (auto& session : rt.sessions) session.enqueue(frame);
      rt.flush_dirty();
    });
  }
}

void Hub::fan_out_locked(const realtime::StoredEventPtr& stored) {
  published.fetch_add(1, std::memory_order_relaxed);
  for (auto* shard : shards_) {
    auto& inbox = *shard->realtime->inbox;
    // Local publishes checked the room first; an event from the cluster's stream was recorded already.
    if (!inbox.has_room(stored->frame.size())) {
      overflow_locked(*shard, stored->event.id);
      continue;
    }
    // A burst costs one wake-up per shard; while a pass runs, it takes the inbox when it ends.
    if (inbox.push({.event = stored, .task = {}}))
      asio::post(shard->io, [this, shard] { start_pass(*shard); });
  }
}

void Hub::overflow_locked(Shard& shard, realtime::EventId at) {
  auto& inbox = *shard.realtime->inbox;
  auto dropped = inbox.drop_events();
  resyncs.fetch_add(1, std::memory_order_relaxed);
  app_.logger.error("realtime: shard " + std::to_string(shard.index) + " fell " + std::to_string(dropped) +
                    " events behind its inbox bound (max_inbox_bytes): its streams refetch");
  // In order with the subscription changes still waiting; framed with the id of the event that did not
  // fit, so that later events keep ascending ids.
  auto frame = refetch_frame(at, SystemClock::now());
  bool first = inbox.push({.event = nullptr, .task = [&shard, frame] {
                             for (auto& session : shard.realtime->sessions) session.enqueue(frame);
                           }});
  if (first) asio::post(shard.io, [this, &shard] { start_pass(shard); });
}

namespace {
// A pass writes to its sessions in this many slices at most, each of at least kMinSlice sessions.
constexpr std::size_t kSlicesPerPass = 128;
constexpr std::size_t kMinSlice = 32;
}  // namespace

void Hub::start_pass(Shard& shard) {
  auto& rt = *shard.realtime;
  if (rt.pass_running) return;
  // At most half a session's bound per pass, so that a client that reads keeps up with any burst;
  // what is left waits for the next pass (the inbox is bounded: max_inbox_bytes).
  auto batch = rt.inbox->take(options_.max_pending_bytes / 2);
  if (batch.empty()) return;
  for (auto& item : batch) {
    if (item.task) {
      try {
        item.task();
      } catch (const std::exception& error) {  // never across the loop's callback
        app_.logger.error(std::string("realtime: a shard task failed: ") + error.what());
      }
      continue;
    }
    const auto& stored = item.event;
    if (realtime::is_reserved_channel(stored->event.channel)) {  // a control event: applied, not delivered
      apply_control(shard, stored->event);
      continue;
    }
    rt.index.for_each(stored->event.channel,
                      [&](realtime::Subscriber& s) { static_cast<SseSession&>(s).deliver(*stored); });
    rt.alias.assign(stored->event.channel).append(":{}");
    realtime::Frame aliased;
    rt.index.for_each(rt.alias, [&](realtime::Subscriber& s) {
      if (!aliased) aliased = alias_frame(*stored, rt.alias);
      static_cast<SseSession&>(s).deliver(*stored, aliased);
    });
  }
  // Every frame of the batch is queued: one write per socket carries all of them.
  rt.pass.clear();
  for (auto* session : rt.dirty) rt.pass.push_back(session->shared_from_this());
  rt.dirty.clear();
  rt.pass_cursor = 0;
  rt.pass_running = true;
  continue_pass(shard);
}

void Hub::continue_pass(Shard& shard) {
  auto& rt = *shard.realtime;
  auto slice = std::max(kMinSlice, rt.pass.size() / kSlicesPerPass);
  auto end = std::min(rt.pass.size(), rt.pass_cursor + slice);
  for (; rt.pass_cursor < end; ++rt.pass_cursor) rt.pass[rt.pass_cursor]->flush();
  if (rt.pass_cursor < rt.pass.size()) {
    asio::post(shard.io, [this, &shard] { continue_pass(shard); });  // behind what became ready meanwhile
    return;
  }
  rt.pass.clear();
  rt.pass_running = false;
  start_pass(shard);  // what arrived during this pass
}

void Hub::start() {
  {
    std::lock_guard lock(publish_mutex_);
    shards_.clear();
    streams_.clear();
    for (const auto& action : app_.actions)
      if (action.stream) streams_.emplace(action.key, &action);
    // The channels /metrics names: the app's own, never the ones clients make up.
    auto declared = known_channels();
    for (const auto& name : options_.metrics_channels)
      declared.emplace_back(realtime::canonical_channel(name));
    for (auto& shard : app_.shards) {
      shard->realtime->inbox = std::make_unique<realtime::Inbox>(options_.max_inbox_bytes);
      shard->realtime->gauges = std::make_unique<realtime::ChannelGauges>(declared);
      shards_.push_back(shard.get());
      keepalive_tick(*shard);
    }
  }
  if (cluster_ && !cluster_started_) {
    cluster_started_ = true;
    cluster_->start({.event =
                         [this](realtime::Event event) {
                           auto body = realtime::encode_event_body(event);
                           auto id = event.id;
                           if (body.size() + kIdLineBytes > max_event_frame()) {
                             // Another process took it (a larger limit there?): skipping it must not be
                             // silent, and sending it would cut every subscriber.
                             app_.logger.error("realtime: event " + realtime::to_string(id) +
                                               " from the cluster exceeds max_event_bytes: streams refetch");
                             broadcast_resync();
                             return;
                           }
                           auto stored = std::make_shared<realtime::StoredEvent>(
                               realtime::StoredEvent{std::move(event), realtime::frame_with_id(id, body)});
                           std::lock_guard lock(publish_mutex_);
                           if (history_.append(stored)) fan_out_locked(stored);
                         },
                     .gap = [this] { broadcast_resync(); }});
  }
}

void Hub::stop() {
  std::lock_guard lock(publish_mutex_);
  shards_.clear();
}

void Hub::keepalive_tick(Shard& shard) {
  auto& rt = *shard.realtime;
  rt.keepalive.expires_after(options_.keepalive_interval);
  rt.keepalive.async_wait([this, &shard](boost::system::error_code ec) {
    if (ec) return;
    auto& rt = *shard.realtime;
    ++rt.tick;
    std::vector<std::shared_ptr<SseSession>> sessions;
    for (auto& session : rt.sessions) sessions.push_back(session.shared_from_this());
    for (auto& session : sessions) session->keepalive(rt.tick - 1);
    rt.dirty.clear();
    history_.prune(SystemClock::now());
    keepalive_tick(shard);
  });
}

void Hub::close_all() {
  for (auto& shard : app_.shards) {
    asio::post(shard->io, [&shard = *shard] {
      auto& rt = *shard.realtime;
      rt.keepalive.cancel();
      std::vector<std::shared_ptr<SseSession>> sessions;
      for (auto& session : rt.sessions) sessions.push_back(session.shared_from_this());
      for (auto& session : sessions) session->close();
    });
  }
}

std::vector<std::string> Hub::known_channels() const {
  std::vector<std::string> channels{std::string(realtime::kRevalidationChannel)};
  for (const auto& action : app_.actions)
    if (action.stream) channels.push_back(action.key);
  return channels;
}

Admission Hub::admit(Ctx& ctx, const std::vector<std::string>& requested, std::vector<std::string>& held) {
  Admission out;
  std::vector<std::pair<std::string, std::optional<json::value>>> ran;  // stream handlers run so far
  const std::size_t max_length = std::min(options_.max_channel_name_length, realtime::kMaxChannelLength);
  for (const auto& name : requested) {
    auto channel = std::string(realtime::canonical_channel(name));
    if (auto ec = realtime::check_channel_name(channel)) {
      out.refused.push_back({name, ec.message()});
      continue;
    }
    if (channel.size() > max_length) {
      out.refused.push_back({name, "channel name is longer than " + std::to_string(max_length) + " bytes"});
      continue;
    }
    // `x` and its alias `x:{}` are two subscriptions of the same channel: the Igniter.js client
    // dispatches by the envelope's channel, so each spelling gets the events under its own name.
    if (contains(out.channels, name)) continue;
    if (contains(held, name)) {  // held already (a live change): nothing to run again
      out.channels.push_back(name);
      continue;
    }
    if (held.size() >= options_.max_channels_per_connection) {
      out.refused.push_back({name, "too many channels on this stream (limit " +
                                       std::to_string(options_.max_channels_per_connection) + ")"});
      continue;
    }
    auto earlier = std::find_if(ran.begin(), ran.end(), [&](const auto& r) { return r.first == channel; });
    if (earlier != ran.end()) {  // the other spelling was admitted: its handler ran already
      if (earlier->second) out.initial.emplace_back(name, *earlier->second);
      out.channels.push_back(name);
      held.push_back(name);
      continue;
    }
    try {
      if (channel_guard) {
        if (auto reason = channel_guard(ctx, channel)) {
          out.refused.push_back({channel, *reason});
          continue;
        }
      }
      if (auto it = streams_.find(channel); it != streams_.end()) {
        // A stream query: its procedures and handler run for this subscriber, with its request.
        const Action& action = *it->second;
        std::optional<Response> early;
        for (const auto& procedure : action.options.use)
          if ((early = procedure.run(ctx))) break;
        Response response = early ? std::move(*early) : action.invoke(ctx);
        if (!response.succeeded()) {
          auto body = json::parse(response.body());
          auto message = body.at("error").at("message");
          out.refused.push_back(
              {channel, message.is_string() ? std::string(message.as_string()) : "Refused"});
          continue;
        }
        std::optional<json::value> data;
        if (!response.body().empty()) {
          auto body = json::parse(response.body());
          if (body.is_object() && body.as_object().contains("data")) data = body.at("data");
        }
        if (data) out.initial.emplace_back(name, *data);
        ran.emplace_back(channel, std::move(data));
      }
      out.channels.push_back(name);
      held.push_back(name);
    } catch (const HttpError& error) {
      out.refused.push_back({channel, error.what()});
    } catch (const std::exception& error) {
      app_.logger.error("stream channel " + channel + " refused: " + error.what());
      out.refused.push_back({channel, "Internal Server Error"});
    }
  }
  return out;
}

void Hub::open(Shard& shard, Stream stream, Request request, std::string request_id) {
  auto work = [this, &shard, stream = std::move(stream), request = std::move(request),
               request_id = std::move(request_id)]() mutable {
    Ctx ctx(request, request_id, app_.services());
    std::optional<Response> refusal;
    Grant grant{.resolved_after = history_.latest_id()};  // before the credentials are read
    Admission admission;
    AddressSlot slot;
    if (options_.max_streams_per_address > 0 && !(slot = acquire_address(request.client)))
      refusal = ResponseBuilder{}
                    .error(429, "ERR_TOO_MANY_REQUESTS", "Too many streams from this address")
                    .header("Retry-After", "5");
    try {
      if (!refusal)
        for (const auto& procedure : app_.procedures)
          if ((refusal = procedure.run(ctx))) break;
      if (!refusal) {
        auto requested_scopes = realtime::split_comma_list(request.query_param("scopes"));
        if (options_.trust_client_scopes)
          grant.held = requested_scopes;
        else if (scope_resolver) {
          realtime::ScopeSet resolved(scope_resolver(ctx));
          grant.held = resolved.narrowed_to(requested_scopes).values();
          grant.withheld = revocable_withheld(resolved, grant.held);
        }
        auto channels = realtime::split_comma_list(request.query_param("channels"));
        std::vector<std::string> held;
        admission = admit(ctx, channels.empty() ? known_channels() : channels, held);
      }
    } catch (const HttpError& error) {
      refusal = error.response();
    } catch (const std::exception& error) {
      app_.logger.error("request " + request_id + " SSE admission failed: " + error.what());
      refusal = ResponseBuilder{}.error(500, "ERR_INTERNAL_SERVER_ERROR", "Internal Server Error",
                                        json::object{{"requestId", request_id}});
    }
    std::string last_event_id(request.header("last-event-id"));
    if (last_event_id.empty()) last_event_id = request.query_param("lastEventId");

    asio::post(shard.io, [this, &shard, stream = std::move(stream), refusal = std::move(refusal),
                          grant = std::move(grant), admission = std::move(admission),
                          last_event_id = std::move(last_event_id), slot = std::move(slot)]() mutable {
      if (refusal || app_.draining) {
        if (!refusal) refusal = ResponseBuilder{}.error(503, "ERR_SERVICE_UNAVAILABLE", "Shutting down");
        auto bytes = std::make_shared<std::string>(serialize_closing(*refusal));
        auto sock = std::make_shared<Stream>(std::move(stream));
        asio::async_write(*sock, asio::buffer(*bytes),
                          [this, bytes, sock](boost::system::error_code, std::size_t) {
                            boost::system::error_code ignored;
                            sock->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                            app_.connections.fetch_sub(1, std::memory_order_relaxed);
                          });
        return;
      }
      start_stream(shard, std::move(stream), std::move(grant), std::move(admission), last_event_id,
                   std::move(slot));
    });
  };
  if (app_.workers)
    asio::post(*app_.workers, std::move(work));
  else
    work();
}

void Hub::start_stream(Shard& shard, Stream stream, Grant grant, Admission admission,
                       const std::string& last_event_id, AddressSlot slot) {
  auto id = next_connection_id();
  auto session = std::make_shared<SseSession>(*this, shard, std::move(stream), id, random_token(),
                                              realtime::ScopeSet(std::move(grant.held)), std::move(slot));
  session->changes_.channels = admission.channels;  // before register_session: no change can race it
  session->withhold(std::move(grant.withheld));
  // A revocation that passed while the credentials were checked: applied before anything is replayed.
  bool revoked = catch_up_revocations(*session, grant.resolved_after);
  auto now = SystemClock::now();

  // Resume: what the client missed, from the history, filtered like live delivery would be.
  auto latest = history_.latest_id();
  realtime::ReplayResult replay;
  bool resync = false;
  if (!last_event_id.empty()) {
    if (auto last = realtime::parse_event_id(last_event_id)) {
      replay = history_.replay_after(*last, now, [&](const realtime::Event& e) {
        return (contains(admission.channels, e.channel) || contains_alias(admission.channels, e.channel)) &&
               session->scopes().admits(e.scopes);
      });
      resync = replay.gap;
      if (!resync) latest = *last;  // the stream continues from the client's own position
    } else {
      resync = true;  // an id this server never issued (another server, an Igniter.js UUID)
    }
  }
  std::uint64_t replayed_through = latest.seq;
  for (const auto& stored : replay.events)
    replayed_through = std::max(replayed_through, stored->event.id.seq);
  if (resync) {
    latest = history_.latest_id();
    replayed_through = std::max(replayed_through, latest.seq);
    resyncs.fetch_add(1, std::memory_order_relaxed);
  }

  realtime::ConnectedInfo info;
  info.channels = admission.channels;
  info.time = now;
  info.retry = options_.retry_hint;
  info.connection_id = std::to_string(id);
  info.token = session->token_text();
  info.refused = admission.refused;
  info.scopes = session->scopes().values();
  info.position = latest;
  info.resync = resync;

  session->enqueue(stream_head());
  session->enqueue(realtime::Frame::copy_of(realtime::encode_connected(info)));
  for (auto& [channel, data] : admission.initial) {
    realtime::Event first{.channel = channel, .data = std::move(data), .time = now};
    session->enqueue(realtime::Frame::copy_of(realtime::encode_event_body(first)));
  }
  if (resync) {
    // Igniter.js clients refetch everything on a revalidation of the empty key; ours also read `resync`.
    session->enqueue(refetch_frame(latest, now));
  }
  register_session(id, session);
  session->watch();
  session->replay_cursor_ = latest;
  if (replay_page(*session, replay.events, admission.channels)) {
    go_live(*session, admission.channels, replayed_through);
  } else {
    // More to replay than the bound holds: the rest follows page by page as the client reads it
    // (continue_replay), then live events. Cutting it off instead would make it come back forever.
    session->replay_channels_ = std::move(admission.channels);
    session->replaying_ = true;
  }
  if (revoked) session->end(revoked_frame());
  auto& rt = *shard.realtime;
  rt.flush_dirty();
}

bool Hub::replay_page(SseSession& session, const std::vector<realtime::StoredEventPtr>& events,
                      const std::vector<std::string>& channels) {
  auto& rt = *session.shard_.realtime;
  std::uint64_t replayed = 0;  // replays count as deliveries (RealtimeStats::events_delivered)
  bool complete = true;
  for (const auto& stored : events) {
    realtime::Frame plain, aliased;
    if (contains(channels, stored->event.channel)) plain = stored->frame;
    if (contains_alias(channels, stored->event.channel))
      aliased = alias_frame(*stored, stored->event.channel + ":{}");
    if (plain.size() + aliased.size() > session.queue_.limit() - session.queue_.pending_bytes()) {
      complete = false;
      // One event larger than the whole bound can never be sent: that is a slow client after all.
      if (session.queue_.empty()) session.enqueue(plain ? plain : aliased);
      break;
    }
    replayed += (plain && session.try_enqueue(plain)) + (aliased && session.try_enqueue(aliased));
    session.replay_cursor_ = stored->event.id;
  }
  rt.delivered.store(rt.delivered.load(std::memory_order_relaxed) + replayed, std::memory_order_relaxed);
  return complete;
}

void Hub::go_live(SseSession& session, const std::vector<std::string>& channels,
                  std::uint64_t replayed_through) {
  auto& rt = *session.shard_.realtime;
  for (const auto& channel : channels) rt.subscribe(session, channel);
  session.skip_through(replayed_through);
}

void Hub::continue_replay(SseSession& session) {
  if (session.closed()) return;
  auto& channels = session.replay_channels_;
  auto keep = [&](const realtime::Event& e) {
    return (contains(channels, e.channel) || contains_alias(channels, e.channel)) &&
           session.scopes().admits(e.scopes);
  };
  auto replay = history_.replay_after(session.replay_cursor_, SystemClock::now(), keep);
  std::uint64_t replayed_through = session.replay_cursor_.seq;
  if (replay.gap) {
    // The history moved past the client while it was catching up: announce the gap, then go live.
    auto latest = history_.latest_id();
    resyncs.fetch_add(1, std::memory_order_relaxed);
    session.enqueue(refetch_frame(latest, SystemClock::now()));
    replayed_through = latest.seq;
  } else if (!replay_page(session, replay.events, channels)) {
    return;  // the next page goes when this one has been read
  } else {
    replayed_through = session.replay_cursor_.seq;
  }
  if (session.closed()) return;
  // Caught up: this page was read from the history on this thread, so every later event is still on its
  // way to this shard's inbox and arrives live after the subscription below.
  session.replaying_ = false;
  go_live(session, channels, replayed_through);
  std::vector<std::string>().swap(channels);
}

void Hub::register_session(std::uint64_t id, const std::shared_ptr<SseSession>& session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[id] = session;
}

void Hub::unregister_session(std::uint64_t id) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(id);
}

Response Hub::change_subscriptions(Ctx& ctx, const SubscriptionChange& change) {
  std::shared_ptr<SseSession> session;
  {
    std::lock_guard lock(sessions_mutex_);
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(change.connectionId.data(),
                                     change.connectionId.data() + change.connectionId.size(), id);
    if (auto it = sessions_.find(id); ec == std::errc{} && it != sessions_.end()) session = it->second.lock();
  }
  if (!session) return ctx.response.not_found("No open stream with this connectionId");
  if (!session->token_matches(change.token))
    return ctx.response.forbidden("Token does not match this stream");
  auto& changes = session->changes_;
  {
    // After the token check: connection ids are sequential, so nobody else can spend a stream's budget.
    std::lock_guard lock(changes.mutex);
    if (!changes.bucket.take(realtime::TokenBucket::Clock::now()))
      return ctx.response.error(429, "ERR_TOO_MANY_REQUESTS", "Too many subscription changes on this stream")
          .header("Retry-After", "1");
  }

  // The app-wide procedures (a session from a cookie) run here as they ran on the stream's own request:
  // the framework's internal actions skip them, yet stream procedures and the guard may rely on them.
  for (const auto& procedure : app_.procedures)
    if (auto early = procedure.run(ctx)) return std::move(*early);

  // One change of this stream at a time, from reading what it holds to queueing the result: the
  // channel limit counts what the stream will hold once the changes queued before this one apply.
  std::lock_guard lock(changes.mutex);
  auto held = changes.channels;
  auto removed = std::make_shared<std::vector<std::string>>();
  for (const auto& name : change.unsubscribe) {  // first, so that a stream at its limit can swap channels
    removed->emplace_back(name);                 // as subscribed: x or x:{}
    std::erase(held, name);
  }
  auto admission = std::make_shared<Admission>(admit(ctx, change.subscribe, held));

  auto apply = [session, admission, removed] {
    if (session->closed()) return;
    auto& rt = *session->shard_.realtime;
    auto now = SystemClock::now();
    for (auto& [channel, data] : admission->initial) {
      realtime::Event first{.channel = channel, .data = data, .time = now};
      session->enqueue(realtime::Frame::copy_of(realtime::encode_event_body(first)));
    }
    if (session->replaying_) {
      // Still catching up: the change applies to the channels it goes live on (and replays).
      auto& channels = session->replay_channels_;
      for (const auto& channel : *removed) std::erase(channels, channel);
      for (const auto& channel : admission->channels)
        if (!contains(channels, channel)) channels.push_back(channel);
      return;
    }
    for (const auto& channel : *removed) rt.unsubscribe(*session, channel);
    for (const auto& channel : admission->channels) rt.subscribe(*session, channel);
  };
  // Queued in event order, not waited for: an event published after this response is fanned out after
  // the change, so it reaches the new channels and not the removed ones.
  if (!run_in_event_order(session->shard_, std::move(apply)))
    return ctx.response.error(503, "ERR_SERVICE_UNAVAILABLE", "Realtime hub overloaded, retry later")
        .header("Retry-After", "1");
  changes.channels = std::move(held);

  json::array refused;
  for (const auto& r : admission->refused)
    refused.push_back(json::object{{"channel", r.channel}, {"reason", r.reason}});
  return ctx.response.success(json::object{{"subscribed", boost::json::value_from(admission->channels)},
                                           {"refused", std::move(refused)},
                                           {"unsubscribed", boost::json::value_from(*removed)}});
}

AddressSlot Hub::acquire_address(std::string address) {
  std::lock_guard lock(addresses_mutex_);
  auto& count = streams_by_address_[address];
  if (count >= options_.max_streams_per_address) {
    if (count == 0) streams_by_address_.erase(address);
    return {};
  }
  ++count;
  return AddressSlot(this, std::move(address));
}

void Hub::release_address(const std::string& address) {
  std::lock_guard lock(addresses_mutex_);
  auto it = streams_by_address_.find(address);
  if (it != streams_by_address_.end() && --it->second == 0) streams_by_address_.erase(it);
}

RealtimeStats Hub::stats() const {
  RealtimeStats out;
  out.connections = connections.load(std::memory_order_relaxed);
  out.events_published = published.load(std::memory_order_relaxed);
  out.slow_client_disconnects = slow_disconnects.load(std::memory_order_relaxed);
  out.resyncs = resyncs.load(std::memory_order_relaxed);
  // Per-shard atomics only: a scrape never waits for a shard (nor makes one wait), from any thread.
  std::lock_guard lock(publish_mutex_);
  for (auto* shard : shards_) {
    auto& rt = *shard->realtime;
    out.events_delivered += rt.delivered.load(std::memory_order_relaxed);
    out.events_dropped += rt.dropped.load(std::memory_order_relaxed);
    const auto& names = rt.gauges->declared();
    for (std::size_t i = 0; i < names.size(); ++i) out.subscribers[names[i]] += rt.gauges->subscribers(i);
  }
  return out;
}

std::string Hub::prometheus_metrics() const {
  auto s = stats();
  std::uint64_t other = 0;
  {
    std::lock_guard lock(publish_mutex_);
    for (auto* shard : shards_) other += shard->realtime->gauges->other();
  }
  std::ostringstream out;
  auto counter = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
  };
  counter("igniter_http_connections", "gauge", "Open connections (HTTP and SSE).",
          app_.connections.load(std::memory_order_relaxed));
  counter("igniter_sse_connections", "gauge", "Open SSE streams.", s.connections);
  counter("igniter_events_published_total", "counter", "Realtime events recorded.", s.events_published);
  counter("igniter_events_refused_total", "counter", "Publishes refused: event too large or hub overloaded.",
          refused_publishes.load(std::memory_order_relaxed));
  counter("igniter_events_delivered_total", "counter", "Frames queued to subscribers.", s.events_delivered);
  counter("igniter_events_dropped_total", "counter", "Frames refused by a full subscriber queue.",
          s.events_dropped);
  counter("igniter_slow_client_disconnects_total", "counter", "Streams cut for falling behind.",
          s.slow_client_disconnects);
  counter("igniter_resyncs_total", "counter", "Resumes that could not be replayed.", s.resyncs);
  counter("igniter_other_channel_subscribers", "gauge",
          "Subscriptions to channels the app did not declare (client-chosen names), summed.", other);
  out << "# HELP igniter_channel_subscribers Subscriptions per declared channel (revalidation, stream "
         "actions, RealtimeOptions::metrics_channels).\n# TYPE igniter_channel_subscribers gauge\n";
  for (const auto& [channel, n] : s.subscribers) {
    out << "igniter_channel_subscribers{channel=\"";
    for (char c : channel) {
      if (c == '"' || c == '\\') out << '\\';
      out << c;
    }
    out << "\"} " << n << '\n';
  }
  return out.str();
}

}  // namespace igniter::server

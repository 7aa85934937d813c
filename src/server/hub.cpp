#include "server/hub.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <future>
#include <random>
#include <sstream>

#include "realtime/channel.hpp"
#include "realtime/frame.hpp"
#include "server/app_impl.hpp"
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
      "Server: igniter-cpp\r\n"
      "\r\n");
  return head;
}

/// A plain HTTP response with Connection: close, for refusing a stream outright.
std::string serialize_closing(const Response& response) {
  std::ostringstream out;
  out << "HTTP/1.1 " << response.status() << " Refused\r\nConnection: close\r\n";
  if (!response.content_type().empty()) out << "Content-Type: " << response.content_type() << "\r\n";
  for (const auto& [name, value] : response.headers()) out << name << ": " << value << "\r\n";
  out << "Content-Length: " << response.body().size() << "\r\n\r\n" << response.body();
  return out.str();
}

}  // namespace

RealtimeShard::RealtimeShard(asio::io_context& io) : keepalive(io) {}
RealtimeShard::~RealtimeShard() {
  sessions.clear();
}

Hub::Hub(App::Impl& app, realtime::RealtimeOptions options)
    : app_(app), options_(std::move(options)), history_(realtime::random_epoch(), limits_of(options_)) {}

Hub::~Hub() = default;

realtime::StoredEventPtr Hub::publish(realtime::Event event) {
  if (event.time == SystemClock::time_point{}) event.time = SystemClock::now();
  // One lock around recording and enqueueing, so that every shard receives events in id order.
  std::lock_guard lock(publish_mutex_);
  auto stored = history_.record(std::move(event));
  published.fetch_add(1, std::memory_order_relaxed);
  for (auto* shard : shards_) {
    bool first;
    {
      std::lock_guard inbox_lock(shard->realtime->inbox_mutex);
      first = shard->realtime->inbox.empty();
      shard->realtime->inbox.push_back(stored);
    }
    // One posted handler drains everything published meanwhile: a burst costs one wake-up per shard.
    if (first) asio::post(shard->io, [this, shard] { drain_inbox(*shard); });
  }
  return stored;
}

void Hub::drain_inbox(Shard& shard) {
  auto& rt = *shard.realtime;
  std::vector<realtime::StoredEventPtr> batch;
  {
    std::lock_guard lock(rt.inbox_mutex);
    batch.swap(rt.inbox);
  }
  for (const auto& stored : batch)
    rt.index.for_each(stored->event.channel,
                      [&](realtime::Subscriber& s) { static_cast<SseSession&>(s).deliver(*stored); });
  // Every frame of this turn is queued: now one write per socket carries all of them.
  auto dirty = std::move(rt.dirty);
  rt.dirty.clear();
  for (auto* session : dirty) session->flush();
}

void Hub::start() {
  std::lock_guard lock(publish_mutex_);
  shards_.clear();
  streams_.clear();
  for (const auto& action : app_.actions)
    if (action.stream) streams_.emplace(action.key, &action);
  for (auto& shard : app_.shards) {
    shards_.push_back(shard.get());
    keepalive_tick(*shard);
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

Admission Hub::admit(Ctx& ctx, const std::vector<std::string>& requested) {
  Admission out;
  for (const auto& name : requested) {
    auto channel = std::string(realtime::canonical_channel(name));
    if (auto ec = realtime::check_channel_name(channel)) {
      out.refused.push_back({name, ec.message()});
      continue;
    }
    if (std::find(out.channels.begin(), out.channels.end(), channel) != out.channels.end()) continue;
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
        if (!response.body().empty()) {
          auto body = json::parse(response.body());
          if (body.is_object() && body.as_object().contains("data"))
            out.initial.emplace_back(channel, body.at("data"));
        }
      }
      out.channels.push_back(channel);
    } catch (const HttpError& error) {
      out.refused.push_back({channel, error.what()});
    } catch (const std::exception& error) {
      app_.logger.error("stream channel " + channel + " refused: " + error.what());
      out.refused.push_back({channel, "Internal Server Error"});
    }
  }
  return out;
}

void Hub::open(Shard& shard, asio::ip::tcp::socket socket, Request request, std::string request_id) {
  auto work = [this, &shard, socket = std::move(socket), request = std::move(request),
               request_id = std::move(request_id)]() mutable {
    Ctx ctx(request, request_id, app_.services());
    std::optional<Response> refusal;
    std::vector<std::string> granted;
    Admission admission;
    try {
      for (const auto& procedure : app_.procedures)
        if ((refusal = procedure.run(ctx))) break;
      if (!refusal) {
        auto requested_scopes = realtime::split_comma_list(request.query_param("scopes"));
        if (options_.trust_client_scopes)
          granted = requested_scopes;
        else if (scope_resolver)
          granted = realtime::ScopeSet(scope_resolver(ctx)).narrowed_to(requested_scopes).values();
        auto channels = realtime::split_comma_list(request.query_param("channels"));
        admission = admit(ctx, channels.empty() ? known_channels() : channels);
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

    asio::post(shard.io, [this, &shard, socket = std::move(socket), refusal = std::move(refusal),
                          granted = std::move(granted), admission = std::move(admission),
                          last_event_id = std::move(last_event_id)]() mutable {
      if (refusal || app_.draining) {
        if (!refusal) refusal = ResponseBuilder{}.error(503, "ERR_SERVICE_UNAVAILABLE", "Shutting down");
        auto bytes = std::make_shared<std::string>(serialize_closing(*refusal));
        auto sock = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
        asio::async_write(*sock, asio::buffer(*bytes),
                          [this, bytes, sock](boost::system::error_code, std::size_t) {
                            boost::system::error_code ignored;
                            sock->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                            app_.connections.fetch_sub(1, std::memory_order_relaxed);
                          });
        return;
      }
      start_stream(shard, std::move(socket), std::move(granted), std::move(admission), last_event_id);
    });
  };
  if (app_.workers)
    asio::post(*app_.workers, std::move(work));
  else
    work();
}

void Hub::start_stream(Shard& shard, asio::ip::tcp::socket socket, std::vector<std::string> granted,
                       Admission admission, const std::string& last_event_id) {
  auto id = next_connection_id();
  auto session = std::make_shared<SseSession>(*this, shard, std::move(socket), id, random_token(),
                                              realtime::ScopeSet(std::move(granted)));
  auto now = SystemClock::now();

  // Resume: what the client missed, from the history, filtered like live delivery would be.
  auto latest = history_.latest_id();
  realtime::ReplayResult replay;
  bool resync = false;
  if (!last_event_id.empty()) {
    if (auto last = realtime::parse_event_id(last_event_id)) {
      replay = history_.replay_after(*last, now, [&](const realtime::Event& e) {
        return std::find(admission.channels.begin(), admission.channels.end(), e.channel) !=
                   admission.channels.end() &&
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
    realtime::Event refetch{.channel = std::string(realtime::kRevalidationChannel),
                            .type = std::string(realtime::kRevalidateType),
                            .data = realtime::revalidate_payload({""}, nullptr, now),
                            .time = now};
    session->enqueue(realtime::frame_with_id(latest, realtime::encode_event_body(refetch)));
  }
  for (const auto& stored : replay.events) session->enqueue(stored->frame);

  auto& rt = *shard.realtime;
  for (const auto& channel : admission.channels) rt.index.subscribe(*session, channel);
  session->skip_through(replayed_through);
  register_session(id, session);
  session->watch();
  auto dirty = std::move(rt.dirty);
  rt.dirty.clear();
  for (auto* s : dirty) s->flush();
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

  auto admission = admit(ctx, change.subscribe);
  std::vector<std::string> removed;
  for (const auto& name : change.unsubscribe) removed.emplace_back(realtime::canonical_channel(name));

  auto apply = [this, session, &admission, &removed] {
    if (session->closed()) return;
    auto& rt = *session->shard_.realtime;
    auto now = SystemClock::now();
    for (auto& [channel, data] : admission.initial) {
      realtime::Event first{.channel = channel, .data = data, .time = now};
      session->enqueue(realtime::Frame::copy_of(realtime::encode_event_body(first)));
    }
    for (const auto& channel : admission.channels) rt.index.subscribe(*session, channel);
    for (const auto& channel : removed) rt.index.unsubscribe(*session, channel);
    auto dirty = std::move(rt.dirty);
    rt.dirty.clear();
    for (auto* s : dirty) s->flush();
  };
  auto& io = session->shard_.io;
  if (io.get_executor().running_in_this_thread()) {
    apply();
  } else {
    // Wait until the stream's shard applied the change, so that an event published after this response
    // reaches the new channels.
    std::promise<void> done;
    asio::post(io, [&] {
      apply();
      done.set_value();
    });
    done.get_future().wait_for(std::chrono::seconds(5));
  }
  json::array refused;
  for (const auto& r : admission.refused)
    refused.push_back(json::object{{"channel", r.channel}, {"reason", r.reason}});
  return ctx.response.success(json::object{{"subscribed", boost::json::value_from(admission.channels)},
                                           {"refused", std::move(refused)},
                                           {"unsubscribed", boost::json::value_from(removed)}});
}

RealtimeStats Hub::stats() const {
  RealtimeStats out;
  out.connections = connections.load(std::memory_order_relaxed);
  out.events_published = published.load(std::memory_order_relaxed);
  out.slow_client_disconnects = slow_disconnects.load(std::memory_order_relaxed);
  out.resyncs = resyncs.load(std::memory_order_relaxed);
  std::vector<Shard*> shards;
  {
    std::lock_guard lock(publish_mutex_);
    shards = shards_;
  }
  for (auto* shard : shards) {
    auto& rt = *shard->realtime;
    out.events_delivered += rt.delivered.load(std::memory_order_relaxed);
    out.events_dropped += rt.dropped.load(std::memory_order_relaxed);
    // Channel membership belongs to the shard's thread: ask it (or read it directly when we are it).
    auto collect = [&rt, &out] {
      rt.index.for_each_channel(
          [&](std::string_view channel, std::size_t n) { out.subscribers[std::string(channel)] += n; });
    };
    if (shard->io.get_executor().running_in_this_thread()) {
      collect();
    } else {
      std::promise<void> done;
      auto future = done.get_future();
      std::map<std::string, std::uint64_t> counts;
      asio::post(shard->io, [&rt, &counts, &done] {
        rt.index.for_each_channel(
            [&](std::string_view channel, std::size_t n) { counts[std::string(channel)] += n; });
        done.set_value();
      });
      if (future.wait_for(std::chrono::seconds(1)) == std::future_status::ready)
        for (auto& [channel, n] : counts) out.subscribers[channel] += n;
    }
  }
  return out;
}

std::string Hub::prometheus_metrics() const {
  auto s = stats();
  std::ostringstream out;
  auto counter = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
  };
  counter("igniter_http_connections", "gauge", "Open connections (HTTP and SSE).",
          app_.connections.load(std::memory_order_relaxed));
  counter("igniter_sse_connections", "gauge", "Open SSE streams.", s.connections);
  counter("igniter_events_published_total", "counter", "Realtime events recorded.", s.events_published);
  counter("igniter_events_delivered_total", "counter", "Frames queued to subscribers.", s.events_delivered);
  counter("igniter_events_dropped_total", "counter", "Frames refused by a full subscriber queue.",
          s.events_dropped);
  counter("igniter_slow_client_disconnects_total", "counter", "Streams cut for falling behind.",
          s.slow_client_disconnects);
  counter("igniter_resyncs_total", "counter", "Resumes that could not be replayed.", s.resyncs);
  out << "# HELP igniter_channel_subscribers Subscribers per channel.\n# TYPE igniter_channel_subscribers "
         "gauge\n";
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

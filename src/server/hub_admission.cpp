#include "server/hub_admission.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>

#include "realtime/channel.hpp"
#include "server/app_impl.hpp"
#include "server/hub.hpp"
#include "server/presence.hpp"
#include "server/revocation.hpp"
#include "server/stream.hpp"
#include "server/stream_frames.hpp"

namespace igniter::server {

namespace asio = boost::asio;

AddressSlot& AddressSlot::operator=(AddressSlot&& other) noexcept {
  if (this != &other) {
    if (limits_) limits_->release(address_);
    limits_ = std::exchange(other.limits_, nullptr);
    address_ = std::move(other.address_);
  }
  return *this;
}

AddressSlot::~AddressSlot() {
  if (limits_) limits_->release(address_);
}

AddressSlot AddressLimits::acquire(std::string address) {
  std::lock_guard lock(mutex_);
  auto& count = streams_[address];
  if (count >= per_address_) {
    if (count == 0) streams_.erase(address);
    return {};
  }
  ++count;
  return AddressSlot(this, std::move(address));
}

std::size_t AddressLimits::open_from(const std::string& address) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(address);
  return it == streams_.end() ? 0 : it->second;
}

void AddressLimits::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(address);
  if (it != streams_.end() && --it->second == 0) streams_.erase(it);
}

namespace {
bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

ChannelScreen screen_channel(std::string_view name, const std::vector<std::string>& admitted,
                             const std::vector<std::string>& held, const realtime::RealtimeOptions& options) {
  auto channel = std::string(realtime::canonical_channel(name));
  if (auto ec = realtime::check_channel_name(channel)) return {ChannelScreen::refuse, channel, ec.message()};
  const std::size_t max_length = std::min(options.max_channel_name_length, realtime::kMaxChannelLength);
  if (channel.size() > max_length)
    return {ChannelScreen::refuse, channel,
            "channel name is longer than " + std::to_string(max_length) + " bytes"};
  if (contains(admitted, name)) return {ChannelScreen::duplicate, channel, {}};
  if (contains(held, name)) return {ChannelScreen::held, channel, {}};
  if (held.size() >= options.max_channels_per_connection)
    return {ChannelScreen::refuse, channel,
            "too many channels on this stream (limit " + std::to_string(options.max_channels_per_connection) +
                ")"};
  return {ChannelScreen::check, std::move(channel), {}};
}

std::vector<std::string> Hub::known_channels() const {
  std::vector<std::string> channels{std::string(realtime::kRevalidationChannel)};
  for (const auto& action : app_.routes.actions)
    if (action.stream) channels.push_back(action.key);
  return channels;
}

Admission Hub::admit(Ctx& ctx, const std::vector<std::string>& requested, std::vector<std::string>& held) {
  Admission out;
  std::vector<std::pair<std::string, std::optional<json::value>>> ran;  // stream handlers run so far
  for (const auto& name : requested) {
    auto screen = screen_channel(name, out.channels, held, options_);
    switch (screen.kind) {
      case ChannelScreen::refuse:
        out.refused.push_back({name, std::move(screen.reason)});
        continue;
      case ChannelScreen::duplicate:
        continue;
      case ChannelScreen::held:
        out.channels.push_back(name);
        continue;
      case ChannelScreen::check:
        break;
    }
    const auto& channel = screen.channel;
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
    if (addresses_.limited() && !(slot = addresses_.acquire(request.client)))
      refusal = ResponseBuilder{}
                    .error(429, "ERR_TOO_MANY_REQUESTS", "Too many streams from this address")
                    .header("Retry-After", "5");
    try {
      if (!refusal)
        for (const auto& procedure : app_.routes.procedures)
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
        if (presence_) {
          // Who the stream is, from every scope it was granted: narrowing filters events, not identity.
          auto granted = grant.held;
          granted.insert(granted.end(), grant.withheld.begin(), grant.withheld.end());
          grant.member = presence_->member_of(ctx, granted);
        }
        auto channels = realtime::split_comma_list(request.query_param("channels"));
        // Every entry is screened, and a refused one is echoed in `connected` with its reason. Past twice
        // the channel limit no entry could be admitted anyway: those are not read, and one refused entry
        // stands for them all (the first of them), so that frame does not grow with the request. The
        // stream itself is never failed for its channels (PROTOCOL.md, section 5).
        std::optional<realtime::RefusedChannel> unread;
        if (auto limit = 2 * options_.max_channels_per_connection; channels.size() > limit) {
          unread = realtime::RefusedChannel{channels[limit], "not read, with the " +
                                                                 std::to_string(channels.size() - limit - 1) +
                                                                 " after it: a stream names at most " +
                                                                 std::to_string(limit) + " channels"};
          channels.resize(limit);
        }
        std::vector<std::string> held;
        admission = admit(ctx, channels.empty() ? known_channels() : channels, held);
        if (unread) admission.refused.push_back(std::move(*unread));
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
      if (refusal || app_.lifecycle.draining) {
        if (!refusal) refusal = ResponseBuilder{}.error(503, "ERR_SERVICE_UNAVAILABLE", "Shutting down");
        auto hsts = stream.is_tls() ? app_.options.tls.hsts_max_age : std::chrono::seconds(0);
        auto bytes = std::make_shared<std::string>(serialize_closing(*refusal, hsts));
        auto sock = std::make_shared<Stream>(std::move(stream));
        asio::async_write(*sock, asio::buffer(*bytes),
                          [this, bytes, sock](boost::system::error_code, std::size_t) {
                            boost::system::error_code ignored;
                            sock->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                            app_.connections.open.fetch_sub(1, std::memory_order_relaxed);
                          });
        return;
      }
      start_stream(shard, std::move(stream), std::move(grant), std::move(admission), last_event_id,
                   std::move(slot));
    });
  };
  if (app_.workers)
    app_.workers->post(std::move(work));
  else
    work();
}

}  // namespace igniter::server
